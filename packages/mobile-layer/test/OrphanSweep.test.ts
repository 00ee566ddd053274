/**
 * Keychain and app storage with different lifetimes: the iOS reinstall (keys survive, app storage
 * does not) and the Android restore (app storage comes back, keys cannot be decrypted). Both end in
 * the domain's NotFound / re-enter path or in the orphan sweep.
 */
import { assert, describe, it } from "@effect/vitest"
import { type LlmConfig, LlmConfigStore, PreferencesStore } from "@fishbowl/domain"
import { CrashSwitch, Fixtures } from "@fishbowl/domain/testing"
import { Effect, Layer, Redacted } from "effect"
import * as MobileLayer from "../src/MobileLayer.ts"
import * as OrphanSweep from "../src/OrphanSweep.ts"
import * as SecretKeyIndex from "../src/SecretKeyIndex.ts"
import * as MemoryAppStorage from "../src/testing/MemoryAppStorage.ts"
import * as MemorySecureStore from "../src/testing/MemorySecureStore.ts"

type Device = { readonly secureStore: MemorySecureStore.MemorySecureStore; appStorage: MemoryAppStorage.MemoryAppStorage }

const newDevice = (): Device => ({
  secureStore: new MemorySecureStore.MemorySecureStore(),
  appStorage: new MemoryAppStorage.MemoryAppStorage()
})

/** One app launch: a fresh runtime over the device's modules. */
const launch = <A, E>(device: Device, body: Effect.Effect<A, E, MobileLayer.Services>, settings?: MobileLayer.MobileSettings) =>
  body.pipe(Effect.provide(MobileLayer.layer(device, settings)))

const createConfigs = (names: ReadonlyArray<string>) =>
  Effect.flatMap(
    LlmConfigStore.LlmConfigStore,
    (store) =>
      Effect.forEach(names, (name) => store.create(Fixtures.configInput({ provider: "openai", name, apiKey: Fixtures.makeCanaryKey() })))
  )

const secretKeys = (device: Device) => device.secureStore.keys().filter((key) => key.endsWith(".apiKey") || key.endsWith(".staged"))

describe("iOS reinstall: the keychain survives, app storage does not", () => {
  it.live("recoverAndSweep deletes every orphaned key and empties the index", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      const created = yield* launch(device, createConfigs(["One", "Two", "Three"]))
      assert.strictEqual(secretKeys(device).length, 3)
      device.appStorage = new MemoryAppStorage.MemoryAppStorage() // reinstall
      const { recovery, sweep } = yield* launch(device, OrphanSweep.recoverAndSweep())
      assert.deepStrictEqual(recovery.failed, [])
      assert.sameMembers([...sweep.orphans], created.map((config: LlmConfig.LlmConfig) => `fishbowl.openai.${config.id}`))
      assert.strictEqual(sweep.deleted.length, 3)
      assert.deepStrictEqual(sweep.failed, [])
      assert.deepStrictEqual(device.secureStore.keys(), [], "no secret and no index page left")
      const again = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.deepStrictEqual(again.orphans, [])
    })
  })

  it.live("dryRun reports the orphans and deletes nothing", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      yield* launch(device, createConfigs(["One"]))
      device.appStorage = new MemoryAppStorage.MemoryAppStorage()
      const sweep = yield* launch(device, OrphanSweep.sweepOrphanSecrets({ dryRun: true }))
      assert.strictEqual(sweep.orphans.length, 1)
      assert.deepStrictEqual(sweep.deleted, [])
      assert.strictEqual(secretKeys(device).length, 1)
    })
  })

  it.live("keys of existing configurations are kept; only the removed-behind-its-back config's key goes", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      const [kept, lost] = yield* launch(device, createConfigs(["Kept", "Lost"]))
      // Metadata of one config vanishes without its key (e.g. an older app version restored its storage).
      yield* launch(
        device,
        Effect.flatMap(PreferencesStore.PreferencesStore, (store) =>
          store.update((document) =>
            Effect.succeed(
              [undefined, {
                ...document,
                llm: { ...document.llm, configs: document.llm.configs.filter((c) => c.id !== lost!.id) }
              }] as const
            )
          ))
      )
      const sweep = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.deepStrictEqual(sweep.orphans, [`fishbowl.openai.${lost!.id}`])
      assert.deepStrictEqual(sweep.deleted, [`fishbowl.openai.${lost!.id}.apiKey`])
      const key = yield* launch(device, Effect.flatMap(LlmConfigStore.LlmConfigStore, (store) => store.getApiKey(kept!.id)))
      assert.match(Redacted.value(key), /^sk-fishbowl-/)
    })
  })

  it.live("many configurations spill the index over several pages, and the sweep still finds them all", () => {
    const device = newDevice()
    const settings = { secureStore: { maxValueBytes: 256 } }
    return Effect.gen(function*() {
      yield* launch(device, createConfigs(Array.from({ length: 12 }, (_, index) => `Config ${index}`)), settings)
      const pages = device.secureStore.keys().filter((key) => key.includes("fishbowl._index."))
      assert.isAtLeast(pages.length, 3)
      for (const page of pages) assert.isAtMost(device.secureStore.peek(page.slice("default:".length))!.value.length, 256)
      device.appStorage = new MemoryAppStorage.MemoryAppStorage()
      const sweep = yield* launch(device, OrphanSweep.sweepOrphanSecrets(), settings)
      assert.strictEqual(sweep.deleted.length, 12)
      assert.deepStrictEqual(device.secureStore.keys(), [])
    })
  })

  it.live("a key written by an unfinished create is not an orphan: the journal keeps it until recover decides", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const crash = yield* CrashSwitch.CrashSwitch
        const store = yield* LlmConfigStore.make()
        yield* crash.arm("create.secret-written")
        yield* Effect.exit(store.create(Fixtures.configInput({ provider: "openai", name: "Crashy", apiKey: Fixtures.makeCanaryKey() })))
      }).pipe(Effect.provide(Layer.merge(MobileLayer.ports(device), CrashSwitch.layer)))
      const before = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.deepStrictEqual(before.orphans, [], "the intent references the key")
      assert.strictEqual(secretKeys(device).length, 1)
      const { recovery } = yield* Effect.gen(function*() {
        const store = yield* LlmConfigStore.make()
        return { recovery: yield* store.recover() }
      }).pipe(Effect.provide(MobileLayer.ports(device)))
      assert.strictEqual(recovery.rolledBack.length, 1)
      assert.deepStrictEqual(secretKeys(device), [])
    })
  })

  it.live("an unreadable document fails the sweep before anything is deleted", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      yield* launch(device, createConfigs(["One"]))
      device.appStorage.plant("fishbowl.preferences", "{ torn")
      const error = yield* Effect.flip(launch(device, OrphanSweep.sweepOrphanSecrets()))
      assert.strictEqual(error._tag, "Corrupted")
      assert.strictEqual(secretKeys(device).length, 1)
    })
  })

  it.live("a failing delete is reported and retried by the next sweep (the index keeps the name)", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      yield* launch(device, createConfigs(["One"]))
      device.appStorage = new MemoryAppStorage.MemoryAppStorage()
      device.secureStore.failNext("deleteItemAsync", new Error("I/O error."))
      const first = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.strictEqual(first.failed.length, 1)
      assert.strictEqual(first.failed[0]!.error, "KeychainUnavailable")
      assert.isDefined(device.secureStore.peek(SecretKeyIndex.indexPageKey(0)))
      const second = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.deepStrictEqual(second.failed, [])
      assert.deepStrictEqual(device.secureStore.keys(), [])
    })
  })
})

