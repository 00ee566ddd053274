import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import * as LlmConfig from "../src/LlmConfig.ts"
import * as Providers from "../src/Providers.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"
import * as UntrustedInput from "../src/UntrustedInput.ts"

const decodeCreate = UntrustedInput.decodeInput(LlmConfig.LlmConfigInput, "configuration")

describe("provider definitions", () => {
  it("bundle the required providers, decoded at load", () => {
    assert.includeMembers(Providers.providers.map((p) => p.id), [
      "openai",
      "anthropic",
      "google",
      "openrouter",
      "ollama",
      "openai-compatible"
    ])
    const ollama = Providers.findProvider("ollama")!
    assert.isFalse(ollama.requiresApiKey)
    assert.strictEqual(ollama.defaultBaseUrl, "http://localhost:11434")
    assert.isFalse(ollama.fields.some((field) => field.kind === "secure-text"))
    for (const id of ["openai", "anthropic", "google", "openrouter"]) {
      const provider = Providers.findProvider(id)!
      assert.isTrue(provider.requiresApiKey)
      assert.isTrue(provider.fields.some((field) => field.id === "apiKey" && field.kind === "secure-text"))
    }
  })
})

describe("LlmConfigInput", () => {
  it.effect("wraps the key in Redacted and trims the name", () =>
    Effect.gen(function*() {
      const key = Fixtures.makeCanaryKey()
      const input = yield* decodeCreate({ provider: "openai", name: "  Work ", apiKey: key })
      assert.strictEqual(input.name, "Work")
      assert.isTrue(Redacted.isRedacted(input.apiKey))
      assert.strictEqual(Redacted.value(input.apiKey!), key)
      assert.notInclude(String(input.apiKey), key)
      assert.notInclude(JSON.stringify(input), key)
    }))

  const rejectedKeys: ReadonlyArray<[string, (canary: string) => string]> = [
    ["empty", () => ""],
    ["whitespace only", () => "   "],
    ["NUL", (canary) => `${canary}\u0000rest`],
    ["newline", (canary) => `${canary}\n`],
    ["escape", (canary) => `\u001b${canary}`],
    ["DEL", (canary) => `${canary}\u007f`],
    ["over 16 KiB", (canary) => canary + "x".repeat(16 * 1024)],
    ["16 KiB of multibyte", (canary) => canary + "é".repeat(8 * 1024)]
  ]
  for (const [label, make] of rejectedKeys) {
    it.effect(`rejects a key that is ${label} with InvalidInput on apiKey, never echoing it`, () =>
      Effect.gen(function*() {
        const canary = Fixtures.makeCanaryKey(label.replace(/\W/g, ""))
        const error = yield* Effect.flip(decodeCreate({ provider: "openai", name: "Work", apiKey: make(canary) }))
        assert.strictEqual(error._tag, "InvalidInput")
        assert.strictEqual(error.field, "apiKey")
        assert.include(error.message, "API key")
        assert.notInclude(error.message + error.hint + JSON.stringify(error), canary)
      }))
  }

  it.effect("accepts a key of exactly 16 KiB", () =>
    Effect.gen(function*() {
      const input = yield* decodeCreate({ provider: "openai", name: "Big", apiKey: "k".repeat(16 * 1024) })
      assert.strictEqual(Redacted.value(input.apiKey!).length, 16 * 1024)
    }))

  const urls: ReadonlyArray<[string, boolean]> = [
    ["https://api.openai.com/v1", true],
    ["http://localhost:11434", true],
    ["http://127.0.0.1:8080/v1", true],
    ["http://[::1]:8080", true],
    ["http://example.com", false],
    ["http://localhost.evil.com", false],
    ["ftp://example.com", false],
    ["https://user:pass@example.com", false],
    ["not a url", false],
    [`https://example.com/${"a".repeat(2100)}`, false]
  ]
  for (const [url, ok] of urls) {
    it.effect(`${ok ? "accepts" : "rejects"} base URL ${url.slice(0, 40)}`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(decodeCreate({ provider: "openai-compatible", name: "U", baseUrl: url }))
        assert.strictEqual(exit._tag === "Success", ok)
        if (exit._tag === "Failure") {
          const error = yield* Effect.flip(decodeCreate({ provider: "openai-compatible", name: "U", baseUrl: url }))
          assert.strictEqual(error.field, "baseUrl")
        }
      }))
  }

  it.effect("rejects bad names, unknown fields and wrong types", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[unknown, string]> = [
        [{ provider: "openai", name: "   " }, "name"],
        [{ provider: "openai", name: "x".repeat(101) }, "name"],
        [{ provider: "openai", name: "bad\u0007bell" }, "name"],
        [{ provider: "Open AI", name: "ok" }, "provider"],
        [{ provider: "openai", name: "ok", extra: true }, "extra"],
        [{ provider: "openai", name: 42 }, "name"],
        ["not an object", "configuration"]
      ]
      for (const [input, field] of cases) {
        const error = yield* Effect.flip(decodeCreate(input))
        assert.strictEqual(error.field, field, JSON.stringify(input))
      }
    }))

  it("patch accepts null to clear the base URL", () => {
    const patch = Schema.decodeUnknownSync(LlmConfig.LlmConfigPatch)({ baseUrl: null })
    assert.isNull(patch.baseUrl)
  })
})
