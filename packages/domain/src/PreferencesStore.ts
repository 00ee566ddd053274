/**
 * Port: the metadata document (preferences.json on desktop, app storage on mobile).
 * `update` is the only way to write, and it is atomic: a read-modify-write under a lock, so two
 * processes (the app and the CLI) never lose each other's changes.
 */
import { Context, Effect, Layer, Ref, Semaphore } from "effect"
import type * as Errors from "./Errors.ts"
import * as PreferencesDocument from "./PreferencesDocument.ts"
import type * as StorageNotice from "./StorageNotice.ts"

export interface PreferencesStoreService {
  readonly load: Effect.Effect<PreferencesDocument.PreferencesDocument, Errors.PreferencesStoreError>
  /**
   * Applies `f` to the current document under the store's lock and persists the result
   * atomically. When `f` fails nothing is written.
   */
  readonly update: <A, E>(
    f: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<readonly [A, PreferencesDocument.PreferencesDocument], E>
  ) => Effect.Effect<A, E | Errors.PreferencesStoreError>
  /** Where the document lives, for diagnostics (a path, or a storage key on mobile). */
  readonly location: string
  /** Recoveries the store made on its own (e.g. a backup restored), for the user to hear once. */
  readonly notices?: StorageNotice.PreferencesNotices
}

/** Document kept in memory; shared by every store instance built on the same layer instance. */
export const makeMemory = (initial: PreferencesDocument.PreferencesDocument = PreferencesDocument.emptyDocument) =>
  Effect.gen(function*() {
    const document = yield* Ref.make(initial)
    const lock = yield* Semaphore.make(1)
    return PreferencesStore.of({
      load: Ref.get(document),
      update: <A, E>(
        f: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<readonly [A, PreferencesDocument.PreferencesDocument], E>
      ) =>
        lock.withPermits(1)(
          Effect.gen(function*() {
            const [result, next] = yield* f(yield* Ref.get(document))
            yield* Ref.set(document, next)
            return result
          })
        ),
      location: "memory"
    })
  })

export class PreferencesStore extends Context.Service<PreferencesStore, PreferencesStoreService>()("@fishbowl/domain/PreferencesStore") {}

/** An empty document in memory, for tests. */
export const layerMemory = Layer.effect(PreferencesStore, makeMemory())
