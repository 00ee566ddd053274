import { describe, expect, it } from "vitest"
import * as Plural from "../src/Plural.ts"

describe("Plural", () => {
  it("words a count by its number, never with (s)", () => {
    expect([0, 1, 2].map((n) => Plural.count(n, "backup generation"))).toEqual([
      "0 backup generations",
      "1 backup generation",
      "2 backup generations"
    ])
    expect(Plural.count(1, "key needs", "keys need")).toBe("1 key needs")
    expect(Plural.count(3, "key needs", "keys need")).toBe("3 keys need")
    expect([1, 2].map((n) => Plural.agree(n, "was", "were"))).toEqual(["was", "were"])
  })
})
