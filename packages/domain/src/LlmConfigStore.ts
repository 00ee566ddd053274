/**
 * The configuration store: one implementation, generic over the SecretStore and PreferencesStore
 * ports, that keeps metadata and keys consistent across crashes.
 *
 * Keychain and file cannot share a transaction, so every multi-step change goes through an intent
 * journal kept inside the metadata document:
 *   1. record the intent (with the metadata before and after) — atomically with uniqueness checks;
 *   2. change the secret (updates stage the new key under `apiKey.staged` first);
 *   3. commit the metadata (and drop the intent, or mark it committed when clean-up remains);
 *   4. clean up (delete the staged key) and drop the intent.
 * `recover` rolls every unfinished intent forward or back, so after a crash at any step there is no
 * acknowledged config without its key, no key without its config and no half-applied update.
 * The journal itself (record, drop, abandon, names taken, recover) lives in Journal.ts.
 */
import { Clock, Context, Effect, Layer, Option, PubSub, Redacted, Schema, Semaphore, Stream } from "effect"
import * as Canonical from "./Canonical.ts"
import * as CrashPoints from "./CrashPoints.ts"
import * as Errors from "./Errors.ts"
import * as Hints from "./Hints.ts"
import * as Ids from "./Ids.ts"
import * as Journal from "./Journal.ts"
import * as LlmConfig from "./LlmConfig.ts"
import type * as PreferencesDocument from "./PreferencesDocument.ts"
import * as PreferencesStore from "./PreferencesStore.ts"
import * as Providers from "./Providers.ts"
import * as SecretStore from "./SecretStore.ts"
import * as StorageNotice from "./StorageNotice.ts"

/** Metadata-only notification for UI sync; never carries key material. */
export const LlmConfigChange = Schema.Union([
  Schema.TaggedStruct("Created", { config: LlmConfig.LlmConfig }),
  Schema.TaggedStruct("Updated", { config: LlmConfig.LlmConfig }),
  Schema.TaggedStruct("Removed", { id: Schema.String }),
  Schema.TaggedStruct("Recovered", { count: Schema.Number }),
  /** The storage repaired something on its own (see StorageNotice); shown until dismissed. */
  Schema.TaggedStruct("Notice", { notice: StorageNotice.StorageNotice }),
  Schema.TaggedStruct("NoticeDismissed", { id: Schema.String })
])
export type LlmConfigChange = typeof LlmConfigChange.Type

/** What the store can say about itself: the active tier and whether anything needs attention. */
export const StoreStatus = Schema.Struct({
  secretStore: SecretStore.SecretStoreDescription,
  preferencesLocation: Schema.String,
  configCount: Schema.Number,
  /** Where the configurations' keys are: which tier holds what, and how many were lost with a session. */
  keys: Schema.optional(Schema.Struct({
    keychain: Schema.Number,
    encryptedFile: Schema.Number,
    session: Schema.Number,
    notSaved: Schema.Number
  })),
  pendingIntents: Schema.Number,
  health: Schema.Literals(["ok", "degraded"]),
  notes: Schema.Array(Schema.String),
  /** Recoveries not yet dismissed (e.g. preferences restored from a backup). */
  notices: Schema.Array(StorageNotice.StorageNotice)
})
export type StoreStatus = typeof StoreStatus.Type

/** What `recover` did with each unfinished intent. */
export const RecoveryReport = Schema.Struct({
  rolledForward: Schema.Array(Schema.Struct({ configId: Schema.String, op: Schema.String })),
  rolledBack: Schema.Array(Schema.Struct({ configId: Schema.String, op: Schema.String })),
  deferred: Schema.Array(Schema.Struct({ configId: Schema.String, op: Schema.String })),
  failed: Schema.Array(Schema.Struct({ configId: Schema.String, op: Schema.String, error: Schema.String }))
})
export type RecoveryReport = typeof RecoveryReport.Type

type StoreError = Errors.SecretStoreError | Errors.PreferencesStoreError

/** One configuration brought in from elsewhere (an older Fishbowl's files), with its key if it has one. */
export interface ImportEntry {
  /** The metadata as it should be stored; `hasKey` must say whether `apiKey` is given. */
  readonly config: LlmConfig.LlmConfig
  readonly apiKey?: Redacted.Redacted<string> | undefined
}

/** What `importConfig` did with one entry. Metadata and reasons only, never key material. */
export type ImportOutcome =
  | { readonly _tag: "Imported"; readonly config: LlmConfig.LlmConfig; readonly renamedFrom?: string }
  | { readonly _tag: "AlreadyPresent"; readonly config: LlmConfig.LlmConfig }
  | { readonly _tag: "Skipped"; readonly reason: string }

