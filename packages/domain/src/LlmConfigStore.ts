/**
 * The configuration store: one implementation, generic over the SecretStore and PreferencesStore
 * ports, that keeps metadata and keys consistent across crashes.
 *
 * Keychain and file cannot share a transaction, so every multi-step change goes through an intent
 * journal kept inside the metadata document:
 *   1. record the intent (with the metadata before and after) — atomically with uniqueness checks;
 *      an update with a new key also records a fingerprint of the value it writes (`keyMark`);
 *   2. change the secret (the key goes straight into its own entry);
 *   3. commit the metadata and drop the intent, in one write.
 * `recover` rolls every unfinished intent forward or back, so after a crash at any step there is no
 * acknowledged config without its key, no key without its config and no half-applied update; an
 * update is rolled back only once its key write can no longer land (Journal.rollDirectUpdate).
 * The journal itself (record, commit, drop, abandon, names taken, recover) lives in Journal.ts.
 *
 * Processes that overlap (the app, a CLI command, the health panel's actions) never undo each
 * other's work: an intent is recovered only when its owner is provably gone (Liveness), every
 * commit proves its intent is still there (Journal.commit), and a key is handed out only for the
 * destination it was entered for (KeyBinding).
 */
import { Context, Effect, Layer, Option, PubSub, Redacted, Schema, Scope, Stream } from "effect"
import * as Canonical from "./Canonical.ts"
import * as CrashPoints from "./CrashPoints.ts"
import * as Errors from "./Errors.ts"
import * as Hints from "./Hints.ts"
import * as Ids from "./Ids.ts"
import * as Journal from "./Journal.ts"
import * as KeyBinding from "./KeyBinding.ts"
import * as KeyedLock from "./KeyedLock.ts"
import * as Liveness from "./Liveness.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as Plural from "./Plural.ts"
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
  /**
   * Left alone: `running`, its owner still runs (another process, or an operation in flight here);
   * `unknown`, its owner cannot be checked from here (another machine or container); `settling`,
   * its owner is gone but a write of its key may still land (it is finished or undone later).
   */
  left: Schema.Array(Schema.Struct({
    configId: Schema.String,
    op: Schema.String,
    why: Schema.Literals(["running", "unknown", "settling"]),
    /** Who owns it, e.g. "process 1234 on laptop". */
    owner: Schema.String
  })),
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

/** What `importConfig` (or `bringBack`) did with one entry. Metadata and reasons only, never key material. */
export type ImportOutcome =
  | { readonly _tag: "Imported"; readonly config: LlmConfig.LlmConfig; readonly renamedFrom?: string }
  | { readonly _tag: "AlreadyPresent"; readonly config: LlmConfig.LlmConfig }
  | { readonly _tag: "Skipped"; readonly reason: string }
  /**
   * The id is taken by a different configuration (another provider or name, or another key):
   * nothing is written, and the caller keeps the entry's key where it is.
   */
  | { readonly _tag: "Conflict"; readonly reason: string; readonly existing: LlmConfig.LlmConfig }

export interface RecoverOptions {
  /**
   * The user says the owners that cannot be checked from here (another machine, another
   * container) are gone: their operations are recovered too. Owners known to run never are.
   */
  readonly assumeUnknownOwnersGone?: boolean
}

export interface LlmConfigStoreService {
  /** Metadata only: never touches the secret store. */
  readonly list: Effect.Effect<ReadonlyArray<LlmConfig.LlmConfig>, Errors.PreferencesStoreError>
  readonly get: (id: Ids.ConfigId) => Effect.Effect<LlmConfig.LlmConfig, Errors.NotFound | Errors.PreferencesStoreError>
  readonly create: (
    input: LlmConfig.LlmConfigInput
  ) => Effect.Effect<LlmConfig.LlmConfig, Errors.InvalidInput | Errors.Conflict | StoreError>
  readonly update: (
    id: Ids.ConfigId,
    patch: LlmConfig.LlmConfigPatch
  ) => Effect.Effect<LlmConfig.LlmConfig, Errors.NotFound | Errors.InvalidInput | Errors.Conflict | StoreError>
  readonly remove: (id: Ids.ConfigId) => Effect.Effect<void, Errors.NotFound | Errors.Conflict | StoreError>
  /** The only way a key leaves the store; for main-process use, never for the renderer. */
  readonly getApiKey: (id: Ids.ConfigId) => Effect.Effect<Redacted.Redacted<string>, Errors.NotFound | StoreError>
  readonly status: Effect.Effect<StoreStatus, StoreError>
  /**
   * Finishes or undoes the unfinished intents whose owner is gone (this instance's own leftovers,
   * abandoned ones, and those of processes that no longer run); the rest are reported as `left`.
   */
  readonly recover: (options?: RecoverOptions) => Effect.Effect<RecoveryReport, Errors.PreferencesStoreError>
  /**
   * Imports one configuration with its key through the `migrate` intent: record, write the key,
   * read it back (verify), then commit. A name already in use gets " (imported)"; a config with
   * the same id, or the same name/provider/URL and key, is already present (a keyless one with that
   * id is given the key). Fails with Unsupported on a secret store that forgets keys at exit: the
   * caller deletes its source after a verified import, which must not lose the key.
   * A leftover intent on the same id is recovered first when its owner is gone; while its owner
   * runs, the entry is Skipped. The outcome is Imported only once the commit proved its intent.
   */
  readonly importConfig: (entry: ImportEntry) => Effect.Effect<ImportOutcome, StoreError>
  /**
   * Brings back a configuration a restore left out (metadata from the state it replaced): only
   * when it has a key that is still in the secret store, entered for its destination, and no
   * config has its id (or its name, provider and URL). A taken name gets " (restored)". One
   * metadata write, no key write.
   */
  readonly bringBack: (config: LlmConfig.LlmConfig) => Effect.Effect<ImportOutcome, StoreError>
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

const isoNow = LlmConfig.isoNow

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
    hint: "Choose a different name; names are compared without regard to case.",
    reason: "name-taken"
  })

