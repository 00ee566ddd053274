import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Schema } from "effect"
import {
  Conflict,
  Corrupted,
  errorTags,
  FishbowlError,
  Internal,
  InvalidInput,
  KeychainDenied,
  KeychainLocked,
  KeychainUnavailable,
  LlmConfigStore,
  makeLlmConfigStore,
  makeMemorySecretStore,
  PreferencesStore,
  NotFound,
  SecretStore,
  StorageInaccessible,
  Timeout,
  Unsupported
} from "../src/index.ts"
import { configInput, configPatch, Faults, makeCanaryKey } from "../src/testing/index.ts"
import { CrashPoints } from "../src/CrashPoints.ts"

const samples: ReadonlyArray<FishbowlError> = [
  new KeychainDenied({ message: "m", hint: "h" }),
  new KeychainLocked({ message: "m", hint: "h" }),
  new KeychainUnavailable({ message: "m", hint: "h" }),
  new Unsupported({ message: "m", hint: "h" }),
  new Corrupted({ message: "m", hint: "h", quarantinedAs: "preferences.json.corrupt-1", restoredFrom: "backup-1" }),
  new Timeout({ message: "m", hint: "h", operation: "create", budgetMillis: 200 }),
  new NotFound({ message: "m", hint: "h", id: "x" }),
  new InvalidInput({ message: "m", hint: "h", field: "apiKey" }),
  new Conflict({ message: "m", hint: "h" }),
  new StorageInaccessible({ message: "m", hint: "h" }),
  new Internal({ message: "m", hint: "h" })
]

