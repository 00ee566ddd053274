/**
 * The CLI's words for every reason an input is refused (issue 26): each reason has a terminal
 * hint of its own, chosen by the reason and never by reading the message; no GUI words.
 */
import { ChildProcesses } from "@fishbowl/desktop-layer/testing"
import { Diagnostics, Errors } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Exit, Schema } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import * as NodePath from "node:path"
import { Readable, Writable } from "node:stream"
import { describe, expect, it } from "vitest"
import * as Cli from "../src/cli/Cli.ts"
import * as Commands from "../src/cli/Commands.ts"
import * as Doctor from "../src/cli/Doctor.ts"
import * as Messages from "../src/cli/Messages.ts"

/** Every error the domain can report, each (tag, reason), with GUI words in its hint as an adapter may write them. */
const everyError = (): ReadonlyArray<Errors.FishbowlError> =>
  Fixtures.everyErrorReason().map((fields) =>
    Schema.decodeUnknownSync(Errors.FishbowlError)({
      ...fields,
      message: "m",
      hint: "Correct the highlighted field, then choose \"Replace key\".",
      field: "x",
      operation: "create",
      budgetMillis: 1
    })
  )

/**
 * Reasons whose terminal hint is the adapter's own on purpose: how to unlock or install a
 * keychain on this platform reads the same in a terminal.
 */
const adapterWords = new Set([
  "KeychainLocked/locked",
  "KeychainLocked/lock-state-unknown",
  ...Errors.KeychainUnavailableReason.literals.map((reason) => `KeychainUnavailable/${reason}`),
  "Unsupported/no-secure-storage",
  "Unsupported/keys-not-kept",
  "Unsupported/not-available-here"
])

describe("CLI words by reason", () => {
  it("every (tag, reason) the domain reports: the reason goes out with the problem and picks the terminal's own hint", () => {
    const errors = everyError()
    expect(errors.length).toBeGreaterThan(25)
    for (const error of errors) {
      const reason = "reason" in error ? error.reason : undefined
      const what = `${error._tag}/${reason ?? "-"}`
      const problem = Messages.problemOf(error, { command: "update", reference: "Work" })
      expect(problem._tag, what).toBe(error._tag)
      expect(problem.reason, what).toBe(reason)
      // a reason with words of its own never falls back to the adapter's (GUI) hint
      if (reason !== undefined && !adapterWords.has(what)) expect(problem.hint, what).not.toMatch(/highlighted|Replace key/)
    }
  })

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

  it("a configuration named in a printed command is one shell word, quoted by the one rule (Hints.shellWord)", () => {
    const missing = (reference: string) =>
      Messages.problemOf(new Errors.NotFound({ message: "m", hint: "h", reason: "key-missing" }), { command: "key", reference }).hint
    expect(missing("Work")).toContain("`fishbowl-llm update Work --api-key-stdin`")
    expect(missing("My Work")).toContain("`fishbowl-llm update 'My Work' --api-key-stdin`")
    expect(missing("Bob's")).toContain("`fishbowl-llm update 'Bob'\\''s' --api-key-stdin`")
  })

  it("plain http to a private network names --allow-insecure-http on the command that refused it", () => {
    const error = new Errors.InvalidInput({ field: "baseUrl", message: "m", hint: "h", reason: "insecure-http-needs-consent" })
    expect(Messages.problemOf(error, { command: "update" }).hint).toContain("--allow-insecure-http to update")
  })
})

describe("doctor's exit code by the kind of each finding (no id prefixes)", () => {
  const error = (id: Diagnostics.FindingId): Doctor.DoctorFinding => ({ id, severity: "error", message: "m" })
  it("the most urgent kind among the errors decides; warnings and ok findings never fail it", () => {
    expect(Doctor.exitCodeOf([])).toBe(0)
    expect(Doctor.exitCodeOf([{ id: "keychain.locked", severity: "warning", message: "m" }])).toBe(0)
    expect(Doctor.exitCodeOf([error("keys.missing"), error("preferences.parse")])).toBe(6)
    expect(Doctor.exitCodeOf([error("keys.missing"), error("secrets.tier"), error("keys.locked")])).toBe(4)
    expect(Doctor.exitCodeOf([error("keys.elsewhere")])).toBe(3)
    expect(Doctor.exitCodeOf([error("journal.fix")])).toBe(6)
    expect(Doctor.exitCodeOf([error("legacy.key-files")])).toBe(1)
  })

  it("every finding id has a kind, and an id outside the list is refused on the wire", () => {
    for (const id of Diagnostics.FindingId.literals) expect(Diagnostics.FindingKind.literals).toContain(Diagnostics.findingKinds[id])
    const decode = Schema.decodeUnknownExit(Diagnostics.Finding)
    expect(Exit.isSuccess(decode({ id: "keys.missing", severity: "error", message: "m" }))).toBe(true)
    expect(Exit.isFailure(decode({ id: "keys.gone", severity: "error", message: "m" }))).toBe(true)
  })
})