/** `llm`'s name for the config `id` (its id when it has none there), as the user knows it. */
const nameOf = (llm: PreferencesDocument.LlmSection, id: string) => {
  const name = llm.configs.find((config) => config.id === id)?.name
  return name === undefined ? `configuration ${id}` : `"${name}"`
}

const busyConflict = (llm: PreferencesDocument.LlmSection, id: string) =>
  new Errors.Conflict({
    message: `Another change to ${nameOf(llm, id)} has not finished yet`,
    hint: "Try again in a moment. If it persists, restart Fishbowl so it can finish the interrupted change.",
    reason: "busy"
  })

const configNotFound = (id: string) =>
  new Errors.NotFound({
    id,
    reason: "config",
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
        reason: "key-required",
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

/** The message and hint when a commit found its intent undone (Journal.IntentLost). */
const interrupted = (name: string, what: string) =>
  new Errors.Conflict({
    message:
      `"${name}" was not ${what}: while it was being saved, another Fishbowl process replaced the settings (e.g. restored a backup). Nothing was changed.`,
    hint: "Check the list of configurations, then try again.",
    reason: "settings-replaced"
  })

/** The key of a config the keychain holds, but entered for another provider or base URL. */
const keyElsewhere = (config: LlmConfig.LlmConfig) =>
  new Errors.NotFound({
    id: config.id,
    reason: "key-elsewhere",
    message:
      `The key stored for "${config.name}" was entered for a different provider or base URL than it has now (e.g. after a backup was restored or the settings were edited), so it is not used`,
    hint: "Enter the key again for this base URL, or change the base URL back."
  })

/** What every operation of one instance shares: the ports, the journal and this instance's bookkeeping. */
interface Instance {
  readonly id: string
  readonly secrets: SecretStore.SecretStoreService
  readonly preferences: PreferencesStore.PreferencesStoreService
  readonly journal: Journal.Journal
  readonly liveness: Liveness.LivenessService
  readonly reached: (point: CrashPoints.CrashPoint) => Effect.Effect<void>
  readonly publish: (change: LlmConfigChange) => Effect.Effect<boolean>
  /** Intents of operations running in this instance now. */
  readonly inFlight: Set<string>
  /** Where background work of the instance runs (none: built without a scope, no background work). */
  readonly scope: Option.Option<Scope.Scope>
  /** A recovery is scheduled for intents waiting on a late key write (`scheduleFollowUp`). */
  readonly followUp: { pending: boolean }
  /** Serialises operations per config id inside this instance. */
  readonly serialized: <A, E, R>(id: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** The configs getApiKey last loaded: where the next call guesses which entry to read (see there). */
  lastLookup: ReadonlyArray<LlmConfig.LlmConfig>
}

/** A key held in another session's memory is gone: its config has no key, which is the truth. */
const keyLost = (instance: Instance, config: LlmConfig.LlmConfig) =>
  config.hasKey && config.keyStorage === "session" && config.keySession !== instance.secrets.sessionId
const truthful = (instance: Instance, config: LlmConfig.LlmConfig): LlmConfig.LlmConfig =>
  keyLost(instance, config) ? { ...config, hasKey: false } : config

/** Where a key written now goes, as metadata records it. */
const placementOf = (instance: Instance) =>
  instance.secrets.placement.pipe(
    Effect.map((tier): Pick<LlmConfig.LlmConfig, "keyStorage" | "keySession"> =>
      tier === "session" ? { keyStorage: tier, keySession: instance.secrets.sessionId } : { keyStorage: tier }
    )
  )

/** Runs a journaled operation: tracked as in flight, and never interrupted half-way. */
const journaled = <A, E, R>(
  instance: Instance,
  id: Ids.ConfigId,
  body: (track: (intentId: string) => void) => Effect.Effect<A, E, R>
) =>
  instance.serialized(
    id,
    Effect.uninterruptible(
      Effect.suspend(() => {
        let tracked: string | undefined
        return body((intentId) => {
          tracked = intentId
          instance.inFlight.add(intentId)
        }).pipe(Effect.ensuring(Effect.sync(() => tracked !== undefined && instance.inFlight.delete(tracked))))
      })
    )
  )

/** Fails when another unfinished intent touches the same config. */
const ensureIdle = (llm: PreferencesDocument.LlmSection, id: string) =>
  Journal.isBusy(llm, id) ? Effect.fail(busyConflict(llm, id)) : Effect.void

/**
 * Finishes leftover intents on `id` before a new operation on it: this instance's own (a failed
 * clean-up), abandoned ones, and those whose owner is gone. An intent whose owner still runs is
 * left, and the operation then fails as busy. Failures surface as the real cause (e.g. a locked
 * keychain), not as a vague conflict. Runs under the id's lock, so none of ours is in flight.
 */
const settle = (instance: Instance, id: Ids.ConfigId) =>
  Effect.gen(function*() {
    const document = yield* instance.preferences.load
    for (const intent of document.llm.journal) {
      if (intent.configId !== id) continue
      const owner = intent.phase === "abandoned" ? { _tag: "Gone" as const } : yield* instance.journal.ownerOf(intent)
      if (owner._tag === "Gone") yield* instance.journal.recoverIntent(intent)
    }
  })

/**
 * The write `edit` makes, settling `id` only when it has to. While no unfinished intent touches
 * `id` (the usual case) the first write is the change, with no read before it. When the document
 * shows one, nothing is written; `id` is settled (what a gone owner left is finished, see
 * `settle`) and `edit` runs in a second write, where a config still busy fails as busy.
 */
const updateSettled = <A, E>(
  instance: Instance,
  id: Ids.ConfigId,
  edit: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<readonly [A, PreferencesDocument.PreferencesDocument], E>
) =>
  instance.preferences.update((document) =>
    Journal.isBusy(document.llm, id)
      ? Effect.succeed([Option.none<A>(), document] as const)
      : Effect.map(edit(document), ([result, next]) => [Option.some(result), next] as const)
  ).pipe(
    Effect.flatMap(Option.match({
      onSome: Effect.succeed,
      onNone: () => Effect.andThen(settle(instance, id), instance.preferences.update(edit))
    }))
  )

/** Reads a config's key and opens its binding; None when the secret store has no entry. */
const readKey = (instance: Instance, config: LlmConfig.LlmConfig) =>
  instance.secrets.get(Journal.keyRef(config)).pipe(
    Effect.map(Option.map((stored) => KeyBinding.open(stored, KeyBinding.destinationOf(config))))
  )

const sameKey = (opened: Option.Option<KeyBinding.Opened>, key: Redacted.Redacted<string>) =>
  Option.isSome(opened) && opened.value._tag !== "Elsewhere" && Redacted.value(opened.value.key) === Redacted.value(key)

/** Writes `key` for `config` and reads it back; false when the store did not return it. */
const writeVerified = (instance: Instance, config: LlmConfig.LlmConfig, key: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    yield* instance.secrets.set(Journal.keyRef(config), Journal.sealedKey(key, config))
    return sameKey(yield* readKey(instance, config), key)
  })

/** `name`, or the first of "name (suffix)", "name (suffix 2)", ... that is free. */
const freeName = (name: string, taken: Set<string>, suffix: string) => {
  if (!taken.has(Canonical.nameKey(name))) return name
  for (let index = 1;; index++) {
    const ending = index === 1 ? ` (${suffix})` : ` (${suffix} ${index})`
    const candidate = `${name.slice(0, 100 - ending.length).trim()}${ending}`
    if (!taken.has(Canonical.nameKey(candidate))) return candidate
  }
}

// ---------------------------------------------------------------------------------------------
// Operations, each built over one instance

const makeCreate = (instance: Instance) =>
  Effect.fn("LlmConfigStore.create")(function*(input: LlmConfig.LlmConfigInput) {
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
      ...(input.apiKey !== undefined ? yield* placementOf(instance) : {})
    }
    yield* checkRequiredFields(provider, config)
    const apiKey = input.apiKey
    const { journal, secrets, reached } = instance
    return yield* journaled(instance, id, (track) =>
      Effect.gen(function*() {
        const intent = yield* journal.intent({
          op: "create",
          configId: id,
          provider: config.provider,
          after: config,
          keyChange: apiKey === undefined ? "none" : "set"
        })
        track(intent.id)
        yield* instance.preferences.update((document) =>
          Journal.namesTaken(document.llm).has(Canonical.nameKey(config.name))
            ? Effect.fail(nameConflict(config.name))
            : Effect.succeed([undefined, Journal.withIntent(document, intent)] as const)
        )
        yield* reached("create.intent-recorded")
        if (apiKey !== undefined) {
          yield* secrets.set(Journal.keyRef(config), Journal.sealedKey(apiKey, config)).pipe(
            Effect.catch((cause) => journal.failAbandoned(intent, cause))
          )
        }
        yield* reached("create.secret-written")
        yield* journal.commitCreate(intent).pipe(
          Effect.catchTag("IntentLost", () =>
            // The id is ours alone: the key written under it belongs to nothing now.
            Effect.andThen(
              apiKey !== undefined ? Effect.ignore(secrets.delete(Journal.keyRef(config))) : Effect.void,
              Effect.fail(interrupted(config.name, "added"))
            )),
          Effect.catch((cause): Effect.Effect<never, Errors.Conflict | Errors.PreferencesStoreError> =>
            cause._tag === "Conflict" ? Effect.fail(cause) : journal.failAbandoned(intent, cause)
          )
        )
        yield* reached("create.committed")
        yield* instance.publish({ _tag: "Created", config })
        return config
      }))
  })

/** The metadata an update leads to, or why it is refused; checked in the same write that records it. */
const updatedConfig = (
  instance: Instance,
  document: PreferencesDocument.PreferencesDocument,
  id: Ids.ConfigId,
  patch: LlmConfig.LlmConfigPatch,
  newKeyAt: Pick<LlmConfig.LlmConfig, "keyStorage" | "keySession"> | undefined,
  now: string
) =>
  Effect.gen(function*() {
    const apiKey = patch.apiKey
    const stored = document.llm.configs.find((candidate) => candidate.id === id)
    if (stored === undefined) return yield* configNotFound(id)
    const before = truthful(instance, stored)
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
        reason: "base-url-refused",
        message: LlmConfig.baseUrlProblem(baseUrl)!,
        hint: "Enter an https URL (plain http only to this machine or a private network)."
      })
    }
    if (before.hasKey && !sameUrl(before.baseUrl, baseUrl) && apiKey === undefined) {
      return yield* new Errors.InvalidInput({
        field: "apiKey",
        reason: "key-required-for-new-destination",
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
    return { before, after }
  })

/**
 * An update whose intent was lost before its commit: its key is already in place, bound to
 * `after`. While the config is still there and nothing else owns it, the update is committed as
 * the user asked (honest success); otherwise it fails.
 */
const recommitLostUpdate = (instance: Instance, intent: PreferencesDocument.Intent) =>
  instance.preferences.update((document) => {
    const present = document.llm.configs.find((config) => config.id === intent.configId)
    if (present === undefined || present.provider !== intent.provider || Journal.isBusy(document.llm, intent.configId)) {
      return Effect.fail(interrupted(intent.after!.name, "updated"))
    }
    return Effect.succeed(
      [undefined, Journal.replaceSection(document, { configs: Journal.withConfig(document.llm.configs, intent.after!) })] as const
    )
  })

/**
 * An update without a new key changes metadata only: what the stored key is bound to cannot change
 * (a new base URL needs the key again, updatedConfig), so one atomic write under the id's lock is
 * the whole change, as for recordCheck. No intent: a crash leaves the old file or the new one.
 */
const updateMetadata = (instance: Instance, id: Ids.ConfigId, patch: LlmConfig.LlmConfigPatch) =>
  Effect.gen(function*() {
    const now = yield* isoNow
    const after = yield* updateSettled(instance, id, (document) =>
      updatedConfig(instance, document, id, patch, undefined, now).pipe(
        Effect.map(({ after }) =>
          [after, Journal.replaceSection(document, { configs: Journal.withConfig(document.llm.configs, after) })] as const
        )
      ))
    yield* instance.reached("update.committed")
    yield* instance.publish({ _tag: "Updated", config: after })
    return after
  })

const makeUpdate = (instance: Instance) =>
  Effect.fn("LlmConfigStore.update")(function*(id: Ids.ConfigId, patch: LlmConfig.LlmConfigPatch) {
    const apiKey = patch.apiKey
    const { journal, secrets, reached } = instance
    // Without a new key only metadata changes: one write (updateMetadata). With one, the journal.
    if (apiKey === undefined) return yield* journaled(instance, id, () => updateMetadata(instance, id, patch))
    return yield* journaled(instance, id, (track) =>
      Effect.gen(function*() {
        const now = yield* isoNow
        const newKeyAt = yield* placementOf(instance)
        const intent = yield* updateSettled(
          instance,
          id,
          Journal.recording((document) =>
            updatedConfig(instance, document, id, patch, newKeyAt, now).pipe(
              Effect.flatMap(({ before, after }) =>
                journal.intent({ op: "update", configId: id, provider: before.provider, before, after, keyChange: "set" })
              ),
              // The mark of the value written, so recovery can tell whether it landed (Journal.rollDirectUpdate).
              Effect.map((recorded) => ({
                ...recorded,
                keyMark: KeyBinding.writeMark(recorded.id, Journal.sealedKey(apiKey, recorded.after!))
              }))
            )
          )
        )
        track(intent.id)
        const after = intent.after!
        yield* reached("update.intent-recorded")
        // Sealed again from what was recorded (a hash of the destination): the value the mark names.
        yield* secrets.set(Journal.keyRef(after), Journal.sealedKey(apiKey, after)).pipe(
          Effect.catch((cause) => journal.failKeyWrite(intent, cause))
        )
        yield* reached("update.secret-written")
        yield* journal.commitUpdate(intent).pipe(Effect.catchTag("IntentLost", () => recommitLostUpdate(instance, intent)))
        yield* reached("update.committed")
        yield* instance.publish({ _tag: "Updated", config: after })
        return after
      }))
  })

const makeRemove = (instance: Instance) =>
  Effect.fn("LlmConfigStore.remove")(function*(id: Ids.ConfigId) {
    const { journal, secrets, reached } = instance
    yield* journaled(instance, id, (track) =>
      Effect.gen(function*() {
        const keyNowAt = yield* secrets.placement
        const intent = yield* updateSettled(
          instance,
          id,
          Journal.recording((document) =>
            Effect.gen(function*() {
              const stored = document.llm.configs.find((candidate) => candidate.id === id)
              if (stored === undefined) return yield* configNotFound(id)
              const before = truthful(instance, stored)
              // Deleting from session memory what lives in the keychain would leave the key there.
              if (before.hasKey && keyNowAt === "session" && storageOf(before) !== "session") {
                return yield* keychainOutOfReach(before, "remove")
              }
              yield* ensureIdle(document.llm, id)
              return yield* journal.intent({
                op: "remove",
                configId: id,
                provider: before.provider,
                before,
                keyChange: before.hasKey ? "delete" : "none"
              })
            })
          )
        )
        track(intent.id)
        yield* reached("remove.intent-recorded")
        yield* journal.finishRemove(intent, { alsoStaged: false }).pipe(
          Effect.catchTag("IntentLost", () => Effect.fail(interrupted(intent.before!.name, "removed completely (its key was deleted)"))),
          Effect.tapError((cause) => cause._tag === "Conflict" ? Effect.void : journal.drop(intent.id).pipe(Effect.ignore))
        )
        yield* instance.publish({ _tag: "Removed", id })
      }))
  })

/**
 * The settings and, when the configs last loaded say where the key is, the keychain entry, read
 * at the same time: the entry is named by provider and id alone, so the early read is used only
 * when the settings just loaded still give the config that provider (its binding is checked
 * against the config as loaded now, as always); otherwise it is discarded, its failure too.
 */
const loadWithEarlyKey = (instance: Instance, id: Ids.ConfigId) =>
  Effect.gen(function*() {
    const guessed = instance.lastLookup.find((candidate) => candidate.id === id && candidate.hasKey)
    if (guessed === undefined) return { document: yield* instance.preferences.load, early: undefined }
    const [document, stored] = yield* Effect.all(
      [instance.preferences.load, Effect.exit(instance.secrets.get(Journal.keyRef(guessed)))],
      { concurrency: 2 }
    )
    return { document, early: { provider: guessed.provider, stored } }
  })

const makeGetApiKey = (instance: Instance) =>
  Effect.fn("LlmConfigStore.getApiKey")(function*(id: Ids.ConfigId) {
    const { document, early } = yield* loadWithEarlyKey(instance, id)
    instance.lastLookup = document.llm.configs
    const config = document.llm.configs.find((candidate) => candidate.id === id)
    if (config === undefined || document.llm.journal.some((intent) => intent.configId === id && intent.op === "remove")) {
      return yield* configNotFound(id)
    }
    if (keyLost(instance, config)) {
      return yield* new Errors.NotFound({
        id,
        reason: "key-lost-with-session",
        message: `The key of "${config.name}" was kept only in memory by the session that added it, and that session has ended`,
        hint: "Enter the key again; start your keychain first so that it is saved this time."
      })
    }
    if (!config.hasKey) {
      return yield* new Errors.NotFound({
        id,
        reason: "no-key",
        message: `"${config.name}" has no API key`,
        hint: "Edit the configuration to add a key."
      })
    }
    const opened = early?.provider === config.provider
      ? Option.map(yield* early.stored, (stored) => KeyBinding.open(stored, KeyBinding.destinationOf(config)))
      : yield* readKey(instance, config)
    if (Option.isSome(opened)) {
      if (opened.value._tag === "Elsewhere") return yield* keyElsewhere(config)
      // Written before keys were bound: bound now to the config as it is (best effort).
      if (opened.value._tag === "Unsealed" && !Journal.isBusy(document.llm, id)) {
        yield* Effect.ignore(instance.secrets.set(Journal.keyRef(config), Journal.sealedKey(opened.value.key, config)))
      }
      return opened.value.key
    }
    const description = yield* instance.secrets.describe
    if (!description.distinguishesLockedFromAbsent) {
      return yield* new Errors.KeychainLocked({
        message: `The key for "${config.name}" could not be read: the keychain may be locked, or the entry was deleted`,
        hint: "Unlock your keychain and try again; if the entry was deleted, edit the configuration and replace the key.",
        reason: "locked-or-missing"
      })
    }
    return yield* new Errors.NotFound({
      id,
      reason: "key-missing",
      message: `The keychain entry for "${config.name}" is missing`,
      hint: "Edit the configuration and choose \"Replace key\" to enter the API key again."
    })
  })

/** True when `name` is `wanted` or what an earlier import renamed it to ("wanted (imported…)"). */
const importedName = (name: string, wanted: string) =>
  Canonical.sameName(name, wanted) || Canonical.nameKey(name).startsWith(`${Canonical.nameKey(wanted).slice(0, 80)} (imported`)

/**
 * Why the config holding an import's id is a different one, or undefined when it is the same
 * (same provider and name, and the import's key, when both have one, is the key stored).
 */
const differsFrom = (
  existing: LlmConfig.LlmConfig,
  wanted: LlmConfig.LlmConfig,
  key: Redacted.Redacted<string> | undefined,
  stored: Option.Option<KeyBinding.Opened> | undefined
): string | undefined => {
  const taken = `its id is already used by "${existing.name}"`
  if (existing.provider !== wanted.provider) return `${taken} (provider ${existing.provider}, not ${wanted.provider})`
  if (!importedName(existing.name, wanted.name)) return `${taken}, a configuration with another name`
  if (key === undefined || !existing.hasKey || stored === undefined) return undefined
  if (Option.isNone(stored)) {
    return KeyBinding.sameDestination(KeyBinding.destinationOf(existing), KeyBinding.destinationOf(wanted))
      ? undefined // the key went missing: it is put back
      : `${taken}, whose key is missing and which now sends its key to another base URL`
  }
  return sameKey(stored, key) ? undefined : `${taken}, which holds a different key`
}

/**
 * For an import: the entry is already in the store (by id, or as a twin with the same key), its
 * id belongs to a different configuration (Conflict: nothing written), or undefined.
 */
const alreadyImported = (
  instance: Instance,
  document: PreferencesDocument.PreferencesDocument,
  wanted: LlmConfig.LlmConfig,
  key: Redacted.Redacted<string> | undefined,
  backend: string
) =>
  Effect.gen(function*() {
    const existing = document.llm.configs.find((config) => config.id.toLowerCase() === wanted.id.toLowerCase())
    if (existing !== undefined) {
      const stored = existing.hasKey && key !== undefined ? yield* readKey(instance, existing) : undefined
      const conflict = differsFrom(existing, wanted, key, stored)
      if (conflict !== undefined) return { _tag: "Conflict", reason: conflict, existing } as const
      // A keyless config of an earlier import gains the key (importConfig's intent does it).
      if (!existing.hasKey && key !== undefined) return undefined
      // Its key went missing from the secret store: put it back (there is no metadata to change).
      if (stored !== undefined && Option.isNone(stored) && !(yield* writeVerified(instance, existing, key!))) {
        return { _tag: "Skipped", reason: `the key could not be read back from ${backend}` } as const
      }
      return { _tag: "AlreadyPresent", config: existing } as const
    }
    const twin = document.llm.configs.find((other) =>
      Canonical.sameName(other.name, wanted.name) && other.provider === wanted.provider &&
      sameUrl(other.baseUrl, wanted.baseUrl) && other.hasKey === wanted.hasKey
    )
    if (twin !== undefined && (key === undefined || sameKey(yield* readKey(instance, twin), key))) {
      return { _tag: "AlreadyPresent", config: twin } as const
    }
    return undefined
  })

/** Writes an import's key and reads it back; a reason when it is not there as written. */
const writeImportedKey = (instance: Instance, recorded: PreferencesDocument.Intent, key: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const after = recorded.after!
    const rejected = yield* instance.secrets.set(Journal.keyRef(after), Journal.sealedKey(key, after)).pipe(
      Effect.as(undefined),
      Effect.catchTag(
        "InvalidInput",
        (error) => Effect.as(instance.journal.abandon(recorded, error), `the secret store rejected the key: ${error.message}`)
      ),
      Effect.catch((cause) => instance.journal.failAbandoned(recorded, cause))
    )
    if (rejected !== undefined) return rejected
    yield* instance.reached("migrate.secret-written")
    const stored = yield* readKey(instance, after).pipe(Effect.catch((cause) => instance.journal.failAbandoned(recorded, cause)))
    if (!sameKey(stored, key)) {
      yield* instance.journal.abandon(recorded, { _tag: "VerificationFailed" })
      return "verification failed: the secret store did not return the key just written"
    }
    return undefined
  })

