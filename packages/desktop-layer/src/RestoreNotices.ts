/**
 * Turns "the file was damaged and the newest good backup was restored" from a failure into a
 * notice. JsonFilePreferencesStore reports a restore as `Corrupted { quarantinedAs, restoredFrom }`
 * (and has not called the caller's function yet); this wrapper records the notice and runs the
 * operation once more on the restored file, so the caller succeeds and the user is told once.
 * A damaged file WITHOUT a usable backup still fails: that loses data, and must read as an error.
 */
import type { Errors, StorageNotice } from "@fishbowl/domain"
import { Clock, Effect, PubSub, Ref, Stream } from "effect"

/** A Corrupted that says a backup was put back in place. */
const restored = (error: unknown): error is Errors.Corrupted & { readonly quarantinedAs: string; readonly restoredFrom: string } =>
  typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "Corrupted" &&
  typeof (error as Errors.Corrupted).quarantinedAs === "string" && typeof (error as Errors.Corrupted).restoredFrom === "string"

export const make = Effect.gen(function*() {
  const notices = yield* Ref.make<ReadonlyArray<StorageNotice.StorageNotice>>([])
  const pubsub = yield* PubSub.unbounded<StorageNotice.StorageNotice>()

  const record = (error: Errors.Corrupted & { readonly quarantinedAs: string; readonly restoredFrom: string }) =>
    Effect.gen(function*() {
      const at = new Date(yield* Clock.currentTimeMillis).toISOString()
      const notice: StorageNotice.StorageNotice = {
        id: `restored-${at}-${Math.random().toString(36).slice(2, 10)}`,
        kind: "restored-from-backup",
        message: error.message,
        hint: error.hint,
        quarantinedAs: error.quarantinedAs,
        restoredFrom: error.restoredFrom,
        at
      }
      yield* Ref.update(notices, (current) => [...current, notice])
      yield* PubSub.publish(pubsub, notice)
    })

  /** Runs `operation`; after a restore, records the notice and runs it again (once). */
  const noticing = <A, E, R>(operation: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    operation.pipe(
      Effect.catch((error: E) => restored(error) ? Effect.andThen(record(error), operation) : Effect.fail(error))
    )

  const port: StorageNotice.PreferencesNotices = {
    current: Ref.get(notices),
    changes: Stream.fromPubSub(pubsub),
    dismiss: (id) =>
      Ref.modify(notices, (current) => {
        const rest = current.filter((notice) => notice.id !== id)
        return [rest.length !== current.length, rest] as const
      })
  }
  return { noticing, port } as const
})
