/**
 * The intent journal kept in the `llm` section of the preferences document: the one place where
 * intents are recorded, dropped, abandoned, counted as reserving names and recovered. Every
 * operation of LlmConfigStore (create, update, remove, import) goes through it, so a rule such as
 * "an abandoned intent reserves no name" holds for all of them at once.
 *
 * Keychain and file cannot share a transaction: an intent is durable before the secret store is
 * touched and is removed when metadata and secret agree again. `recoverIntent` finishes or undoes
 * whatever a crash left; every step is idempotent, so a crash during recovery is fine too.
 *
 * Two rules keep live processes from undoing each other's work:
 * - an intent records its owner (instance and process); `ownerGone` asks Liveness, and recovery
 *   touches only intents whose owner is provably gone, however old they are;
 * - every commit proves its intent: the write that commits checks, under the same lock, that the
 *   intent is still there as recorded, and fails with `IntentLost` otherwise (someone restored an
 *   older file or edited it by hand meanwhile), so an operation never reports success over work
 *   that was undone.
 */
import { Clock, Data, Effect, Exit, Option, type Redacted } from "effect"
import * as Canonical from "./Canonical.ts"
import * as CrashPoints from "./CrashPoints.ts"
import * as Errors from "./Errors.ts"
import * as Hints from "./Hints.ts"
import * as Ids from "./Ids.ts"
import * as KeyBinding from "./KeyBinding.ts"
import * as Liveness from "./Liveness.ts"
import * as LlmConfig from "./LlmConfig.ts"
import type * as PreferencesDocument from "./PreferencesDocument.ts"
import * as PreferencesStore from "./PreferencesStore.ts"
import * as SecretRef from "./SecretRef.ts"
import * as SecretStore from "./SecretStore.ts"

type StoreError = Errors.SecretStoreError | Errors.PreferencesStoreError

// ---------------------------------------------------------------------------------------------
// Pure edits of the document

export const replaceSection = (
  document: PreferencesDocument.PreferencesDocument,
  llm: Partial<PreferencesDocument.LlmSection>
): PreferencesDocument.PreferencesDocument => ({
  ...document,
  llm: { ...document.llm, ...llm }
})

/** The document with `intent` appended to the journal. */
export const withIntent = (
  document: PreferencesDocument.PreferencesDocument,
  intent: PreferencesDocument.Intent
): PreferencesDocument.PreferencesDocument => replaceSection(document, { journal: [...document.llm.journal, intent] })

/** The document without the intent `intentId`. */
export const withoutIntent = (
  document: PreferencesDocument.PreferencesDocument,
  intentId: string
): PreferencesDocument.PreferencesDocument =>
  replaceSection(document, { journal: document.llm.journal.filter((intent) => intent.id !== intentId) })

/** The document with the intent `intentId` moved to `phase`. */
export const withPhase = (
  document: PreferencesDocument.PreferencesDocument,
  intentId: string,
  phase: PreferencesDocument.Intent["phase"]
): PreferencesDocument.PreferencesDocument => withIntentFields(document, intentId, { phase })

/** The document with `fields` set on the intent `intentId`. */
const withIntentFields = (
  document: PreferencesDocument.PreferencesDocument,
  intentId: string,
  fields: Partial<Pick<PreferencesDocument.Intent, "phase" | "settledAfter">>
): PreferencesDocument.PreferencesDocument =>
  replaceSection(document, {
    journal: document.llm.journal.map((intent) => intent.id === intentId ? { ...intent, ...fields } : intent)
  })

/**
 * Names in use: committed configs plus those reserved by unfinished creates, renames and imports.
 * An abandoned intent was reported as failed, so it reserves nothing.
 */
export const namesTaken = (llm: PreferencesDocument.LlmSection, exceptId?: string): Set<string> => {
  const names = new Set<string>()
  for (const config of llm.configs) if (config.id !== exceptId) names.add(Canonical.nameKey(config.name))
  for (const intent of llm.journal) {
    if (intent.after !== undefined && intent.configId !== exceptId && intent.phase !== "abandoned") {
      names.add(Canonical.nameKey(intent.after.name))
    }
  }
  return names
}