describe("every command a message prints works as printed", () => {
  /** Every `fishbowl-llm …` a source file quotes in backticks (hints, fixes, notes), placeholders filled. */
  const printedCommands = () => {
    const roots = ["apps/desktop/src/cli", "packages/domain/src", "packages/desktop-layer/src"].map((dir) =>
      NodePath.join(ChildProcesses.REPO_ROOT, dir)
    )
    const files = roots.flatMap((root) =>
      readdirSync(root, { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".ts")).map((name) =>
        NodePath.join(root, name)
      )
    )
    const found = new Map<string, string>()
    for (const file of files) {
      const source = readFileSync(file, "utf8")
      for (const match of source.matchAll(/`(fishbowl-llm [^`]*?)\\?`/g)) {
        // a placeholder where the command goes stands for any command; elsewhere, for a configuration
        const command = match[1]!.replace(/^fishbowl-llm \$\{[^}]*\}/, "fishbowl-llm list")
          .replace(/\$\{[^}]*\}/g, "Work").replace(/\\$/, "")
        found.set(command, NodePath.relative(ChildProcesses.REPO_ROOT, file))
      }
    }
    return found
  }

  /** The real CLI's help for a command (in-process), where its flags are listed. */
  const helpOf = async (command: string) => {
    let stdout = ""
    const sink = (write: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (write(String(chunk)), done()) })
    await Cli.runCli([command, "--help"], {
      stdin: Readable.from([]),
      stdout: sink((text) => (stdout += text)),
      stderr: sink(() => undefined),
      env: {}
    })
    return stdout
  }

  it("knows which flags take a value exactly as each command's help lists them (a flag with a metavar)", async () => {
    let valued = 0
    for (const command of Commands.subcommandNames) {
      const help = await helpOf(command)
      // "  --name name   A name…": a flag followed by one lower-case word before the description
      for (const [, flag, metavar] of help.matchAll(/^ {2}(--[a-z-]+)(?:, -[a-z])?(?: ([a-z]+))? {2,}/gm)) {
        const scope = help.indexOf("GLOBAL FLAGS") < help.indexOf(`  ${flag}`) ? "" : command
        expect(Commands.takesValue(command, flag!), `${command} ${flag}`).toBe(metavar !== undefined)
        if (scope === "") expect(Commands.takesValue("", flag!), `global ${flag}`).toBe(metavar !== undefined)
        if (metavar !== undefined && scope !== "") valued++
      }
    }
    // add and update: --provider/--name/--base-url; migrate: --from, --allow-insecure-http NAME
    expect(valued).toBe(7)
  })

  it("names a command that exists and only flags that command (or every command) takes", async () => {
    const commands = printedCommands()
    expect(commands.size, "hints that print commands were found").toBeGreaterThan(10)
    for (const [command, file] of commands) {
      const words = command.split(/\s+/)
      const subcommand = words[1]!
      if (subcommand.startsWith("-")) {
        expect(["--help", "--version"], `${command} (${file})`).toContain(subcommand)
        continue
      }
      expect(Commands.subcommandNames.has(subcommand), `${command} (${file}) names a command`).toBe(true)
      const help = await helpOf(subcommand)
      for (const flag of words.filter((word) => word.startsWith("--"))) {
        const name = flag.split("=")[0]!.replace(/^--no-/, "--")
        expect(help, `${command} (${file}): ${flag}`).toMatch(new RegExp(`(^|\\s)${name.replace(/[-]/g, "\\-")}(\\s|,|$)`, "m"))
      }
    }
  })
})
