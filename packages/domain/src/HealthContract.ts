/**
 * Wire shapes of the storage-health routes (IpcContract): backups the user may restore, the
 * on-demand key check, and the late outcome of an operation that missed its time budget. None has
 * a field that can carry a key: a key check says only whether the keychain entry is there.
 */
import { Schema } from "effect"

/** One backup generation of preferences.json, with how it differs from the current file. */
export const BackupInfo = Schema.Struct({
  /** File name inside the data folder, e.g. `preferences.json.bak.1`. */
  name: Schema.String,
  modifiedAt: Schema.String,
  /** False when the backup itself cannot be read as settings (it is then not restorable). */
  usable: Schema.Boolean,
  configNames: Schema.Array(Schema.String),
  /** Names in the backup that the current file does not have (restoring brings them back). */
  added: Schema.Array(Schema.String),
  /** Names in the current file that the backup does not have (restoring drops them). */
  removed: Schema.Array(Schema.String)
})
export type BackupInfo = typeof BackupInfo.Type

/** A file name the renderer may name: a backup or a set-aside damaged copy, never a path. */
export const StorageFileName = Schema.String.check(
  Schema.makeFilter((name: string) =>
    /^preferences\.json\.(bak\.\d{1,3}|corrupt-[0-9A-Za-z.-]{1,64})$/.test(name) || "Expected a backup or damaged-copy file name"
  )
)

/** Whether a configuration's key is really in the keychain (asked on demand: it may prompt). */
export const KeyCheck = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  state: Schema.Literals(["present", "missing", "no-key", "unreadable"]),
  /** For `unreadable`: the error's tag (e.g. KeychainLocked). */
  reason: Schema.optional(Schema.String)
})
export type KeyCheck = typeof KeyCheck.Type

/**
 * Sent on `llm-config:settled` when an operation that was answered with `Timeout` (carrying this
 * `requestId`) finishes after all: `result` is the `{ ok, value | error }` the call would have had.
 */
export const LateOutcome = Schema.Struct({
  requestId: Schema.String,
  channel: Schema.String,
  result: Schema.Unknown
})
export type LateOutcome = typeof LateOutcome.Type
