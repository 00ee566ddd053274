/**
 * The CLI's words for every reason an input is refused (issue 26): each reason has a terminal
 * hint of its own, chosen by the reason and never by reading the message; no GUI words.
 */
import { Errors } from "@fishbowl/domain"
import { describe, expect, it } from "vitest"
import * as Messages from "../src/cli/Messages.ts"

describe("CLI words by reason", () => {
  it("every InvalidInput reason gets a terminal hint, whatever its message and hint say", () => {
    const hints = new Set<string>()
    for (const reason of Errors.InvalidInputReason.literals) {
      const error = new Errors.InvalidInput({ field: "x", message: "m", hint: "Correct the highlighted field and try again.", reason })
      const { hint } = Messages.problemOf(error, { command: "add" })
      expect(hint, reason).not.toMatch(/highlighted|click|button/i)
      expect(hint, reason).toMatch(/--|fishbowl-llm/)
      hints.add(hint)
    }
    expect(hints.size).toBe(Errors.InvalidInputReason.literals.length)
  })

  it("plain http to a private network names --allow-insecure-http on the command that refused it", () => {
    const error = new Errors.InvalidInput({ field: "baseUrl", message: "m", hint: "h", reason: "insecure-http-needs-consent" })
    expect(Messages.problemOf(error, { command: "update" }).hint).toContain("--allow-insecure-http to update")
  })
})
