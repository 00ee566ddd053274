/** App-storage constraints: one value per document, single setItem, no silent reset. */
import { assert, describe, it } from "@effect/vitest"
import { PreferencesStore } from "@fishbowl/domain"
import { Effect, Layer } from "effect"
import * as AppStorageModule from "../src/AppStorageModule.ts"
import * as AppStoragePreferencesStore from "../src/AppStoragePreferencesStore.ts"
import * as MemoryAppStorage from "../src/testing/MemoryAppStorage.ts"

const withStore = <A, E>(storage: MemoryAppStorage.MemoryAppStorage, body: Effect.Effect<A, E, PreferencesStore.PreferencesStore>) =>
  body.pipe(Effect.provide(AppStoragePreferencesStore.layer().pipe(Layer.provide(Layer.succeed(AppStorageModule.AppStorage, storage)))))

const setOther = (other: Record<string, unknown>) =>
  Effect.flatMap(
    PreferencesStore.PreferencesStore,
    (store) => store.update((document) => Effect.succeed([undefined, { ...document, other }] as const))
  )

describe("AppStoragePreferencesStore", () => {
  it.live("the whole document is one value, written by exactly one setItem per update", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    return withStore(
      storage,
      Effect.gen(function*() {
        yield* setOther({ theme: "dark" })
        yield* setOther({ theme: "light" })
        const writes = storage.calls.filter((call) => call.operation !== "getItem")
        assert.deepStrictEqual(writes, [
          { operation: "setItem", key: "fishbowl.preferences" },
          { operation: "setItem", key: "fishbowl.preferences" }
        ])
        assert.deepStrictEqual(JSON.parse(storage.raw("fishbowl.preferences")!), {
          theme: "light",
          llm: { version: 1, configs: [], journal: [] }
        })
        assert.strictEqual((yield* PreferencesStore.PreferencesStore).location, "app-storage:fishbowl.preferences")
      })
    )
  })

  it.live("a failed setItem is StorageInaccessible and leaves the previous document", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    return withStore(
      storage,
      Effect.gen(function*() {
        yield* setOther({ theme: "dark" })
        storage.failNext("setItem", new Error("database or disk is full"))
        assert.strictEqual((yield* Effect.flip(setOther({ theme: "light" })))._tag, "StorageInaccessible")
        assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).other, { theme: "dark" })
      })
    )
  })

  it.live("a document too large for the storage is a typed error, not a partial write", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage({ maxValueLength: 200 })
    return withStore(
      storage,
      Effect.gen(function*() {
        yield* setOther({ theme: "dark" })
        assert.strictEqual((yield* Effect.flip(setOther({ blob: "x".repeat(500) })))._tag, "StorageInaccessible")
        assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).other, { theme: "dark" })
      })
    )
  })

  it.live("a failed getItem is StorageInaccessible, never an empty document", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    return withStore(
      storage,
      Effect.gen(function*() {
        yield* setOther({ theme: "dark" })
        storage.failNext("getItem", new Error("SQLITE_IOERR"))
        assert.strictEqual((yield* Effect.flip((yield* PreferencesStore.PreferencesStore).load))._tag, "StorageInaccessible")
      })
    )
  })

  for (
    const [label, text] of [
      ["invalid JSON", "{\"llm\": "],
      ["not an object", "[1, 2]"],
      ["null", "null"],
      ["a malformed llm section", JSON.stringify({ llm: { version: 1, configs: "nope", journal: [] } })],
      // Past JsonLimits' depth bound: refused before JSON.parse, as the desktop store refuses it.
      ["nested past the depth bound", `{"other":${"[".repeat(5000)}${"]".repeat(5000)}}`]
    ] as const
  ) {
    it.live(`${label} is Corrupted, nothing is overwritten, and update writes nothing`, () => {
      const storage = new MemoryAppStorage.MemoryAppStorage()
      storage.plant("fishbowl.preferences", text)
      return withStore(
        storage,
        Effect.gen(function*() {
          const store = yield* PreferencesStore.PreferencesStore
          assert.strictEqual((yield* Effect.flip(store.load))._tag, "Corrupted")
          assert.strictEqual((yield* Effect.flip(setOther({ theme: "dark" })))._tag, "Corrupted")
          assert.strictEqual(storage.raw("fishbowl.preferences"), text)
        })
      )
    })
  }

  it.live("a document from a newer app is Unsupported and left untouched", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    const text = JSON.stringify({ llm: { version: 2, configs: [], journal: [] } })
    storage.plant("fishbowl.preferences", text)
    return withStore(
      storage,
      Effect.gen(function*() {
        const error = yield* Effect.flip((yield* PreferencesStore.PreferencesStore).load)
        assert.strictEqual(error._tag, "Unsupported")
        assert.include(error.hint, "Update the app")
        assert.strictEqual(storage.raw("fishbowl.preferences"), text)
      })
    )
  })

  it.live("two layers over the same storage share one lock: 30 concurrent updates through both lose nothing", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    const build = AppStoragePreferencesStore.make().pipe(Effect.provideService(AppStorageModule.AppStorage, storage))
    return Effect.gen(function*() {
      const [a, b] = [yield* build, yield* build]
      yield* Effect.forEach(
        Array.from({ length: 30 }, (_, index) => index),
        (index) =>
          (index % 2 === 0 ? a : b).update((document) =>
            Effect.succeed([undefined, { ...document, other: { count: Number(document.other["count"] ?? 0) + 1 } }] as const)
          ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual((yield* a.load).other["count"], 30)
    })
  })

  it.live("the storage key is configurable", () => {
    const storage = new MemoryAppStorage.MemoryAppStorage()
    return Effect.gen(function*() {
      const store = yield* AppStoragePreferencesStore.make({ storageKey: "tenant-a.prefs" })
      yield* store.update((document) => Effect.succeed([undefined, { ...document, other: { a: 1 } }] as const))
      assert.isDefined(storage.raw("tenant-a.prefs"))
      assert.isUndefined(storage.raw("fishbowl.preferences"))
    }).pipe(Effect.provideService(AppStorageModule.AppStorage, storage))
  })
})
