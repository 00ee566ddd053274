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

  it("every Conflict and KeychainLocked reason is worded by its reason, never by its message", () => {
    // the messages say nothing a regular expression could key on: only the reason can choose
    const conflictHints = Errors.ConflictReason.literals.map((reason) =>
      Messages.problemOf(new Errors.Conflict({ message: "m", hint: "GUI words", reason }), { command: "add", reference: "Work" })
    )
    expect(conflictHints.map((problem) => problem.reason)).toEqual(Errors.ConflictReason.literals)
    for (const problem of conflictHints) expect(problem.hint, problem.reason).toMatch(/fishbowl-llm|--name/)
    expect(new Set(conflictHints.map((problem) => problem.hint)).size).toBe(Errors.ConflictReason.literals.length)
    expect(conflictHints[0]!.hint).toContain("Choose another --name")

    const locked = (reason: Errors.KeychainLockedReason) =>
      Messages.problemOf(new Errors.KeychainLocked({ message: "m", hint: "Unlock it.", reason }), { command: "key", reference: "Work" })
    expect(locked("locked-or-missing").hint).toContain("fishbowl-llm update Work --api-key-stdin")
    // a keychain that says it is locked: nothing to re-enter, the adapter's own unlock words stay
    expect(locked("locked").hint).toBe("Unlock it.")
    expect(locked("lock-state-unknown").hint).toBe("Unlock it.")
  })

  it("plain http to a private network names --allow-insecure-http on the command that refused it", () => {
    const error = new Errors.InvalidInput({ field: "baseUrl", message: "m", hint: "h", reason: "insecure-http-needs-consent" })
    expect(Messages.problemOf(error, { command: "update" }).hint).toContain("--allow-insecure-http to update")
  })
})
