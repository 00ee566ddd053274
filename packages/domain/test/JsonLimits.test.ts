import { describe, expect, it } from "vitest"
import * as JsonLimits from "../src/JsonLimits.ts"

describe("JsonLimits", () => {
  it("counts nesting without recursion and ignores brackets inside strings", () => {
    expect(JsonLimits.jsonDepth(`{"a":[1,{"b":"[[[{{{"}]}`)).toBe(3)
    expect(JsonLimits.jsonDepth(`"\\"[["`)).toBe(0)
    expect(JsonLimits.jsonDepth("[".repeat(1_000_000), 10)).toBe(11)
  })

  it("refuses a document nested deeper than the bound, 5,000 levels included, before parsing", () => {
    const deep = "[".repeat(5000) + "]".repeat(5000)
    expect(JsonLimits.parseBoundedJson(deep)).toEqual({
      _tag: "Refused",
      failure: { _tag: "TooDeep", maxDepth: JsonLimits.MAX_JSON_DEPTH }
    })
    const ok = "[".repeat(JsonLimits.MAX_JSON_DEPTH) + "]".repeat(JsonLimits.MAX_JSON_DEPTH)
    expect(JsonLimits.parseBoundedJson(ok)._tag).toBe("Parsed")
  })

  it("refuses a document larger than the bound, by file size or UTF-8 length", () => {
    expect(JsonLimits.parseBoundedJson(`"${"é".repeat(6)}"`, { maxBytes: 13 })).toEqual({
      _tag: "Refused",
      failure: { _tag: "TooLarge", bytes: 14, maxBytes: 13 }
    })
    expect(JsonLimits.parseBoundedJson("{}", { bytes: 11 * 1024 * 1024 })._tag).toBe("Refused")
  })

  it("reports text that is not JSON without quoting it", () => {
    for (const text of [`{"apiKey":"sk-secret-canary"`, `{"apiKey": sk-secret-canary}`, `sk-secret-canary`]) {
      const result = JsonLimits.parseBoundedJson(text)
      expect(result._tag).toBe("Refused")
      expect(JSON.stringify(result)).not.toContain("secret-canary")
    }
  })
})