/** True when an unfinished intent touches `id`. */
export const isBusy = (llm: PreferencesDocument.LlmSection, id: string) => llm.journal.some((intent) => intent.configId === id)

/** True when the document still holds `recorded` as it was recorded (same id, same phase). */
export const holds = (llm: PreferencesDocument.LlmSection, recorded: PreferencesDocument.Intent) =>
  llm.journal.some((intent) => intent.id === recorded.id && intent.phase === recorded.phase)

/**
 * A commit found its intent gone or changed: another process restored an older file, or the file
 * was edited, while the operation ran. `document` is what the commit found.
 */
export class IntentLost extends Data.TaggedError("IntentLost")<{
  readonly document: PreferencesDocument.PreferencesDocument
}> {}

// ---------------------------------------------------------------------------------------------
// Effects over the ports

/** `configs` with `config` in place of the one with its id, or appended. */
export const withConfig = (configs: ReadonlyArray<LlmConfig.LlmConfig>, config: LlmConfig.LlmConfig): Array<LlmConfig.LlmConfig> =>
  configs.some((candidate) => candidate.id === config.id)
    ? configs.map((candidate) => candidate.id === config.id ? config : candidate)
    : [...configs, config]

export const keyRef = (config: { readonly provider: LlmConfig.LlmConfig["provider"]; readonly id: Ids.ConfigId }) =>
  SecretRef.secretRefFor(config.provider, config.id, "apiKey")

export const stagedRef = (config: { readonly provider: LlmConfig.LlmConfig["provider"]; readonly id: Ids.ConfigId }) =>
  SecretRef.secretRefFor(config.provider, config.id, "apiKey.staged")

/** Failures that are refusals: the secret store wrote nothing. */
export const nothingWritten = (cause: { readonly _tag: string; readonly reason?: unknown }) =>
  cause._tag === "KeychainLocked" || cause._tag === "KeychainDenied" || cause._tag === "InvalidInput" ||
  cause._tag === "Unsupported" || (cause._tag === "KeychainUnavailable" && cause.reason === "not-reachable")

/** The value stored for a key entered for `config`'s destination (KeyBinding). */
export const sealedKey = (key: Redacted.Redacted<string>, config: Pick<LlmConfig.LlmConfig, "provider" | "baseUrl">) =>
  KeyBinding.seal(key, KeyBinding.destinationOf(config))

/** The journal steps recovery uses to finish or undo an intent. */
interface RollSteps {
  readonly secrets: SecretStore.SecretStoreService
  readonly drop: (intentId: string) => Effect.Effect<void, Errors.PreferencesStoreError>
  readonly undoAbandoned: (abandoned: PreferencesDocument.Intent) => Effect.Effect<void, StoreError>
  readonly finishRemove: (
    recorded: PreferencesDocument.Intent,
    options: { readonly alsoStaged: boolean }
  ) => Effect.Effect<void, StoreError | IntentLost>
  readonly finishStaged: (recorded: PreferencesDocument.Intent) => Effect.Effect<void, StoreError>
  readonly commitUpdate: (recorded: PreferencesDocument.Intent) => Effect.Effect<void, Errors.PreferencesStoreError | IntentLost>
  readonly rollDirectUpdate: (recorded: PreferencesDocument.Intent) => Effect.Effect<Rolled, StoreError | IntentLost>
}

/**
 * What recovery did with an intent: rolled it `forward` or `back`; `waiting`: a write of its key
 * may still land, so it is left until it no longer can (`settledAfter`).
 */
export type Rolled = "forward" | "back" | "waiting"

/**
 * A delete that found nothing proves nothing on a keyring that reports a locked collection as
 * empty (keytar on Linux without a readable lock state): the key may still be there. Writing a
 * throw-away entry (`authorize`) fails on a locked keyring, so it tells the two apart; if it
 * fails, the remove fails with the keyring's own error and nothing is changed.
 */
