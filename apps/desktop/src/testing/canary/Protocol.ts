/**
 * The line protocol between the canary driver (the vitest process) and the "main process" child
 * (main-process.ts). Keys travel only on the child's stdin, never in argv or env.
 *
 *   driver → child stdin:  first line `{"canary":"…","canary2":"…"}`, then `ACK <n>` lines.
 *   child → driver stdout: `@@fishbowl REQ <n> <action>` asks the driver to act on the keychain
 *                          (lock, unlock, kill-daemon, restart-daemon) and wait for `ACK <n>`;
 *                          `@@fishbowl DONE <json>` reports the output paths. Every other stdout
 *                          or stderr line is console output, checked like any log line.
 */
export const PROTOCOL_PREFIX = "@@fishbowl "

export type KeychainAction = "lock" | "unlock" | "kill-daemon" | "restart-daemon"

export interface ChildOutputs {
  readonly records: string
  readonly snapshot: string
}

/** Everything the child saw, written as JSON for the driver to search. */
export interface ChildRecords {
  readonly responses: Array<{ readonly step: string; readonly channel: string; readonly response: unknown }>
  readonly events: Array<unknown>
  readonly errors: Array<{ readonly step: string; readonly encoded: unknown; readonly message: string; readonly pretty: string }>
  readonly effectLogs: Array<string>
  readonly ipcLogs: Array<unknown>
  readonly checks: Array<{ readonly step: string; readonly ok: boolean; readonly detail?: string }>
  readonly faults: Array<string>
  readonly ids: Record<string, string>
}
