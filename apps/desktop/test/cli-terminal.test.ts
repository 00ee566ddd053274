/**
 * fishbowl-llm at a real terminal: each case runs the bundled bin in a tmux pane (a private tmux
 * server) on the real Secret Service and types into it. A small wrapper records how the CLI
 * process ended (exit code or signal), since the pane's shell may die with the terminal.
 */
import { ChildProcesses, SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { Fixtures } from "@fishbowl/domain/testing"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeEach, describe, expect, it } from "vitest"

const secretService = await SecretServiceHarness.startSecretService()
const work = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-cli-tty-"))
const socket = `fishbowl-cli-test-${process.pid}`
const tmux = (...args: ReadonlyArray<string>) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" })
afterAll(async () => {
  try {
    tmux("kill-server")
  } catch {
    // no session left
  }
  rmSync(work, { recursive: true, force: true })
  await secretService.stop()
})

const BIN = fileURLToPath(new URL("../bin/fishbowl-llm.cjs", import.meta.url))
const env = { ...SecretServiceHarness.childEnv(secretService.env), PATH: process.env["PATH"] ?? "", TERM: "xterm-256color" }

// Records the CLI's pid, then how it ended; ignores SIGHUP itself so it outlives the terminal.
const WRAPPER = NodePath.join(work, "wrap.mjs")
writeFileSync(
  WRAPPER,
  `
import { spawn } from "node:child_process"
import { renameSync, writeFileSync } from "node:fs"
process.on("SIGHUP", () => {})
// Written whole, then renamed: the test polls for these files and must never read half of one.
const publish = (path, text) => { writeFileSync(path + ".part", text); renameSync(path + ".part", path) }
const [out, ...command] = process.argv.slice(2)
const child = spawn(command[0], command.slice(1), { stdio: "inherit" })
publish(out + ".pid", String(child.pid))
child.on("exit", (code, signal) => publish(out, JSON.stringify({ code, signal })))
`
)

const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`
let dataDir = ""
let counter = 0

beforeEach(() => {
  dataDir = mkdtempSync(NodePath.join(work, "data-"))
})

/** Polls `probe` until it has a value; the deadline only catches a hang (the CLI answers in ~1 s). */
const waitFor = async <A>(what: string, probe: () => A | undefined, millis = 60_000): Promise<A> => {
  const deadline = Date.now() + millis
  while (Date.now() < deadline) {
    const value = probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${millis} ms waiting for ${what}`)
}

interface Pane {
  readonly name: string
  readonly screen: () => string
  readonly type: (text: string) => void
  readonly key: (...keys: ReadonlyArray<string>) => void
  readonly waitForText: (text: string) => Promise<string>
  readonly ended: () => Promise<{ readonly code: number | null; readonly signal: string | null }>
  readonly pid: () => Promise<number>
  /** What `stty -a` said in the pane after the CLI ended (the terminal's modes). */
  readonly sttyAfter: () => Promise<string>
}

/** Starts `fishbowl-llm --data-dir <dataDir> ...args` in a new tmux session. */
const openPane = (args: ReadonlyArray<string>): Pane => {
  const name = `cli${++counter}`
  const out = NodePath.join(work, `${name}.json`)
  const stty = NodePath.join(work, `${name}.stty`)
  const envPart = Object.entries(env).map(([key, value]) => quote(`${key}=${value}`)).join(" ")
  const command = [process.execPath, WRAPPER, out, process.execPath, BIN, "--data-dir", dataDir, ...args].map(quote).join(" ")
  // The pane stays open after the CLI ends so its screen can be read; afterAll kills the server.
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    "120",
    "-y",
    "30",
    `env -i ${envPart} ${command}; stty -a > ${quote(`${stty}.part`)} && mv ${quote(`${stty}.part`)} ${quote(stty)}; sleep 600`
  )
  const screen = () => tmux("capture-pane", "-p", "-t", name)
  return {
    name,
    screen,
    type: (text) => void tmux("send-keys", "-t", name, "-l", text),
    key: (...keys) => void tmux("send-keys", "-t", name, ...keys),
    waitForText: (text) => waitFor(`"${text}" in pane ${name}`, () => (screen().includes(text) ? screen() : undefined)),
    ended: () => waitFor(`the CLI in ${name} to end`, () => (existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : undefined)),
    pid: () =>
      waitFor(`the CLI's pid in ${name}`, () => (existsSync(`${out}.pid`) ? Number(readFileSync(`${out}.pid`, "utf8")) : undefined)),
    sttyAfter: () =>
      waitFor(`stty in ${name}`, () => (existsSync(stty) && readFileSync(stty, "utf8") !== "" ? readFileSync(stty, "utf8") : undefined))
  }
}