const provedAbsent = (
  secrets: SecretStore.SecretStoreService,
  config: LlmConfig.LlmConfig,
  failed: "could not be removed" | "could not be checked" = "could not be removed"
) =>
  Effect.gen(function*() {
    if ((yield* secrets.describe).distinguishesLockedFromAbsent) return
    yield* secrets.authorize.pipe(
      Effect.mapError((cause) =>
        cause._tag === "KeychainLocked" ? cause : new Errors.KeychainLocked({
          message: `The key of "${config.name}" ${failed}: the keychain may be locked (its lock state cannot be read)`,
          hint: "Unlock your keychain (e.g. in Passwords and Keys), then try again.",
          reason: "lock-state-unknown"
        })
      )
    )
  })

/** `recoverIntent`'s steps; IntentLost: another process finished or removed the intent meanwhile. */
const rollIntent = (steps: RollSteps, leftover: PreferencesDocument.Intent): Effect.Effect<Rolled, StoreError | IntentLost> => {
  const { secrets, drop, undoAbandoned, finishRemove, finishStaged, commitUpdate, rollDirectUpdate } = steps
  if (leftover.phase === "abandoned") return undoAbandoned(leftover).pipe(Effect.as("back" as const))
  switch (leftover.op) {
    case "create":
    case "migrate":
      return Effect.gen(function*() {
        if (leftover.keyChange === "set") yield* secrets.delete(keyRef(leftover.after!))
        yield* drop(leftover.id)
        return "back" as const
      })
    case "remove":
      return finishRemove(leftover, { alsoStaged: true }).pipe(Effect.as("forward" as const))
    case "update":
      return Effect.gen(function*() {
        if (leftover.keyChange === "none") {
          yield* drop(leftover.id)
          return "back" as const
        }
        if (leftover.keyMark !== undefined) return yield* rollDirectUpdate(leftover)
        // An update recorded by an older version, which staged a copy of the new key first.
        if (leftover.phase === "committed") {
          yield* finishStaged(leftover)
          return "forward" as const
        }
        const staged = yield* secrets.get(stagedRef(leftover.after!))
        if (Option.isNone(staged)) {
          yield* drop(leftover.id)
          return "back" as const
        }
        yield* secrets.set(keyRef(leftover.after!), staged.value)
        yield* commitUpdate(leftover)
        yield* finishStaged(leftover)
        return "forward" as const
      })
  }
}

/** The edit that records the intent `build` makes of the document, in the same write. */
export const recording = <E>(
  build: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<PreferencesDocument.Intent, E>
) =>
(document: PreferencesDocument.PreferencesDocument) =>
  Effect.map(build(document), (recorded) => [recorded, withIntent(document, recorded)] as const)

/**
 * An update's commit: `after` replaces the config and the intent is dropped, in one write; an
 * older version's staged update stays (committed) while its staged key remains.
 */
const afterUpdate = (recorded: PreferencesDocument.Intent) => (document: PreferencesDocument.PreferencesDocument) => {
  const next = replaceSection(document, { configs: withConfig(document.llm.configs, recorded.after!) })
  return isStagedUpdate(recorded) ? withPhase(next, recorded.id, "committed") : withoutIntent(next, recorded.id)
}

/** An update with a new key recorded by an older version: a staged copy of the key may exist. */
const isStagedUpdate = (recorded: PreferencesDocument.Intent) =>
  recorded.op === "update" && recorded.keyChange === "set" && recorded.keyMark === undefined

/** A create's commit: the config is added and the intent dropped, in one write. */
const afterCreate = (recorded: PreferencesDocument.Intent) => (document: PreferencesDocument.PreferencesDocument) =>
  replaceSection(withoutIntent(document, recorded.id), { configs: [...document.llm.configs, recorded.after!] })