const makeImportConfig = (instance: Instance) =>
  Effect.fn("LlmConfigStore.importConfig")(function*(entry: ImportEntry) {
    const description = yield* instance.secrets.describe
    if (!description.persistent) {
      return yield* new Errors.Unsupported({
        reason: "keys-not-kept",
        message: `Keys cannot be imported into ${description.backend}: it does not keep them after Fishbowl quits`,
        hint: Hints.keychainForMigration
      })
    }
    const key = entry.apiKey
    const wanted: LlmConfig.LlmConfig = {
      ...entry.config,
      hasKey: key !== undefined,
      ...(key !== undefined ? yield* placementOf(instance) : {})
    }
    const { journal, reached } = instance
    return yield* journaled(instance, wanted.id, (track) =>
      Effect.gen(function*() {
        yield* settle(instance, wanted.id)
        const present = yield* alreadyImported(instance, yield* instance.preferences.load, wanted, key, description.backend)
        if (present !== undefined) return present

        const recorded = yield* journal.record((current) =>
          Effect.gen(function*() {
            if (Journal.isBusy(current.llm, wanted.id)) return yield* Effect.fail("busy" as const)
            const keyless = current.llm.configs.find((config) => config.id === wanted.id)
            // Another process added a config with this id since it was checked: never overwrite its key.
            if (keyless?.hasKey === true) return yield* Effect.fail("busy" as const)
            // A keyless config of an earlier import keeps its metadata and gains the key.
            const after: LlmConfig.LlmConfig = keyless !== undefined
              ? { ...keyless, hasKey: true, ...keyLocationOf(wanted) }
              : { ...wanted, name: freeName(wanted.name, Journal.namesTaken(current.llm, wanted.id), "imported") }
            return yield* journal.intent({
              op: "migrate",
              configId: wanted.id,
              provider: wanted.provider,
              ...(keyless !== undefined ? { before: keyless } : {}),
              after,
              keyChange: key === undefined ? "none" : "set"
            })
          })
        ).pipe(Effect.catchIf((error) => error === "busy", () => Effect.succeed("busy" as const)))
        if (recorded === "busy") {
          return { _tag: "Skipped", reason: "another change to this configuration is in progress; run the migration again" } as const
        }
        track(recorded.id)
        const after = recorded.after!
        yield* reached("migrate.intent-recorded")
        if (key !== undefined) {
          const rejected = yield* writeImportedKey(instance, recorded, key)
          if (rejected !== undefined) return { _tag: "Skipped", reason: rejected } as const
        } else yield* reached("migrate.secret-written")
        yield* reached("migrate.secret-verified")
        const lost = yield* journal.commitImport(recorded).pipe(
          Effect.as(false),
          Effect.catchTag("IntentLost", () =>
            // Nothing else uses this id's key (the config was absent or keyless when recorded).
            Effect.as(key !== undefined ? Effect.ignore(instance.secrets.delete(Journal.keyRef(after))) : Effect.void, true)),
          Effect.catch((cause) => journal.failAbandoned(recorded, cause))
        )
        if (lost) {
          return {
            _tag: "Skipped",
            reason: "another Fishbowl process replaced the settings while it was imported; run the migration again"
          } as const
        }
        yield* reached("migrate.committed")
        yield* instance.publish(recorded.before !== undefined ? { _tag: "Updated", config: after } : { _tag: "Created", config: after })
        return {
          _tag: "Imported",
          config: after,
          ...(after.name !== wanted.name && recorded.before === undefined ? { renamedFrom: wanted.name } : {})
        } as const
      }))
  })

