/**
 * An operation on a config settles what another owner left on it only when the document shows
 * something to settle: the usual write reads nothing first (updateSettled), yet an intent whose
 * owner is gone is still finished before the change, and one whose owner runs still makes the
 * config busy.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Journal from "../src/Journal.ts"
import * as Liveness from "../src/Liveness.ts"
import type * as PreferencesDocument from "../src/PreferencesDocument.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"
import * as StoreInstances from "../src/testing/StoreInstances.ts"

const { keychain, storeOver } = StoreInstances

/** Counts the writes that reach the preferences store. */
const countingWrites = (preferences: PreferencesStore.PreferencesStore["Service"]) => {
  const counter = { writes: 0, loads: 0 }
  const counted: PreferencesStore.PreferencesStore["Service"] = {
    ...preferences,
    load: Effect.suspend(() => {
      counter.loads++
      return preferences.load
    }),
    update: (f) =>
      Effect.suspend(() => {
        counter.writes++
        return preferences.update(f)
      })
  }
  return { counted, counter }
}

/** Leaves a pending remove of `config` owned by `owner`, as a process stopped half-way would. */
const leaveRemoveIntent = (
  preferences: PreferencesStore.PreferencesStore["Service"],
  config: { readonly id: PreferencesDocument.Intent["configId"]; readonly provider: PreferencesDocument.Intent["provider"] },
  owner: string
) =>
  preferences.update((document) => {
    const before = document.llm.configs.find((candidate) => candidate.id === config.id)!
    const intent: PreferencesDocument.Intent = {
      id: `leftover-${owner}`,
      owner,
      startedAt: new Date().toISOString(),
      op: "remove",
      configId: config.id,
      provider: config.provider,
      before,
      keyChange: "delete",
      phase: "pending"
    }
    return Effect.succeed([undefined, Journal.withIntent(document, intent)] as const)
  })

describe("LlmConfigStore: settling only what the document shows", () => {
  it.effect("a rename with nothing to settle is one write and no read before it", () =>
    Effect.gen(function*() {
      const { counted, counter } = countingWrites(yield* PreferencesStore.makeMemory())
      const store = yield* storeOver(yield* keychain(), counted, Liveness.makeMemory())
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-work-key" }))
      const before = { ...counter }
      const renamed = yield* store.update(config.id, Fixtures.configPatch({ name: "Office" }))
      assert.strictEqual(renamed.name, "Office")
      assert.deepStrictEqual({ writes: counter.writes - before.writes, loads: counter.loads - before.loads }, { writes: 1, loads: 0 })
    }))

  it.effect("a gone owner's unfinished remove is finished before a rename, which then finds nothing to rename", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const secrets = yield* keychain()
      const store = yield* storeOver(secrets, preferences, Liveness.makeMemory())
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-work-key" }))
      yield* leaveRemoveIntent(preferences, config, "a-stopped-instance")
      const error = yield* Effect.flip(store.update(config.id, Fixtures.configPatch({ name: "Office" })))
      assert.strictEqual(error._tag, "NotFound", "the remove was finished first")
      assert.deepStrictEqual((yield* preferences.load).llm, { version: 1, configs: [], journal: [] })
      assert.isTrue((yield* secrets.get(Journal.keyRef(config)))._tag === "None", "and its key deleted")
    }))

  it.effect("a live owner's unfinished change makes the config busy: update and remove fail with Conflict, nothing written", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const secrets = yield* keychain()
      const liveness = Liveness.makeMemory()
      const store = yield* storeOver(secrets, preferences, liveness)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-work-key" }))
      yield* liveness.register("a-running-instance")
      yield* leaveRemoveIntent(preferences, config, "a-running-instance")
      const left = yield* preferences.load
      for (
        const attempt of [
          store.update(config.id, Fixtures.configPatch({ name: "Office" })),
          store.update(config.id, Fixtures.configPatch({ apiKey: "sk-new-key" })),
          store.remove(config.id)
        ]
      ) {
        assert.strictEqual((yield* Effect.flip(attempt))._tag, "Conflict")
        assert.deepStrictEqual(yield* preferences.load, left)
      }
      assert.strictEqual((yield* Effect.flip(store.getApiKey(config.id)))._tag, "NotFound", "being removed: no key is handed out")
      assert.isTrue((yield* secrets.get(Journal.keyRef(config)))._tag === "Some", "the running owner's key is untouched")
    }))
})
