/**
 * The behaviour of LlmConfigStore over a given pair of ports, as one exported suite: scenario
 * tests plus a model-based property test with crashes at random named points. Every platform
 * (memory, fault layer, keytar + preferences.json, safeStorage, mobile) runs it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber, Layer, Option, Redacted, Schema, Stream } from "effect"
import * as fc from "fast-check"
import * as CrashPoints from "../CrashPoints.ts"
import * as Errors from "../Errors.ts"
import * as Ids from "../Ids.ts"
import * as KeyBinding from "../KeyBinding.ts"
import * as Liveness from "../Liveness.ts"
import * as LlmConfig from "../LlmConfig.ts"
import * as LlmConfigStore from "../LlmConfigStore.ts"
import * as PreferencesStore from "../PreferencesStore.ts"
import * as SecretRef from "../SecretRef.ts"
import * as SecretStore from "../SecretStore.ts"
import * as CrashSwitch from "./CrashSwitch.ts"
import * as Fixtures from "./Fixtures.ts"
import * as LlmConfigModel from "./LlmConfigModel.ts"

type Ports = SecretStore.SecretStore | PreferencesStore.PreferencesStore

export interface LlmConfigStoreContractOptions {
  /** Command sequences for the model-based test; `FISHBOWL_PROPERTY_RUNS` overrides (soak runs). */
  readonly propertyRuns?: number
  readonly maxCommands?: number
}

const positiveIntegerFromEnv = (name: string): number | undefined => {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  const parsed = raw === undefined ? Number.NaN : Number.parseInt(raw, 10)
  return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined
}

/** A SecretStore proxy that counts calls, to prove which operations never touch the keychain. */
const countingSecretStore = (inner: SecretStore.SecretStoreService) => {
  const counter = { calls: 0 }
  const count = <A, E>(effect: Effect.Effect<A, E>) => Effect.suspend(() => (counter.calls++, effect))
  const store: SecretStore.SecretStoreService = {
    get: (ref) => count(inner.get(ref)),
    set: (ref, value) => count(inner.set(ref, value)),
    delete: (ref) => count(inner.delete(ref)),
    describe: count(inner.describe),
    authorize: count(inner.authorize),
    placement: count(inner.placement),
    sessionId: inner.sessionId,
    lateWriteMillis: inner.lateWriteMillis
  }
  return { store, counter }
}

const tagOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isSome(failure) && typeof failure.value === "object" && failure.value !== null && "_tag" in failure.value) {
    return String(failure.value._tag)
  }
  return `defect: ${Cause.pretty(exit.cause)}`
}

const isSimulatedCrash = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof CrashPoints.SimulatedCrash

/**
 * `recover` after a simulated crash, as it ends once no key write can land. An update left
 * `settling` (its key write could still land: SecretStore.lateWriteMillis) must wait no longer
 * than that bound; its wait is then cut short (`settledAfter` moved to now) and recovery runs
 * again. A simulated crash stops before a write or after it, never during one, so nothing lands
 * late here; the wait itself is tested with TestClock (domain Errors.test.ts) and across killed
 * processes on the real keychain (desktop-layer DesktopLayer.test.ts).
 */
const recoverAfterCrash = (store: LlmConfigStore.LlmConfigStoreService) =>
  Effect.gen(function*() {
    const first = yield* store.recover()
    if (!first.left.some((entry) => entry.why === "settling")) return first
    const secrets = yield* SecretStore.SecretStore
    const preferences = yield* PreferencesStore.PreferencesStore
    const now = yield* Clock.currentTimeMillis
    yield* preferences.update((document) =>
      Effect.succeed(
        [undefined, {
          ...document,
          llm: {
            ...document.llm,
            journal: document.llm.journal.map((intent) => {
              if (intent.settledAfter === undefined) return intent
              assert.isAtMost(Date.parse(intent.settledAfter), now + secrets.lateWriteMillis, "waits no longer than the store's bound")
              return { ...intent, settledAfter: new Date(now).toISOString() }
            })
          }
        }] as const
      )
    )
    const second = yield* store.recover()
    return {
      rolledForward: [...first.rolledForward, ...second.rolledForward],
      rolledBack: [...first.rolledBack, ...second.rolledBack],
      left: second.left,
      failed: [...first.failed, ...second.failed]
    }
  })