const makeBringBack = (instance: Instance) =>
  Effect.fn("LlmConfigStore.bringBack")(function*(left: LlmConfig.LlmConfig) {
    return yield* instance.serialized(
      left.id,
      Effect.gen(function*() {
        const config = truthful(instance, left)
        // Without a key nothing can be lost: re-adding it is the user's call (a removed config would come back).
        if (!config.hasKey) return { _tag: "Skipped", reason: "it has no key to keep; add it again if you want it" } as const
        {
          const opened = yield* readKey(instance, config)
          if (Option.isNone(opened)) return { _tag: "Skipped", reason: "its key is no longer in the secret store" } as const
          if (opened.value._tag === "Elsewhere") return { _tag: "Skipped", reason: "its key was entered for another base URL" } as const
        }
        const outcome = yield* instance.preferences.update(
          (document): Effect.Effect<readonly [ImportOutcome, PreferencesDocument.PreferencesDocument]> => {
            const present = document.llm.configs.find((candidate) =>
              candidate.id === config.id ||
              (Canonical.sameName(candidate.name, config.name) && candidate.provider === config.provider &&
                sameUrl(candidate.baseUrl, config.baseUrl))
            )
            if (present !== undefined) return Effect.succeed([{ _tag: "AlreadyPresent", config: present }, document] as const)
            if (Journal.isBusy(document.llm, config.id)) {
              return Effect.succeed([{ _tag: "Skipped", reason: "another change to this configuration is in progress" }, document] as const)
            }
            const brought = { ...config, name: freeName(config.name, Journal.namesTaken(document.llm), "restored") }
            return Effect.succeed(
              [
                { _tag: "Imported", config: brought, ...(brought.name !== config.name ? { renamedFrom: config.name } : {}) },
                Journal.replaceSection(document, { configs: [...document.llm.configs, brought] })
              ] as const
            )
          }
        )
        if (outcome._tag === "Imported") yield* instance.publish({ _tag: "Created", config: outcome.config })
        return outcome
      })
    )
  })

