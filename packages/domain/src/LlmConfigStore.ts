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
 */
import { Clock, Context, Effect, Layer, Option, PubSub, Redacted, Schema, Semaphore, Stream } from "effect"
import { CrashPoints, type CrashPoint } from "./CrashPoints.ts"
import {
  Conflict,
  InvalidInput,
  KeychainLocked,
  NotFound,
  type PreferencesStoreError,
  type SecretStoreError
} from "./Errors.ts"
import { newConfigId, type ConfigId } from "./Ids.ts"
import {
  baseUrlProblem,
  LlmConfig,
  type LlmConfigInput,
  type LlmConfigPatch,
  nameKey
} from "./LlmConfig.ts"
import type { Intent, LlmSection, PreferencesDocument } from "./PreferencesDocument.ts"
import { PreferencesStore } from "./PreferencesStore.ts"
import { findProvider, type ProviderDefinition } from "./Providers.ts"
import { secretRefFor } from "./SecretRef.ts"
import { SecretStore, SecretStoreDescription } from "./SecretStore.ts"
import { StorageNotice } from "./StorageNotice.ts"

/** Metadata-only notification for UI sync; never carries key material. */
export const LlmConfigChange = Schema.Union([
  Schema.TaggedStruct("Created", { config: LlmConfig }),
  Schema.TaggedStruct("Updated", { config: LlmConfig }),
  Schema.TaggedStruct("Removed", { id: Schema.String }),
  Schema.TaggedStruct("Recovered", { count: Schema.Number }),
  /** The storage repaired something on its own (see StorageNotice); shown until dismissed. */
  Schema.TaggedStruct("Notice", { notice: StorageNotice }),
  Schema.TaggedStruct("NoticeDismissed", { id: Schema.String })
])
export type LlmConfigChange = typeof LlmConfigChange.Type

