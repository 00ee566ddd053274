/**
 * getApiKey reads the keychain entry at the same time as the settings when the configs it last
 * loaded say where the entry is. That early read is only a guess: the settings just loaded
 * decide, so a config whose provider changed meanwhile (a restore can do that) or that has no key
 * any more is answered as if the guess had never been made.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Errors from "../src/Errors.ts"
import * as Ids from "../src/Ids.ts"
import * as Journal from "../src/Journal.ts"
import type * as LlmConfig from "../src/LlmConfig.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as SecretStore from "../src/SecretStore.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"
import * as StoreInstances from "../src/testing/StoreInstances.ts"

/** A keychain whose reads can be made to fail (locked), counting them. */
const lockableKeychain = Effect.gen(function*() {
  const memory = yield* StoreInstances.keychain()
  const state = { locked: false, reads: 0 }
  const secrets: SecretStore.SecretStoreService = {
    ...memory,
    get: (ref) =>
      Effect.suspend(() => {
        state.reads++
        return state.locked
          ? Effect.fail(new Errors.KeychainLocked({ message: "locked", hint: "unlock it", reason: "locked" }))
          : memory.get(ref)
      })
  }
  return { secrets, memory, state }
})

const { storeOver } = StoreInstances

/** Rewrites the stored config `id` (as a restore or a hand edit would). */
const rewriteConfig = (
  preferences: PreferencesStore.PreferencesStore["Service"],
  id: Ids.ConfigId,
  change: (config: LlmConfig.LlmConfig) => LlmConfig.LlmConfig
) =>
  preferences.update((document) =>
    Effect.succeed(
      [
        undefined,
        Journal.replaceSection(document, {
          configs: document.llm.configs.map((config) => config.id === id ? change(config) : config)
        })
      ] as const
    )
  )

describe("LlmConfigStore.getApiKey: the early keychain read is a guess the settings decide", () => {
  it.effect("a config whose provider changed since the last lookup gets the key of its entry now", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const { secrets, memory, state } = yield* lockableKeychain
      const store = yield* storeOver(secrets, preferences)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-openai-entry" }))
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-openai-entry")
      const readsBefore = state.reads
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-openai-entry")
      assert.strictEqual(state.reads - readsBefore, 1, "a repeated lookup reads the entry once")

      // the same id now names an Anthropic config, whose own entry holds another key
      const anthropic = Ids.ProviderId.make("anthropic")
      yield* rewriteConfig(preferences, config.id, (stored) => ({ ...stored, provider: anthropic, baseUrl: undefined }))
      const moved = { provider: anthropic, id: config.id }
      yield* memory.set(Journal.keyRef(moved), Journal.sealedKey(Redacted.make("sk-anthropic-entry"), { provider: anthropic }))
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-anthropic-entry")
    }))

  it.effect("a config that has no key any more is NotFound (no-key), even when the early read failed", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const { secrets, state } = yield* lockableKeychain
      const store = yield* storeOver(secrets, preferences)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-openai-entry" }))
      yield* store.getApiKey(config.id)
      yield* rewriteConfig(preferences, config.id, (stored) => ({ ...stored, hasKey: false }))
      state.locked = true
      const error = yield* Effect.flip(store.getApiKey(config.id))
      assert.strictEqual(error._tag, "NotFound")
      assert.strictEqual(error._tag === "NotFound" ? error.reason : undefined, "no-key")
      // with the key back in the settings, the failure of the read is the answer
      yield* rewriteConfig(preferences, config.id, (stored) => ({ ...stored, hasKey: true }))
      assert.strictEqual((yield* Effect.flip(store.getApiKey(config.id)))._tag, "KeychainLocked")
    }))
})