/**
 * Recovers again once the key writes recovery waits for can no longer land (at most the secret
 * store's lateWriteMillis from now), so an interrupted update is finished or undone without anyone
 * asking while the app runs; a CLI run ends first, and the next start or `doctor --fix` does it.
 * One at a time per instance; it ends with the instance's scope.
 */
const scheduleFollowUp = (instance: Instance, recover: Effect.Effect<unknown, unknown>) =>
  Option.isNone(instance.scope) || instance.followUp.pending
    ? Effect.void
    : Effect.sync(() => void (instance.followUp.pending = true)).pipe(
      Effect.andThen(Effect.sleep(instance.secrets.lateWriteMillis)),
      Effect.andThen(Effect.sync(() => void (instance.followUp.pending = false))),
      Effect.andThen(Effect.ignore(recover)),
      Effect.forkIn(instance.scope.value),
      Effect.asVoid
    )

const makeRecover = (instance: Instance) => {
  const recover = makeRecoverOnce(instance, (again) => scheduleFollowUp(instance, Effect.suspend(() => recover(again))))
  return recover
}

const makeRecoverOnce = (instance: Instance, followUp: (options?: RecoverOptions) => Effect.Effect<void>) =>
  Effect.fn("LlmConfigStore.recover")(function*(options?: RecoverOptions) {
    const document = yield* instance.preferences.load
    const report = {
      rolledForward: [] as Array<{ configId: string; op: string }>,
      rolledBack: [] as Array<{ configId: string; op: string }>,
      left: [] as Array<RecoveryReport["left"][number]>,
      failed: [] as Array<{ configId: string; op: string; error: string }>
    }
    for (const intent of document.llm.journal) {
      const entry = { configId: intent.configId, op: intent.op }
      if (instance.inFlight.has(intent.id)) {
        report.left.push({ ...entry, why: "running", owner: "this process" })
        continue
      }
      const owner = intent.phase === "abandoned" ? { _tag: "Gone" as const } : yield* instance.journal.ownerOf(intent)
      if (owner._tag === "Alive" || (owner._tag === "Unknown" && options?.assumeUnknownOwnersGone !== true)) {
        report.left.push({ ...entry, why: owner._tag === "Alive" ? "running" : "unknown", owner: owner.owner })
        continue
      }
      const outcome = yield* instance.serialized(intent.configId, Effect.uninterruptible(recoverUnlessInFlight(instance, intent))).pipe(
        Effect.result
      )
      if (outcome._tag === "Failure") report.failed.push({ ...entry, error: outcome.failure._tag })
      else if (outcome.success === "waiting") {
        const gone = { instance: intent.owner, process: intent.ownerProcess, startedAt: intent.startedAt }
        report.left.push({ ...entry, why: "settling", owner: Liveness.describeOwner(gone) })
      } else if (outcome.success === "forward") report.rolledForward.push(entry)
      else if (outcome.success === "back") report.rolledBack.push(entry)
    }
    const recovered = report.rolledForward.length + report.rolledBack.length
    if (recovered > 0) yield* instance.publish({ _tag: "Recovered", count: recovered })
    if (report.left.some((entry) => entry.why === "settling")) yield* followUp(options)
    return report satisfies RecoveryReport
  })