describe("domain errors", () => {
  it("every error round-trips through the FishbowlError schema with message and hint", () => {
    assert.deepStrictEqual(samples.map((error) => error._tag), [...errorTags])
    for (const error of samples) {
      const encoded = Schema.encodeSync(FishbowlError)(error)
      const json = JSON.parse(JSON.stringify(encoded))
      const decoded = Schema.decodeUnknownSync(FishbowlError)(json)
      assert.strictEqual(decoded._tag, error._tag)
      assert.strictEqual(decoded.message, "m")
      assert.strictEqual(decoded.hint, "h")
      assert.instanceOf(decoded, error.constructor as new(...args: Array<any>) => unknown)
    }
  })

  it("no error schema has a field that could carry a Redacted value", () => {
    for (const error of samples) {
      const fields = Object.keys(Schema.encodeSync(FishbowlError)(error))
      assert.notInclude(fields, "apiKey")
      assert.notInclude(fields, "value")
      assert.notInclude(fields, "secret")
    }
  })

  const faults = ["locked", "denied", "unavailable"] as const
  for (const fault of faults) {
    it.live(`a ${fault} keychain fails every key operation with a typed error that never contains the key`, () =>
      Effect.gen(function*() {
        const control = yield* Faults
        const store = yield* makeLlmConfigStore()
        const canary = makeCanaryKey(fault)
        const seeded = yield* store.create(configInput({ provider: "openai", name: "Seed", apiKey: makeCanaryKey() }))
        yield* control.set({ secretFault: fault })
        const failures = [
          yield* Effect.flip(store.create(configInput({ provider: "openai", name: "New", apiKey: canary }))),
          yield* Effect.flip(store.update(seeded.id, configPatch({ apiKey: canary }))),
          yield* Effect.flip(store.getApiKey(seeded.id)),
          yield* Effect.flip(store.remove(seeded.id))
        ]
        const expectedTag = { locked: "KeychainLocked", denied: "KeychainDenied", unavailable: "KeychainUnavailable" }[fault]
        for (const failure of failures) {
          assert.strictEqual(failure._tag, expectedTag)
          assert.isNotEmpty(failure.hint)
          const encoded = JSON.stringify(Schema.encodeSync(FishbowlError)(failure))
          assert.notInclude(encoded + String(failure) + failure.message, canary)
        }
        yield* control.clear
        const report = yield* store.recover()
        assert.deepStrictEqual(report.failed, [])
        const configs = yield* store.list
        assert.deepStrictEqual(configs.map((config) => config.name), ["Seed"], "failed operations changed nothing")
        assert.strictEqual(((yield* store.status).pendingIntents), 0, "failed operations left no intent behind")
      }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))
  }

  it.live("a refused create (locked) reserves nothing: the same name works once unlocked", () =>
    Effect.gen(function*() {
      const control = yield* Faults
      const store = yield* makeLlmConfigStore()
      yield* control.set({ secretFault: "locked" })
      const error = yield* Effect.flip(store.create(configInput({ provider: "openai", name: "Retry", apiKey: makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      assert.strictEqual((yield* store.status).pendingIntents, 0, "a refusal wrote nothing, so nothing is left to undo")
      yield* control.clear
      const created = yield* makeLlmConfigStore().pipe(
        Effect.flatMap((otherProcess) => otherProcess.create(configInput({ provider: "openai", name: "Retry", apiKey: makeCanaryKey() })))
      )
      assert.strictEqual(created.name, "Retry")
    }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))

  it.live("a refused primary write after staging leaves an abandoned intent that reserves no name; any process rolls it back", () =>
    Effect.gen(function*() {
      const control = yield* Faults
      const secrets = yield* SecretStore
      const store = yield* makeLlmConfigStore()
      const seeded = yield* store.create(configInput({ provider: "openai", name: "Seed", apiKey: makeCanaryKey("seed") }))
      // The staged write lands, the primary write is refused, and the clean-up is refused too.
      yield* control.set({ secretFault: "locked", failAfter: 1 })
      const error = yield* Effect.flip(store.update(seeded.id, configPatch({ name: "Changed", apiKey: makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      const journal = (yield* (yield* PreferencesStore).load).llm.journal
      assert.deepStrictEqual(journal.map((intent) => intent.phase), ["abandoned"])
      yield* control.clear
      const otherProcess = yield* makeLlmConfigStore({ staleIntentMillis: 60_000 })
      const renamed = yield* otherProcess.create(configInput({ provider: "ollama", name: "Changed" }))
      assert.strictEqual(renamed.name, "Changed", "an abandoned intent reserves no name")
      const report = yield* otherProcess.recover()
      assert.deepStrictEqual(report.rolledBack, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* otherProcess.get(seeded.id)).name, "Seed")
      const staged = yield* secrets.get({ service: `fishbowl.openai.${seeded.id}`, account: "apiKey.staged" })
      assert.isTrue(staged._tag === "None", "the staged key was removed")
    }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))

  it.live("an ambiguous primary write after staging is rolled forward from the staged copy", () =>
    Effect.gen(function*() {
      const control = yield* Faults
      const store = yield* makeLlmConfigStore()
      const seeded = yield* store.create(configInput({ provider: "openai", name: "Seed", apiKey: makeCanaryKey() }))
      const replacement = makeCanaryKey("replacement")
      yield* control.set({ secretFault: "unavailable", failAfter: 1, failing: ["set"] })
      const error = yield* Effect.flip(store.update(seeded.id, configPatch({ name: "Changed", apiKey: replacement })))
      assert.strictEqual(error._tag, "KeychainUnavailable")
      yield* control.clear
      const report = yield* store.recover()
      assert.deepStrictEqual(report.rolledForward, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Changed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), replacement, "key and metadata agree")
    }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))

  it.live("a refused primary write half-way through an update (fail-after-1) rolls back at once", () =>
    Effect.gen(function*() {
      const control = yield* Faults
      const store = yield* makeLlmConfigStore()
      const original = makeCanaryKey("original")
      const seeded = yield* store.create(configInput({ provider: "openai", name: "Seed", apiKey: original }))
      yield* control.set({ secretFault: "locked", failAfter: 1, failing: ["set"] })
      const error = yield* Effect.flip(store.update(seeded.id, configPatch({ name: "Changed", apiKey: makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      yield* control.clear
      assert.strictEqual((yield* store.get(seeded.id)).name, "Seed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), original)
      const status = yield* store.status
      assert.strictEqual(status.pendingIntents, 0)
    }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))

  it.live("corrupted preferences during create leave no orphan key", () =>
    Effect.gen(function*() {
      const control = yield* Faults
      const secrets = yield* SecretStore
      const store = yield* makeLlmConfigStore()
      yield* control.set({ preferencesCorrupted: true })
      const error = yield* Effect.flip(store.create(configInput({ provider: "openai", name: "X", apiKey: makeCanaryKey() })))
      assert.strictEqual(error._tag, "Corrupted")
      assert.strictEqual(yield* control.secretCalls, 0, "the key was never written")
      yield* control.clear
      assert.deepStrictEqual(yield* store.list, [])
      assert.isDefined(secrets)
    }).pipe(Effect.provide(Layer.merge(Faults.layerMemory, CrashPoints.layer))))

  it.live("a store that cannot tell locked from absent reports KeychainLocked, never an empty key", () =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore
      const secrets = yield* SecretStore
      const config = yield* store.create(configInput({ provider: "openai", name: "A", apiKey: makeCanaryKey() }))
      yield* secrets.delete({ service: `fishbowl.openai.${config.id}`, account: "apiKey" })
      const error = yield* Effect.flip(store.getApiKey(config.id))
      assert.strictEqual(error._tag, "KeychainLocked")
    }).pipe(
      Effect.provide(
        LlmConfigStore.layer().pipe(
          Layer.provideMerge(
            Layer.mergeAll(
              Layer.effect(SecretStore, makeMemorySecretStore({ description: { distinguishesLockedFromAbsent: false } })),
              PreferencesStore.layerMemory
            )
          )
        )
      )
    ))
})
