/**
 * How `fishbowl-llm migrate` presents a migration report: pure (report in, lines and exit code
 * out), so the command stays a one-line call. A migration that is not complete never exits 0:
 * scripts and users must not take "some keys are still on disk" for success.
 */
import type { Migration } from "@fishbowl/desktop-layer"
import { Plural } from "@fishbowl/domain"
import type * as CliIo from "./CliIo.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as Text from "./Text.ts"

/** Exit code of a migration that left entries or keys behind for reasons other than safeStorage. */
export const MIGRATION_INCOMPLETE = ExitCodes.ExitCode.migrationIncomplete

/**
 * The report as lines. Everything in it may come from a hostile folder (names, providers, file
 * names, reasons quoting them), so every line goes through the terminal escaping.
 */
const describeReport = (report: Migration.MigrationReport): string => {
  if (report.nothingToDo) return `Nothing to migrate in ${report.from}.\n`
  const lines = [`Migration from ${report.from}:`]
  for (const entry of report.migrated) {
    lines.push(
      `  migrated  "${entry.name}" (${entry.provider}, ${entry.configId})${entry.hasKey ? ", key in the keychain" : ", no key"}${
        entry.renamedFrom !== undefined ? ` - renamed from "${entry.renamedFrom}"` : ""
      }`
    )
  }
  for (const entry of report.skipped) {
    lines.push(`  skipped   ${entry.name !== undefined ? `"${entry.name}"` : "(entry)"} in ${entry.source}: ${entry.reason}`)
    if (entry.fix !== undefined) lines.push(`            fix: ${entry.fix}`)
  }
  for (const path of report.removedFiles) lines.push(`  removed   ${path}`)
  for (const { from, to } of report.renamedFiles) lines.push(`  renamed   ${from} to ${to} (no keys in it; kept as a record)`)
  for (const path of report.rewrittenFiles) lines.push(`  rewritten ${path} (keys removed)`)
  for (const path of report.keptFiles) lines.push(`  kept      ${path} (not everything in it is migrated yet)`)
  if (report.filesHoldingKeys.length > 0) {
    lines.push("Files that still hold keys:")
    for (const file of report.filesHoldingKeys) lines.push(`  ${file.path}: ${file.what}`)
  }
  if (report.migrated.length === 0 && report.skipped.length === 0 && report.filesHoldingKeys.length === 0) lines.push("  nothing to import")
  return lines.map(Text.escapeControls).join("\n") + "\n"
}

/** Why the run is not complete, for stderr; undefined when it is. */
const incompleteError = (report: Migration.MigrationReport) => {
  if (report.complete || report.nothingToDo) return undefined
  const blocked = report.skipped.filter((entry) => entry.kind === "blocked")
  const waiting = blocked.filter((entry) => entry.needsDesktopApp === true)
  const parts = [
    ...(blocked.length > 0 ? [`${Plural.count(blocked.length, "configuration")} not imported`] : []),
    ...(report.filesHoldingKeys.length > 0
      ? [
        `${Plural.count(report.filesHoldingKeys.length, "file")} still ${
          Plural.agree(report.filesHoldingKeys.length, "holds", "hold")
        } keys`
      ]
      : [])
  ]
  const onlyDesktop = waiting.length > 0 && waiting.length === blocked.length
  return {
    _tag: "MigrationIncomplete",
    message: `The migration is incomplete: ${parts.join(", ") || "files were kept"}`,
    hint: onlyDesktop
      ? "Their keys are encrypted with Electron safeStorage, which only the desktop app can decrypt: start Fishbowl once and it finishes the import. Nothing was deleted."
      : `See the fix under each skipped entry, then run \`${report.rerunCommand}\`${
        waiting.length > 0 ? " (entries encrypted with safeStorage are finished by the desktop app)" : ""
      }. Nothing was deleted that is not in the keychain.`,
    exitCode: onlyDesktop ? ExitCodes.ExitCode.unavailable : MIGRATION_INCOMPLETE
  }
}

/** The report as printed: details on stdout, the verdict (when incomplete) on stderr, and the exit code. */
export const renderMigrateReport = (report: Migration.MigrationReport, options: { readonly json: boolean }): CliIo.CommandOutput => {
  const error = incompleteError(report)
  const stdout = options.json ? Text.jsonText(report) : describeReport(report)
  if (error === undefined) return { stdout, stderr: "", exitCode: ExitCodes.ExitCode.ok }
  const stderr = options.json
    ? Text.jsonText({ error: { _tag: error._tag, message: error.message, hint: error.hint } }, 0)
    : `error: ${Text.escapeControls(error.message)}\nhint: ${Text.escapeControls(error.hint)}\n`
  return { stdout, stderr, exitCode: error.exitCode }
}
