/**
 * A damaged preferences.json with a good backup, as the app and the CLI run it (restoredAsNotice,
 * which DesktopLayer turns on): the operation that finds it SUCCEEDS on the restored file, and the
 * restore is reported once — in LlmConfigStore.status().notices and as one `Notice` change event —
 * until dismissed. Without a usable backup the operation still fails (data is lost).
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Liveness, LlmConfigStore, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { Effect, Fiber, FileSystem, Layer, Stream } from "effect"
import * as fsSync from "node:fs"
import * as NodePath from "node:path"
import * as JsonFilePreferencesStore from "../src/JsonFilePreferencesStore.ts"

const withStore = <A, E>(
  body: (
    dataDir: string,
    layer: Layer.Layer<LlmConfigStore.LlmConfigStore | PreferencesStore.PreferencesStore>
  ) => Effect.Effect<A, E, never>
) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "fishbowl-notice-" })
    const dataDir = NodePath.join(root, "Fishbowl")
    const preferences = JsonFilePreferencesStore.layer({ dataDir, restoredAsNotice: true })
    const layer = LlmConfigStore.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(SecretStore.layerMemory, preferences, Liveness.layerMemory))
    )
    return yield* body(dataDir, layer)
  })).pipe(Effect.provide(NodeFileSystem.layer))

/** Waits until `done` holds (events arrive on their own fiber); the test's limit catches a hang. */
const until = (done: () => boolean) =>
  Effect.gen(function*() {
    while (!done()) yield* Effect.sleep("10 millis")
  })

describe("restore from a backup is a notice, not a failure", () => {
  it.live("list succeeds on the restored file; one notice in status and one Notice event; dismiss removes it", () =>
    withStore((dataDir, layer) =>
      Effect.gen(function*() {
        const store = yield* LlmConfigStore.LlmConfigStore
        yield* store.create({ provider: "ollama", name: "First" } as never)
        yield* store.create({ provider: "ollama", name: "Second" } as never) // .bak.1 holds [First]
        const file = NodePath.join(dataDir, "preferences.json")
        fsSync.writeFileSync(file, "{\"llm\": {\"version\": 1, \"conf") // truncated
        const events: Array<LlmConfigStore.LlmConfigChange> = []
        // Started at once: subscribed before the next step publishes anything (no pause needed).
        const collector = yield* store.changes.pipe(
          Stream.runForEach((change) => Effect.sync(() => events.push(change))),
          Effect.forkChild({ startImmediately: true })
        )

        const configs = yield* store.list
        assert.deepStrictEqual(configs.map((config) => config.name), ["First"])
        const status = yield* store.status
        assert.strictEqual(status.notices.length, 1)
        const notice = status.notices[0]!
        assert.strictEqual(notice.kind, "restored-from-backup")
        assert.strictEqual(notice.restoredFrom, `${file}.bak.1`)
        assert.match(notice.quarantinedAs, /preferences\.json\.corrupt-/)
        assert.isTrue(fsSync.existsSync(notice.quarantinedAs), "the damaged file is kept where the notice says")
        assert.include(notice.message, "preferences.json.bak.1")
        assert.include(notice.hint, notice.quarantinedAs)

        // Later operations neither fail nor repeat the notice.
        yield* store.list
        const third = yield* store.create({ provider: "ollama", name: "Third" } as never)
        assert.strictEqual((yield* store.status).notices.length, 1)
        // Events arrive in order: once Third's is in, every earlier one is too.
        yield* until(() => events.some((event) => event._tag === "Created" && event.config.id === third.id))
        assert.deepStrictEqual(
          events.filter((event) => event._tag === "Notice").map((event) => event._tag === "Notice" && event.notice.id),
          [notice.id]
        )

        yield* store.dismissNotice(notice.id)
        assert.deepStrictEqual((yield* store.status).notices, [])
        yield* until(() => events.some((event) => event._tag === "NoticeDismissed" && event.id === notice.id))
        yield* Fiber.interrupt(collector)
      }).pipe(Effect.provide(layer))
    ))

  it.live("without a usable backup the operation still fails with Corrupted and no notice is made", () =>
    withStore((dataDir, layer) =>
      Effect.gen(function*() {
        const store = yield* LlmConfigStore.LlmConfigStore
        fsSync.mkdirSync(dataDir, { recursive: true })
        fsSync.writeFileSync(NodePath.join(dataDir, "preferences.json"), "not json")
        const error = yield* Effect.flip(store.list)
        assert.strictEqual(error._tag, "Corrupted")
        assert.deepStrictEqual((yield* store.status).notices, [])
      }).pipe(Effect.provide(layer))
    ))
})