describe("Android restore: app storage comes back, the Keystore key does not", () => {
  for (const mode of ["reject", "null"] as const) {
    it.live(`getApiKey is NotFound with the re-enter hint; the sweep lists it; replacing the key heals it (${mode})`, () => {
      const device = newDevice()
      return Effect.gen(function*() {
        const [config] = yield* launch(device, createConfigs(["Work"]))
        device.secureStore.simulateRestoreWithoutKeystore(mode)
        const { sweep } = yield* launch(device, OrphanSweep.recoverAndSweep())
        assert.deepStrictEqual(sweep.keysMissing, [{ configId: config!.id, name: "Work" }])
        assert.deepStrictEqual(sweep.deleted, [], "keys of existing configs are never swept")
        const error = yield* launch(
          device,
          Effect.flip(Effect.flatMap(LlmConfigStore.LlmConfigStore, (store) => store.getApiKey(config!.id)))
        )
        assert.strictEqual(error._tag, "NotFound")
        assert.include(error.hint, "Replace key")
        const replacement = Fixtures.makeCanaryKey("re-entered")
        yield* launch(
          device,
          Effect.gen(function*() {
            const store = yield* LlmConfigStore.LlmConfigStore
            yield* store.update(config!.id, Fixtures.configPatch({ apiKey: replacement }))
            assert.strictEqual(Redacted.value(yield* store.getApiKey(config!.id)), replacement)
          })
        )
        assert.deepStrictEqual((yield* launch(device, OrphanSweep.sweepOrphanSecrets())).keysMissing, [])
      })
    })
  }

  it.live("an undecryptable index is counted, and new writes rebuild it", () => {
    const device = newDevice()
    return Effect.gen(function*() {
      yield* launch(device, createConfigs(["Work"]))
      device.secureStore.simulateRestoreWithoutKeystore("reject")
      const sweep = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.strictEqual(sweep.unreadableIndexPages, 1)
      yield* launch(device, createConfigs(["Another"]))
      const after = yield* launch(device, OrphanSweep.sweepOrphanSecrets())
      assert.strictEqual(after.unreadableIndexPages, 0)
    })
  })
})