/** Under the id's lock: the intent may have been finished meanwhile (by its own operation here). */
const recoverUnlessInFlight = (instance: Instance, intent: PreferencesDocument.Intent) =>
  Effect.gen(function*() {
    const current = yield* instance.preferences.load
    if (!Journal.holds(current.llm, intent)) return "gone" as const
    return yield* instance.journal.recoverIntent(intent)
  })

const makeStatus = Effect.fn("LlmConfigStore.status")(
  function*(instance: Instance, currentNotices: Effect.Effect<ReadonlyArray<StorageNotice.StorageNotice>>) {
    const description = yield* instance.secrets.describe
    const document = yield* instance.preferences.load
    const notes: Array<string> = []
    if (description.warning !== undefined) notes.push(description.warning)
    if (document.llm.journal.length > 0) {
      notes.push(`${Plural.count(document.llm.journal.length, "interrupted change")} waiting for recovery`)
    }
    const keys = { keychain: 0, encryptedFile: 0, session: 0, notSaved: 0 }
    for (const config of document.llm.configs) {
      if (!config.hasKey) continue
      if (keyLost(instance, config)) keys.notSaved++
      else if (storageOf(config) === "session") keys.session++
      else if (storageOf(config) === "encrypted-file") keys.encryptedFile++
      else keys.keychain++
    }
    if (keys.session > 0) {
      notes.push(
        `${Plural.count(keys.session, "key")} ${
          Plural.agree(keys.session, "is", "are")
        } kept only in memory and will be lost when Fishbowl quits`
      )
    }
    if (keys.notSaved > 0) {
      notes.push(
        `${Plural.count(keys.notSaved, "key")} ${
          Plural.agree(keys.notSaved, "was", "were")
        } kept only in memory by an earlier session and ${Plural.agree(keys.notSaved, "is", "are")} gone: enter ${
          Plural.agree(keys.notSaved, "it", "them")
        } again`
      )
    }
    return {
      secretStore: description,
      preferencesLocation: instance.preferences.location,
      configCount: document.llm.configs.length,
      keys,
      pendingIntents: document.llm.journal.length,
      health: description.tier === "keychain" && document.llm.journal.length === 0 ? "ok" as const : "degraded" as const,
      notes,
      notices: yield* currentNotices
    } satisfies StoreStatus
  }
)

