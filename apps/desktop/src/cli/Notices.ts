/**
 * The CLI's rendering of storage notices (e.g. preferences.json restored from a backup): one
 * `warning: …` line and one `hint: …` line per notice, for stderr. A restore is not a failure, so
 * the command still exits 0. The CLI calls this with the status it reads after a command:
 * `for (const line of noticeLines(status)) process.stderr.write(`${line}\n`)`.
 */
import type { LlmConfigStore } from "@fishbowl/domain"

export const noticeLines = (status: Pick<LlmConfigStore.StoreStatus, "notices">): ReadonlyArray<string> =>
  status.notices.flatMap((notice) => [`warning: ${notice.message}`, `hint: ${notice.hint}`])
