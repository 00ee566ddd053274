/**
 * Wire shapes of the storage-health routes (IpcContract): backups the user may restore, the
 * on-demand key check, and the late outcome of an operation that missed its time budget. None has
 * a field that can carry a key: a key check says only whether the keychain entry is there.
 */
import { Schema } from "effect"
import * as StorageFiles from "./StorageFiles.ts"

/** One backup generation of preferences.json, with how it differs from the current file. */
export const BackupInfo = Schema.Struct({
  /** File name inside the data folder, e.g. `preferences.json.bak.1`. */
  name: Schema.String,
  modifiedAt: Schema.String,
  /** False when the backup itself cannot be read as settings (it is then not restorable). */
  usable: Schema.Boolean,
  /** How many older backups hold exactly these settings (listed once, here). */
  olderCopies: Schema.Number,
  configNames: Schema.Array(Schema.String),
  /** Names in the backup that the current file does not have (restoring brings them back). */
  added: Schema.Array(Schema.String),
  /** Names in the current file that the backup does not have (restoring leaves them out; their keys stay). */
  removed: Schema.Array(Schema.String),
  /**
   * Configurations whose provider or base URL restoring would change: each then asks for its key
   * again (its key was entered for the current destination). URLs absent: the provider's default.
   */
  changed: Schema.Array(Schema.Struct({
    name: Schema.String,
    from: Schema.Struct({ provider: Schema.String, baseUrl: Schema.optional(Schema.String) }),
    to: Schema.Struct({ provider: Schema.String, baseUrl: Schema.optional(Schema.String) })
  }))
})
export type BackupInfo = typeof BackupInfo.Type

/** What bringing back left-out configurations did, per configuration (names only). */
export const BroughtBack = Schema.Struct({
  name: Schema.String,
  /** File name (in the data folder) that named it. */
  file: Schema.String,
  outcome: Schema.Literals(["brought-back", "already-present", "not-brought-back"]),
  detail: Schema.optional(Schema.String)
})
export type BroughtBack = typeof BroughtBack.Type

/** A file name the renderer may name: a backup or a set-aside damaged copy, never a path. */
export const StorageFileName = Schema.String.check(
  Schema.makeFilter((name: string) => StorageFiles.copyOf(name) !== undefined || "Expected a backup or damaged-copy file name")
)

/** Whether a configuration's key is really in the keychain (asked on demand: it may prompt). */
export const KeyCheck = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  /** `elsewhere`: the keychain holds a key entered for another provider or base URL (KeyBinding): not used. */
  state: Schema.Literals(["present", "missing", "elsewhere", "no-key", "unreadable"]),
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