const cli = (args: ReadonlyArray<string>, stdin?: string) =>
  ChildProcesses.runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) })

const PROMPT = "API key (input hidden):"

describe("fishbowl-llm at a terminal", () => {
  it("add asks for the key without echo; the key typed is stored", async () => {
    const canary = Fixtures.makeCanaryKey("tty-add")
    const pane = openPane(["add", "--provider", "openai", "--name", "Typed"])
    await pane.waitForText(PROMPT)
    pane.type(canary)
    // Not echoed while typing: a short look (it can only miss an echo on a slow machine, never
    // fail a right answer); the screen after Enter, checked below, is the complete proof.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(pane.screen()).not.toContain(canary)
    pane.key("Enter")
    expect(await pane.ended()).toEqual({ code: 0, signal: null })
    const screen = await pane.waitForText("Added \"Typed\"")
    expect(screen).not.toContain(canary)
    expect((await cli(["key", "Typed"])).stdout).toBe(`${canary}\n`)
  })

  it("update --api-key-stdin at a terminal prompts without echo instead of reading the key visibly", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Up", "--api-key-stdin"], "sk-first")).code).toBe(0)
    const canary = Fixtures.makeCanaryKey("tty-update")
    const pane = openPane(["update", "Up", "--api-key-stdin"])
    await pane.waitForText(PROMPT)
    pane.type(canary)
    pane.key("Enter")
    expect(await pane.ended()).toEqual({ code: 0, signal: null })
    expect(await pane.waitForText("Updated \"Up\"")).not.toContain(canary)
    expect((await cli(["key", "Up"])).stdout).toBe(`${canary}\n`)
  })

  it("Ctrl-C at the prompt: \"cancelled\", exit 130, nothing added", async () => {
    const pane = openPane(["add", "--provider", "openai", "--name", "Cancel"])
    await pane.waitForText(PROMPT)
    pane.type("sk-half")
    pane.key("C-c")
    expect(await pane.ended()).toEqual({ code: 130, signal: null })
    expect(await pane.waitForText("error: cancelled")).not.toContain("Unexpected")
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
  })

  it("update --base-url of a config with a key says why it asks for the key again", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Moved", "--api-key-stdin"], "sk-moved-key")).code).toBe(0)
    const pane = openPane(["update", "Moved", "--base-url", "https://proxy.example.com/v1"])
    const screen = await pane.waitForText(PROMPT)
    expect(screen).toContain("The base URL changes, so the key is asked again")
    expect(screen.indexOf("The base URL changes")).toBeLessThan(screen.indexOf(PROMPT))
    pane.key("C-c")
    expect(await pane.ended()).toEqual({ code: 130, signal: null })
  })

  it("remove at a terminal asks first: no (or Enter) keeps the configuration and its key, y removes; --yes never asks", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Asked", "--api-key-stdin"], "sk-asked-key")).code).toBe(0)
    const question = "Remove \"Asked\" (OpenAI) and its key from the keychain? [y/N]"
    const declined = openPane(["remove", "Asked"])
    await declined.waitForText(question)
    declined.type("n")
    declined.key("Enter")
    expect(await declined.ended()).toEqual({ code: 130, signal: null })
    const screen = await declined.waitForText("was not removed")
    // the hint works as printed: --yes is a flag of remove
    expect(screen).toContain("hint: Nothing was changed. Add --yes to remove without being asked.")
    expect((await cli(["key", "Asked"])).stdout).toBe("sk-asked-key\n")

    const empty = openPane(["remove", "Asked"])
    await empty.waitForText(question)
    empty.key("Enter")
    expect(await empty.ended()).toEqual({ code: 130, signal: null })
    expect((await cli(["key", "Asked"])).code).toBe(0)

    const confirmed = openPane(["remove", "Asked"])
    await confirmed.waitForText(question)
    confirmed.type("y")
    confirmed.key("Enter")
    expect(await confirmed.ended()).toEqual({ code: 0, signal: null })
    expect(await confirmed.waitForText("Removed \"Asked\"")).toContain(`${question} y`)
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")

    expect((await cli(["add", "--provider", "ollama", "--name", "Quiet"])).code).toBe(0)
    const unasked = openPane(["remove", "Quiet", "--yes"])
    expect(await unasked.ended()).toEqual({ code: 0, signal: null })
    expect(await unasked.waitForText("Removed \"Quiet\"")).not.toContain("[y/N]")
  })

  it("Ctrl-D with nothing typed: a clear error, exit 2", async () => {
    const pane = openPane(["add", "--provider", "openai", "--name", "Empty"])
    await pane.waitForText(PROMPT)
    pane.key("C-d")
    expect(await pane.ended()).toEqual({ code: 2, signal: null })
    await pane.waitForText("error: No API key was entered")
  })

  it("checks that need no key fail before any prompt; a keyless provider is not asked", async () => {
    const unknown = openPane(["add", "--provider", "nope", "--name", "X"])
    expect(await unknown.ended()).toEqual({ code: 2, signal: null })
    const screen = await unknown.waitForText("Unknown provider")
    expect(screen).not.toContain(PROMPT)
    const noUrl = openPane(["add", "--provider", "openai-compatible", "--name", "X"])
    expect(await noUrl.ended()).toEqual({ code: 2, signal: null })
    expect(await noUrl.waitForText("needs a base URL")).not.toContain(PROMPT)
    const local = openPane(["add", "--provider", "ollama", "--name", "Local"])
    expect(await local.ended()).toEqual({ code: 0, signal: null })
    expect(await local.waitForText("Added \"Local\"")).not.toContain(PROMPT)
  })

  it("SIGHUP at the prompt: the terminal is restored and the process ends by SIGHUP, not an abort", async () => {
    const pane = openPane(["add", "--provider", "openai", "--name", "Hup"])
    await pane.waitForText(PROMPT)
    pane.type("sk-partial")
    process.kill(await pane.pid(), "SIGHUP")
    expect(await pane.ended()).toEqual({ code: null, signal: "SIGHUP" })
    const modes = await pane.sttyAfter()
    // echo and canonical mode are back on (raw mode shows them as -echo / -icanon)
    expect(modes).toMatch(/(^|\s)echo(\s|$)/)
    expect(modes).toMatch(/(^|\s)icanon(\s|$)/)
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
  })

  it("the terminal closing at the prompt ends the process by SIGHUP, never SIGABRT", async () => {
    const pane = openPane(["add", "--provider", "openai", "--name", "Closed"])
    await pane.waitForText(PROMPT)
    pane.type("sk-partial")
    tmux("kill-session", "-t", pane.name)
    expect(await pane.ended()).toEqual({ code: null, signal: "SIGHUP" })
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
  })
})

