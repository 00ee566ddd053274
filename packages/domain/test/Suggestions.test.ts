import { describe, expect, it } from "vitest"
import * as Canonical from "../src/Canonical.ts"
import * as Providers from "../src/Providers.ts"
import * as Suggestions from "../src/Suggestions.ts"

const providerIds = Providers.providers.map((provider) => provider.id)

describe("Suggestions.closest", () => {
  it("names the provider id a typo meant, whatever its case", () => {
    expect(Suggestions.closest("opnai", providerIds)).toBe("openai")
    expect(Suggestions.closest("OpenAI", providerIds)).toBe("openai")
    expect(Suggestions.closest("antropic", providerIds)).toBe("anthropic")
  })

  it("suggests nothing for what is not a typo: far away, too short to tell, or two equally close", () => {
    expect(Suggestions.closest("mistral-large", providerIds)).toBeUndefined()
    expect(Suggestions.closest("A", ["B", "Work"])).toBeUndefined()
    expect(Suggestions.closest("Wark", ["Work", "Wart"])).toBeUndefined()
    expect(Suggestions.closest("anything", [])).toBeUndefined()
  })

  it("compares configuration names by their name key (lookalikes and case fold away)", () => {
    expect(Suggestions.closest("Ofice", ["Office", "Home"], Canonical.nameKey)).toBe("Office")
    // Cyrillic "о" in "Оffice" is the Latin "o" by nameKey: one edit from "Office", not two
    expect(Suggestions.closest("Оfice", ["Office", "Home"], Canonical.nameKey)).toBe("Office")
  })

  it("ends a message with the question, or with nothing", () => {
    expect(Suggestions.didYouMean("openai")).toBe("; did you mean \"openai\"?")
    expect(Suggestions.didYouMean(undefined)).toBe("")
    expect(Providers.unknownProvider("opnai").message).toBe("Unknown provider \"opnai\"; did you mean \"openai\"?")
  })
})
