/**
 * Text for a terminal: aligned tables and a safe rendering of anything a user (or
 * an attacker) typed, so an error never replays escape sequences or control characters.
 */

/** Escapes C0/C1 control characters (ESC, BEL, CR, NUL, …) as `\xNN`. */
export const escapeControls = (text: string): string =>
  // oxlint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`)

/**
 * JSON for stdout, indented, with C1 controls (U+007F–U+009F, which JSON.stringify leaves raw and
 * some terminals read as CSI) escaped as `\u00NN`; C0 controls JSON escapes already.
 */
export const jsonText = (value: unknown, indent: 0 | 2 = 2): string =>
  // oxlint-disable-next-line no-control-regex
  JSON.stringify(value, null, indent).replace(/[\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n"

/** {@link escapeControls}, shortened: for echoing something the user typed. */
export const printable = (text: string, max = 60): string => {
  const escaped = escapeControls(text)
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped
}

/** Columns padded to their widest cell, two spaces apart, header first; no trailing spaces. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((row) => [...(row[column] ?? "")].length)))
  return all
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column]! + cell.length - [...cell].length)).join("  ").trimEnd())
    .join("\n") + "\n"
}
