/**
 * Every state truthful: where each key lives is recorded with it, a key that lived only in an
 * ended session's memory reads as not saved, a key change that could only land in memory while the
 * key lives in the keychain is refused, and a remove on a keyring that cannot tell "locked" from
 * "absent" never reports success while the key may still be there.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as Errors from "../src/Errors.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as SecretRef from "../src/SecretRef.ts"
import * as SecretStore from "../src/SecretStore.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"
import * as StoreInstances from "../src/testing/StoreInstances.ts"

const { keychain, storeOver } = StoreInstances
const sessionMemory = () => SecretStore.makeMemory()

describe("truthful key tiers", () => {
  it.effect("a key kept in session memory is recorded as such, and reads as not saved once that session has ended", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const firstSession = yield* sessionMemory()
      const first = yield* storeOver(firstSession, preferences)
      const config = yield* first.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-session-only" }))
      assert.strictEqual(config.keyStorage, "session")
      assert.strictEqual(config.keySession, firstSession.sessionId)
      assert.isTrue((yield* first.get(config.id)).hasKey, "while the session lives, the key is there")
      const living = yield* first.status
      assert.deepStrictEqual(living.keys, { keychain: 0, encryptedFile: 0, session: 1, notSaved: 0 })
      assert.isTrue(living.notes.some((note) => note.includes("kept only in memory")))

      // A new process: a new session memory over the same preferences.json.
      const second = yield* storeOver(yield* sessionMemory(), preferences)
      const listed = (yield* second.list).find((candidate) => candidate.id === config.id)!
      assert.isFalse(listed.hasKey, "not saved: its session is gone")
      const error = yield* Effect.flip(second.getApiKey(config.id))
      assert.strictEqual(error._tag, "NotFound")
      assert.include(error.message, "kept only in memory by the session that added it")
      const status = yield* second.status
      assert.deepStrictEqual(status.keys, { keychain: 0, encryptedFile: 0, session: 0, notSaved: 1 })
      // Entering the key again works and is recorded for the new session.
      const fixed = yield* second.update(config.id, Fixtures.configPatch({ apiKey: "sk-entered-again" }))
      assert.isTrue(fixed.hasKey)
      assert.strictEqual(Redacted.value(yield* second.getApiKey(config.id)), "sk-entered-again")
    }))

  it.effect("with the keychain out of reach, a key change or remove of a keychain key fails and changes nothing", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const theKeychain = yield* keychain()
      const withKeychain = yield* storeOver(theKeychain, preferences)
      const config = yield* withKeychain.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-in-keychain" }))
      assert.strictEqual(config.keyStorage, "keychain")
      const before = yield* preferences.load

      // The same machine later, on the session tier because the keychain could not be reached.
      const degraded = yield* storeOver(yield* sessionMemory(), preferences)
      const moved = yield* Effect.flip(
        degraded.update(config.id, Fixtures.configPatch({ baseUrl: "https://elsewhere.example.com/v1", apiKey: "sk-session-key" }))
      )
      assert.strictEqual(moved._tag, "KeychainUnavailable")
      assert.include(moved.message, "Nothing was changed")
      const removed = yield* Effect.flip(degraded.remove(config.id))
      assert.strictEqual(removed._tag, "KeychainUnavailable")
      assert.deepStrictEqual((yield* preferences.load).llm, before.llm, "the document is as it was")
      // A change that does not touch the key is fine.
      const renamed = yield* degraded.update(config.id, Fixtures.configPatch({ name: "Work (renamed)" }))
      assert.strictEqual(renamed.keyStorage, "keychain")
      // Once the keychain is back, the old key is there and points at the old URL.
      assert.strictEqual(Redacted.value(yield* withKeychain.getApiKey(config.id)), "sk-in-keychain")
      assert.isUndefined((yield* withKeychain.get(config.id)).baseUrl)
    }))

  it.effect("remove on a keyring that reports locked as empty: refused while locked, done once it is unlocked", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const inner = yield* keychain()
      let locked = false
      const lockedError = new Errors.KeychainLocked({ message: "the keychain is locked", hint: "Unlock it.", reason: "locked" })
      const ambiguous: SecretStore.SecretStoreService = {
        ...inner,
        // keytar on Linux without a readable lock state: a locked collection looks empty
        get: (ref) => locked ? Effect.succeed(Option.none()) : inner.get(ref),
        delete: (ref) => locked ? Effect.succeed(false) : inner.delete(ref),
        set: (ref, value) => locked ? Effect.fail(lockedError) : inner.set(ref, value),
        describe: Effect.map(inner.describe, (description) => ({ ...description, distinguishesLockedFromAbsent: false })),
        authorize: Effect.suspend(() => locked ? Effect.fail(lockedError) : Effect.void)
      }
      const store = yield* storeOver(ambiguous, preferences)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-maybe-locked" }))
      locked = true
      const refused = yield* Effect.flip(store.remove(config.id))
      assert.strictEqual(refused._tag, "KeychainLocked")
      assert.isDefined((yield* store.list).find((candidate) => candidate.id === config.id), "still listed")
      assert.deepStrictEqual((yield* preferences.load).llm.journal, [], "nothing left half-done")
      locked = false
      yield* store.remove(config.id)
      assert.deepStrictEqual(yield* store.list, [])
      assert.isTrue(Option.isNone(yield* inner.get(SecretRef.secretRefFor(config.provider, config.id))), "the key is gone too")
    }))

  it.effect("an update with a new key writes it once, straight into its entry: no staged copy, no delete", () =>
    Effect.gen(function*() {
      const preferences = yield* PreferencesStore.makeMemory()
      const inner = yield* keychain()
      const writes: Array<string> = []
      const counted: SecretStore.SecretStoreService = {
        ...inner,
        set: (ref, value) => Effect.andThen(Effect.sync(() => writes.push(`set ${ref.account}`)), inner.set(ref, value)),
        delete: (ref) => Effect.andThen(Effect.sync(() => writes.push(`delete ${ref.account}`)), inner.delete(ref))
      }
      const store = yield* storeOver(counted, preferences)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: "sk-old" }))
      writes.length = 0
      const updated = yield* store.update(config.id, Fixtures.configPatch({ name: "Work 2", apiKey: "sk-new" }))
      assert.deepStrictEqual(writes, ["set apiKey"])
      assert.strictEqual(updated.name, "Work 2")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-new")
      assert.deepStrictEqual((yield* preferences.load).llm.journal, [], "the commit dropped the intent")
      assert.isTrue(Option.isNone(yield* inner.get(SecretRef.secretRefFor(config.provider, config.id, "apiKey.staged"))))
    }))
})