/** An import's commit: `after` replaces a config with its id (a keyless one gains its key) or is appended. */
const afterImport = (recorded: PreferencesDocument.Intent) => (document: PreferencesDocument.PreferencesDocument) =>
  replaceSection(withoutIntent(document, recorded.id), { configs: withConfig(document.llm.configs, recorded.after!) })

/**
 * Deletes the key, then the metadata and the intent in one write. Idempotent, so recover reuses
 * it. A staged key can only exist after an update an older version interrupted, so only recovery
 * (which cannot know what came before the crash) pays for deleting one; a live remove runs after `settle`.
 * The key is gone once deleted, so the commit removes the config even when the intent was lost
 * meanwhile (a restored older file brought it back), unless another operation now owns it.
 */
const finishRemoveWith = (
  ports: {
    readonly secrets: SecretStore.SecretStoreService
    readonly preferences: PreferencesStore.PreferencesStoreService
    readonly reached: (point: CrashPoints.CrashPoint) => Effect.Effect<void>
  },
  recorded: PreferencesDocument.Intent,
  options: { readonly alsoStaged: boolean }
) =>
  Effect.gen(function*() {
    const { secrets, preferences, reached } = ports
    if (recorded.keyChange === "delete") {
      const deleted = yield* secrets.delete(keyRef(recorded.before!))
      if (!deleted) yield* provedAbsent(secrets, recorded.before!)
    }
    if (options.alsoStaged) yield* secrets.delete(stagedRef(recorded.before!))
    yield* reached("remove.secret-deleted")
    yield* preferences.update((document) =>
      !holds(document.llm, recorded) && isBusy(document.llm, recorded.configId)
        ? Effect.fail(new IntentLost({ document }))
        : Effect.succeed(
          [
            undefined,
            replaceSection(withoutIntent(document, recorded.id), {
              configs: document.llm.configs.filter((config) => config.id !== recorded.configId)
            })
          ] as const
        )
    )
    yield* reached("remove.committed")
  })

/**
 * The write that commits `recorded`: `edit` runs only while the document still holds the intent
 * as recorded (`holds`); otherwise nothing is written and it fails with IntentLost.
 */
const commitWith = (preferences: PreferencesStore.PreferencesStoreService) =>
(
  recorded: PreferencesDocument.Intent,
  edit: (document: PreferencesDocument.PreferencesDocument) => PreferencesDocument.PreferencesDocument
) =>
  preferences.update((document) =>
    holds(document.llm, recorded)
      ? Effect.succeed([undefined, edit(document)] as const)
      : Effect.fail(new IntentLost({ document }))
  )

/**
 * Recovers an update that wrote its key straight into its entry. The entry holding the value it
 * wrote (its `keyMark`) means the key landed: commit. Otherwise the old key is still there and
 * the update is rolled back, but only once no write of it can land any more: the first recovery
 * to look records when that is (`settledAfter`, from now: the owner is gone, so its write was
 * sent before) and leaves it `waiting`. The time is taken before the entry is read (a write that
 * lands during a slow read is then not mistaken for one that never will), and a recorded time is
 * never later than now + the bound (a clock set back after it was recorded does not keep the
 * config busy for as long). An empty entry is proved empty, not locked, before anything is dropped.
 */
const rollDirectUpdateWith = (
  ports: { readonly secrets: SecretStore.SecretStoreService; readonly commit: ReturnType<typeof commitWith> },
  leftover: PreferencesDocument.Intent
) =>
  Effect.gen(function*() {
    const { secrets, commit } = ports
    const after = leftover.after!
    const now = yield* Clock.currentTimeMillis
    const stored = yield* secrets.get(keyRef(after))
    if (Option.isSome(stored) && KeyBinding.writeMark(leftover.id, stored.value) === leftover.keyMark) {
      yield* commit(leftover, afterUpdate(leftover))
      return "forward" as const
    }
    if (Option.isNone(stored)) yield* provedAbsent(secrets, after, "could not be checked")
    const bound = now + secrets.lateWriteMillis
    const recorded = leftover.settledAfter === undefined ? undefined : Date.parse(leftover.settledAfter)
    const settledAfter = recorded === undefined ? bound : Math.min(recorded, bound)
    if (now >= settledAfter) {
      yield* commit(leftover, (document) => withoutIntent(document, leftover.id))
      return "back" as const
    }
    if (settledAfter !== recorded) {
      yield* commit(leftover, (document) => withIntentFields(document, leftover.id, { settledAfter: new Date(settledAfter).toISOString() }))
    }
    return "waiting" as const
  })

