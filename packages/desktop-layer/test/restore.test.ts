/**
 * A damaged preferences.json at every step of every operation: a hand edit or a sync conflict
 * leaves two entries with one id while the operation runs. The store sets the file aside and
 * restores its last good backup; the operation answers honestly; recovery runs; what the restore
 * left out is brought back. Every key of a config the user was told was saved must still be there.
 * (Backups once captured the intent of a create, and recovering it deleted the key of a config the
 * user had saved.)
 */
import { assert, describe, it } from "@effect/vitest"
import { CrashPoints, Ids, Liveness, LlmConfigStore, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { CrashSwitch, Fixtures } from "@fishbowl/domain/testing"
import { Cause, Effect, Exit, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as NodePath from "node:path"
import * as JsonFilePreferencesStore from "../src/JsonFilePreferencesStore.ts"
import * as LeftOut from "../src/LeftOut.ts"
import * as TempDirs from "../src/testing/TempDirs.ts"

type Op = "create" | "update" | "rename" | "remove"

const cases: ReadonlyArray<{ readonly op: Op; readonly point: CrashPoints.CrashPoint }> = [
  ...CrashPoints.crashPoints.create.map((point) => ({ op: "create" as const, point })),
  ...CrashPoints.crashPoints.update.map((point) => ({ op: "update" as const, point })),
  ...(["update.intent-recorded", "update.committed"] as const).map((point) => ({ op: "rename" as const, point })),
  ...CrashPoints.crashPoints.remove.map((point) => ({ op: "remove" as const, point }))
]

/** A sync conflict: every config of the file duplicated under its own id (a file the store must refuse). */
const damage = (file: string) =>
  Effect.sync(() => {
    const json = JSON.parse(fs.readFileSync(file, "utf8"))
    json.llm.configs = [
      ...json.llm.configs,
      ...json.llm.configs.map((config: { name: string }) => ({ ...config, name: `${config.name} (conflict)` }))
    ]
    fs.writeFileSync(file, JSON.stringify(json, null, 2))
  })

describe("a damaged preferences.json at every step of every operation", () => {
  for (const { op, point } of cases) {
    it.live(`${op}, damaged at ${point}: restored and recovered, every saved key is still there`, () => {
      const dataDir = NodePath.join(TempDirs.testTempDir("restore"), "Fishbowl")
      const keychain = Effect.runSync(SecretStore.makeMemory({ description: { tier: "keychain", persistent: true } }))
      const ports = Layer.mergeAll(
        Layer.succeed(SecretStore.SecretStore, keychain),
        JsonFilePreferencesStore.layer({ dataDir, restoredAsNotice: true }),
        Liveness.layerMemory,
        CrashSwitch.layer
      )
      return Effect.gen(function*() {
        const crashSwitch = yield* CrashSwitch.CrashSwitch
        const store = yield* LlmConfigStore.make()
        /**
         * Id → last key of every config the user was told was saved (and not removed since). A
         * restore may bring back an older name (changes after the backup are missing, and it says
         * so), never lose a key.
         */
        const saved = new Map<string, string>()
        const create = (name: string, key: string) =>
          store.create(Fixtures.configInput({ provider: "openai", name, apiKey: key })).pipe(
            Effect.tap((config) => Effect.sync(() => saved.set(config.id, key)))
          )
        yield* create("Saved", "sk-saved")
        const target = yield* create("Target", "sk-target")
        yield* crashSwitch.interleave(point, damage(NodePath.join(dataDir, "preferences.json")))
        const exit = yield* Effect.exit(
          op === "create"
            ? create("Added", "sk-added")
            : op === "update"
            ? store.update(target.id, Fixtures.configPatch({ name: "Target 2", apiKey: "sk-target-2" }))
            : op === "rename"
            ? store.update(target.id, Fixtures.configPatch({ name: "Target 2" }))
            : store.remove(target.id)
        )
        yield* crashSwitch.disarm
        if (Exit.isFailure(exit)) {
          const error = Cause.squash(exit.cause) as { _tag?: string; message?: string }
          assert.strictEqual(error._tag, "Conflict", `an honest refusal, not ${String(error.message ?? error)}`)
        } else if (op === "update") saved.set(target.id, "sk-target-2")
        else if (op === "remove") saved.delete(target.id)

        // Another process starts: recovers, then brings back what the restore left out.
        const other = yield* LlmConfigStore.make()
        const report = yield* other.recover()
        assert.deepStrictEqual(report.failed, [])
        yield* LeftOut.bringBack(dataDir).pipe(Effect.provideService(LlmConfigStore.LlmConfigStore, other))
        assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [])
        const configs = yield* other.list
        for (const [id, key] of saved) {
          assert.isDefined(
            configs.find((candidate) => candidate.id === id),
            `${id} was saved and is there (${configs.map((c) => c.name).join(", ")})`
          )
          assert.strictEqual(Redacted.value(yield* other.getApiKey(Ids.ConfigId.make(id))), key, `the last key entered for ${id}`)
        }
      }).pipe(Effect.provide(ports))
    })
  }
})