export interface LlmConfigStoreService {
  /** Metadata only: never touches the secret store. */
  readonly list: Effect.Effect<ReadonlyArray<LlmConfig.LlmConfig>, Errors.PreferencesStoreError>
  readonly get: (id: Ids.ConfigId) => Effect.Effect<LlmConfig.LlmConfig, Errors.NotFound | Errors.PreferencesStoreError>
  readonly create: (input: LlmConfig.LlmConfigInput) => Effect.Effect<LlmConfig.LlmConfig, Errors.InvalidInput | Errors.Conflict | StoreError>
  readonly update: (
    id: Ids.ConfigId,
    patch: LlmConfig.LlmConfigPatch
  ) => Effect.Effect<LlmConfig.LlmConfig, Errors.NotFound | Errors.InvalidInput | Errors.Conflict | StoreError>
  readonly remove: (id: Ids.ConfigId) => Effect.Effect<void, Errors.NotFound | Errors.Conflict | StoreError>
  /** The only way a key leaves the store; for main-process use, never for the renderer. */
  readonly getApiKey: (id: Ids.ConfigId) => Effect.Effect<Redacted.Redacted<string>, Errors.NotFound | StoreError>
  readonly status: Effect.Effect<StoreStatus, StoreError>
  /** Finishes or undoes unfinished intents; `force` also takes over other instances' recent ones. */
  readonly recover: (options?: { readonly force?: boolean }) => Effect.Effect<RecoveryReport, Errors.PreferencesStoreError>
  /**
   * Imports one configuration with its key through the `migrate` intent: record, write the key,
   * read it back (verify), then commit. A name already in use gets " (imported)"; a config with
   * the same id, or the same name/provider/URL and key, is already present (a keyless one with that
   * id is given the key). Fails with Unsupported on a secret store that forgets keys at exit: the
   * caller deletes its source after a verified import, which must not lose the key.
   * Callers serialise imports across processes (the desktop migration holds a lock), so a leftover
   * `migrate` intent on the same id is a crashed import and is rolled back first.
   */
  readonly importConfig: (entry: ImportEntry) => Effect.Effect<ImportOutcome, StoreError>
  readonly changes: Stream.Stream<LlmConfigChange>
  /**
   * Stores the last check's time and outcome in the config's metadata. Never touches the secret
   * store. `ifUpdatedAt` refuses (Conflict) when the config changed since it was read for the
   * check, so an old URL's outcome is never shown against a new one.
   */
  readonly recordCheck: (
    id: Ids.ConfigId,
    check: LlmConfig.ProviderCheckRecord,
    options?: { readonly ifUpdatedAt?: string }
  ) => Effect.Effect<LlmConfig.LlmConfig, Errors.NotFound | Errors.Conflict | Errors.PreferencesStoreError>
  /** Forgets a notice once the user has read it; publishes NoticeDismissed when it existed. */
  readonly dismissNotice: (id: string) => Effect.Effect<void>
}

export interface LlmConfigStoreOptions {
  /** An intent of another instance younger than this is assumed to be in flight. */
  readonly staleIntentMillis?: number
}

const isoNow = Clock.currentTimeMillis.pipe(Effect.map((millis) => new Date(millis).toISOString()))

const sameUrl = (a: string | undefined, b: string | undefined) => (a ?? "") === (b ?? "")

/** Where a config's key was written; configs from before this was recorded used the keychain. */
const storageOf = (config: LlmConfig.LlmConfig): LlmConfig.SecretStoreTier => config.keyStorage ?? "keychain"

/** The key-location fields of `config`, to carry over when its key does not change. */
const keyLocationOf = (config: LlmConfig.LlmConfig): Pick<LlmConfig.LlmConfig, "keyStorage" | "keySession"> => ({
  ...(config.keyStorage !== undefined ? { keyStorage: config.keyStorage } : {}),
  ...(config.keySession !== undefined ? { keySession: config.keySession } : {})
})

/** The key tier change that cannot be made durable: the key lives in a keychain we cannot reach. */
const keychainOutOfReach = (config: LlmConfig.LlmConfig, action: string) =>
  new Errors.KeychainUnavailable({
    message: `Could not ${action} "${config.name}": its key is kept in the ${
      storageOf(config) === "encrypted-file" ? "encrypted key file" : "keychain"
    }, which cannot be reached now, and a change kept only in memory would be lost. Nothing was changed.`,
    hint: "Start or unlock your keychain (on Linux: gnome-keyring or KWallet), then try again."
  })

