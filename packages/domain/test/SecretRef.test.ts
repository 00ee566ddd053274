import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import * as Ids from "../src/Ids.ts"
import * as Providers from "../src/Providers.ts"
import * as SecretRef from "../src/SecretRef.ts"

const providerIdArbitrary = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/).map((id) => Ids.ProviderId.make(id))
const configIdArbitrary = fc.uuid({ version: 4 }).map((id) => Ids.ConfigId.make(id.toLowerCase()))
const fieldArbitrary = fc.constantFrom<SecretRef.SecretField>("apiKey", "apiKey.staged")

describe("secretRefFor", () => {
  it("names the API key entry fishbowl.<provider>.<config> / apiKey", () => {
    const id = Ids.ConfigId.make("0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    assert.deepStrictEqual(SecretRef.secretRefFor(Ids.ProviderId.make("openai"), id), {
      service: "fishbowl.openai.0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
      account: "apiKey"
    })
  })

  it("is stable and only uses [a-z0-9.-] in the service", () => {
    fc.assert(
      fc.property(providerIdArbitrary, configIdArbitrary, fieldArbitrary, (provider, id, field) => {
        const ref = SecretRef.secretRefFor(provider, id, field)
        assert.deepStrictEqual(SecretRef.secretRefFor(provider, id, field), ref)
        assert.match(ref.service, /^[a-z0-9.-]+$/)
      }),
      { numRuns: 1000 }
    )
  })

  it("is injective: different inputs never share an entry", () => {
    fc.assert(
      fc.property(
        fc.tuple(providerIdArbitrary, configIdArbitrary, fieldArbitrary),
        fc.tuple(providerIdArbitrary, configIdArbitrary, fieldArbitrary),
        (a, b) => {
          const refA = SecretRef.secretRefFor(...a)
          const refB = SecretRef.secretRefFor(...b)
          const sameInput = a[0] === b[0] && a[1] === b[1] && a[2] === b[2]
          const sameRef = refA.service === refB.service && refA.account === refB.account
          assert.strictEqual(sameRef, sameInput)
        }
      ),
      { numRuns: 2000 }
    )
    // Adversarial pairs: the '.' separator cannot be forged because provider ids hold no '.'.
    assert.isFalse(Schema.is(Ids.ProviderId)("openai.x"))
  })

  it("bundled provider ids and fresh config ids are valid inputs", () => {
    const ids = new Set<string>()
    for (let index = 0; index < 1000; index++) {
      const id = Ids.newConfigId()
      assert.isTrue(Schema.is(Ids.ConfigId)(id))
      ids.add(id)
    }
    assert.strictEqual(ids.size, 1000)
    for (const provider of Providers.providers) {
      assert.match(SecretRef.secretRefFor(provider.id, Ids.newConfigId()).service, /^fishbowl\.[a-z0-9-]+\.[0-9a-f-]{36}$/)
    }
  })
})
