/** expo-secure-store platform constraints, one test each, on the in-memory module. */
import { assert, describe, it } from "@effect/vitest"
import { Ids, LlmConfigStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Effect, Layer, Option, Redacted } from "effect"
import * as ExpoSecureStoreModule from "../src/ExpoSecureStoreModule.ts"
import * as ExpoSecureStoreSecretStore from "../src/ExpoSecureStoreSecretStore.ts"
import * as MobileLayer from "../src/MobileLayer.ts"
import * as SecretKeyIndex from "../src/SecretKeyIndex.ts"
import * as MemoryAppStorage from "../src/testing/MemoryAppStorage.ts"
import * as MemorySecureStore from "../src/testing/MemorySecureStore.ts"

const ref = (field: "apiKey" | "apiKey.staged" = "apiKey") =>
  SecretRef.secretRefFor(Ids.ProviderId.make("anthropic"), Ids.ConfigId.make("0b5c6f0e-8a55-4c1e-9c1f-2d3e4f5a6b7c"), field)
const key = "fishbowl.anthropic.0b5c6f0e-8a55-4c1e-9c1f-2d3e4f5a6b7c.apiKey"

const withStore = <A, E>(
  native: MemorySecureStore.MemorySecureStore,
  body: Effect.Effect<A, E, SecretStore.SecretStore>,
  settings?: ExpoSecureStoreModule.ExpoSecureStoreSettings
) =>
  body.pipe(
    Effect.provide(
      ExpoSecureStoreSecretStore.layer(settings).pipe(Layer.provide(Layer.succeed(ExpoSecureStoreModule.ExpoSecureStore, native)))
    )
  )

const reveal = (value: Option.Option<Redacted.Redacted<string>>) => Option.map(value, Redacted.value)

