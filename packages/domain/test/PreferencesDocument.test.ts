import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import * as Canonical from "../src/Canonical.ts"
import * as Ids from "../src/Ids.ts"
import * as LlmConfig from "../src/LlmConfig.ts"
import * as PreferencesDocument from "../src/PreferencesDocument.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"

describe("llmSectionProblem: the llm section checked as a whole", () => {
  const section = (configs: ReadonlyArray<ReturnType<typeof Fixtures.sampleConfig>>) => ({
    ...PreferencesDocument.emptyLlmSection,
    configs
  })

  it("distinct ids and names are fine (an empty section too)", () => {
    assert.isUndefined(PreferencesDocument.llmSectionProblem(PreferencesDocument.emptyLlmSection))
    assert.isUndefined(
      PreferencesDocument.llmSectionProblem(
        section([Fixtures.sampleConfig("Work"), Fixtures.sampleConfig("Home"), Fixtures.sampleConfig("Work 2")])
      )
    )
  })

  it("two configurations with one id", () => {
    const first = Fixtures.sampleConfig("A")
    assert.strictEqual(
      PreferencesDocument.llmSectionProblem(section([first, { ...Fixtures.sampleConfig("B"), id: first.id }])),
      "two configurations have the same id"
    )
  })

  it("two names with one nameKey (case, NFC), compared exactly as the store compares names", () => {
    for (const [a, b] of [["Work", "WORK"], ["Caf\u00e9", "Cafe\u0301"]] as const) {
      assert.strictEqual(Canonical.nameKey(a), Canonical.nameKey(b))
      assert.strictEqual(
        PreferencesDocument.llmSectionProblem(section([Fixtures.sampleConfig(a), Fixtures.sampleConfig(b)])),
        "two configurations have the same name"
      )
    }
  })

  it("never echoes an id or a name", () => {
    const first = Fixtures.sampleConfig("Secret-looking name")
    const problem = PreferencesDocument.llmSectionProblem(section([first, { ...first }])) ?? ""
    assert.notInclude(problem, first.id)
    assert.notInclude(problem, first.name)
  })
})