// Self-contained on purpose: one metadata write under the id's lock, outside the journal (no
// secret is involved, so there is nothing to keep consistent with the keychain).
const makeRecordCheck = (instance: Instance) =>
  Effect.fn("LlmConfigStore.recordCheck")(function*(
    id: Ids.ConfigId,
    check: LlmConfig.ProviderCheckRecord,
    recordOptions?: { readonly ifUpdatedAt?: string }
  ) {
    const config = yield* instance.serialized(
      id,
      instance.preferences.update((document) =>
        Effect.gen(function*() {
          const current = document.llm.configs.find((candidate) => candidate.id === id)
          if (current === undefined) return yield* configNotFound(id)
          if (
            document.llm.journal.some((intent) => intent.configId === id) ||
            (recordOptions?.ifUpdatedAt !== undefined && recordOptions.ifUpdatedAt !== current.updatedAt)
          ) return yield* busyConflict(document.llm, id)
          const next: LlmConfig.LlmConfig = { ...current, lastCheck: check }
          return [next, Journal.replaceSection(document, { configs: Journal.withConfig(document.llm.configs, next) })] as const
        })
      )
    )
    yield* instance.publish({ _tag: "Updated", config })
    return config
  })

/**
 * Builds a store instance over the ports in context. Several instances over the same ports model
 * several processes (or a restart), which is how crash recovery is tested. The instance counts as
 * running (Liveness) until its scope closes, or until a simulated crash stops it.
 */
