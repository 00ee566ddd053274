import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Fiber, Layer, Option, Redacted, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as Errors from "../src/Errors.ts"
import * as Hints from "../src/Hints.ts"
import * as Journal from "../src/Journal.ts"
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

  it.live("a refused key write drops the update's intent at once: nothing changed, no name reserved", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      const original = Fixtures.makeCanaryKey("original")
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: original }))
      yield* control.set({ secretFault: "locked", failing: ["set"] })
      const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Changed", apiKey: Fixtures.makeCanaryKey() })))
      assert.strictEqual(error._tag, "KeychainLocked")
      assert.notInclude(error.hint, "may still be saved", "a refusal wrote nothing")
      yield* control.clear
      assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Seed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), original)
      const renamed = yield* (yield* LlmConfigStore.make()).create(Fixtures.configInput({ provider: "ollama", name: "Changed" }))
      assert.strictEqual(renamed.name, "Changed", "the failed update reserves no name")
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  it.live("a key write that landed although it failed (a lost answer) is rolled forward: key and metadata agree", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.make()
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey() }))
      const replacement = Fixtures.makeCanaryKey("replacement")
      yield* control.set({ secretFault: "unavailable", failing: ["set"], landsAnyway: true })
      const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Changed", apiKey: replacement })))
      assert.strictEqual(error._tag, "KeychainUnavailable")
      assert.include(error.hint, Hints.mayStillLand, "the failure says the key may still be saved")
      yield* control.clear
      const report = yield* store.recover()
      assert.deepStrictEqual(report.rolledForward, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Changed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), replacement, "key and metadata agree")
      assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [])
    }).pipe(Effect.provide(Layer.mergeAll(FaultInjection.layerMemory, Liveness.layerMemory))))

  /** Ports whose key writes may land up to a minute after their call (as a keychain helper's). */
  const lateWrites = Layer.mergeAll(
    FaultInjection.layer.pipe(
      Layer.provide(
        Layer.mergeAll(
          Layer.effect(SecretStore.SecretStore, SecretStore.makeMemory({ lateWriteMillis: 60_000 })),
          PreferencesStore.layerMemory
        )
      )
    ),
    Liveness.layerMemory
  )

  it.effect("an update whose key write may still land is rolled back only once it no longer can; a late write is rolled forward", () =>
    Effect.gen(function*() {
      const control = yield* FaultInjection.Faults
      const secrets = yield* SecretStore.SecretStore
      const preferences = yield* PreferencesStore.PreferencesStore
      const store = yield* LlmConfigStore.make()
      const original = Fixtures.makeCanaryKey("original")
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: original }))
      const failUpdate = (name: string, key: string) =>
        Effect.gen(function*() {
          yield* control.set({ secretFault: "unavailable", failing: ["set"] })
          const error = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name, apiKey: key })))
          assert.strictEqual(error._tag, "KeychainUnavailable")
          yield* control.clear
        })

      // Not landed (yet): the first recovery records when no write can land, and waits.
      yield* failUpdate("Never landed", Fixtures.makeCanaryKey("never"))
      const first = yield* store.recover()
      assert.deepStrictEqual(first.left.map((entry) => entry.why), ["settling"])
      assert.deepStrictEqual([first.rolledBack, first.rolledForward], [[], []])
      const waiting = (yield* preferences.load).llm.journal
      assert.strictEqual(waiting.length, 1)
      assert.strictEqual(Date.parse(waiting[0]!.settledAfter!), 60_000, "settled a lateWriteMillis after the first look")
      const busy = yield* Effect.flip(store.update(seeded.id, Fixtures.configPatch({ name: "Meanwhile" })))
      assert.deepStrictEqual([busy._tag, (busy as Errors.Conflict).reason], ["Conflict", "busy"], "the config stays busy while it waits")
      yield* TestClock.adjust("59 seconds")
      assert.deepStrictEqual((yield* store.recover()).left.map((entry) => entry.why), ["settling"], "still inside the bound")
      const events = yield* store.changes.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* TestClock.adjust("1 second")
      // Nobody asks again: the store's own follow-up recovery rolls it back once the bound passed.
      assert.deepStrictEqual(Array.from(yield* Fiber.join(events)), [{ _tag: "Recovered", count: 1 }])
      assert.deepStrictEqual((yield* preferences.load).llm.journal, [])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Seed")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), original, "the old key is kept")

      // Lands while recovery waits (a late helper): rolled forward at the next look.
      const late = Fixtures.makeCanaryKey("late")
      yield* failUpdate("Landed late", late)
      assert.deepStrictEqual((yield* store.recover()).left.map((entry) => entry.why), ["settling"])
      const intent = (yield* preferences.load).llm.journal[0]!
      yield* secrets.set(Journal.keyRef(intent.after!), Journal.sealedKey(Redacted.make(late), intent.after!))
      const forward = yield* store.recover()
      assert.deepStrictEqual(forward.rolledForward, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Landed late")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), late)
      assert.deepStrictEqual((yield* preferences.load).llm.journal, [])
    }).pipe(Effect.scoped, Effect.provide(lateWrites)))

  it.live("an update recorded by an older version (staged copy) is still finished from its staged copy", () =>
    Effect.gen(function*() {
      const secrets = yield* SecretStore.SecretStore
      const preferences = yield* PreferencesStore.PreferencesStore
      const store = yield* LlmConfigStore.make()
      const seeded = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Seed", apiKey: Fixtures.makeCanaryKey() }))
      const replacement = Fixtures.makeCanaryKey("staged")
      const after = { ...seeded, name: "Staged" }
      // What an older version left after a crash between its staged write and its primary write.
      yield* secrets.set(Journal.stagedRef(after), Journal.sealedKey(Redacted.make(replacement), after))
      yield* preferences.update((document) =>
        Effect.succeed(
          [
            undefined,
            Journal.withIntent(document, {
              id: "older-version-intent",
              owner: "an-older-instance",
              startedAt: seeded.updatedAt,
              op: "update",
              configId: seeded.id,
              provider: seeded.provider,
              before: seeded,
              after,
              keyChange: "set",
              phase: "pending"
            })
          ] as const
        )
      )
      const report = yield* store.recover()
      assert.deepStrictEqual(report.rolledForward, [{ configId: seeded.id, op: "update" }])
      assert.strictEqual((yield* store.get(seeded.id)).name, "Staged")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(seeded.id)), replacement)
      assert.isTrue(Option.isNone(yield* secrets.get(Journal.stagedRef(after))), "the staged copy is removed")
      assert.deepStrictEqual((yield* preferences.load).llm.journal, [])
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