export const llmConfigStoreContract = (
  name: string,
  ports: Layer.Layer<Ports, unknown>,
  options?: LlmConfigStoreContractOptions
) => {
  // Liveness in memory: each store instance is its own "process", alive until closed or crashed.
  const environment = Layer.mergeAll(ports, CrashSwitch.layer, Liveness.layerMemory)
  const run = <A, E>(effect: Effect.Effect<A, E, Ports | CrashSwitch.CrashSwitch | Liveness.Liveness>) =>
    effect.pipe(Effect.provide(environment))
  const propertyRuns = positiveIntegerFromEnv("FISHBOWL_PROPERTY_RUNS") ?? options?.propertyRuns ?? 200
  const maxCommands = options?.maxCommands ?? 10

  describe(`LlmConfigStore contract: ${name}`, () => {
    it.live("create stores metadata in the document and the key only in the secret store", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const canary = Fixtures.makeCanaryKey()
        const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "  Work  ", apiKey: canary }))
        assert.strictEqual(config.name, "Work")
        assert.isTrue(config.hasKey)
        assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), canary)
        const document = yield* (yield* PreferencesStore.PreferencesStore).load
        assert.notInclude(JSON.stringify(document.llm) + JSON.stringify(document.other), canary)
        const stored = yield* (yield* SecretStore.SecretStore).get(SecretRef.secretRefFor(config.provider, config.id))
        assert.isTrue(Option.isSome(stored))
        assert.include(Redacted.value(Option.getOrThrow(stored)), canary, "the key is in the secret store")
        const opened = KeyBinding.open(Option.getOrThrow(stored), KeyBinding.destinationOf(config))
        assert.strictEqual(opened._tag, "Bound", "bound to the destination it was entered for")
        assert.strictEqual(opened._tag === "Bound" && Redacted.value(opened.key), canary)
        assert.deepStrictEqual(document.llm.journal, [])
      })))

    it.live("list and get make zero secret-store calls", () =>
      run(Effect.gen(function*() {
        const seed = yield* LlmConfigStore.make()
        for (const index of [1, 2, 3]) {
          yield* seed.create(Fixtures.configInput({ provider: "anthropic", name: `Config ${index}`, apiKey: Fixtures.makeCanaryKey() }))
        }
        const { counter, store: counting } = countingSecretStore(yield* SecretStore.SecretStore)
        const store = yield* LlmConfigStore.make().pipe(Effect.provideService(SecretStore.SecretStore, counting))
        const configs = yield* store.list
        yield* store.get(configs[0]!.id)
        assert.strictEqual(configs.length, 3)
        assert.strictEqual(counter.calls, 0)
      })))

    it.live("names are unique case-insensitively, also under concurrent creates", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const other = yield* LlmConfigStore.make()
        const exits = yield* Effect.forEach(
          [store, other, store, other],
          (instance) =>
            Effect.exit(instance.create(Fixtures.configInput({ provider: "openai", name: "Shared", apiKey: Fixtures.makeCanaryKey() }))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(exits.filter(Exit.isSuccess).length, 1)
        assert.deepStrictEqual(exits.filter(Exit.isFailure).map(tagOf), ["Conflict", "Conflict", "Conflict"])
        const error = yield* Effect.flip(store.create(Fixtures.configInput({ provider: "ollama", name: "sHARED" })))
        assert.strictEqual(error._tag, "Conflict")
        assert.strictEqual((yield* store.list).length, 1)
      })))

    it.live("rejects missing keys, missing base URLs and unknown providers with InvalidInput", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const noKey = yield* Effect.flip(store.create(Fixtures.configInput({ provider: "anthropic", name: "No key" })))
        assert.strictEqual(noKey._tag, "InvalidInput")
        assert.strictEqual(noKey._tag === "InvalidInput" && noKey.field, "apiKey")
        const noUrl = yield* Effect.flip(store.create(Fixtures.configInput({ provider: "openai-compatible", name: "No URL" })))
        assert.strictEqual(noUrl._tag === "InvalidInput" && noUrl.field, "baseUrl")
        const unknown = yield* Effect.flip(store.create(Fixtures.configInput({ provider: "nope", name: "Unknown" })))
        assert.strictEqual(unknown._tag === "InvalidInput" && unknown.field, "provider")
        const local = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
        assert.isFalse(local.hasKey)
        const missing = yield* Effect.flip(store.getApiKey(local.id))
        assert.strictEqual(missing._tag, "NotFound")
        assert.strictEqual((yield* store.list).length, 1)
      })))

    it.live("update renames, replaces the key, and refuses a new base URL without the key", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const created = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: Fixtures.makeCanaryKey() }))
        const renamed = yield* store.update(created.id, Fixtures.configPatch({ name: "Work (renamed)" }))
        assert.strictEqual(renamed.name, "Work (renamed)")
        assert.strictEqual(renamed.createdAt, created.createdAt)
        const moved = yield* Effect.flip(store.update(created.id, Fixtures.configPatch({ baseUrl: "https://evil.example.com" })))
        assert.strictEqual(moved._tag === "InvalidInput" && moved.field, "apiKey")
        assert.isUndefined((yield* store.get(created.id)).baseUrl, "nothing changed")
        const replacement = Fixtures.makeCanaryKey("replacement")
        const rehomed = yield* store.update(
          created.id,
          Fixtures.configPatch({ baseUrl: "https://proxy.example.com/v1", apiKey: replacement })
        )
        assert.strictEqual(rehomed.baseUrl, "https://proxy.example.com/v1")
        assert.strictEqual(Redacted.value(yield* store.getApiKey(created.id)), replacement)
        const staged = yield* (yield* SecretStore.SecretStore).get(SecretRef.secretRefFor(created.provider, created.id, "apiKey.staged"))
        assert.isTrue(Option.isNone(staged), "the staged copy is cleaned up")
        const gone = yield* Effect.flip(store.update(Ids.newConfigId(), Fixtures.configPatch({ name: "x" })))
        assert.strictEqual(gone._tag, "NotFound")
      })))

    it.live("remove deletes metadata and key; a missing keychain entry is NotFound with a re-enter hint", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const secrets = yield* SecretStore.SecretStore
        const kept = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Kept", apiKey: Fixtures.makeCanaryKey() }))
        const removed = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Removed", apiKey: Fixtures.makeCanaryKey() }))
        yield* store.remove(removed.id)
        assert.deepStrictEqual((yield* store.list).map((config) => config.id), [kept.id])
        assert.isTrue(Option.isNone(yield* secrets.get(SecretRef.secretRefFor(removed.provider, removed.id))))
        assert.strictEqual((yield* Effect.flip(store.remove(removed.id)))._tag, "NotFound")
        yield* secrets.delete(SecretRef.secretRefFor(kept.provider, kept.id))
        const error = yield* Effect.flip(store.getApiKey(kept.id))
        assert.strictEqual(error._tag, "NotFound")
        assert.include(error.hint, "Replace key")
      })))

    it.live("change events carry metadata only", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const canary = Fixtures.makeCanaryKey()
        // Started at once, so it subscribes before the first change is published.
        const collected = yield* store.changes.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
        const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Evented", apiKey: canary }))
        yield* store.update(config.id, Fixtures.configPatch({ name: "Evented 2", apiKey: Fixtures.makeCanaryKey() }))
        yield* store.remove(config.id)
        const events = yield* Fiber.join(collected)
        assert.deepStrictEqual(Array.from(events, (event) => event._tag), ["Created", "Updated", "Removed"])
        assert.notInclude(JSON.stringify(Array.from(events)), canary)
      })))

    it.live("other settings in the document survive create, update and remove", () =>
      run(Effect.gen(function*() {
        const preferences = yield* PreferencesStore.PreferencesStore
        const other = { theme: "solarized", nested: { list: [1, "two", null] } }
        yield* preferences.update((document) => Effect.succeed([undefined, { ...document, other }] as const))
        const store = yield* LlmConfigStore.make()
        const config = yield* store.create(Fixtures.configInput({ provider: "anthropic", name: "A", apiKey: Fixtures.makeCanaryKey() }))
        yield* store.update(config.id, Fixtures.configPatch({ name: "B" }))
        yield* store.remove(config.id)
        assert.deepStrictEqual((yield* preferences.load).other, other)
      })))

    it.live("encoded errors of every failing operation never contain the key involved", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const canary = Fixtures.makeCanaryKey("error")
        const created = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Taken", apiKey: canary }))
        const failures = [
          yield* Effect.flip(store.create(Fixtures.configInput({ provider: "openai", name: "taken", apiKey: canary }))),
          yield* Effect.flip(store.create(Fixtures.configInput({ provider: "nope", name: "X", apiKey: canary }))),
          yield* Effect.flip(store.update(created.id, Fixtures.configPatch({ baseUrl: "https://elsewhere.example" }))),
          yield* Effect.flip(store.update(Ids.newConfigId(), Fixtures.configPatch({ apiKey: canary }))),
          yield* Effect.flip(Schema.decodeUnknownEffect(LlmConfig.LlmConfigPatch)({ apiKey: `${canary}\u0000` }))
        ]
        assert.strictEqual(failures.length, 5)
        for (const failure of failures) {
          const encoded = failure._tag === "SchemaError"
            ? failure.message
            : JSON.stringify(Schema.encodeSync(Errors.FishbowlError)(failure))
          assert.notInclude(encoded, canary)
          assert.notInclude(String(failure), canary)
        }
      })))

    for (const op of ["create", "update", "remove"] as const) {
      for (const point of CrashPoints.crashPoints[op]) {
        it.live(`a crash at ${point} is recovered to a consistent state`, () =>
          run(Effect.gen(function*() {
            const crashSwitch = yield* CrashSwitch.CrashSwitch
            const secrets = yield* SecretStore.SecretStore
            const store = yield* LlmConfigStore.make()
            const originalKey = Fixtures.makeCanaryKey("original")
            const newKey = Fixtures.makeCanaryKey("new")
            const seeded = op === "create"
              ? undefined
              : yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: originalKey }))
            yield* crashSwitch.arm(point)
            const exit = yield* Effect.exit(
              op === "create"
                ? store.create(Fixtures.configInput({ provider: "openai", name: "Crashy", apiKey: newKey }))
                : op === "update"
                ? store.update(seeded!.id, Fixtures.configPatch({ name: "Renamed", apiKey: newKey, baseUrl: "https://new.example.com" }))
                : store.remove(seeded!.id)
            )
            assert.isTrue(isSimulatedCrash(exit), `expected a simulated crash, got ${tagOf(exit)}`)
            const pending = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
            assert.strictEqual(pending.length, point.endsWith("committed") && op !== "update" ? 0 : pending.length)
            const restarted = yield* LlmConfigStore.make()
            const report = yield* recoverAfterCrash(restarted)
            assert.deepStrictEqual(report.failed, [])
            const document = yield* (yield* PreferencesStore.PreferencesStore).load
            assert.deepStrictEqual(document.llm.journal, [], "journal drained")
            const configs = yield* restarted.list
            const outcome = LlmConfigModel.crashOutcome(op, point, true)
            if (op === "create") {
              const ids = pending.map((intent) => intent.configId)
              if (outcome === "after") {
                assert.strictEqual(configs.length, 1)
                assert.strictEqual(Redacted.value(yield* restarted.getApiKey(configs[0]!.id)), newKey)
              } else {
                assert.strictEqual(configs.length, 0)
                for (const id of ids) {
                  assert.isTrue(
                    Option.isNone(yield* secrets.get(SecretRef.secretRefFor(Fixtures.providerId("openai"), id))),
                    "no orphan key"
                  )
                }
              }
            } else if (op === "update") {
              assert.strictEqual(configs.length, 1)
              const expectedName = outcome === "after" ? "Renamed" : "Seed"
              assert.strictEqual(configs[0]!.name, expectedName)
              assert.strictEqual(
                Redacted.value(yield* restarted.getApiKey(seeded!.id)),
                outcome === "after" ? newKey : originalKey
              )
              assert.strictEqual(configs[0]!.baseUrl, outcome === "after" ? "https://new.example.com/" : undefined)
              assert.isTrue(Option.isNone(yield* secrets.get(SecretRef.secretRefFor(seeded!.provider, seeded!.id, "apiKey.staged"))))
            } else {
              assert.strictEqual(configs.length, 0)
              assert.isTrue(Option.isNone(yield* secrets.get(SecretRef.secretRefFor(seeded!.provider, seeded!.id))), "no orphan key")
            }
          })))
      }
    }

    /** A config as an older app stored it, for importConfig. */
    const legacyConfig = (name: string, fields?: Partial<LlmConfig.LlmConfig>): LlmConfig.LlmConfig => ({
      id: Ids.newConfigId(),
      provider: Fixtures.providerId("anthropic"),
      name,
      baseUrl: "https://proxy.example.com/anthropic",
      useAuthHeader: false,
      createdAt: "2025-08-07T09:15:00.001Z",
      updatedAt: "2025-08-08T17:02:33.999Z",
      hasKey: true,
      ...fields
    })

    it.live("importConfig: verified import keeps id, name and timestamps; re-import, taken names and keyless twins", () =>
      run(Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        const secrets = yield* SecretStore.SecretStore
        const key = Fixtures.makeCanaryKey("import")
        const config = legacyConfig("Claude via proxy")
        if (!(yield* secrets.describe).persistent) {
          // Verifying against a store that forgets keys at exit, then deleting the source, would lose them.
          const refused = yield* Effect.flip(store.importConfig({ config, apiKey: Fixtures.secret(key) }))
          assert.strictEqual(refused._tag, "Unsupported")
          assert.deepStrictEqual(yield* store.list, [])
          assert.isTrue(Option.isNone(yield* secrets.get(SecretRef.secretRefFor(config.provider, config.id))))
          return
        }
        const imported = yield* store.importConfig({ config, apiKey: Fixtures.secret(key) })
        // stored as given, plus where its key now lives
        const tier = yield* secrets.placement
        const stored = { ...config, keyStorage: tier, ...(tier === "session" ? { keySession: secrets.sessionId } : {}) }
        assert.deepStrictEqual(imported, { _tag: "Imported", config: stored })
        assert.deepStrictEqual(yield* store.get(config.id), stored)
        assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), key)
        assert.deepStrictEqual(yield* store.importConfig({ config, apiKey: Fixtures.secret(key) }), {
          _tag: "AlreadyPresent",
          config: stored
        })
        // The same name (any case) under another id is kept, renamed.
        const twinName = legacyConfig("claude VIA proxy", { provider: Fixtures.providerId("openai"), baseUrl: undefined })
        const { baseUrl: _none, ...withoutUrl } = twinName
        const renamed = yield* store.importConfig({ config: withoutUrl, apiKey: Fixtures.secret(Fixtures.makeCanaryKey("twin")) })
        assert.strictEqual(renamed._tag, "Imported")
        assert.deepStrictEqual(renamed._tag === "Imported" ? [renamed.config.name, renamed.renamedFrom] : [], [
          "claude VIA proxy (imported)",
          "claude VIA proxy"
        ])
        // A keyless config of that id (an earlier import without its key) gains the key, metadata kept.
        const keyless = legacyConfig("No key yet", { hasKey: false })
        assert.strictEqual((yield* store.importConfig({ config: keyless }))._tag, "Imported")
        const later = Fixtures.makeCanaryKey("later")
        // The same id under another name or provider is a different configuration: nothing written.
        for (const other of [{ ...keyless, name: "Other name" }, { ...keyless, provider: Fixtures.providerId("openai") }]) {
          const refused = yield* store.importConfig({ config: other, apiKey: Fixtures.secret(later) })
          assert.strictEqual(refused._tag, "Conflict")
          assert.deepStrictEqual(yield* store.get(keyless.id), keyless)
        }
        const given = yield* store.importConfig({ config: keyless, apiKey: Fixtures.secret(later) })
        assert.deepStrictEqual(given, {
          _tag: "Imported",
          config: {
            ...keyless,
            hasKey: true,
            keyStorage: stored.keyStorage,
            ...(stored.keySession !== undefined ? { keySession: stored.keySession } : {})
          }
        })
        assert.strictEqual(Redacted.value(yield* store.getApiKey(keyless.id)), later)
        // Once it holds a key, the same id with another key is refused; that key stays.
        const refused = yield* store.importConfig({ config: keyless, apiKey: Fixtures.secret(Fixtures.makeCanaryKey("other")) })
        assert.strictEqual(refused._tag, "Conflict")
        assert.strictEqual(Redacted.value(yield* store.getApiKey(keyless.id)), later)
        assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [])
      })))

    for (const point of CrashPoints.crashPoints.migrate.filter((point) => point !== "migrate.plaintext-removed")) {
      it.live(`importConfig: a crash at ${point} is recovered (or re-imported) to exactly one config with its key`, () =>
        run(Effect.gen(function*() {
          const secrets = yield* SecretStore.SecretStore
          if (!(yield* secrets.describe).persistent) {
            const refused = yield* Effect.flip(
              (yield* LlmConfigStore.make()).importConfig({ config: legacyConfig("X"), apiKey: Fixtures.secret(Fixtures.makeCanaryKey()) })
            )
            assert.strictEqual(refused._tag, "Unsupported")
            return
          }
          const crashSwitch = yield* CrashSwitch.CrashSwitch
          const store = yield* LlmConfigStore.make()
          const key = Fixtures.makeCanaryKey("crash-import")
          const config = legacyConfig("Crashy import")
          yield* crashSwitch.arm(point)
          const exit = yield* Effect.exit(store.importConfig({ config, apiKey: Fixtures.secret(key) }))
          assert.isTrue(isSimulatedCrash(exit), `expected a simulated crash, got ${tagOf(exit)}`)
          const restarted = yield* LlmConfigStore.make()
          assert.deepStrictEqual((yield* restarted.recover()).failed, [])
          assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [], "journal drained")
          const committed = point === "migrate.committed"
          assert.deepStrictEqual((yield* restarted.list).map((entry) => entry.id), committed ? [config.id] : [])
          if (!committed) {
            assert.isTrue(Option.isNone(yield* secrets.get(SecretRef.secretRefFor(config.provider, config.id))), "no orphan key")
          }
          // The source still holds the key: importing again completes it.
          const again = yield* restarted.importConfig({ config, apiKey: Fixtures.secret(key) })
          assert.strictEqual(again._tag, committed ? "AlreadyPresent" : "Imported")
          assert.strictEqual(Redacted.value(yield* restarted.getApiKey(config.id)), key)
          assert.strictEqual((yield* restarted.list).length, 1)
        })))
    }

    it.live("recover leaves the intent of a live instance alone, and recovers it once that instance is gone", () =>
      run(Effect.gen(function*() {
        const crashSwitch = yield* CrashSwitch.CrashSwitch
        const secrets = yield* SecretStore.SecretStore
        const store = yield* LlmConfigStore.make()
        const other = yield* LlmConfigStore.make()
        const key = Fixtures.makeCanaryKey("live")
        const seen: Array<LlmConfigStore.RecoveryReport> = []
        yield* crashSwitch.interleave(
          "create.secret-written",
          Effect.gen(function*() {
            seen.push(yield* other.recover())
            seen.push(yield* other.recover({ assumeUnknownOwnersGone: true }))
          }).pipe(Effect.orDie)
        )
        const created = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Live", apiKey: key }))
        assert.strictEqual(seen.length, 2)
        for (const report of seen) {
          assert.deepStrictEqual([report.rolledBack, report.rolledForward, report.failed], [[], [], []])
          assert.deepStrictEqual(report.left.map((entry) => [entry.configId, entry.op, entry.why]), [[created.id, "create", "running"]])
        }
        assert.strictEqual(Redacted.value(yield* other.getApiKey(created.id)), key, "the key of the live create is kept")
        // A crashed instance is gone: its intent is recovered by the next recover, whatever its age.
        yield* crashSwitch.arm("create.secret-written")
        yield* Effect.exit(store.create(Fixtures.configInput({ provider: "openai", name: "Crashed", apiKey: Fixtures.makeCanaryKey() })))
        const pending = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
        assert.strictEqual(pending.length, 1)
        const report = yield* other.recover()
        assert.deepStrictEqual(report.rolledBack, [{ configId: pending[0]!.configId, op: "create" }])
        assert.isTrue(
          Option.isNone(yield* secrets.get(SecretRef.secretRefFor(pending[0]!.provider, pending[0]!.configId))),
          "no orphan key"
        )
      })))

    it.live("an operation whose intent is undone under it (a restored older file) never reports success over it", () =>
      run(Effect.gen(function*() {
        const crashSwitch = yield* CrashSwitch.CrashSwitch
        const secrets = yield* SecretStore.SecretStore
        const preferences = yield* PreferencesStore.PreferencesStore
        const store = yield* LlmConfigStore.make()
        const dropJournal = preferences.update((document) =>
          Effect.succeed([undefined, { ...document, llm: { ...document.llm, journal: [] } }] as const)
        ).pipe(Effect.orDie)
        yield* crashSwitch.interleave("create.secret-written", dropJournal)
        const refused = yield* Effect.flip(
          store.create(Fixtures.configInput({ provider: "openai", name: "Undone", apiKey: Fixtures.makeCanaryKey() }))
        )
        assert.strictEqual(refused._tag, "Conflict")
        assert.include(refused.message, "Nothing was changed")
        assert.deepStrictEqual(yield* store.list, [])
        const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey() }))
        // An update whose intent vanished while its config is still there is committed as asked.
        const newKey = Fixtures.makeCanaryKey("recommitted")
        yield* crashSwitch.interleave("update.secret-written", dropJournal)
        const updated = yield* store.update(seeded.id, Fixtures.configPatch({ name: "Seed 2", apiKey: newKey }))
        assert.strictEqual((yield* store.get(seeded.id)).name, "Seed 2")
        assert.strictEqual(Redacted.value(yield* store.getApiKey(updated.id)), newKey)
        assert.isTrue(
          Option.isNone(yield* secrets.get(SecretRef.secretRefFor(seeded.provider, seeded.id, "apiKey.staged"))),
          "no staged copy left"
        )
        assert.deepStrictEqual((yield* preferences.load).llm.journal, [])
      })))

    it.live(`model-based: ${propertyRuns} random command sequences with crashes match the model`, () =>
      Effect.promise(async () => {
        let sequences = 0
        await fc.assert(
          fc.asyncProperty(LlmConfigModel.commandsArbitrary(maxCommands), async (commands) => {
            sequences++
            await Effect.runPromise(runSequence(commands).pipe(Effect.provide(environment)) as Effect.Effect<void>)
          }),
          { numRuns: propertyRuns, endOnFailure: true }
        )
        // the seed is fixed for the whole run by vitest.setup.ts (FISHBOWL_PROPERTY_SEED)
        console.log(`[${name}] model-based LlmConfigStore test ran ${sequences} command sequences (seed ${fc.readConfigureGlobal().seed})`)
        assert.strictEqual(sequences, propertyRuns)
      }))
  })
}

