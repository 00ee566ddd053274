/**
 * PreferencesStore over app key-value storage (AsyncStorage shape).
 *
 * The whole document (`{ ...other, llm }`, the same JSON as desktop's preferences.json) is one
 * value under one key, so every update is a single `setItem`: there is no multi-key write that a
 * crash could tear. Consistency with the secure store is the domain journal's job, not this one's.
 * Read-modify-write runs under a lock shared by every store over the same storage module and key,
 * which covers a React Native app: one JS process, no other writers of the app's storage.
 */
import { Errors, JsonLimits, PreferencesDocument, PreferencesStore } from "@fishbowl/domain"
import { Effect, Layer, Semaphore } from "effect"
import * as AppStorageModule from "./AppStorageModule.ts"

export interface AppStoragePreferencesSettings {
  /** The storage key of the document (default `fishbowl.preferences`). */
  readonly storageKey?: string
}

export const DEFAULT_STORAGE_KEY = "fishbowl.preferences"

/** One lock per (storage module, key), so two layers built in one app cannot lose each other's updates. */
const locks = new WeakMap<AppStorageModule.AppStorageApi, Map<string, Semaphore.Semaphore>>()
const lockFor = (storage: AppStorageModule.AppStorageApi, key: string): Semaphore.Semaphore => {
  const byKey = locks.get(storage) ?? new Map<string, Semaphore.Semaphore>()
  locks.set(storage, byKey)
  const lock = byKey.get(key) ?? Semaphore.makeUnsafe(1)
  byKey.set(key, lock)
  return lock
}

const unreadable = (location: string) =>
  new Errors.StorageInaccessible({
    message: `App storage could not be read (${location})`,
    hint: "Restart the app. If it keeps failing, check that the device has free space."
  })

const unwritable = (location: string) =>
  new Errors.StorageInaccessible({
    message: `App storage could not be written (${location}); nothing was changed`,
    hint: "Free up space on the device and try again."
  })

const corrupted = (location: string, problem: string) =>
  new Errors.Corrupted({
    message: `The stored settings could not be read: ${problem}`,
    hint: `Fishbowl left ${location} untouched. Update the app; if that does not help, reinstall it and enter your keys again.`
  })

/**
 * Parses the stored text. A missing value is the empty document; anything unreadable fails and is
 * never treated as empty, because an empty document would make the orphan sweep delete every key.
 */
const parseDocument = (
  text: string | null,
  location: string
): Effect.Effect<PreferencesDocument.PreferencesDocument, Errors.PreferencesStoreError> => {
  if (text === null) return Effect.succeed(PreferencesDocument.emptyDocument)
  const parsed = JsonLimits.parseBoundedJson(text)
  if (parsed._tag === "Refused") {
    return Effect.fail(
      corrupted(
        location,
        parsed.failure._tag === "NotJson" ? "it is not valid JSON" : JsonLimits.describeBoundedJsonFailure(parsed.failure)
      )
    )
  }
  const json = parsed.value
  const problem = PreferencesDocument.documentShapeProblem(json)
  const record = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>
  const llm = record["llm"]
  const version = typeof llm === "object" && llm !== null ? (llm as Record<string, unknown>)["version"] : undefined
  if (typeof version === "number" && version > PreferencesDocument.LLM_SECTION_VERSION) {
    return Effect.fail(
      new Errors.Unsupported({
        reason: "newer-version",
        message: `The stored settings were written by a newer Fishbowl (llm section version ${version})`,
        hint: "Update the app to the latest version; your settings were not changed."
      })
    )
  }
  if (problem !== undefined) return Effect.fail(corrupted(location, problem))
  return PreferencesDocument.decodeLlmSection(record["llm"] ?? PreferencesDocument.emptyLlmSection).pipe(
    Effect.map((llm) => PreferencesDocument.splitDocument(record, llm)),
    Effect.mapError(() => corrupted(location, "the llm section does not match the expected layout"))
  )
}

/** Builds the store over the injected storage module. */
export const make = Effect.fnUntraced(function*(settings: AppStoragePreferencesSettings = {}) {
  const storage = yield* AppStorageModule.AppStorage
  const key = settings.storageKey ?? DEFAULT_STORAGE_KEY
  const location = `app-storage:${key}`
  const lock = lockFor(storage, key)

  const load = Effect.tryPromise({ try: () => storage.getItem(key), catch: () => unreadable(location) }).pipe(
    Effect.flatMap((text) => parseDocument(text, location)),
    Effect.withSpan("PreferencesStore.load")
  )

  const update = <A, E>(
    f: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<readonly [A, PreferencesDocument.PreferencesDocument], E>
  ) =>
    lock.withPermits(1)(
      Effect.gen(function*() {
        const [result, next] = yield* f(yield* load)
        const text = JSON.stringify(PreferencesDocument.joinDocument(next))
        yield* Effect.tryPromise({ try: () => storage.setItem(key, text), catch: () => unwritable(location) })
        return result
      })
    ).pipe(Effect.withSpan("PreferencesStore.update"))

  return PreferencesStore.PreferencesStore.of({ load, update, location })
})

/** PreferencesStore over the injected `AppStorage` module. */
export const layer = (settings: AppStoragePreferencesSettings = {}) => Layer.effect(PreferencesStore.PreferencesStore, make(settings))
