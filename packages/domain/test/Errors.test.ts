import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Layer, Redacted, Schema } from "effect"
import * as Errors from "../src/Errors.ts"
import * as Liveness from "../src/Liveness.ts"
import * as LlmConfigStore from "../src/LlmConfigStore.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as SecretStore from "../src/SecretStore.ts"
import * as FaultInjection from "../src/testing/FaultInjection.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"

const samples: ReadonlyArray<Errors.FishbowlError> = [
  new Errors.KeychainDenied({ message: "m", hint: "h" }),
  new Errors.KeychainLocked({ message: "m", hint: "h", reason: "locked" }),
  new Errors.KeychainUnavailable({ message: "m", hint: "h" }),
  new Errors.Unsupported({ message: "m", hint: "h", reason: "not-available-here" }),
  new Errors.Corrupted({ message: "m", hint: "h", quarantinedAs: "preferences.json.corrupt-1", restoredFrom: "backup-1" }),
  new Errors.WriteRefused({ message: "m", hint: "h" }),
  new Errors.NotPermitted({ message: "m", hint: "h" }),
  new Errors.Timeout({ message: "m", hint: "h", operation: "create", budgetMillis: 200 }),
  new Errors.NotFound({ message: "m", hint: "h", id: "x", reason: "config" }),
  new Errors.InvalidInput({ message: "m", hint: "h", field: "apiKey" }),
  new Errors.Conflict({ message: "m", hint: "h", reason: "name-taken" }),
  new Errors.StorageInaccessible({ message: "m", hint: "h" }),
  new Errors.Internal({ message: "m", hint: "h" })
]