/** What the store can say about itself: the active tier and whether anything needs attention. */
export const StoreStatus = Schema.Struct({
  secretStore: SecretStoreDescription,
  preferencesLocation: Schema.String,
  configCount: Schema.Number,
  pendingIntents: Schema.Number,
  health: Schema.Literals(["ok", "degraded"]),
  notes: Schema.Array(Schema.String),
  /** Recoveries not yet dismissed (e.g. preferences restored from a backup). */
  notices: Schema.Array(StorageNotice)
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

type StoreError = SecretStoreError | PreferencesStoreError

export interface LlmConfigStoreService {
  /** Metadata only: never touches the secret store. */
  readonly list: Effect.Effect<ReadonlyArray<LlmConfig>, PreferencesStoreError>
  readonly get: (id: ConfigId) => Effect.Effect<LlmConfig, NotFound | PreferencesStoreError>
  readonly create: (input: LlmConfigInput) => Effect.Effect<LlmConfig, InvalidInput | Conflict | StoreError>
  readonly update: (
    id: ConfigId,
    patch: LlmConfigPatch
  ) => Effect.Effect<LlmConfig, NotFound | InvalidInput | Conflict | StoreError>
  readonly remove: (id: ConfigId) => Effect.Effect<void, NotFound | Conflict | StoreError>
  /** The only way a key leaves the store; for main-process use, never for the renderer. */
  readonly getApiKey: (id: ConfigId) => Effect.Effect<Redacted.Redacted<string>, NotFound | StoreError>
  readonly status: Effect.Effect<StoreStatus, StoreError>
  /** Finishes or undoes unfinished intents; `force` also takes over other instances' recent ones. */
  readonly recover: (options?: { readonly force?: boolean }) => Effect.Effect<RecoveryReport, PreferencesStoreError>
  readonly changes: Stream.Stream<LlmConfigChange>
  /** Forgets a notice once the user has read it; publishes NoticeDismissed when it existed. */
  readonly dismissNotice: (id: string) => Effect.Effect<void>
}

export interface LlmConfigStoreOptions {
  /** An intent of another instance younger than this is assumed to be in flight. */
  readonly staleIntentMillis?: number
}

const isoNow = Clock.currentTimeMillis.pipe(Effect.map((millis) => new Date(millis).toISOString()))

const sameUrl = (a: string | undefined, b: string | undefined) => (a ?? "") === (b ?? "")

const replaceSection = (document: PreferencesDocument, llm: Partial<LlmSection>): PreferencesDocument => ({
  ...document,
  llm: { ...document.llm, ...llm }
})

const withoutIntent = (document: PreferencesDocument, intentId: string): PreferencesDocument =>
  replaceSection(document, { journal: document.llm.journal.filter((intent) => intent.id !== intentId) })

const nameConflict = (name: string) =>
  new Conflict({
    message: `A configuration named "${name}" already exists`,
    hint: "Choose a different name; names are compared without regard to case."
  })

const busyConflict = (id: string) =>
  new Conflict({
    message: `Another change to configuration ${id} has not finished yet`,
    hint: "Try again in a moment. If it persists, restart Fishbowl so it can finish the interrupted change."
  })

const configNotFound = (id: string) =>
  new NotFound({
    id,
    message: `No configuration with id ${id}`,
    hint: "Refresh the list; the configuration may have been removed in another window."
  })

/** Failures that are refusals: the secret store wrote nothing. */
const nothingWritten = (cause: { readonly _tag: string }) =>
  cause._tag === "KeychainLocked" || cause._tag === "KeychainDenied" || cause._tag === "InvalidInput" ||
  cause._tag === "Unsupported"

/** Names in use, including those reserved by unfinished creates and renames. */
const namesTaken = (llm: LlmSection, exceptId?: string): Set<string> => {
  const names = new Set<string>()
  for (const config of llm.configs) if (config.id !== exceptId) names.add(nameKey(config.name))
  for (const intent of llm.journal) {
    if (intent.after !== undefined && intent.configId !== exceptId && intent.phase !== "abandoned") {
      names.add(nameKey(intent.after.name))
    }
  }
  return names
}

const requireProvider = (providerId: string): Effect.Effect<ProviderDefinition, InvalidInput> => {
  const provider = findProvider(providerId)
  return provider === undefined
    ? Effect.fail(
      new InvalidInput({
        field: "provider",
        message: `Unknown provider "${providerId}"`,
        hint: "Pick one of the listed providers."
      })
    )
    : Effect.succeed(provider)
}

const checkRequiredFields = (
  provider: ProviderDefinition,
  config: { readonly baseUrl?: string | undefined; readonly hasKey: boolean }
): Effect.Effect<void, InvalidInput> => {
  if (provider.requiresApiKey && !config.hasKey) {
    return Effect.fail(
      new InvalidInput({
        field: "apiKey",
        message: `${provider.displayName} needs an API key`,
        hint: "Paste the API key from your provider's dashboard."
      })
    )
  }
  const baseUrlRequired = provider.fields.some((field) => field.id === "baseUrl" && field.required)
  if (baseUrlRequired && config.baseUrl === undefined) {
    return Effect.fail(
      new InvalidInput({
        field: "baseUrl",
        message: `${provider.displayName} needs a base URL`,
        hint: "Enter the endpoint of your OpenAI-compatible server."
      })
    )
  }
  return Effect.void
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
export const makeLlmConfigStore = Effect.fnUntraced(function*(options?: LlmConfigStoreOptions) {
  const secrets = yield* SecretStore
  const preferences = yield* PreferencesStore
  const crash = yield* CrashPoints
  const staleIntentMillis = options?.staleIntentMillis ?? 10_000
  const instanceId = newConfigId()
  const inFlight = new Set<string>()
  const serialized = makeKeyedLock()
  const changes = yield* PubSub.unbounded<LlmConfigChange>()
  const publish = (change: LlmConfigChange) => PubSub.publish(changes, change)
  const reached = (point: CrashPoint) => crash.reached(point)

  const keyRef = (config: { readonly provider: LlmConfig["provider"]; readonly id: ConfigId }) =>
    secretRefFor(config.provider, config.id, "apiKey")
  const stagedRef = (config: { readonly provider: LlmConfig["provider"]; readonly id: ConfigId }) =>
    secretRefFor(config.provider, config.id, "apiKey.staged")

  const newIntent = (fields: Omit<Intent, "id" | "owner" | "startedAt" | "phase">) =>
    isoNow.pipe(
      Effect.map((startedAt): Intent => ({
        ...fields,
        id: newConfigId(),
        owner: instanceId,
        startedAt,
        phase: "pending"
      }))
    )

  /** Fails when another unfinished intent touches the same config. */
  const ensureIdle = (llm: LlmSection, id: string) =>
    llm.journal.some((intent) => intent.configId === id) ? Effect.fail(busyConflict(id)) : Effect.void

  /** Runs a journaled operation: tracked as in flight, and never interrupted half-way. */
  const journaled = <A, E, R>(id: ConfigId, body: (track: (intentId: string) => void) => Effect.Effect<A, E, R>) =>
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

  /**
   * Handles an operation that failed half-way.
   * - A refusal (locked, denied, invalid, unsupported) wrote nothing: with nothing staged, the
   *   intent is simply dropped.
   * - An update whose primary write failed ambiguously (it may have landed) after the staged
   *   copy was written stays `pending`: recovery rolls it forward from the staged copy, so the key
   *   and the metadata can never disagree.
   * - Otherwise the intent is marked `abandoned` (it reserves nothing and is only ever rolled
   *   back), its secret writes are undone, and it is dropped once that worked; if the undo fails,
   *   `settle` or `recover` finish it. A key is never orphaned.
   */
  const abandon = (intent: Intent, cause: StoreError | InvalidInput, options?: { readonly stagedWritten?: boolean }) =>
    Effect.gen(function*() {
      const refused = nothingWritten(cause)
      if (refused && options?.stagedWritten !== true) {
        return yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
      }
      if (!refused && options?.stagedWritten === true) return
      const abandoned: Intent = { ...intent, phase: "abandoned" }
      yield* preferences.update((document) =>
        Effect.succeed([undefined, replaceSection(document, {
          journal: document.llm.journal.map((entry) => entry.id === intent.id ? abandoned : entry)
        })] as const)
      )
      yield* undoAbandoned(abandoned)
    }).pipe(Effect.ignore)

  /** Deletes whatever secrets an abandoned intent may have written, then drops it. Idempotent. */
  const undoAbandoned = (intent: Intent) =>
    Effect.gen(function*() {
      if (intent.op === "create" || intent.op === "migrate") {
        if (intent.keyChange === "set") yield* secrets.delete(keyRef(intent.after!))
      } else if (intent.op === "update" && intent.keyChange === "set") {
        yield* secrets.delete(stagedRef(intent.after!))
      }
      yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
    })

  /**
   * Finishes leftover intents on `id` before a new operation on it: this instance's own (a failed
   * clean-up) and stale ones of other instances. Failures surface as the real cause (e.g. a
   * locked keychain), not as a vague conflict. Runs under the id's lock, so none is in flight here.
   */
  const settle = (id: ConfigId) =>
    Effect.gen(function*() {
      const document = yield* preferences.load
      const now = yield* Clock.currentTimeMillis
      for (const intent of document.llm.journal) {
        if (intent.configId !== id) continue
        const stale = now - Date.parse(intent.startedAt) >= staleIntentMillis
        if (intent.owner === instanceId || stale || intent.phase === "abandoned") yield* recoverIntent(intent)
      }
    })

  const list = preferences.load.pipe(
    Effect.map((document) => document.llm.configs),
    Effect.withSpan("LlmConfigStore.list")
  )

  const get = Effect.fn("LlmConfigStore.get")(function*(id: ConfigId) {
    const document = yield* preferences.load
    const config = document.llm.configs.find((candidate) => candidate.id === id)
    if (config === undefined) return yield* configNotFound(id)
    return config
  })

  const create = Effect.fn("LlmConfigStore.create")(function*(input: LlmConfigInput) {
    const provider = yield* requireProvider(input.provider)
    const id = newConfigId()
    const now = yield* isoNow
    const config: LlmConfig = {
      id,
      provider: input.provider,
      name: input.name,
      ...(input.baseUrl !== undefined ? { baseUrl: input.baseUrl } : {}),
      useAuthHeader: input.useAuthHeader ?? true,
      createdAt: now,
      updatedAt: now,
      hasKey: input.apiKey !== undefined
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
          namesTaken(document.llm).has(nameKey(config.name))
            ? Effect.fail(nameConflict(config.name))
            : Effect.succeed([undefined, replaceSection(document, { journal: [...document.llm.journal, intent] })] as const)
        )
        yield* reached("create.intent-recorded")
        if (apiKey !== undefined) {
          yield* secrets.set(keyRef(config), apiKey).pipe(Effect.tapError((cause) => abandon(intent, cause)))
        }
        yield* reached("create.secret-written")
        yield* preferences.update((document) =>
          Effect.succeed([
            undefined,
            replaceSection(withoutIntent(document, intent.id), { configs: [...document.llm.configs, config] })
          ] as const)
        ).pipe(Effect.tapError((cause) => abandon(intent, cause)))
        yield* reached("create.committed")
        yield* publish({ _tag: "Created", config })
        return config
      })
    )
  })

  const update = Effect.fn("LlmConfigStore.update")(function*(id: ConfigId, patch: LlmConfigPatch) {
    const apiKey = patch.apiKey
    return yield* journaled(id, (track) =>
      Effect.gen(function*() {
        yield* settle(id)
        const now = yield* isoNow
        const intent = yield* preferences.update((document) =>
          Effect.gen(function*() {
            const before = document.llm.configs.find((candidate) => candidate.id === id)
            if (before === undefined) return yield* configNotFound(id)
            yield* ensureIdle(document.llm, id)
            const provider = yield* requireProvider(before.provider)
            const baseUrl = patch.baseUrl === null ? undefined : patch.baseUrl ?? before.baseUrl
            if (baseUrl !== undefined && baseUrlProblem(baseUrl) !== undefined) {
              return yield* new InvalidInput({
                field: "baseUrl",
                message: baseUrlProblem(baseUrl)!,
                hint: "Enter an https URL."
              })
            }
            if (before.hasKey && !sameUrl(before.baseUrl, baseUrl) && apiKey === undefined) {
              return yield* new InvalidInput({
                field: "apiKey",
                message: "Changing the base URL requires entering the API key again",
                hint: "Re-enter the key so it is never sent to a new host without your say-so."
              })
            }
            const after: LlmConfig = {
              id: before.id,
              provider: before.provider,
              name: patch.name ?? before.name,
              ...(baseUrl !== undefined ? { baseUrl } : {}),
              useAuthHeader: patch.useAuthHeader ?? before.useAuthHeader,
              createdAt: before.createdAt,
              updatedAt: now,
              hasKey: before.hasKey || apiKey !== undefined
            }
            yield* checkRequiredFields(provider, after)
            if (namesTaken(document.llm, id).has(nameKey(after.name))) return yield* nameConflict(after.name)
            const intent = yield* newIntent({
              op: "update",
              configId: id,
              provider: before.provider,
              before,
              after,
              keyChange: apiKey === undefined ? "none" : "set"
            })
            return [intent, replaceSection(document, { journal: [...document.llm.journal, intent] })] as const
          })
        )
        track(intent.id)
        const after = intent.after!
        yield* reached("update.intent-recorded")
        if (apiKey !== undefined) {
          yield* secrets.set(stagedRef(after), apiKey).pipe(Effect.tapError((cause) => abandon(intent, cause)))
          yield* reached("update.secret-staged")
          yield* secrets.set(keyRef(after), apiKey).pipe(
            Effect.tapError((cause) => abandon(intent, cause, { stagedWritten: true }))
          )
          yield* reached("update.secret-written")
        }
        yield* commitUpdate(intent)
        yield* reached("update.committed")
        if (apiKey !== undefined) {
          yield* finishStaged(intent)
        }
        yield* publish({ _tag: "Updated", config: after })
        return after
      })
    )
  })

  /** Replaces the metadata with `after`; keeps the intent (committed) while a staged key remains. */
  const commitUpdate = (intent: Intent) =>
    preferences.update((document) => {
      const configs = document.llm.configs.map((config) => config.id === intent.configId ? intent.after! : config)
      const journal = intent.keyChange === "set"
        ? document.llm.journal.map((entry) => entry.id === intent.id ? { ...entry, phase: "committed" as const } : entry)
        : document.llm.journal.filter((entry) => entry.id !== intent.id)
      return Effect.succeed([undefined, replaceSection(document, { configs, journal })] as const)
    })

  const finishStaged = (intent: Intent) =>
    Effect.gen(function*() {
      yield* secrets.delete(stagedRef(intent.after!))
      yield* reached("update.staged-cleared")
      yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
    })

  const remove = Effect.fn("LlmConfigStore.remove")(function*(id: ConfigId) {
    yield* journaled(id, (track) =>
      Effect.gen(function*() {
        yield* settle(id)
        const intent = yield* preferences.update((document) =>
          Effect.gen(function*() {
            const before = document.llm.configs.find((candidate) => candidate.id === id)
            if (before === undefined) return yield* configNotFound(id)
            yield* ensureIdle(document.llm, id)
            const intent = yield* newIntent({
              op: "remove",
              configId: id,
              provider: before.provider,
              before,
              keyChange: before.hasKey ? "delete" : "none"
            })
            return [intent, replaceSection(document, { journal: [...document.llm.journal, intent] })] as const
          })
        )
        track(intent.id)
        yield* reached("remove.intent-recorded")
        yield* finishRemove(intent, { alsoStaged: false }).pipe(
          Effect.tapError(() =>
            preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
              .pipe(Effect.ignore)
          )
        )
        yield* publish({ _tag: "Removed", id })
      })
    )
  })

  /**
   * Deletes the key, then the metadata and the intent in one write. Idempotent, so recover reuses
   * it. A staged key can only exist after an interrupted update, so only recovery (which cannot
   * know what came before the crash) pays for deleting one; a live remove runs after `settle`.
   */
  const finishRemove = (intent: Intent, options: { readonly alsoStaged: boolean }) =>
    Effect.gen(function*() {
      if (intent.keyChange === "delete") {
        yield* secrets.delete(keyRef(intent.before!))
      }
      if (options.alsoStaged) yield* secrets.delete(stagedRef(intent.before!))
      yield* reached("remove.secret-deleted")
      yield* preferences.update((document) =>
        Effect.succeed([
          undefined,
          replaceSection(withoutIntent(document, intent.id), {
            configs: document.llm.configs.filter((config) => config.id !== intent.configId)
          })
        ] as const)
      )
      yield* reached("remove.committed")
    })

  const getApiKey = Effect.fn("LlmConfigStore.getApiKey")(function*(id: ConfigId) {
    const document = yield* preferences.load
    const config = document.llm.configs.find((candidate) => candidate.id === id)
    if (config === undefined || document.llm.journal.some((intent) => intent.configId === id && intent.op === "remove")) {
      return yield* configNotFound(id)
    }
    if (!config.hasKey) {
      return yield* new NotFound({
        id,
        message: `"${config.name}" has no API key`,
        hint: "Edit the configuration to add a key."
      })
    }
    const stored = yield* secrets.get(keyRef(config))
    if (Option.isSome(stored)) return stored.value
    const description = yield* secrets.describe
    if (!description.distinguishesLockedFromAbsent) {
      return yield* new KeychainLocked({
        message: `The key for "${config.name}" could not be read: the keychain may be locked, or the entry was deleted`,
        hint: "Unlock your keychain and try again; if the entry was deleted, edit the configuration and replace the key."
      })
    }
    return yield* new NotFound({
      id,
      message: `The keychain entry for "${config.name}" is missing`,
      hint: "Edit the configuration and choose \"Replace key\" to enter the API key again."
    })
  })

  /** Rolls one intent forward or back; every step is idempotent so a crash during recovery is fine too. */
  const recoverIntent = (intent: Intent): Effect.Effect<"forward" | "back", StoreError> => {
    if (intent.phase === "abandoned") return undoAbandoned(intent).pipe(Effect.as("back" as const))
    switch (intent.op) {
      case "create":
      case "migrate":
        return Effect.gen(function*() {
          if (intent.keyChange === "set") yield* secrets.delete(keyRef(intent.after!))
          yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
          return "back" as const
        })
      case "remove":
        return finishRemove(intent, { alsoStaged: true }).pipe(Effect.as("forward" as const))
      case "update":
        return Effect.gen(function*() {
          if (intent.keyChange === "none") {
            yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
            return "back" as const
          }
          if (intent.phase === "committed") {
            yield* finishStaged(intent)
            return "forward" as const
          }
          const staged = yield* secrets.get(stagedRef(intent.after!))
          if (Option.isNone(staged)) {
            yield* preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intent.id)] as const))
            return "back" as const
          }
          yield* secrets.set(keyRef(intent.after!), staged.value)
          yield* commitUpdate(intent)
          yield* finishStaged(intent)
          return "forward" as const
        })
    }
  }

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
      const outcome = yield* serialized(intent.configId, Effect.uninterruptible(recoverIntent(intent))).pipe(
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
    return {
      secretStore: description,
      preferencesLocation: preferences.location,
      configCount: document.llm.configs.length,
      pendingIntents: document.llm.journal.length,
      health: description.tier === "keychain" && document.llm.journal.length === 0 ? "ok" as const : "degraded" as const,
      notes,
      notices: yield* currentNotices
    } satisfies StoreStatus
  }).pipe(Effect.withSpan("LlmConfigStore.status"))

  const { changes: noticeChanges, currentNotices, dismissNotice } = noticesOf(preferences, publish)

  return LlmConfigStore.of({
    dismissNotice,
    list,
    get,
    create,
    update,
    remove,
    getApiKey,
    status,
    recover,
    changes: Stream.merge(Stream.fromPubSub(changes), noticeChanges)
  })
})

/** The preferences store's notices, as the store's status field, change events and dismiss. */
const noticesOf = (
  preferences: PreferencesStore["Service"],
  publish: (change: LlmConfigChange) => Effect.Effect<boolean>
) => {
  const notices = preferences.notices
  return {
    currentNotices: notices?.current ?? Effect.succeed<ReadonlyArray<StorageNotice>>([]),
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
) {
  /** The store over whatever SecretStore, PreferencesStore and CrashPoints are provided. */
  static readonly layerNoDeps = (options?: LlmConfigStoreOptions) =>
    Layer.effect(LlmConfigStore, makeLlmConfigStore(options))

  /** Production wiring: no crash points; ports come from the platform layer. */
  static readonly layer = (options?: LlmConfigStoreOptions) =>
    LlmConfigStore.layerNoDeps(options).pipe(Layer.provide(CrashPoints.layer))

  /** Everything in memory, for tests of code built on the store. */
  static readonly layerMemory = LlmConfigStore.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory))
  )
}
