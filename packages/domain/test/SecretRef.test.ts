import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Schema } from "effect"
import { ConfigId, newConfigId, ProviderId, providers, secretRefFor, SecretField } from "../src/index.ts"

const providerIdArbitrary = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/).map((id) => ProviderId.make(id))
const configIdArbitrary = fc.uuid({ version: 4 }).map((id) => ConfigId.make(id.toLowerCase()))
const fieldArbitrary = fc.constantFrom<SecretField>("apiKey", "apiKey.staged")

describe("secretRefFor", () => {
  it("names the API key entry fishbowl.<provider>.<config> / apiKey", () => {
    const id = ConfigId.make("0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    assert.deepStrictEqual(secretRefFor(ProviderId.make("openai"), id), {
      service: "fishbowl.openai.0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
      account: "apiKey"
    })
  })

  it("is stable and only uses [a-z0-9.-] in the service", () => {
    fc.assert(
      fc.property(providerIdArbitrary, configIdArbitrary, fieldArbitrary, (provider, id, field) => {
        const ref = secretRefFor(provider, id, field)
        assert.deepStrictEqual(secretRefFor(provider, id, field), ref)
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
          const refA = secretRefFor(...a)
          const refB = secretRefFor(...b)
          const sameInput = a[0] === b[0] && a[1] === b[1] && a[2] === b[2]
          const sameRef = refA.service === refB.service && refA.account === refB.account
          assert.strictEqual(sameRef, sameInput)
        }
      ),
      { numRuns: 2000 }
    )
    // Adversarial pairs: the '.' separator cannot be forged because provider ids hold no '.'.
    assert.isFalse(Schema.is(ProviderId)("openai.x"))
  })

  it("bundled provider ids and fresh config ids are valid inputs", () => {
    const ids = new Set<string>()
    for (let index = 0; index < 1000; index++) {
      const id = newConfigId()
      assert.isTrue(Schema.is(ConfigId)(id))
      ids.add(id)
    }
    assert.strictEqual(ids.size, 1000)
    for (const provider of providers) {
      assert.match(secretRefFor(provider.id, newConfigId()).service, /^fishbowl\.[a-z0-9-]+\.[0-9a-f-]{36}$/)
    }
  })
})