describe("domain errors", () => {
  it("every error round-trips through the FishbowlError schema with message and hint", () => {
    assert.deepStrictEqual(samples.map((error) => error._tag), [...Errors.errorTags])
    for (const error of samples) {
      const encoded = Schema.encodeSync(Errors.FishbowlError)(error)
      const json = JSON.parse(JSON.stringify(encoded))
      const decoded = Schema.decodeUnknownSync(Errors.FishbowlError)(json)
      assert.strictEqual(decoded._tag, error._tag)
      assert.strictEqual(decoded.message, "m")
      assert.strictEqual(decoded.hint, "h")
      assert.instanceOf(decoded, error.constructor as new(...args: Array<any>) => unknown)
    }
  })

  it("no error schema has a field that could carry a Redacted value", () => {
    for (const error of samples) {
      const fields = Object.keys(Schema.encodeSync(Errors.FishbowlError)(error))
      assert.notInclude(fields, "apiKey")
      assert.notInclude(fields, "value")
      assert.notInclude(fields, "secret")
    }
  })

  it("fromCause passes a domain failure on and turns anything else into the boundary's Internal", () => {
    const internal = new Errors.Internal({ message: "boundary", hint: "its hint" })
    for (const error of samples) assert.strictEqual(Errors.fromCause(Cause.fail(error), internal), error)
    const locked = samples[1]!
    assert.strictEqual(Errors.fromCause(Cause.combine(Cause.die("bug"), Cause.fail(locked)), internal), locked)
    for (
      const cause of [
        Cause.fail(new Error(`leaky ${Fixtures.makeCanaryKey()}`)),
        Cause.fail({ _tag: "NotFound", message: "a look-alike", hint: "" }),
        Cause.die(new Errors.NotFound({ reason: "config", message: "a defect", hint: "" })),
        Cause.interrupt(),
        Cause.empty
      ]
    ) {
      assert.strictEqual(Errors.fromCause(cause, internal), internal)
    }
  })

  const faults = ["locked", "denied", "unavailable"] as const
  for (const fault of faults) {
    it.live(`a ${fault} keychain fails every key operation with a typed error that never contains the key`, () =>
      Effect.gen(function*() {
        const control = yield* FaultInjection.Faults
        const store = yield* LlmConfigStore.make()
        const canary = Fixtures.makeCanaryKey(fault)
        const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey() }))
        yield* control.set({ secretFault: fault })
        const failures = [
          yield* Effect.flip(store.create(Fixtures.configInput({ provider: "openai", name: "New", apiKey: canary }))),
          yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ apiKey: canary }))),
          yield* Effect.flip(store.getApiKey(seeded.id)),
          yield* Effect.flip(store.remove(seeded.id))
        ]
        const expectedTag = { locked: "KeychainLocked", denied: "KeychainDenied", unavailable: "KeychainUnavailable" }[fault]
        for (const failure of failures) {
          assert.strictEqual(failure._tag, expectedTag)
          assert.isNotEmpty(failure.hint)
          const encoded = JSON.stringify(Schema.encodeSync(Errors.FishbowlError)(failure))
          assert.notInclude(encoded + String(failure) + failure.message, canary)
        }
        yield* control.clear
        const report = yield* store.recover()
        assert.deepStrictEqual(report.failed, [])
        const configs = yield* store.list
        assert.deepStrictEqual(configs.map((config) => config.name), ["Seed"], "failed operations changed nothing")
        assert.strictEqual((yield* store.status).pendingIntents, 0, "failed operations left no intent behind")
      }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))
  }

  it.live("a failed add leaves nothing to finish when nothing reached a keychain; when its undo fails, its error says so and what to run", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      yield* control.set({ secretFault: "unreachable" })
      const unreachable = yield* Effect.flip(
        store.create(Fixtures.configInput({ provider: "openai", name: "A", apiKey: Fixtures.makeCanaryKey() }))
      )
      assert.strictEqual(unreachable._tag, "KeychainUnavailable")
      assert.strictEqual((yield* store.status).pendingIntents, 0, "nothing reached a keychain: nothing left")
      assert.notInclude(unreachable.hint, "doctor --fix")
      // A request that may have landed, and a keychain that is gone for the undo too.
      yield* control.set({ secretFault: "unavailable" })
      const ambiguous = yield* Effect.flip(
        store.create(Fixtures.configInput({ provider: "openai", name: "B", apiKey: Fixtures.makeCanaryKey() }))
      )
      assert.strictEqual(ambiguous._tag, "KeychainUnavailable")
      assert.include(ambiguous.hint, "fishbowl-llm doctor --fix")
      assert.strictEqual((yield* store.status).pendingIntents, 1)
      yield* control.clear
      const report = yield* LlmConfigStore.make().pipe(Effect.flatMap((next) => next.recover()))
      assert.deepStrictEqual(report.left, [])
      assert.strictEqual(report.rolledBack.length, 1, "an abandoned change is finished by any process")
      assert.deepStrictEqual(yield* store.list, [])
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("a refused create (locked) reserves nothing: the same name works once unlocked", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      yield* control.set({ secretFault: "locked" })
      const error = yield* Effect.flip(
        store.create(Fixtures.configInput({ provider: "openai", name: "Retry", apiKey: Fixtures.makeCanaryKey() }))
      )
      assert.strictEqual(error._tag, "KeychainLocked")
      assert.strictEqual((yield* store.status).pendingIntents, 0, "a refusal wrote nothing, so nothing is left to undo")
      yield* control.clear
      const created = yield* LlmConfigStore.make().pipe(
        Effect.flatMap((otherProcess) =>
          otherProcess.create(Fixtures.configInput({ provider: "openai", name: "Retry", apiKey: Fixtures.makeCanaryKey() }))
        )
      )
      assert.strictEqual(created.name, "Retry")
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("a refused primary write after staging leaves an abandoned intent that reserves no name; any process rolls it back", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const secrets = yield* SecretStore.SecretStore
      const store = yield* LlmConfigStore.make()
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey("seed") }))
      // The staged write lands, the primary write is refused, and the clean-up is refused too.
      yield* control.set({ secretFault: "locked", failAfter: 1 })
      const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Changed", apiKey: Fixtures.makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      const journal = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
      assert.deepStrictEqual(journal.map((intent) => intent.phase), ["abandoned"])
      yield* control.clear
      const otherProcess = yield* LlmConfigStore.make()
      const renamed = yield* otherProcess.create(Fixtures.configInput({ provider: "ollama", name: "Changed" }))
      assert.strictEqual(renamed.name, "Changed", "an abandoned intent reserves no name")
      const report = yield* otherProcess.recover()
      assert.deepStrictEqual(report.rolledBack, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* otherProcess.get(seeded.id)).name, "Seed")
      const staged = yield* secrets.get({ service: `fishbowl.openai.${seeded.id}`, account: "apiKey.staged" })
      assert.isTrue(staged._tag === "None", "the staged key was removed")
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("an ambiguous primary write after staging is rolled forward from the staged copy", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey() }))
      const replacement = Fixtures.makeCanaryKey("replacement")
      yield* control.set({ secretFault: "unavailable", failAfter: 1, failing: ["set"] })
      const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Changed", apiKey: replacement })))
      assert.strictEqual(error._tag, "KeychainUnavailable")
      yield* control.clear
      const report = yield* store.recover()
      assert.deepStrictEqual(report.rolledForward, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Changed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), replacement, "key and metadata agree")
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("a refused primary write half-way through an update (fail-after-1) rolls back at once", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      const original = Fixtures.makeCanaryKey("original")
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: original }))
      yield* control.set({ secretFault: "locked", failAfter: 1, failing: ["set"] })
      const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Changed", apiKey: Fixtures.makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      yield* control.clear
      assert.strictEqual((yield* store.get(seeded.id)).name, "Seed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), original)
      const status = yield* store.status
      assert.strictEqual(status.pendingIntents, 0)
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("corrupted preferences during create leave no orphan key", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const secrets = yield* SecretStore.SecretStore
      const store = yield* LlmConfigStore.make()
      yield* control.set({ preferencesCorrupted: true })
      const error = yield* Effect.flip(
        store.create(Fixtures.configInput({ provider: "openai", name: "X", apiKey: Fixtures.makeCanaryKey() }))
      )
      assert.strictEqual(error._tag, "Corrupted")
      assert.strictEqual(yield* control.secretCalls, 0, "the key was never written")
      yield* control.clear
      assert.deepStrictEqual(yield* store.list, [])
      assert.isDefined(secrets)
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("a store that cannot tell locked from absent reports KeychainLocked, never an empty key", () =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const secrets = yield* SecretStore.SecretStore
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "A", apiKey: Fixtures.makeCanaryKey() }))
      yield* secrets.delete({ service: `fishbowl.openai.${config.id}`, account: "apiKey" })
      const error = yield* Effect.flip(store.getApiKey(config.id))
      assert.strictEqual(error._tag, "KeychainLocked")
    }).pipe(
      Effect.provide(
        LlmConfigStore.layer.pipe(
          Layer.provideMerge(
            Layer.mergeAll(
              Layer.effect(SecretStore.SecretStore, SecretStore.makeMemory({ description: { distinguishesLockedFromAbsent: false } })),
              PreferencesStore.layerMemory,
              Liveness.layerMemory
            )
          )
        )
      )
    ))
})
