/**
 * Something the storage did on the user's behalf that they must hear about once, although the
 * operation succeeded: today, a damaged preferences file replaced by its newest good backup.
 * Kept apart from errors on purpose: a recovery that worked is not a failure. A notice lives in
 * the process that made it until the user dismisses it (the damaged file itself stays on disk and
 * is also reported by diagnostics).
 */
import type { Effect, Stream } from "effect"
import { Schema } from "effect"

export const StorageNotice = Schema.Struct({
  /** Unique per notice, for dismissing it. */
  id: Schema.String,
  kind: Schema.Literals(["restored-from-backup"]),
  /** What happened, in plain words. */
  message: Schema.String,
  /** What the user may want to do next. */
  hint: Schema.String,
  /** Where the damaged file was moved (absolute path). */
  quarantinedAs: Schema.String,
  /** The backup that was copied back (absolute path). */
  restoredFrom: Schema.String,
  /** ISO timestamp of the restore. */
  at: Schema.String
})
export type StorageNotice = typeof StorageNotice.Type

/** The optional notice channel of a PreferencesStore (platforms that never restore omit it). */
export interface PreferencesNotices {
  /** Notices not yet dismissed, oldest first. */
  readonly current: Effect.Effect<ReadonlyArray<StorageNotice>>
  /** Each new notice, as it is made. */
  readonly changes: Stream.Stream<StorageNotice>
  /** Forgets a notice; true when it existed. */
  readonly dismiss: (id: string) => Effect.Effect<boolean>
}
