import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as JsonLimits from "../src/JsonLimits.ts"

/** The plain character-by-character count jsonDepth must agree with (its first implementation). */
const depthOneByOne = (text: string, limit: number): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}

describe("JsonLimits", () => {
  it("counts nesting without recursion and ignores brackets inside strings", () => {
    expect(JsonLimits.jsonDepth(`{"a":[1,{"b":"[[[{{{"}]}`)).toBe(3)
    expect(JsonLimits.jsonDepth(`"\\"[["`)).toBe(0)
    expect(JsonLimits.jsonDepth("[".repeat(1_000_000), 10)).toBe(11)
  })

  it("agrees with a character-by-character count on any mix of quotes, escapes and brackets", () => {
    const pieces = fc.constantFrom("\"", "\\", "\\\"", "{", "}", "[", "]", "a", ":", ",", "é", "\\u005b")
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }).map((parts) => parts.join("")), fc.integer({ min: 1, max: 8 }), (text, limit) => {
        expect(JsonLimits.jsonDepth(text, limit)).toBe(depthOneByOne(text, limit))
      }),
      { numRuns: 2000 }
    )
    // A hostile file's 10 MB string or millions of escapes cost time, never the expression stack.
    expect(JsonLimits.jsonDepth(`[["${"a".repeat(10_000_000)}"]]`)).toBe(2)
    expect(JsonLimits.jsonDepth(`[["${"a\\\"".repeat(3_000_000)}`)).toBe(2)
    const real = JSON.stringify({ a: [{ b: "x\\\"]}" }, [[["\\"]]]], c: { d: "{[" } })
    expect(JsonLimits.jsonDepth(real)).toBe(depthOneByOne(real, JsonLimits.MAX_JSON_DEPTH))
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

  it("gives the same result when it parses first (iterativeParse), duplicate keys and brackets in strings included", () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
    const text = fc.oneof(
      fc.json({ maxDepth: 8 }),
      fc.array(fc.constantFrom("\"", "\\", "{", "}", "[", "]", "a", ":", ",", "1", "\"[\""), { maxLength: 40 }).map((parts) =>
        parts.join("")
      ),
      // a deep value a later duplicate key replaces; brackets inside a string
      fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 })).map(([a, b]) => `{"a":${nested(a)},"a":${nested(b)}}`),
      fc.integer({ min: 0, max: 10 }).map((depth) => `{"a":"${nested(depth)}","b":[{}]}`)
    )
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 8 }), (input, maxDepth) => {
        expect(JsonLimits.parseBoundedJson(input, { maxDepth, iterativeParse: true })).toEqual(
          JsonLimits.parseBoundedJson(input, { maxDepth })
        )
      }),
      { numRuns: 3000 }
    )
    const deep = "[".repeat(1_000_000) + "]".repeat(1_000_000)
    expect(JsonLimits.parseBoundedJson(deep, { iterativeParse: true })).toEqual(JsonLimits.parseBoundedJson(deep))
    expect(JsonLimits.parseBoundedJson(deep.slice(1), { iterativeParse: true })).toEqual(JsonLimits.parseBoundedJson(deep.slice(1)))
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