type MutationCommand = LlmConfigModel.Command & { readonly kind: "create" | "update" | "remove" }
type OverlapCommand = LlmConfigModel.Command & { readonly kind: "overlap" }

/** Runs one command sequence against fresh ports and the model, checking invariants after each step. */
const runSequence = (commands: ReadonlyArray<LlmConfigModel.Command>) =>
  Effect.gen(function*() {
    const crashSwitch = yield* CrashSwitch.CrashSwitch
    const secrets = yield* SecretStore.SecretStore
    const preferences = yield* PreferencesStore.PreferencesStore
    const otherSettings = { theme: "dark", sidebar: { width: 240 } }
    yield* preferences.update((document) =>
      Effect.succeed([undefined, { ...document, other: { ...document.other, ...otherSettings } }] as const)
    )
    const existingIds = new Set((yield* preferences.load).llm.configs.map((config) => config.id))
    let store = yield* LlmConfigStore.make()
    const model = new LlmConfigModel.LlmConfigModel()
    const allKeys = new Set<string>()
    const unknownId = Ids.newConfigId()

    const targetId = (index: number) => model.target(index)?.id ?? unknownId

    const execute = (command: MutationCommand): Effect.Effect<unknown, unknown> => {
      if ("key" in command && command.key !== undefined) allKeys.add(command.key)
      switch (command.kind) {
        case "create":
          return store.create(Fixtures.configInput({
            provider: command.provider,
            name: command.name,
            ...(command.baseUrl !== undefined ? { baseUrl: command.baseUrl } : {}),
            ...(command.key !== undefined ? { apiKey: command.key } : {})
          }))
        case "update":
          return store.update(
            Ids.ConfigId.make(targetId(command.target)),
            Fixtures.configPatch({
              ...(command.name !== undefined ? { name: command.name } : {}),
              ...(command.baseUrl !== undefined ? { baseUrl: command.baseUrl } : {}),
              ...(command.key !== undefined ? { apiKey: command.key } : {})
            })
          )
        case "remove":
          return store.remove(Ids.ConfigId.make(targetId(command.target)))
      }
    }

    /** Expected outcome of a mutation, and how to apply it to the model. */
    const expectation = (command: MutationCommand): { outcome: string; apply: (result: unknown) => void } => {
      switch (command.kind) {
        case "create": {
          const outcome = model.expectCreate(command)
          return { outcome, apply: (result) => model.applyCreate(command, (result as LlmConfig.LlmConfig).id) }
        }
        case "update": {
          const after = model.expectUpdate(command)
          return typeof after === "string"
            ? { outcome: after, apply: () => {} }
            : { outcome: "ok", apply: () => model.applyUpdate(after) }
        }
        case "remove": {
          const target = model.target(command.target)
          return target === undefined
            ? { outcome: "NotFound", apply: () => {} }
            : { outcome: "ok", apply: () => model.applyRemove(target.id) }
        }
      }
    }

    const checkInvariants = (step: string) =>
      Effect.gen(function*() {
        const listed = yield* store.list
        const document = yield* preferences.load
        const listedJson = JSON.stringify(listed)
        for (const key of allKeys) assert.notInclude(listedJson, key, `${step}: list carries no key material`)
        const comparable = (config: LlmConfigModel.ModelConfig | LlmConfig.LlmConfig) => ({
          id: config.id,
          provider: config.provider,
          name: config.name,
          baseUrl: config.baseUrl,
          hasKey: "hasKey" in config ? config.hasKey : config.key !== undefined
        })
        const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)
        assert.deepStrictEqual(
          listed.filter((config) => !existingIds.has(config.id)).map(comparable).sort(byId),
          model.configs.map(comparable).sort(byId),
          `${step}: list matches the model`
        )
        for (const config of model.configs) {
          if (config.key !== undefined) {
            const key = yield* store.getApiKey(Ids.ConfigId.make(config.id))
            assert.strictEqual(Redacted.value(key), config.key, `${step}: key of ${config.name}`)
          }
          const staged = yield* secrets.get(
            SecretRef.secretRefFor(Fixtures.providerId(config.provider), Ids.ConfigId.make(config.id), "apiKey.staged")
          )
          assert.isTrue(Option.isNone(staged), `${step}: no staged key left for ${config.name}`)
        }
        for (const id of model.goneIds) {
          for (const provider of ["openai", "anthropic", "ollama", "openai-compatible"]) {
            for (const field of ["apiKey", "apiKey.staged"] as const) {
              const orphan = yield* secrets.get(SecretRef.secretRefFor(Fixtures.providerId(provider), Ids.ConfigId.make(id), field))
              assert.isTrue(Option.isNone(orphan), `${step}: no orphan ${field} for removed ${id}`)
            }
          }
        }
        assert.deepStrictEqual(document.llm.journal, [], `${step}: journal is empty`)
        assert.deepStrictEqual(
          Object.fromEntries(Object.keys(otherSettings).map((key) => [key, document.other[key]])),
          otherSettings,
          `${step}: other settings preserved`
        )
      })

    /** Runs `command` in `instance` beside a paused operation that holds `held`, checking it against the model. */
    const runBeside = (
      instance: LlmConfigStore.LlmConfigStoreService,
      command: OverlapCommand["other"],
      held: LlmConfigModel.Held,
      step: string
    ) =>
      Effect.gen(function*() {
        if (command.kind === "list") return void (yield* instance.list)
        const expected = model.expectBeside(command, held)
        const previous = store
        store = instance
        const exit = yield* Effect.exit(execute(command))
        store = previous
        assert.strictEqual(tagOf(exit), typeof expected === "string" ? expected : "ok", `${step}: the other instance's ${command.kind}`)
        if (Exit.isSuccess(exit)) expectation(command).apply(exit.value)
      })

    /**
     * A live overlap: the operation waits at the point while a second live instance recovers (it
     * must leave the operation's intent alone: its owner runs) and runs another command; then the
     * operation finishes with the outcome it would have had alone.
     */
    const runOverlap = (command: OverlapCommand, step: string) =>
      Effect.gen(function*() {
        const inner = command.command
        const points = CrashPoints.crashPoints[inner.kind]
        const point = points[command.point % points.length]!
        const updateWithKey = inner.kind === "update" && inner.key !== undefined
        const expected = expectation(inner)
        const after = inner.kind === "update" ? model.expectUpdate(inner) : undefined
        // At a point past the commit, the other instance sees the change made (a create only by its
        // name: its id is known once it returns); the intent stays while clean-up remains.
        const committed = point === "create.committed" || point === "update.committed" || point === "remove.committed"
        // A commit drops the intent in the same write.
        const intentHeld = !committed
        const held: LlmConfigModel.Held = {
          busyId: inner.kind === "create" || !intentHeld ? undefined : model.target(inner.target)?.id,
          reservedName: inner.kind === "create" ? inner.name : typeof after === "object" ? after.name : undefined,
          ownerId: inner.kind === "create" ? undefined : model.target(inner.target)?.id
        }
        const other = yield* LlmConfigStore.make()
        let ranBeside = false
        let applied = false
        yield* crashSwitch.interleave(
          point,
          Effect.gen(function*() {
            ranBeside = true
            if (committed && inner.kind !== "create") {
              expected.apply(undefined)
              applied = true
            }
            const report = yield* other.recover()
            assert.deepStrictEqual(
              [report.rolledBack, report.rolledForward, report.failed],
              [[], [], []],
              `${step}: nothing of a live operation is recovered`
            )
            assert.deepStrictEqual(report.left.map((entry) => entry.why), intentHeld ? ["running"] : [], `${step}: the live intent is left`)
            yield* runBeside(other, command.other, held, step)
          }).pipe(Effect.orDie)
        )
        const exit = yield* Effect.exit(execute(inner))
        yield* crashSwitch.disarm
        assert.strictEqual(tagOf(exit), expected.outcome, `${step}: the paused operation`)
        if (Exit.isSuccess(exit) && !applied) expected.apply(exit.value)
        const reaches = expected.outcome === "ok" && LlmConfigModel.crashOutcome(inner.kind, point, updateWithKey) !== "none"
        assert.strictEqual(ranBeside, reaches, `${step}: the other instance ran at ${point}`)
        if (!ranBeside) yield* runBeside(other, command.other, { busyId: undefined, reservedName: undefined }, step)
      })

    for (const [index, command] of commands.entries()) {
      const step = `step ${index} ${JSON.stringify(command)}`
      if (command.kind === "list") {
        yield* store.list
      } else if (command.kind === "getApiKey") {
        const target = model.target(command.target)
        const exit = yield* Effect.exit(store.getApiKey(Ids.ConfigId.make(target?.id ?? unknownId)))
        if (target?.key !== undefined) {
          assert.isTrue(Exit.isSuccess(exit), `${step}: ${tagOf(exit)}`)
        } else {
          assert.strictEqual(tagOf(exit), "NotFound", step)
        }
      } else if (command.kind === "crash") {
        const inner = command.command
        const points = CrashPoints.crashPoints[inner.kind]
        const point = points[command.point % points.length]!
        const expected = expectation(inner)
        const idsBefore = new Set((yield* store.list).map((config) => config.id))
        yield* crashSwitch.arm(point)
        const exit = yield* Effect.exit(execute(inner))
        yield* crashSwitch.disarm
        const where = expected.outcome === "ok"
          ? LlmConfigModel.crashOutcome(inner.kind, point, inner.kind === "update" && inner.key !== undefined)
          : "none"
        if (where === "none") {
          assert.strictEqual(tagOf(exit), expected.outcome, `${step}: no crash expected`)
          if (Exit.isSuccess(exit)) expected.apply(exit.value)
        } else {
          assert.isTrue(isSimulatedCrash(exit), `${step}: expected a crash, got ${tagOf(exit)}`)
          const journal = (yield* preferences.load).llm.journal
          for (const intent of journal) if (intent.op === "create") model.goneIds.add(intent.configId)
          store = yield* LlmConfigStore.make()
          const report = yield* recoverAfterCrash(store)
          assert.deepStrictEqual(report.failed, [], `${step}: recovery failed`)
          if (where === "after") {
            if (inner.kind === "create") {
              const created = (yield* store.list).find((config) => !idsBefore.has(config.id) && !existingIds.has(config.id))
              assert.isDefined(created, `${step}: committed create is present`)
              model.goneIds.delete(created!.id)
              expected.apply(created)
            } else {
              expected.apply(undefined)
            }
          }
        }
      } else if (command.kind === "overlap") {
        yield* runOverlap(command, step)
      } else {
        const expected = expectation(command)
        const exit = yield* Effect.exit(execute(command))
        assert.strictEqual(tagOf(exit), expected.outcome, step)
        if (Exit.isSuccess(exit)) expected.apply(exit.value)
      }
      yield* checkInvariants(step)
    }
  })