const nameConflict = (name: string) =>
  new Errors.Conflict({
    message: `A configuration named "${name}" already exists`,
    hint: "Choose a different name; names are compared without regard to case."
  })

const busyConflict = (id: string) =>
  new Errors.Conflict({
    message: `Another change to configuration ${id} has not finished yet`,
    hint: "Try again in a moment. If it persists, restart Fishbowl so it can finish the interrupted change."
  })

const configNotFound = (id: string) =>
  new Errors.NotFound({
    id,
    message: `No configuration with id ${id}`,
    hint: "Refresh the list; the configuration may have been removed in another window."
  })

const checkRequiredFields = (
  provider: Providers.ProviderDefinition,
  config: { readonly baseUrl?: string | undefined; readonly hasKey: boolean; readonly allowInsecureHttp?: boolean | undefined }
): Effect.Effect<void, Errors.InvalidInput> => {
  if (provider.requiresApiKey && !config.hasKey) {
    return Effect.fail(
      new Errors.InvalidInput({
        field: "apiKey",
        message: `${provider.displayName} needs an API key`,
        hint: "Paste the API key from your provider's dashboard."
      })
    )
  }
  if (Providers.requiresBaseUrl(provider) && config.baseUrl === undefined) return Effect.fail(Providers.missingBaseUrl(provider))
  return Canonical.refuseInsecureHttp(config.baseUrl ?? provider.defaultBaseUrl, {
    hasKey: config.hasKey,
    allowInsecureHttp: config.allowInsecureHttp === true
  })
}

/** Serialises operations per config id inside this process. */
const makeKeyedLock = () => {
  const locks = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()
  return <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let entry = locks.get(key)
      if (entry === undefined) {
        entry = { semaphore: Semaphore.makeUnsafe(1), users: 0 }
        locks.set(key, entry)
      }
      const current = entry
      current.users++
      return current.semaphore.withPermits(1)(effect).pipe(
        Effect.ensuring(Effect.sync(() => {
          current.users--
          if (current.users === 0) locks.delete(key)
        }))
      )
    })
}

/**
 * Builds a store instance over the ports in context. Several instances over the same ports model
 * several processes (or a restart), which is how crash recovery is tested.
 */
