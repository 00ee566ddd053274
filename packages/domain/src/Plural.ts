/**
 * Counts in messages agree with their number — "1 file", "2 files", "0 backups" — never
 * "file(s)". Every face (domain notes, diagnostics, the CLI, the settings page) words counts
 * through this module; it imports nothing, so the renderer bundles it (`@fishbowl/domain/Plural`).
 */

/** `n` and the noun in the form its number takes. */
export const count = (n: number, singular: string, plural = `${singular}s`): string => `${n} ${n === 1 ? singular : plural}`

/** The form of a word that follows a count: `agree(n, "was", "were")`. */
export const agree = (n: number, singular: string, plural: string): string => n === 1 ? singular : plural