describe("decodeLlmSection and encodeLlmSection: exactly what the schema gives, by a faster pass", () => {
  const schemaDecode = Schema.decodeUnknownExit(PreferencesDocument.LlmSection)
  const schemaEncode = Schema.encodeUnknownExit(PreferencesDocument.LlmSection)
  const id = Ids.randomUuid()
  const at = "2026-01-02T03:04:05.678Z"
  const check = {
    checkedAt: at,
    outcome: { _tag: "Ok", status: 200, models: 3, millis: 12, message: "fine", hint: "none" }
  }
  // Per field: stored (canonical) values, values the schema changes on decoding, and values it refuses.
  const pools: Record<string, ReadonlyArray<unknown>> = {
    id: [id, Ids.randomUuid(), id.toUpperCase(), "not-a-uuid", "", 7, null],
    provider: ["openai", "anthropic", "openai-compatible", "OpenAI", "-x", "", 1],
    name: ["Work", "Café", "Ｗｏｒｋ", " Work", "Work\t", "", " ", "a\u0000b", "a\u200bb", "x".repeat(101), "\ud800", 3],
    baseUrl: [
      "https://api.example.com/v1",
      "http://localhost:11434/",
      "http://192.168.1.5:8080/v1",
      "https://API.Example.com/v1",
      "https://api.example.com",
      " https://api.example.com/v1",
      "https://bücher.example/",
      "https://xn--bcher-kva.example/",
      "http://api.example.com/v1",
      "https://api.example.com/v1?api_key=1",
      "https://u:p@api.example.com/",
      "ftp://example.com/",
      "not a url",
      "",
      undefined,
      null,
      5
    ],
    useAuthHeader: [true, false, "true", 0, undefined],
    allowInsecureHttp: [true, false, "yes", undefined, null],
    createdAt: [at, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.6789Z", "2026-01-02 03:04:05Z", 0],
    updatedAt: [at, "2026-01-02T03:04:05.6Z", "yesterday"],
    hasKey: [true, false, 1, null],
    keyStorage: ["keychain", "encrypted-file", "session", "disk", undefined],
    keySession: ["session-1", "", 9, undefined],
    lastCheck: [
      check,
      { ...check, extra: 1 },
      { ...check, outcome: { ...check.outcome, extra: [1] } },
      { ...check, outcome: { _tag: "Unreachable", reason: "dns", message: "m", hint: "h" } },
      { ...check, outcome: { _tag: "Nope" } },
      { checkedAt: "then" },
      null,
      undefined
    ],
    extra: [1, "x", [[{}]], { apiKey: "sk-not-here" }]
  }
  const config = fc.record(
    Object.fromEntries(Object.entries(pools).map(([key, values]) => [key, fc.constantFrom(...values)])),
    { requiredKeys: [] }
  )
  // mostly stored configurations, so the fast pass is exercised as well as the way around it
  const canonical = fc.record({
    id: fc.constant(null).map(() => Ids.randomUuid()),
    provider: fc.constantFrom("openai", "anthropic"),
    name: fc.integer({ min: 0, max: 50 }).map((n) => `Config ${n}`),
    baseUrl: fc.constantFrom("https://api.example.com/v1", "http://localhost:11434/"),
    useAuthHeader: fc.boolean(),
    createdAt: fc.constant(at),
    updatedAt: fc.constant(at),
    hasKey: fc.boolean(),
    lastCheck: fc.constant(check)
  }, { requiredKeys: ["id", "provider", "name", "useAuthHeader", "createdAt", "updatedAt", "hasKey"] })
  // a stored configuration with one field set to a value of its pool, or removed (each equally likely)
  const changes = Object.entries(pools).flatMap(([field, values]) => [
    ...values.map((value) => ({ field, value, remove: false })),
    { field, value: undefined, remove: true }
  ])
  const mutated = fc.tuple(canonical, fc.constantFrom(...changes)).map(([stored, change]): Record<string, unknown> => {
    const { [change.field]: _dropped, ...rest } = stored as Record<string, unknown>
    return change.remove ? rest : { ...stored, [change.field]: change.value }
  })
  const section = fc.record({
    version: fc.constantFrom<unknown>(1, 1, 1, 2, "1"),
    configs: fc.oneof(fc.array(fc.oneof(canonical, mutated, mutated, config), { maxLength: 6 }), fc.constant("x")),
    journal: fc.constantFrom<unknown>([], [], [{ id: "i" }], null)
  }, { requiredKeys: ["configs"] })

  /** Same outcome; on success the same value with its keys in the same order. */
  const assertSame = (actual: Exit.Exit<unknown, unknown>, expected: Exit.Exit<unknown, unknown>) => {
    assert.strictEqual(actual._tag, expected._tag)
    if (Exit.isSuccess(actual) && Exit.isSuccess(expected)) {
      assert.deepStrictEqual(actual.value, expected.value)
      assert.strictEqual(JSON.stringify(actual.value), JSON.stringify(expected.value))
    }
  }

  it("decodes and encodes any section as the schema does", () => {
    const oneConfig = mutated.map((entry) => ({ version: 1, configs: [entry], journal: [] }))
    fc.assert(
      fc.property(fc.oneof(oneConfig, section), (input: unknown) => {
        assertSame(Effect.runSyncExit(PreferencesDocument.decodeLlmSection(input)), schemaDecode(input))
        const encoded = Effect.runSyncExit(Effect.try(() => PreferencesDocument.encodeLlmSection(input as PreferencesDocument.LlmSection)))
        assertSame(encoded, schemaEncode(input))
      }),
      { numRuns: 4000 }
    )
  })

  it("reads a stored configuration without the schema, and leaves any other to it", () => {
    const read = LlmConfig.makeStoredConfigReader()
    const stored = { ...Fixtures.sampleConfig("Work"), baseUrl: "https://api.example.com/v1", lastCheck: check }
    assert.deepStrictEqual(read({ ...stored, extra: 1 }), stored as LlmConfig.LlmConfig)
    assert.isUndefined(read({ ...stored, name: " Work" })) // the schema trims it
    assert.isUndefined(read({ ...stored, baseUrl: "https://API.example.com/v1" })) // the schema canonicalises it
    assert.isUndefined(read({ ...stored, baseUrl: undefined }))
    assert.isUndefined(read({ ...stored, id: "x" }))
    // a stored configuration is returned itself, anything else as a copy of the schema's fields
    const plain = Fixtures.sampleConfig("Plain")
    assert.strictEqual(read(plain), plain)
    const inherited = Object.assign(Object.create({ keySession: "s" }) as object, plain)
    assert.deepStrictEqual(read(inherited), { ...plain, keySession: "s" })
    assert.isTrue(Object.hasOwn(read(inherited)!, "keySession"))
    assert.deepStrictEqual(read(inherited), Schema.decodeUnknownSync(LlmConfig.LlmConfig)(inherited))
  })

  it("remembers a verdict only for data that freezing holds still", () => {
    const stored = { ...Fixtures.sampleConfig("Work"), baseUrl: "https://api.example.com/v1" }
    const decode = Schema.decodeUnknownSync(LlmConfig.LlmConfig)
    // a field found on a polluted Object.prototype is not remembered once the pollution is gone
    const { baseUrl: _absent, ...withoutUrl } = stored
    const polluted = Object.prototype as Record<string, unknown>
    try {
      polluted["baseUrl"] = "https://attacker.example/v1"
      assert.strictEqual(LlmConfig.makeStoredConfigReader()(withoutUrl)?.baseUrl, "https://attacker.example/v1")
    } finally {
      delete polluted["baseUrl"]
    }
    assert.isFalse("baseUrl" in LlmConfig.makeStoredConfigReader()(withoutUrl)!)
    assert.deepStrictEqual(LlmConfig.makeStoredConfigReader()(withoutUrl), decode(withoutUrl))
    // a configuration someone froze is frozen all the way down, so its remembered check cannot go stale
    const frozenOutside = Object.freeze(decode({ ...stored, lastCheck: check }))
    const lastCheck = frozenOutside.lastCheck!
    assert.isFalse(Object.isFrozen(lastCheck))
    assert.deepStrictEqual(LlmConfig.makeStoredConfigReader()(frozenOutside), frozenOutside)
    assert.isTrue(Object.isFrozen(lastCheck) && Object.isFrozen(lastCheck.outcome))
    // what freezing cannot hold (a typed array, a cycle) is neither frozen nor a reason to fail
    const bytes = new Uint8Array([1])
    assert.deepStrictEqual(LlmConfig.makeStoredConfigReader()({ ...stored, extra: bytes }), stored as LlmConfig.LlmConfig)
    bytes[0] = 2
    assert.strictEqual(bytes[0], 2)
    const cycle: Record<string, unknown> = {}
    cycle["self"] = cycle
    assert.deepStrictEqual(LlmConfig.makeStoredConfigReader()({ ...stored, extra: cycle }), stored as LlmConfig.LlmConfig)
    // an object that is not plain is read afresh every time: a change to it is seen
    const loose: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, Fixtures.sampleConfig("Loose"))
    assert.strictEqual(LlmConfig.makeStoredConfigReader()(loose), loose)
    loose["name"] = " Spaced"
    assert.isUndefined(LlmConfig.makeStoredConfigReader()(loose))
  })
})