export const make = Effect.fnUntraced(function*(options?: LlmConfigStoreOptions) {
  const secrets = yield* SecretStore.SecretStore
  const preferences = yield* PreferencesStore.PreferencesStore
  const crash = yield* CrashPoints.CrashPoints
  const staleIntentMillis = options?.staleIntentMillis ?? 10_000
  const instanceId = Ids.newConfigId()
  const inFlight = new Set<string>()
  const serialized = makeKeyedLock()
  const changes = yield* PubSub.unbounded<LlmConfigChange>()
  const publish = (change: LlmConfigChange) => PubSub.publish(changes, change)
  const reached = (point: CrashPoints.CrashPoint) => crash.reached(point)

  const journal = yield* Journal.make(instanceId)
  const newIntent = journal.intent

  /** Fails when another unfinished intent touches the same config. */
  const ensureIdle = (llm: PreferencesDocument.LlmSection, id: string) => Journal.isBusy(llm, id) ? Effect.fail(busyConflict(id)) : Effect.void

  /** Runs a journaled operation: tracked as in flight, and never interrupted half-way. */
  const journaled = <A, E, R>(id: Ids.ConfigId, body: (track: (intentId: string) => void) => Effect.Effect<A, E, R>) =>
    serialized(
      id,
      Effect.uninterruptible(
        Effect.suspend(() => {
          let tracked: string | undefined
          return body((intentId) => {
            tracked = intentId
            inFlight.add(intentId)
          }).pipe(Effect.ensuring(Effect.sync(() => tracked !== undefined && inFlight.delete(tracked))))
        })
      )
    )

  const abandon = journal.abandon
  const dropIntent = journal.drop

  /**
   * Finishes leftover intents on `id` before a new operation on it: this instance's own (a failed
   * clean-up) and stale ones of other instances. Failures surface as the real cause (e.g. a
   * locked keychain), not as a vague conflict. Runs under the id's lock, so none is in flight here.
   */
  const settle = (id: Ids.ConfigId) =>
    Effect.gen(function*() {
      const document = yield* preferences.load
      const now = yield* Clock.currentTimeMillis
      for (const intent of document.llm.journal) {
        if (intent.configId !== id) continue
        const stale = now - Date.parse(intent.startedAt) >= staleIntentMillis
        if (intent.owner === instanceId || stale || intent.phase === "abandoned") yield* journal.recoverIntent(intent)
      }
    })

  /** A key held in another session's memory is gone: its config has no key, which is the truth. */
  const keyLost = (config: LlmConfig.LlmConfig) =>
    config.hasKey && config.keyStorage === "session" && config.keySession !== secrets.sessionId
  const truthful = (config: LlmConfig.LlmConfig): LlmConfig.LlmConfig => keyLost(config) ? { ...config, hasKey: false } : config

  /** Where a key written now goes, as metadata records it. */
  const placement = secrets.placement.pipe(
    Effect.map((tier): Pick<LlmConfig.LlmConfig, "keyStorage" | "keySession"> =>
      tier === "session" ? { keyStorage: tier, keySession: secrets.sessionId } : { keyStorage: tier }
    )
  )

  const list = preferences.load.pipe(
    Effect.map((document) => document.llm.configs.map(truthful)),
    Effect.withSpan("LlmConfigStore.list")
  )

  const get = Effect.fn("LlmConfigStore.get")(function*(id: Ids.ConfigId) {
    const document = yield* preferences.load
    const config = document.llm.configs.find((candidate) => candidate.id === id)
    if (config === undefined) return yield* configNotFound(id)
    return truthful(config)
  })

  const create = Effect.fn("LlmConfigStore.create")(function*(input: LlmConfig.LlmConfigInput) {
    const provider = yield* Providers.requireProvider(input.provider)
    const id = Ids.newConfigId()
    const now = yield* isoNow
    const config: LlmConfig.LlmConfig = {
      id,
      provider: input.provider,
      name: input.name,
      ...(input.baseUrl !== undefined ? { baseUrl: input.baseUrl } : {}),
      useAuthHeader: input.useAuthHeader ?? true,
      ...(input.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
      createdAt: now,
      updatedAt: now,
      hasKey: input.apiKey !== undefined,
      ...(input.apiKey !== undefined ? yield* placement : {})
    }
    yield* checkRequiredFields(provider, config)
    const apiKey = input.apiKey
    return yield* journaled(id, (track) =>
      Effect.gen(function*() {
        const intent = yield* newIntent({
          op: "create",
          configId: id,
          provider: config.provider,
          after: config,
          keyChange: apiKey === undefined ? "none" : "set"
        })
        track(intent.id)
        yield* preferences.update((document) =>
          Journal.namesTaken(document.llm).has(Canonical.nameKey(config.name))
            ? Effect.fail(nameConflict(config.name))
            : Effect.succeed([undefined, Journal.withIntent(document, intent)] as const)
        )
        yield* reached("create.intent-recorded")
        if (apiKey !== undefined) {
          yield* secrets.set(Journal.keyRef(config), apiKey).pipe(Effect.tapError((cause) => abandon(intent, cause)))
        }
        yield* reached("create.secret-written")
        yield* preferences.update((document) =>
          Effect.succeed([
            undefined,
            Journal.replaceSection(document, {
              configs: [...document.llm.configs, config],
              journal: document.llm.journal.filter((entry) => entry.id !== intent.id)
            })
          ] as const)
        ).pipe(Effect.tapError((cause) => abandon(intent, cause)))
        yield* reached("create.committed")
        yield* publish({ _tag: "Created", config })
        return config
      })
    )
  })

  const update = Effect.fn("LlmConfigStore.update")(function*(id: Ids.ConfigId, patch: LlmConfig.LlmConfigPatch) {
    const apiKey = patch.apiKey
    return yield* journaled(id, (track) =>
      Effect.gen(function*() {
        yield* settle(id)
        const now = yield* isoNow
        const newKeyAt = apiKey === undefined ? undefined : yield* placement
        const intent = yield* preferences.update((document) =>
          Effect.gen(function*() {
            const stored = document.llm.configs.find((candidate) => candidate.id === id)
            if (stored === undefined) return yield* configNotFound(id)
            const before = truthful(stored)
            // A new key that would live only in memory must not shadow one kept in the keychain:
            // once the keychain is back, the config would point at the new URL with the old key.
            if (before.hasKey && newKeyAt?.keyStorage === "session" && storageOf(before) !== "session") {
              return yield* keychainOutOfReach(before, "change the key of")
            }
            yield* ensureIdle(document.llm, id)
            const provider = yield* Providers.requireProvider(before.provider)
            const baseUrl = patch.baseUrl === null ? undefined : patch.baseUrl ?? before.baseUrl
            if (baseUrl !== undefined && LlmConfig.baseUrlProblem(baseUrl) !== undefined) {
              return yield* new Errors.InvalidInput({
                field: "baseUrl",
                message: LlmConfig.baseUrlProblem(baseUrl)!,
                hint: "Enter an https URL (plain http only to this machine or a private network)."
              })
            }
            if (before.hasKey && !sameUrl(before.baseUrl, baseUrl) && apiKey === undefined) {
              return yield* new Errors.InvalidInput({
                field: "apiKey",
                message: "Changing the base URL requires entering the API key again",
                hint: "Re-enter the key so it is never sent to a new host without your say-so."
              })
            }
            const after: LlmConfig.LlmConfig = {
              id: before.id,
              provider: before.provider,
              name: patch.name ?? before.name,
              ...(baseUrl !== undefined ? { baseUrl } : {}),
              useAuthHeader: patch.useAuthHeader ?? before.useAuthHeader,
              ...((patch.allowInsecureHttp ?? before.allowInsecureHttp) === true ? { allowInsecureHttp: true } : {}),
              createdAt: before.createdAt,
              updatedAt: now,
              hasKey: before.hasKey || apiKey !== undefined,
              ...(newKeyAt ?? (before.hasKey ? keyLocationOf(before) : {}))
            }
            yield* checkRequiredFields(provider, after)
            if (Journal.namesTaken(document.llm, id).has(Canonical.nameKey(after.name))) return yield* nameConflict(after.name)
            const intent = yield* newIntent({
              op: "update",
              configId: id,
              provider: before.provider,
              before,
              after,
              keyChange: apiKey === undefined ? "none" : "set"
            })
            return [intent, Journal.withIntent(document, intent)] as const
          })
        )
        track(intent.id)
        const after = intent.after!
        yield* reached("update.intent-recorded")
        if (apiKey !== undefined) {
          yield* secrets.set(Journal.stagedRef(after), apiKey).pipe(Effect.tapError((cause) => abandon(intent, cause)))
          yield* reached("update.secret-staged")
          yield* secrets.set(Journal.keyRef(after), apiKey).pipe(
            Effect.tapError((cause) => abandon(intent, cause, { stagedWritten: true }))
          )
          yield* reached("update.secret-written")
        }
        yield* commitUpdate(intent)
        yield* reached("update.committed")
        if (apiKey !== undefined) {
          // The change is made: a failed clean-up of the staged copy does not undo it. The intent
          // stays committed, and the next operation on this config or `recover` finishes it.
          yield* finishStaged(intent).pipe(
            Effect.catch((cause) =>
              Effect.logWarning(
                `"${after.name}" was updated, but removing the temporary copy of its old key failed (${cause._tag}); it is retried later`
              )
            )
          )
        }
        yield* publish({ _tag: "Updated", config: after })
        return after
      })
    )
  })

  const commitUpdate = journal.commitUpdate
  const finishStaged = journal.finishStaged
  const finishRemove = journal.finishRemove

  const remove = Effect.fn("LlmConfigStore.remove")(function*(id: Ids.ConfigId) {
    yield* journaled(id, (track) =>
      Effect.gen(function*() {
        yield* settle(id)
        const keyNowAt = yield* secrets.placement
        const intent = yield* preferences.update((document) =>
          Effect.gen(function*() {
            const stored = document.llm.configs.find((candidate) => candidate.id === id)
            if (stored === undefined) return yield* configNotFound(id)
            const before = truthful(stored)
            // Deleting from session memory what lives in the keychain would leave the key there.
            if (before.hasKey && keyNowAt === "session" && storageOf(before) !== "session") {
              return yield* keychainOutOfReach(before, "remove")
            }
            yield* ensureIdle(document.llm, id)
            const intent = yield* newIntent({
              op: "remove",
              configId: id,
              provider: before.provider,
              before,
              keyChange: before.hasKey ? "delete" : "none"
            })
            return [intent, Journal.withIntent(document, intent)] as const
          })
        )
        track(intent.id)
        yield* reached("remove.intent-recorded")
        yield* finishRemove(intent, { alsoStaged: false }).pipe(
          Effect.tapError(() =>
            dropIntent(intent.id).pipe(Effect.ignore)
          )
        )
        yield* publish({ _tag: "Removed", id })
      })
    )
  })

  const getApiKey = Effect.fn("LlmConfigStore.getApiKey")(function*(id: Ids.ConfigId) {
    const document = yield* preferences.load
    const config = document.llm.configs.find((candidate) => candidate.id === id)
    if (config === undefined || document.llm.journal.some((intent) => intent.configId === id && intent.op === "remove")) {
      return yield* configNotFound(id)
    }
    if (keyLost(config)) {
      return yield* new Errors.NotFound({
        id,
        message: `The key of "${config.name}" was kept only in memory by the session that added it, and that session has ended`,
        hint: "Enter the key again; start your keychain first so that it is saved this time."
      })
    }
    if (!config.hasKey) {
      return yield* new Errors.NotFound({
        id,
        message: `"${config.name}" has no API key`,
        hint: "Edit the configuration to add a key."
      })
    }
    const stored = yield* secrets.get(Journal.keyRef(config))
    if (Option.isSome(stored)) return stored.value
    const description = yield* secrets.describe
    if (!description.distinguishesLockedFromAbsent) {
      return yield* new Errors.KeychainLocked({
        message: `The key for "${config.name}" could not be read: the keychain may be locked, or the entry was deleted`,
        hint: "Unlock your keychain and try again; if the entry was deleted, edit the configuration and replace the key."
      })
    }
    return yield* new Errors.NotFound({
      id,
      message: `The keychain entry for "${config.name}" is missing`,
      hint: "Edit the configuration and choose \"Replace key\" to enter the API key again."
    })
  })

  const sameKey = (stored: Option.Option<Redacted.Redacted<string>>, key: Redacted.Redacted<string>) =>
    Option.isSome(stored) && Redacted.value(stored.value) === Redacted.value(key)

  /** Writes `key` under `ref` and reads it back; false when the store did not return it. */
  const writeVerified = (config: LlmConfig.LlmConfig, key: Redacted.Redacted<string>) =>
    Effect.gen(function*() {
      yield* secrets.set(Journal.keyRef(config), key)
      return sameKey(yield* secrets.get(Journal.keyRef(config)), key)
    })

  const freeName = (name: string, taken: Set<string>) => {
    if (!taken.has(Canonical.nameKey(name))) return name
    for (let index = 1;; index++) {
      const suffix = index === 1 ? " (imported)" : ` (imported ${index})`
      const candidate = `${name.slice(0, 100 - suffix.length).trim()}${suffix}`
      if (!taken.has(Canonical.nameKey(candidate))) return candidate
    }
  }

  const importConfig = Effect.fn("LlmConfigStore.importConfig")(function*(entry: ImportEntry) {
    const description = yield* secrets.describe
    if (!description.persistent) {
      return yield* new Errors.Unsupported({
        message: `Keys cannot be imported into ${description.backend}: it does not keep them after Fishbowl quits`,
        hint: Hints.keychainForMigration
      })
    }
    const key = entry.apiKey
    const wanted: LlmConfig.LlmConfig = { ...entry.config, hasKey: key !== undefined, ...(key !== undefined ? yield* placement : {}) }
    return yield* journaled(wanted.id, (track): Effect.Effect<ImportOutcome, StoreError> =>
      Effect.gen(function*() {
        // A leftover import of this id crashed (imports are serialised by the caller).
        const leftovers = (yield* preferences.load).llm.journal.filter((intent) =>
          intent.configId === wanted.id && intent.op === "migrate"
        )
        for (const leftover of leftovers) yield* journal.recoverIntent(leftover)
        yield* settle(wanted.id)

        const document = yield* preferences.load
        const existing = document.llm.configs.find((config) => config.id === wanted.id)
        if (existing !== undefined && (existing.hasKey || key === undefined)) {
          // Its key went missing from the secret store: put it back (there is no metadata to change).
          if (existing.hasKey && key !== undefined && Option.isNone(yield* secrets.get(Journal.keyRef(existing)))) {
            if (!(yield* writeVerified(existing, key))) {
              return { _tag: "Skipped", reason: `the key could not be read back from ${description.backend}` } as const
            }
          }
          return { _tag: "AlreadyPresent", config: existing } as const
        }
        if (existing === undefined) {
          const twin = document.llm.configs.find((other) =>
            Canonical.sameName(other.name, wanted.name) && other.provider === wanted.provider &&
            sameUrl(other.baseUrl, wanted.baseUrl) && other.hasKey === wanted.hasKey
          )
          if (twin !== undefined && (key === undefined || sameKey(yield* secrets.get(Journal.keyRef(twin)), key))) {
            return { _tag: "AlreadyPresent", config: twin } as const
          }
        }

        const recorded = yield* journal.record((current) =>
          Effect.gen(function*() {
            if (Journal.isBusy(current.llm, wanted.id)) return yield* Effect.fail("busy" as const)
            const present = current.llm.configs.find((config) => config.id === wanted.id)
            // A keyless config of an earlier import keeps its metadata and gains the key.
            const after: LlmConfig.LlmConfig = present !== undefined
              ? { ...present, hasKey: true, ...keyLocationOf(wanted) }
              : { ...wanted, name: freeName(wanted.name, Journal.namesTaken(current.llm, wanted.id)) }
            return yield* newIntent({
              op: "migrate",
              configId: wanted.id,
              provider: wanted.provider,
              ...(present !== undefined ? { before: present } : {}),
              after,
              keyChange: key === undefined ? "none" : "set"
            })
          })
        ).pipe(Effect.catchIf((error) => error === "busy", () => Effect.succeed(undefined)))
        if (recorded === undefined) {
          return { _tag: "Skipped", reason: "another change to this configuration is in progress; run the migration again" } as const
        }
        track(recorded.id)
        const after = recorded.after!
        yield* reached("migrate.intent-recorded")
        if (key !== undefined) {
          const rejected = yield* secrets.set(Journal.keyRef(after), key).pipe(
            Effect.tapError((cause) => abandon(recorded, cause)),
            Effect.as(undefined),
            Effect.catchTag("InvalidInput", (error) => Effect.succeed(`the secret store rejected the key: ${error.message}`))
          )
          if (rejected !== undefined) return { _tag: "Skipped", reason: rejected } as const
        }
        yield* reached("migrate.secret-written")
        if (key !== undefined) {
          const stored = yield* secrets.get(Journal.keyRef(after)).pipe(Effect.tapError((cause) => abandon(recorded, cause)))
          if (!sameKey(stored, key)) {
            yield* abandon(recorded, { _tag: "VerificationFailed" })
            return { _tag: "Skipped", reason: "verification failed: the secret store did not return the key just written" } as const
          }
        }
        yield* reached("migrate.secret-verified")
        yield* journal.commitImport(recorded).pipe(Effect.tapError((cause) => abandon(recorded, cause)))
        yield* reached("migrate.committed")
        yield* publish(recorded.before !== undefined ? { _tag: "Updated", config: after } : { _tag: "Created", config: after })
        return {
          _tag: "Imported",
          config: after,
          ...(after.name !== wanted.name && recorded.before === undefined ? { renamedFrom: wanted.name } : {})
        } as const
      })
    )
  })

  const recover = Effect.fn("LlmConfigStore.recover")(function*(recoverOptions?: { readonly force?: boolean }) {
    const document = yield* preferences.load
    const now = yield* Clock.currentTimeMillis
    const report = {
      rolledForward: [] as Array<{ configId: string; op: string }>,
      rolledBack: [] as Array<{ configId: string; op: string }>,
      deferred: [] as Array<{ configId: string; op: string }>,
      failed: [] as Array<{ configId: string; op: string; error: string }>
    }
    for (const intent of document.llm.journal) {
      const entry = { configId: intent.configId, op: intent.op }
      const ownedHere = intent.owner === instanceId
      const stale = now - Date.parse(intent.startedAt) >= staleIntentMillis
      const eligible = ownedHere || stale || intent.phase === "abandoned" || recoverOptions?.force === true
      if (inFlight.has(intent.id) || !eligible) {
        report.deferred.push(entry)
        continue
      }
      const outcome = yield* serialized(intent.configId, Effect.uninterruptible(journal.recoverIntent(intent))).pipe(
        Effect.result
      )
      if (outcome._tag === "Success") {
        ;(outcome.success === "forward" ? report.rolledForward : report.rolledBack).push(entry)
      } else {
        report.failed.push({ ...entry, error: outcome.failure._tag })
      }
    }
    const recovered = report.rolledForward.length + report.rolledBack.length
    if (recovered > 0) yield* publish({ _tag: "Recovered", count: recovered })
    return report satisfies RecoveryReport
  })

  const status = Effect.gen(function*() {
    const description = yield* secrets.describe
    const document = yield* preferences.load
    const notes: Array<string> = []
    if (description.warning !== undefined) notes.push(description.warning)
    if (document.llm.journal.length > 0) {
      notes.push(`${document.llm.journal.length} interrupted change(s) waiting for recovery`)
    }
    const keys = { keychain: 0, encryptedFile: 0, session: 0, notSaved: 0 }
    for (const config of document.llm.configs) {
      if (!config.hasKey) continue
      if (keyLost(config)) keys.notSaved++
      else if (storageOf(config) === "session") keys.session++
      else if (storageOf(config) === "encrypted-file") keys.encryptedFile++
      else keys.keychain++
    }
    if (keys.session > 0) {
      notes.push(`${keys.session} key${keys.session === 1 ? " is" : "s are"} kept only in memory and will be lost when Fishbowl quits`)
    }
    if (keys.notSaved > 0) {
      notes.push(`${keys.notSaved} key${keys.notSaved === 1 ? " was" : "s were"} kept only in memory by an earlier session and ${keys.notSaved === 1 ? "is" : "are"} gone: enter ${keys.notSaved === 1 ? "it" : "them"} again`)
    }
    return {
      secretStore: description,
      preferencesLocation: preferences.location,
      configCount: document.llm.configs.length,
      keys,
      pendingIntents: document.llm.journal.length,
      health: description.tier === "keychain" && document.llm.journal.length === 0 ? "ok" as const : "degraded" as const,
      notes,
      notices: yield* currentNotices
    } satisfies StoreStatus
  }).pipe(Effect.withSpan("LlmConfigStore.status"))

  // Self-contained on purpose: one metadata write under the id's lock, outside the journal (no
  // secret is involved, so there is nothing to keep consistent with the keychain).
  const recordCheck = Effect.fn("LlmConfigStore.recordCheck")(function*(
    id: Ids.ConfigId,
    check: LlmConfig.ProviderCheckRecord,
    recordOptions?: { readonly ifUpdatedAt?: string }
  ) {
    const config = yield* serialized(
      id,
      preferences.update((document) =>
        Effect.gen(function*() {
          const current = document.llm.configs.find((candidate) => candidate.id === id)
          if (current === undefined) return yield* configNotFound(id)
          if (
            document.llm.journal.some((intent) => intent.configId === id) ||
            (recordOptions?.ifUpdatedAt !== undefined && recordOptions.ifUpdatedAt !== current.updatedAt)
          ) return yield* busyConflict(id)
          const next: LlmConfig.LlmConfig = { ...current, lastCheck: check }
          const configs = document.llm.configs.map((candidate) => candidate.id === id ? next : candidate)
          return [next, Journal.replaceSection(document, { configs })] as const
        })
      )
    )
    yield* publish({ _tag: "Updated", config })
    return config
  })

  const { changes: noticeChanges, currentNotices, dismissNotice } = noticesOf(preferences, publish)
  // Notices join the one change feed at the source, so a subscriber sees every change from the
  // moment it subscribes (a merged stream subscribes its parts later, in forked fibers).
  if (preferences.notices !== undefined) yield* Effect.forkDetach(Stream.runForEach(noticeChanges, publish))

  return LlmConfigStore.of({
    recordCheck,
    dismissNotice,
    list,
    get,
    create,
    update,
    remove,
    getApiKey,
    status,
    recover,
    importConfig,
    changes: Stream.fromPubSub(changes)
  })
})

/** The preferences store's notices, as the store's status field, change events and dismiss. */
const noticesOf = (
  preferences: PreferencesStore.PreferencesStore["Service"],
  publish: (change: LlmConfigChange) => Effect.Effect<boolean>
) => {
  const notices = preferences.notices
  return {
    currentNotices: notices?.current ?? Effect.succeed<ReadonlyArray<StorageNotice.StorageNotice>>([]),
    changes: notices === undefined
      ? Stream.empty
      : notices.changes.pipe(Stream.map((notice): LlmConfigChange => ({ _tag: "Notice", notice }))),
    dismissNotice: Effect.fn("LlmConfigStore.dismissNotice")(function*(id: string) {
      if (notices !== undefined && (yield* notices.dismiss(id))) yield* publish({ _tag: "NoticeDismissed", id })
    })
  }
}

export class LlmConfigStore extends Context.Service<LlmConfigStore, LlmConfigStoreService>()(
  "@fishbowl/domain/LlmConfigStore"
) {}

/** The store over whatever SecretStore, PreferencesStore and CrashPoints are provided. */
export const layerNoDeps = (options?: LlmConfigStoreOptions) => Layer.effect(LlmConfigStore, make(options))

/** Production wiring: no crash points; ports come from the platform layer. */
export const layer = (options?: LlmConfigStoreOptions) => layerNoDeps(options).pipe(Layer.provide(CrashPoints.layer))

/** Everything in memory, for tests of code built on the store. */
export const layerMemory = layer().pipe(Layer.provideMerge(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory)))