describe("ExpoSecureStoreSecretStore", () => {
  it.live("keychainAccessible is AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY on every call by default", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("sk-value"))
        yield* store.get(ref())
        yield* store.delete(ref())
        const nativeCalls = native.calls.filter((call) => call.operation !== "isAvailableAsync")
        assert.isAbove(nativeCalls.length, 4)
        for (const call of nativeCalls) {
          assert.deepStrictEqual(call.options, { keychainAccessible: native.AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY })
        }
      })
    )
  })

  it.live("keychainAccessible, keychainService and accessGroup are configurable and used consistently", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    const settings = {
      keychainAccessible: native.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
      keychainService: "fishbowl-keys",
      accessGroup: "group.app"
    }
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("sk-value"))
        assert.strictEqual(native.peek(key, "fishbowl-keys")?.keychainAccessible, native.WHEN_UNLOCKED_THIS_DEVICE_ONLY)
        assert.isUndefined(native.peek(key), "nothing under the default service")
        for (const call of native.calls.filter((call) => call.operation !== "isAvailableAsync")) {
          assert.deepStrictEqual(call.options, { keychainAccessible: 6, keychainService: "fishbowl-keys", accessGroup: "group.app" })
        }
        assert.deepStrictEqual(reveal(yield* store.get(ref())), Option.some("sk-value"))
      }),
      settings
    )
  })

  it.live("keys reach the module in the documented form and pass its charset check", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("a"))
        yield* store.set(ref("apiKey.staged"), Fixtures.secret("b"))
        assert.deepStrictEqual(native.keys(), [
          `default:${SecretKeyIndex.indexPageKey(0)}`,
          `default:${key}`,
          `default:${key}.staged`
        ])
      })
    )
  })

  it.live("a value over 2 KiB is InvalidInput before any native call; the old value stays", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("old"))
        const writes = native.calls.filter((call) => call.operation === "setItemAsync").length
        const error = yield* Effect.flip(store.set(ref(), Fixtures.secret("é".repeat(1025)))) // 2050 bytes, 1025 characters
        assert.strictEqual(error._tag, "InvalidInput")
        assert.strictEqual(native.calls.filter((call) => call.operation === "setItemAsync").length, writes)
        assert.deepStrictEqual(reveal(yield* store.get(ref())), Option.some("old"))
      })
    )
  })

  it.live("a store that rejects a value below our limit gives a typed error and keeps the old value", () => {
    const native = new MemorySecureStore.MemorySecureStore({ rejectAboveLength: 1000 })
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("old"))
        const error = yield* Effect.flip(store.set(ref(), Fixtures.secret("k".repeat(1500))))
        assert.strictEqual(error._tag, "KeychainUnavailable")
        assert.notInclude(error.message, "kkkk")
        assert.deepStrictEqual(reveal(yield* store.get(ref())), Option.some("old"))
      })
    )
  })

  it.live("a store that truncates is caught by the read-back: typed error, and the mangled entry is removed", () => {
    const native = new MemorySecureStore.MemorySecureStore({ truncateAboveLength: 100 })
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const error = yield* Effect.flip(store.set(ref(), Fixtures.secret("k".repeat(150))))
        assert.strictEqual(error._tag, "StorageInaccessible")
        assert.isTrue(Option.isNone(yield* store.get(ref())), "never a silently truncated key")
      })
    )
  })

  it.live("isAvailableAsync() === false: every operation is Unsupported with a hint", () => {
    const native = new MemorySecureStore.MemorySecureStore({ available: false })
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const errors = [
          yield* Effect.flip(store.get(ref())),
          yield* Effect.flip(store.set(ref(), Fixtures.secret("value"))),
          yield* Effect.flip(store.delete(ref())),
          yield* Effect.flip(store.describe)
        ]
        for (const error of errors) {
          assert.strictEqual(error._tag, "Unsupported")
          assert.include(error.hint, "iOS or Android app")
        }
        assert.deepStrictEqual(native.calls.map((call) => call.operation), ["isAvailableAsync"], "asked once, remembered")
      })
    )
  })

  it.live("unavailable store: metadata still lists, getApiKey is Unsupported (not NotFound)", () => {
    const secureStore = new MemorySecureStore.MemorySecureStore()
    const appStorage = new MemoryAppStorage.MemoryAppStorage()
    const layer = () => MobileLayer.layer({ secureStore, appStorage })
    return Effect.gen(function*() {
      const created = yield* Effect.flatMap(
        LlmConfigStore.LlmConfigStore,
        (store) => store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: Fixtures.makeCanaryKey() }))
      ).pipe(Effect.provide(layer()))
      secureStore.available = false
      yield* Effect.gen(function*() {
        const store = yield* LlmConfigStore.LlmConfigStore
        assert.strictEqual((yield* store.list).length, 1)
        assert.strictEqual((yield* Effect.flip(store.getApiKey(created.id)))._tag, "Unsupported")
      }).pipe(Effect.provide(layer()))
    })
  })

  it.live("isAvailableAsync rejecting is KeychainUnavailable and is asked again next time", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    native.failNext("isAvailableAsync", new Error("Cannot find native module 'ExpoSecureStore'"))
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        assert.strictEqual((yield* Effect.flip(store.get(ref())))._tag, "KeychainUnavailable")
        assert.isTrue(Option.isNone(yield* store.get(ref())))
      })
    )
  })

  it.live("a locked device (errSecInteractionNotAllowed) is KeychainLocked, never None", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        yield* store.set(ref(), Fixtures.secret("value"))
        native.locked = true
        assert.strictEqual((yield* Effect.flip(store.get(ref())))._tag, "KeychainLocked")
        assert.strictEqual((yield* Effect.flip(store.set(ref(), Fixtures.secret("other"))))._tag, "KeychainLocked")
        native.locked = false
        assert.deepStrictEqual(reveal(yield* store.get(ref())), Option.some("value"))
        const description = yield* store.describe
        assert.isTrue(description.distinguishesLockedFromAbsent)
        assert.strictEqual(description.tier, "keychain")
      })
    )
  })

  it.live("cancelled authentication is KeychainDenied; other rejections are KeychainUnavailable; no native text leaks", () => {
    const native = new MemorySecureStore.MemorySecureStore()
    return withStore(
      native,
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        native.failNext(
          "getItemAsync",
          MemorySecureStore.codedError("ERR_AUTHENTICATION", "Could not Authenticate the user: User canceled")
        )
        assert.strictEqual((yield* Effect.flip(store.get(ref())))._tag, "KeychainDenied")
        native.failNext(
          "setItemAsync",
          MemorySecureStore.codedError("ERR_WRITE", "An error occurred when writing to key: 'secret-native-detail'")
        )
        const error = yield* Effect.flip(store.set(ref(), Fixtures.secret("value")))
        assert.strictEqual(error._tag, "KeychainUnavailable")
        assert.include(error.message, "ERR_WRITE")
        assert.notInclude(error.message, "secret-native-detail")
      })
    )
  })

  for (const mode of ["reject", "null"] as const) {
    it.live(`an item that cannot be decrypted (Android restore, ${mode} path) reads as absent and can be overwritten`, () => {
      const native = new MemorySecureStore.MemorySecureStore()
      return withStore(
        native,
        Effect.gen(function*() {
          const store = yield* SecretStore.SecretStore
          yield* store.set(ref(), Fixtures.secret("before-restore"))
          native.simulateRestoreWithoutKeystore(mode)
          assert.isTrue(Option.isNone(yield* store.get(ref())))
          yield* store.set(ref(), Fixtures.secret("re-entered"))
          assert.deepStrictEqual(reveal(yield* store.get(ref())), Option.some("re-entered"))
          assert.isTrue(yield* store.delete(ref()))
        })
      )
    })
  }
})
