import { assert, describe, it } from "@effect/vitest"
import { Ids, LlmConfig, PreferencesDocument } from "@fishbowl/domain"
import fc from "fast-check"
import { PreferencesText } from "../src/index.ts"

/** The text the store wrote before it was built from parts: what every reader of the file expects. */
const stringified = (document: PreferencesDocument.PreferencesDocument) =>
  `${JSON.stringify(PreferencesDocument.joinDocument(document), null, 2)}\n`

const at = "2026-01-02T03:04:05.678Z"
const config = fc.record({
  id: fc.constant(null).map(() => Ids.randomUuid()),
  provider: fc.constantFrom("openai", "anthropic", "ollama"),
  name: fc.string({ minLength: 1, maxLength: 12 }).map((text) => `C ${text.replace(/\s/g, "_")}`),
  baseUrl: fc.constantFrom("https://api.example.com/v1", "http://localhost:11434/"),
  useAuthHeader: fc.boolean(),
  createdAt: fc.constant(at),
  updatedAt: fc.constant(at),
  hasKey: fc.boolean(),
  keyStorage: fc.constantFrom("keychain", "encrypted-file"),
  lastCheck: fc.constant({ checkedAt: at, outcome: { _tag: "Ok", status: 200, models: 3, millis: 12, message: "m\n\"q\"", hint: "h" } })
}, { requiredKeys: ["id", "provider", "name", "useAuthHeader", "createdAt", "updatedAt", "hasKey"] })
  .map((fields) => fields as unknown as LlmConfig.LlmConfig)

const intent = (configId: string): PreferencesDocument.Intent => ({
  id: "intent-1",
  owner: "owner-1",
  startedAt: at,
  op: "update",
  configId: Ids.ConfigId.make(configId),
  provider: Ids.ProviderId.make("openai"),
  keyChange: "set",
  keyMark: "0123456789abcdef",
  phase: "pending"
})

// Other settings as other parts of the app write them: nested, with keys that look like the
// store's own ("configs", a line break and spaces inside strings, numeric keys that JSON orders first).
const otherSettings = fc.dictionary(
  fc.oneof(fc.constantFrom("configs", "version", "journal", "1", "theme", "  \"llm\": "), fc.string({ maxLength: 6 })),
  fc.jsonValue({ maxDepth: 4 }),
  { maxKeys: 5 }
).map(({ llm: _llm, ...other }) => other)

const document = fc.tuple(fc.uniqueArray(config, { maxLength: 6, selector: (c) => c.id }), otherSettings, fc.boolean()).map((
  [configs, other, withIntent]
): PreferencesDocument.PreferencesDocument => ({
  llm: { version: 1, configs, journal: withIntent && configs[0] !== undefined ? [intent(configs[0].id)] : [] },
  other
}))