export const make = Effect.fnUntraced(function*() {
  const secrets = yield* SecretStore.SecretStore
  const preferences = yield* PreferencesStore.PreferencesStore
  const liveness = yield* Liveness.Liveness
  const id = Ids.randomUuid()
  yield* liveness.register(id)
  const scope = yield* Effect.serviceOption(Scope.Scope)
  if (Option.isSome(scope)) yield* Scope.addFinalizer(scope.value, liveness.release(id))
  const changes = yield* PubSub.unbounded<LlmConfigChange>()
  const publish = (change: LlmConfigChange) => PubSub.publish(changes, change)
  const journal = yield* Journal.make(id)
  const instance: Instance = {
    id,
    secrets,
    preferences,
    liveness,
    journal,
    reached: journal.reached,
    publish,
    inFlight: new Set(),
    scope,
    followUp: { pending: false },
    serialized: KeyedLock.make(),
    lastLookup: []
  }

  const { changes: noticeChanges, currentNotices, dismissNotice } = noticesOf(preferences, publish)
  // Notices join the one change feed at the source, so a subscriber sees every change from the
  // moment it subscribes (a merged stream subscribes its parts later, in forked fibers).
  if (preferences.notices !== undefined) yield* Effect.forkDetach(Stream.runForEach(noticeChanges, publish))

  return LlmConfigStore.of({
    list: preferences.load.pipe(
      Effect.map((document) => document.llm.configs.map((config) => truthful(instance, config))),
      Effect.withSpan("LlmConfigStore.list")
    ),
    get: Effect.fn("LlmConfigStore.get")(function*(configId: Ids.ConfigId) {
      const config = (yield* preferences.load).llm.configs.find((candidate) => candidate.id === configId)
      if (config === undefined) return yield* configNotFound(configId)
      return truthful(instance, config)
    }),
    create: makeCreate(instance),
    update: makeUpdate(instance),
    remove: makeRemove(instance),
    getApiKey: makeGetApiKey(instance),
    status: makeStatus(instance, currentNotices),
    recover: makeRecover(instance),
    importConfig: makeImportConfig(instance),
    bringBack: makeBringBack(instance),
    recordCheck: makeRecordCheck(instance),
    dismissNotice,
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

/**
 * The store over the SecretStore, PreferencesStore and Liveness the platform layer provides.
 * Crash points do nothing unless a test provides `CrashPoints.layerWith`.
 */
export const layer = Layer.effect(LlmConfigStore, make())

/** Everything in memory, for tests of code built on the store. */
export const layerMemory = layer.pipe(
  Layer.provideMerge(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory, Liveness.layerMemory))
)