/**
 * The journal of one store instance (`owner`): builds intents and applies every journal step
 * over the SecretStore, PreferencesStore, CrashPoints and Liveness in context.
 */
export const make = Effect.fnUntraced(function*(owner: string) {
  const secrets = yield* SecretStore.SecretStore
  const preferences = yield* PreferencesStore.PreferencesStore
  const crash = yield* CrashPoints.CrashPoints
  const liveness = yield* Liveness.Liveness
  /** A crash point; a simulated crash stops the owner as a dead process stops: its intents become recoverable. */
  const reached = (point: CrashPoints.CrashPoint) =>
    crash.reached(point).pipe(Effect.onExit((exit) => Exit.isFailure(exit) ? liveness.release(owner) : Effect.void))

  const isoNow = LlmConfig.isoNow

  /** A new `pending` intent owned by this instance and process (not yet recorded). */
  const intent = (fields: Omit<PreferencesDocument.Intent, "id" | "owner" | "ownerProcess" | "startedAt" | "phase">) =>
    isoNow.pipe(
      Effect.map((startedAt): PreferencesDocument.Intent => ({
        ...fields,
        id: Ids.randomUuid(),
        owner,
        ...(liveness.self !== undefined ? { ownerProcess: liveness.self } : {}),
        startedAt,
        phase: "pending"
      }))
    )

  /** Whether `recorded`'s owner runs no more (this instance's own leftovers count as gone: the caller knows none is in flight). */
  const ownerOf = (recorded: PreferencesDocument.Intent): Effect.Effect<Liveness.Verdict> =>
    recorded.owner === owner
      ? Effect.succeed({ _tag: "Gone" } as const)
      : liveness.verdict({ instance: recorded.owner, process: recorded.ownerProcess, startedAt: recorded.startedAt })

  const commit = commitWith(preferences)

  const drop = (intentId: string) =>
    preferences.update((document) => Effect.succeed([undefined, withoutIntent(document, intentId)] as const))

  /** Deletes whatever secrets an abandoned intent may have written, then drops it. Idempotent. */
  const undoAbandoned = (abandoned: PreferencesDocument.Intent) =>
    Effect.gen(function*() {
      if (abandoned.op === "create" || abandoned.op === "migrate") {
        if (abandoned.keyChange === "set") yield* secrets.delete(keyRef(abandoned.after!))
      } else if (isStagedUpdate(abandoned)) {
        yield* secrets.delete(stagedRef(abandoned.after!))
      }
      yield* drop(abandoned.id)
    })

  /**
   * Handles an operation that failed half-way.
   * - A refusal (locked, denied, invalid, unsupported) wrote nothing: the intent is simply dropped.
   * - Otherwise the intent is marked `abandoned` (it reserves nothing and is only ever rolled
   *   back), its secret writes are undone, and it is dropped once that worked; if the undo fails,
   *   `settle` or `recover` finish it. A key is never orphaned.
   */
  const abandon = (recorded: PreferencesDocument.Intent, cause: { readonly _tag: string }) =>
    Effect.gen(function*() {
      if (nothingWritten(cause)) return yield* Effect.as(drop(recorded.id), false)
      yield* preferences.update((document) => Effect.succeed([undefined, withPhase(document, recorded.id, "abandoned")] as const))
      yield* undoAbandoned({ ...recorded, phase: "abandoned" })
      return false
    }).pipe(Effect.orElseSucceed(() => true))

  /**
   * Abandons `recorded` after `cause`, then fails with `cause`; when something is left to finish
   * (the undo failed), its hint says so and what to run.
   */
  const failAbandoned = <E extends { readonly _tag: string }>(recorded: PreferencesDocument.Intent, cause: E) =>
    abandon(recorded, cause).pipe(Effect.flatMap((left) => Effect.fail(left ? Errors.withHint(cause, Hints.leftToFinish) : cause)))

  /**
   * Fails an update whose key write failed after `cause`. A refusal wrote nothing: the intent is
   * dropped. Any other failure may still land (a late helper), so the intent stays for recovery,
   * which rolls it forward if the key lands and back once it no longer can; the hint says so.
   */
  const failKeyWrite = <E extends { readonly _tag: string }>(recorded: PreferencesDocument.Intent, cause: E) =>
    nothingWritten(cause)
      ? Effect.andThen(Effect.ignore(drop(recorded.id)), Effect.fail(cause))
      : Effect.fail(Errors.withHint(cause, Hints.mayStillLand))

  /** Replaces the metadata with `after`; keeps the intent (committed) while a staged key remains. */
  const commitUpdate = (recorded: PreferencesDocument.Intent) => commit(recorded, afterUpdate(recorded))

  /** Commits a create: the config is added and the intent dropped, in one write. */
  const commitCreate = (recorded: PreferencesDocument.Intent) => commit(recorded, afterCreate(recorded))

  /** Deletes the staged copy of an older version's update key, then drops the intent. */
  const finishStaged = (recorded: PreferencesDocument.Intent) =>
    Effect.gen(function*() {
      yield* secrets.delete(stagedRef(recorded.after!))
      yield* drop(recorded.id)
    })

  const rollDirectUpdate = (leftover: PreferencesDocument.Intent) => rollDirectUpdateWith({ secrets, commit }, leftover)

  const finishRemove = (recorded: PreferencesDocument.Intent, options: { readonly alsoStaged: boolean }) =>
    finishRemoveWith({ secrets, preferences, reached }, recorded, options)

  /**
   * Commits an import: the verified `after` replaces a config with its id (a keyless one being
   * given its key) or is appended, and the intent is dropped, in one write.
   */
  const commitImport = (recorded: PreferencesDocument.Intent) => commit(recorded, afterImport(recorded))

  /**
   * Rolls one intent forward or back ("gone": it was no longer there). Creates and imports are rolled back (their source — the
   * caller, or the legacy file — still holds the key, so nothing is lost); removes are finished;
   * an update is committed when its key landed, else rolled back once no write of it can land
   * (`waiting` until then, rollDirectUpdateWith); an older version's is finished from its staged
   * copy when that exists, else rolled back.
   */
  const recoverIntent = (leftover: PreferencesDocument.Intent): Effect.Effect<Rolled | "gone", StoreError> =>
    rollIntent({ secrets, drop, undoAbandoned, finishRemove, finishStaged, commitUpdate, rollDirectUpdate }, leftover).pipe(
      Effect.catchTag("IntentLost", () => Effect.succeed("gone" as const))
    )

  return {
    owner,
    reached,
    intent,
    ownerOf,
    commit,
    commitCreate,
    /** Records `fields` as a new intent in the same write as `check` passes on the document. */
    record: <E>(
      build: (document: PreferencesDocument.PreferencesDocument) => Effect.Effect<PreferencesDocument.Intent, E>
    ): Effect.Effect<PreferencesDocument.Intent, E | Errors.PreferencesStoreError> => preferences.update(recording(build)),
    drop,
    abandon,
    failAbandoned,
    failKeyWrite,
    undoAbandoned,
    commitUpdate,
    finishStaged,
    finishRemove,
    commitImport,
    recoverIntent
  } as const
})

export type Journal = Effect.Success<ReturnType<typeof make>>