describe("PreferencesText.serialize", () => {
  it("gives exactly JSON.stringify's two-space text of the document, the cached configurations included", () => {
    fc.assert(
      fc.property(document, (doc) => {
        const expected = stringified(doc)
        assert.strictEqual(PreferencesText.serialize(doc).text, expected)
        // a second time, every configuration's text from the cache (encoding froze them)
        assert.strictEqual(PreferencesText.serialize(doc).text, expected)
        // the same configurations with another setting changed: the list's text reused
        const otherChanged = { ...doc, other: { ...doc.other, counter: 1 } }
        assert.strictEqual(PreferencesText.serialize(otherChanged).text, stringified(otherChanged))
        // the same (frozen, cached) configurations in another order, or one fewer: never the last list's text
        const reversed = { ...doc, llm: { ...doc.llm, configs: [...doc.llm.configs].reverse() } }
        assert.strictEqual(PreferencesText.serialize(reversed).text, stringified(reversed))
        const fewer = { ...doc, llm: { ...doc.llm, configs: doc.llm.configs.slice(1), journal: [] } }
        assert.strictEqual(PreferencesText.serialize(fewer).text, stringified(fewer))
        // one configuration replaced: only it is serialized again
        if (doc.llm.configs.length > 0) {
          const changed = { ...doc.llm.configs[0]!, name: "Renamed" }
          const next = { ...doc, llm: { ...doc.llm, configs: [changed, ...doc.llm.configs.slice(1)] } }
          assert.strictEqual(PreferencesText.serialize(next).text, stringified(next))
        }
      }),
      { numRuns: 500 }
    )
  })

  it("stays exact through any run of edits to the list (append, insert, remove, replace, reorder), each built from the last", () => {
    const edit = fc.tuple(fc.constantFrom("append", "insert", "remove", "replace", "swap", "same"), fc.nat(), config)
    fc.assert(
      fc.property(document, fc.array(edit, { maxLength: 12 }), (doc, edits) => {
        let current: PreferencesDocument.PreferencesDocument = { ...doc, llm: { ...doc.llm, journal: [] } }
        assert.strictEqual(PreferencesText.serialize(current).text, stringified(current))
        for (const [kind, at, added] of edits) {
          const configs = [...current.llm.configs]
          const index = configs.length === 0 ? 0 : at % configs.length
          const fresh = { ...added, id: Ids.randomUuid() } as LlmConfig.LlmConfig
          if (kind === "append") configs.push(fresh)
          else if (kind === "insert") configs.splice(index, 0, fresh)
          else if (kind === "remove") configs.splice(index, 1)
          else if (kind === "replace" && configs.length > 0) configs[index] = { ...configs[index]!, name: `${configs[index]!.name} 2` }
          else if (kind === "swap" && configs.length > 1) [configs[0], configs[index]] = [configs[index]!, configs[0]!]
          current = { ...current, llm: { ...current.llm, configs } }
          assert.strictEqual(PreferencesText.serialize(current).text, stringified(current))
        }
      }),
      { numRuns: 300 }
    )
  })

  it("never reuses the text of a configuration that is not frozen (one the reader cannot hold still)", () => {
    const [base] = fc.sample(config, { numRuns: 1, seed: 7 })
    const loose = Object.assign(Object.create(null) as Record<string, unknown>, base) as unknown as LlmConfig.LlmConfig
    const doc = { llm: { version: 1 as const, configs: [loose], journal: [] }, other: {} }
    assert.strictEqual(PreferencesText.serialize(doc).text, stringified(doc))
    ;(loose as { name: string }).name = "Changed"
    assert.include(PreferencesText.serialize(doc).text, `"name": "Changed"`)
    assert.strictEqual(PreferencesText.serialize(doc).text, stringified(doc))
  })

  it("separates the other settings (the part whose depth is measured) from the llm section", () => {
    fc.assert(
      fc.property(document, (doc) => {
        const { otherSettings: part, text } = PreferencesText.serialize(doc)
        assert.isTrue(text.startsWith(part))
        assert.isTrue(text.slice(part.length).startsWith(`\n  "llm": {`))
        // every other setting is in the part before the section
        for (const key of Object.keys(doc.other)) assert.include(part, JSON.stringify(key))
      }),
      { numRuns: 300 }
    )
  })

  it("refuses what encoding refuses, and a setting that contains itself", () => {
    const bad = {
      llm: { version: 1, configs: [{ id: "not-an-id" }], journal: [] },
      other: {}
    } as unknown as PreferencesDocument.PreferencesDocument
    assert.throws(() => PreferencesText.serialize(bad))
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    assert.throws(() => PreferencesText.serialize({ llm: PreferencesDocument.emptyLlmSection, other: { cyclic } }))
  })

  it("puts the llm section last even when the other settings carry an llm key", () => {
    const doc = { llm: PreferencesDocument.emptyLlmSection, other: { llm: { stale: true }, theme: "dark" } }
    const { otherSettings: part, text } = PreferencesText.serialize(doc)
    assert.deepStrictEqual(Object.keys(JSON.parse(text) as object), ["theme", "llm"])
    assert.notInclude(text, "stale")
    assert.include(part, "theme")
  })
})
