/** Secure-store keys: valid for expo-secure-store and injective, for every provider and id. */
import { assert, describe, it } from "@effect/vitest"
import { Ids, Providers, SecretRef } from "@fishbowl/domain"
import { Effect, Option } from "effect"
import * as fc from "fast-check"
import * as SecretKeyIndex from "../src/SecretKeyIndex.ts"
import * as SecureStoreKey from "../src/SecureStoreKey.ts"

/** The same pattern as expo-secure-store's JS wrapper (`isValidKey`). */
const EXPO_IS_VALID_KEY = /^[\w.-]+$/

const providerIds = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/).map((id) => Ids.ProviderId.make(id))
const configIds = fc.uuid({ version: 4 }).map((id) => Ids.ConfigId.make(id))
const fields = fc.constantFrom(...SecretRef.SecretField.literals)
const refs = fc.tuple(providerIds, configIds, fields).map(([provider, id, field]) => SecretRef.secretRefFor(provider, id, field))

describe("secure-store keys", () => {
  it("have the documented layout", () => {
    const id = Ids.ConfigId.make("0b5c6f0e-8a55-4c1e-9c1f-2d3e4f5a6b7c")
    assert.strictEqual(
      SecureStoreKey.secureStoreKeyFor(SecretRef.secretRefFor(Ids.ProviderId.make("openai"), id)),
      `fishbowl.openai.${id}.apiKey`
    )
    assert.strictEqual(
      SecureStoreKey.secureStoreKeyFor(SecretRef.secretRefFor(Ids.ProviderId.make("openai"), id, "apiKey.staged")),
      `fishbowl.openai.${id}.apiKey.staged`
    )
  })

  it("are valid for every bundled provider and both fields, and distinct", () => {
    const id = Ids.ConfigId.make("0b5c6f0e-8a55-4c1e-9c1f-2d3e4f5a6b7c")
    const keys = Providers.providers.flatMap((provider) =>
      SecretRef.SecretField.literals.map((field) => SecureStoreKey.secureStoreKeyFor(SecretRef.secretRefFor(provider.id, id, field)))
    )
    for (const key of keys) assert.match(key, EXPO_IS_VALID_KEY)
    assert.strictEqual(new Set(keys).size, Providers.providers.length * 2)
  })

  it("property: every ref maps to a valid key that maps back to the same ref (so the mapping is injective)", () => {
    fc.assert(
      fc.property(refs, (ref) => {
        const key = SecureStoreKey.secureStoreKeyFor(ref)
        assert.match(key, SecureStoreKey.SECURE_STORE_KEY_PATTERN)
        assert.match(key, EXPO_IS_VALID_KEY)
        assert.isAtMost(key.length, 100)
        assert.isFalse(key.startsWith(SecureStoreKey.RESERVED_KEY_PREFIX))
        assert.deepStrictEqual(SecureStoreKey.secretRefFromSecureStoreKey(key), Option.some(ref))
      }),
      { numRuns: 2000 }
    )
  })

  it("property: distinct refs never share a key (also across providers whose ids are prefixes of each other)", () => {
    fc.assert(
      fc.property(refs, refs, (a, b) => {
        const same = a.service === b.service && a.account === b.account
        assert.strictEqual(SecureStoreKey.secureStoreKeyFor(a) === SecureStoreKey.secureStoreKeyFor(b), same)
      }),
      { numRuns: 2000 }
    )
    const id = Ids.ConfigId.make("0b5c6f0e-8a55-4c1e-9c1f-2d3e4f5a6b7c")
    const a = SecureStoreKey.secureStoreKeyFor(SecretRef.secretRefFor(Ids.ProviderId.make("openai"), id))
    const b = SecureStoreKey.secureStoreKeyFor(SecretRef.secretRefFor(Ids.ProviderId.make("openai-compatible"), id))
    assert.notStrictEqual(a, b)
  })

  it("index page keys cannot collide with secret keys", () => {
    for (const page of [0, 1, 255]) {
      assert.match(SecretKeyIndex.indexPageKey(page), EXPO_IS_VALID_KEY)
      assert.isTrue(Option.isNone(SecureStoreKey.secretRefFromSecureStoreKey(SecretKeyIndex.indexPageKey(page))))
    }
  })

  it.effect("a hand-built ref outside the schema is InvalidInput, never an untyped native throw", () =>
    Effect.gen(function*() {
      const bad = { service: "fishbowl.open ai/x", account: "apiKey" } as SecretRef.SecretRef
      const error = yield* Effect.flip(SecureStoreKey.checkedSecureStoreKey(bad))
      assert.strictEqual(error._tag, "InvalidInput")
    }))
})