describe("completion in an interactive bash (issue 25)", () => {
  it("installed with the script's own lines, `show <Tab>` completes a configured name and `add --provider o<Tab>` provider ids", async () => {
    expect((await cli(["add", "--provider", "ollama", "--name", "Work GPT"])).code).toBe(0)
    const home = mkdtempSync(NodePath.join(work, "home-"))
    const bin = NodePath.join(home, "bin")
    // `fishbowl-llm` on PATH, as the set-up puts it there (here: this build).
    execFileSync("mkdir", ["-p", bin])
    writeFileSync(NodePath.join(bin, "fishbowl-llm"), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(BIN)} "$@"\n`, { mode: 0o755 })
    const shellEnv = { HOME: home, PATH: `${bin}:${process.env["PATH"] ?? ""}`, TERM: "xterm-256color", FISHBOWL_DATA_DIR: dataDir }
    // A login shell resets PATH (Debian's /etc/profile), so the user's own profile puts this
    // build first, as a user's ~/.bash_profile would: never an installed fishbowl-llm elsewhere.
    writeFileSync(NodePath.join(home, ".bash_profile"), `PATH=${quote(bin)}:"$PATH"\n`)
    // The install lines exactly as the script prints them in its comment.
    const script = execFileSync(process.execPath, [BIN, "completions", "bash"], { encoding: "utf8" })
    const lines = [...script.matchAll(/^# {3}(mkdir .*|fishbowl-llm completions bash > .*)$/gm)].map((match) => match[1]!)
    expect(lines).toHaveLength(2)
    execFileSync("bash", ["-c", lines.join("\n")], { env: shellEnv })
    // A new login shell, as a user opens one: bash-completion loads the installed script on demand.
    const name = `bash${++counter}`
    const envPart = Object.entries(shellEnv).map(([key, value]) => quote(`${key}=${value}`)).join(" ")
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "30", `env -i ${envPart} bash --login -i`)
    const screen = () => tmux("capture-pane", "-p", "-t", name)
    await waitFor("a prompt", () => (screen().trim().endsWith("#") || screen().trim().endsWith("$") ? true : undefined))
    tmux("send-keys", "-t", name, "-l", "fishbowl-llm show W")
    tmux("send-keys", "-t", name, "Tab")
    await waitFor("the name completed", () => (screen().includes("fishbowl-llm show Work\\ GPT") ? true : undefined))
    tmux("send-keys", "-t", name, "C-u")
    tmux("send-keys", "-t", name, "-l", "fishbowl-llm add --provider ol")
    tmux("send-keys", "-t", name, "Tab")
    await waitFor("the provider completed", () => (screen().includes("fishbowl-llm add --provider ollama") ? true : undefined))
    tmux("kill-session", "-t", name)
  })
})
