/**
 * fishbowl-llm as a subprocess on the real Secret Service: every command, the exit codes, the
 * error format, and that the key never reaches stdout (except `key`) or stderr.
 */
import { ProcessLiveness } from "@fishbowl/desktop-layer"
import { ChildProcesses, FishbowlFiles, SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import type { Liveness } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeEach, describe, expect, it } from "vitest"
import { buildCli } from "../scripts/build-cli.mjs"
import * as ExitCodes from "../src/cli/ExitCodes.ts"

const secretService = await SecretServiceHarness.startSecretService()
afterAll(() => secretService.stop())

const BIN = fileURLToPath(new URL("../bin/fishbowl-llm.cjs", import.meta.url))
const keychainEnv = { ...SecretServiceHarness.childEnv(secretService.env), PATH: process.env["PATH"] ?? "" }
const noKeychainEnv = { PATH: process.env["PATH"] ?? "", HOME: tmpdir() }

interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const allOutput: Array<string> = []
let dataDir = ""

const cli = async (args: ReadonlyArray<string>, options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> => {
  const result = await ChildProcesses.runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], {
    env: options.env ?? keychainEnv,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {})
  })
  allOutput.push(result.stdout, result.stderr)
  return result
}

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = NodePath.join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

/** Fishbowl's four configurations, the `custom` one on a LAN host over plain http. */
const lanFishbowlConfigs = () =>
  FishbowlFiles.fishbowlConfigs().map((config) => config.provider === "custom" ? { ...config, baseUrl: "http://10.0.0.5:8000/v1" } : config)

/** Writes those into the data folder as a Fishbowl test build would, keys in plain text (canaries). */
const writeLanFishbowlFiles = (label: string) => {
  const configs = lanFishbowlConfigs()
  const keys = Object.fromEntries(configs.map((config) => [config.id, Fixtures.makeCanaryKey(label)]))
  FishbowlFiles.writeLlmConfigJson(dataDir, configs)
  FishbowlFiles.writeTestSecureKeysJson(dataDir, keys)
  return { configs, keys }
}

beforeEach(() => {
  dataDir = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-cli-"))
  return () => rmSync(dataDir, { recursive: true, force: true })
})

describe("fishbowl-llm", () => {
  it("add, list, show, key, update, remove on the real keychain; the key only ever leaves through `key`", async () => {
    const canary = Fixtures.makeCanaryKey("cli")
    const added = await cli(["add", "--provider", "openai", "--name", "Work", "--api-key-stdin", "--json"], { stdin: `${canary}\n` })
    expect(added.code, added.stderr).toBe(0)
    const config = JSON.parse(added.stdout)
    expect(Object.keys(config).sort()).toEqual([
      "createdAt",
      "hasKey",
      "id",
      "keyStorage",
      "name",
      "provider",
      "updatedAt",
      "useAuthHeader"
    ])
    expect(config).toMatchObject({ provider: "openai", name: "Work", hasKey: true, useAuthHeader: true })

    const listed = await cli(["list", "--json"])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout).map((c: { id: string }) => c.id)).toEqual([config.id])
    const table = await cli(["list"])
    // the effective default URL is shown (issue 13), not just "(default)"
    expect(table.stdout).toMatch(/Work\s+openai\s+https:\/\/api\.openai\.com\/v1 \(default\)\s+stored/)

    const byName = await cli(["show", "work", "--json"])
    const byId = await cli(["show", config.id, "--json"])
    expect(JSON.parse(byName.stdout)).toEqual(config)
    expect(JSON.parse(byId.stdout)).toEqual(config)

    const key = await cli(["key", "Work"])
    expect(key.code).toBe(0)
    expect(key.stdout).toBe(`${canary}\n`)
    expect(key.stderr).toBe("")

    const moved = await cli(["update", "Work", "--base-url", "https://proxy.example.com/v1", "--json"])
    expect(moved.code).toBe(2)
    expect(JSON.parse(moved.stderr).error).toMatchObject({ _tag: "InvalidInput" })
    const replacement = Fixtures.makeCanaryKey("cli-replacement")
    const updated = await cli([
      "update",
      "Work",
      "--base-url",
      "https://proxy.example.com/v1",
      "--name",
      "Proxy",
      "--api-key-stdin",
      "--json"
    ], { stdin: replacement })
    expect(updated.code, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: "Proxy", baseUrl: "https://proxy.example.com/v1" })
    expect((await cli(["key", "Proxy"])).stdout).toBe(`${replacement}\n`)

    const removed = await cli(["remove", "Proxy"])
    expect(removed.code).toBe(0)
    const gone = await cli(["show", "Proxy"])
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/^error: .+\nhint: .+\n$/)

    const keyOutputs = new Set([`${canary}\n`, `${replacement}\n`])
    for (const text of allOutput.filter((output) => !keyOutputs.has(output))) {
      expect(text).not.toContain(canary)
      expect(text).not.toContain(replacement)
    }
    for (const file of filesUnder(dataDir)) {
      const content = readFileSync(file, "utf8")
      expect(content).not.toContain(canary)
      expect(content).not.toContain(replacement)
    }
  })

  it("refuses to print a key to a terminal unless --reveal", async () => {
    const canary = Fixtures.makeCanaryKey("tty")
    expect((await cli(["add", "--provider", "anthropic", "--name", "T", "--api-key-stdin"], { stdin: canary })).code).toBe(0)
    // `script` gives the CLI a pseudo-terminal as stdout.
    const keyOnTty = (name: string) =>
      new Promise<CliResult>((resolve) => {
        const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --data-dir ${JSON.stringify(dataDir)} key ${name}`
        const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: ChildProcesses.REPO_ROOT, env: keychainEnv })
        let stdout = ""
        child.stdout.on("data", (chunk) => (stdout += chunk))
        child.on("exit", (code) => resolve({ code, stdout, stderr: "" }))
        child.stdin.end()
      })
    const onTty = await keyOnTty("T")
    expect(onTty.code).toBe(2)
    expect(onTty.stdout).toContain("Refusing to print a key to a terminal")
    // the hint names this config and its provider's own variable (an Anthropic key here)
    expect(onTty.stdout).toContain("export ANTHROPIC_API_KEY=$(fishbowl-llm key T)")
    expect(onTty.stdout).not.toContain(canary)
    // a config without a key says that, not that printing was refused
    expect((await cli(["add", "--provider", "ollama", "--name", "Local"])).code).toBe(0)
    const keyless = await keyOnTty("Local")
    expect(keyless.code).toBe(3)
    expect(keyless.stdout).not.toContain("Refusing")
    expect(keyless.stdout).toContain("has no API key")
  })

  it("show says the truth: a typed default URL is the default, and a keyless config sends no auth header", async () => {
    expect((await cli(["add", "--provider", "ollama", "--name", "Local"])).code).toBe(0)
    const local = await cli(["show", "Local"])
    expect(local.stdout).toContain("base URL:    http://localhost:11434 (default)\n")
    expect(local.stdout).toContain("auth header: none (no key to send)\n")
    const typed = ["add", "--provider", "openai", "--name", "Typed", "--base-url", "https://api.openai.com/v1", "--api-key-stdin"]
    expect((await cli(typed, { stdin: "sk-typed-default-url" })).code).toBe(0)
    const shown = await cli(["show", "Typed"])
    expect(shown.stdout).toContain("base URL:    https://api.openai.com/v1 (default)\n")
    expect(shown.stdout).toContain("auth header: yes\n")
    expect((await cli(["list"])).stdout).toMatch(/Typed\s+openai\s+https:\/\/api\.openai\.com\/v1 \(default\)/)
    // another URL is not the default
    expect(
      (await cli(["update", "Typed", "--base-url", "https://proxy.example.com/v1", "--api-key-stdin"], { stdin: "sk-typed-default-url" }))
        .code
    )
      .toBe(0)
    expect((await cli(["show", "Typed"])).stdout).toContain("base URL:    https://proxy.example.com/v1\n")
  })

  it("a mistyped configuration name or provider id gets the one it most likely meant", async () => {
    expect((await cli(["add", "--provider", "ollama", "--name", "Office"])).code).toBe(0)
    const show = await cli(["show", "Ofice"])
    expect(show.code).toBe(3)
    expect(show.stderr).toContain("error: No configuration named \"Ofice\"; did you mean \"Office\"?")
    expect(show.stderr).toContain("hint: Run `fishbowl-llm list` to see the configurations.")
    const provider = await cli(["add", "--provider", "opnai", "--name", "X", "--api-key-stdin"], { stdin: "sk-x" })
    expect(provider.code).toBe(2)
    expect(provider.stderr).toContain("Unknown provider \"opnai\"; did you mean \"openai\"?")
    // nothing close: no guess
    expect((await cli(["show", "Zebra"])).stderr).not.toContain("did you mean")
  })

  it("maps failures to exit codes and one-line errors (JSON with --json)", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Dup", "--api-key-stdin"], { stdin: "sk-one" })).code).toBe(0)
    const conflict = await cli(["add", "--provider", "openai", "--name", "dup", "--api-key-stdin", "--json"], { stdin: "sk-two" })
    expect(conflict.code).toBe(8)
    // the JSON carries the reason a script can act on, beside the words
    expect(JSON.parse(conflict.stderr)).toEqual({
      error: { _tag: "Conflict", reason: "name-taken", message: expect.any(String), hint: expect.stringContaining("--name") }
    })
    expect((await cli(["add", "--provider", "nope", "--name", "X", "--api-key-stdin"], { stdin: "sk-x" })).code).toBe(2)
    const nul = await cli(["add", "--provider", "openai", "--name", "Nul", "--api-key-stdin"], { stdin: "sk-bad\u0000key" })
    expect(nul.code).toBe(2)
    expect(nul.stderr).toContain("apiKey")
    expect((await cli(["add", "--provider", "openai", "--name", "NoKey"])).code).toBe(2)
    expect((await cli(["frobnicate"])).code).toBe(2)
    expect((await cli(["list", "--bogus-flag"])).code).toBe(2)
    expect((await cli(["providers", "--json"])).stdout).toContain("\"anthropic\"")
  })

  it("locked keychain → 4, then works after unlocking", async () => {
    await secretService.lock()
    try {
      const locked = await cli(["add", "--provider", "openai", "--name", "Locked", "--api-key-stdin"], { stdin: "sk-locked" })
      expect(locked.code).toBe(4)
      expect(locked.stderr).toMatch(/hint: .*[Uu]nlock/)
    } finally {
      await secretService.unlock()
    }
    expect((await cli(["add", "--provider", "openai", "--name", "Locked", "--api-key-stdin"], { stdin: "sk-locked" })).code).toBe(0)
  })

  it("no keychain → 5 with the install hint, unless FISHBOWL_SECRET_BACKEND=session", async () => {
    const unavailable = await cli(["add", "--provider", "openai", "--name", "NoKeychain", "--api-key-stdin"], {
      stdin: "sk-x",
      env: noKeychainEnv
    })
    expect(unavailable.code).toBe(5)
    expect(unavailable.stderr).toMatch(/hint: .*gnome-keyring/)
    // Nothing reached a keychain, so the failed add leaves nothing to finish (issue 21, item 5).
    const leftBehind = JSON.parse(readFileSync(NodePath.join(dataDir, "preferences.json"), "utf8")).llm.journal
    expect(leftBehind).toEqual([])
    expect(unavailable.stderr).not.toContain("doctor --fix")
    const session = await cli(["add", "--provider", "openai", "--name", "Session", "--api-key-stdin"], {
      stdin: "sk-session",
      env: { ...noKeychainEnv, FISHBOWL_SECRET_BACKEND: "session" }
    })
    expect(session.code, session.stderr).toBe(0)
    const doctor = await cli(["doctor", "--json"], { env: { ...noKeychainEnv, FISHBOWL_SECRET_BACKEND: "session" } })
    expect(JSON.parse(doctor.stdout)).toMatchObject({ tier: "session", persistent: false, secure: false })
  })

  it("corrupted preferences.json → 6 once with what was quarantined, then empty", async () => {
    writeFileSync(NodePath.join(dataDir, "preferences.json"), "{ not json")
    const first = await cli(["list"])
    expect(first.code).toBe(6)
    expect(first.stderr).toContain("preferences.json.corrupt-")
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
    expect(readdirSync(dataDir).some((name) => name.startsWith("preferences.json.corrupt-"))).toBe(true)
  })

  it("a preferences.json restored from its backup: the command succeeds (0) and says what was restored on stderr", async () => {
    expect((await cli(["add", "--provider", "ollama", "--name", "Local"])).code).toBe(0)
    expect((await cli(["add", "--provider", "ollama", "--name", "Second"])).code).toBe(0) // a backup of the first state exists
    writeFileSync(NodePath.join(dataDir, "preferences.json"), "{ not json")
    const listed = await cli(["list", "--json"])
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout).map((config: { name: string }) => config.name)).toContain("Local")
    expect(listed.stderr).toMatch(/^warning: preferences.json could not be used: .* was restored/m)
    expect(listed.stderr).toContain("preferences.json.corrupt-")
    expect(listed.stderr).toMatch(/^hint: /m)
  })

  it("plain http with a key to a private network needs --allow-insecure-http; to a public host never", async () => {
    const key = Fixtures.makeCanaryKey("lan")
    const lan = ["add", "--provider", "openai-compatible", "--name", "LAN", "--base-url", "http://10.0.0.5:8000/v1", "--api-key-stdin"]
    const refused = await cli(lan, { stdin: key })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("plain http")
    const consented = await cli([...lan, "--allow-insecure-http", "--json"], { stdin: key })
    expect(consented.code, consented.stderr).toBe(0)
    expect(JSON.parse(consented.stdout)).toMatchObject({
      baseUrl: "http://10.0.0.5:8000/v1",
      allowInsecureHttp: true,
      keyStorage: "keychain"
    })
    expect((await cli(["show", "LAN"])).stdout).toContain("(plain http allowed)")
    const publicHost = await cli([
      "add",
      "--provider",
      "openai-compatible",
      "--name",
      "Pub",
      "--base-url",
      "http://llm.example.com/v1",
      "--api-key-stdin",
      "--allow-insecure-http"
    ], { stdin: key })
    expect(publicHost.code).toBe(2)
    expect((await cli(["add", "--provider", "ollama", "--name", "Home", "--base-url", "http://192.168.1.10:11434"])).code).toBe(0)
    for (const output of [refused, consented, publicHost]) expect(output.stdout + output.stderr).not.toContain(key)
  })

  it("test NAME: lists the models at the config's own base URL with its key; 0 ok, 10 refused, 11 unreachable", async () => {
    const { createServer } = await import("node:http")
    const goodKey = Fixtures.makeCanaryKey("good")
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = []
    const server = createServer((request, response) => {
      seen.push({ url: request.url, authorization: request.headers.authorization })
      const ok = request.headers.authorization === `Bearer ${goodKey}`
      response.writeHead(ok ? 200 : 401, { "content-type": "application/json" })
      response.end(
        ok ? JSON.stringify({ data: [{ id: "a" }, { id: "b" }] }) : JSON.stringify({ error: `bad key ${request.headers.authorization}` })
      )
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as { port: number }).port
      const base = `http://127.0.0.1:${port}/v1`
      expect(
        (await cli(["add", "--provider", "openai-compatible", "--name", "Good", "--base-url", base, "--api-key-stdin"], { stdin: goodKey }))
          .code
      ).toBe(0)
      expect(
        (await cli(["add", "--provider", "openai-compatible", "--name", "Bad", "--base-url", base, "--api-key-stdin"], {
          stdin: Fixtures.makeCanaryKey("bad")
        })).code
      ).toBe(0)
      const ok = await cli(["test", "Good"])
      expect(ok.code, ok.stderr).toBe(0)
      expect(ok.stdout).toMatch(/^ok: "Good" \(openai-compatible\) answered in \d+ ms and listed 2 models\n$/)
      expect(seen.at(-1)).toEqual({ url: "/v1/models", authorization: `Bearer ${goodKey}` })
      const refused = await cli(["test", "Bad", "--json"])
      expect(refused.code).toBe(10)
      expect(JSON.parse(refused.stdout).outcome._tag).toBe("Unauthorized")
      expect((await cli(["show", "Good"])).stdout).toMatch(/last test: +\S+: ok/)
      for (const output of [ok, refused]) expect(output.stdout + output.stderr).not.toContain(goodKey)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    const closed = await cli(["test", "Good"])
    expect(closed.code).toBe(11)
    expect(closed.stderr).toMatch(/^error: /)
  })

  it("test NAME never sends a key to a base URL it was not entered for (a hand edit of preferences.json): exit 3, nothing sent", async () => {
    const { createServer } = await import("node:http")
    const key = Fixtures.makeCanaryKey("bound")
    const seen: Array<string | undefined> = []
    const server = createServer((request, response) => {
      seen.push(request.headers.authorization)
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ data: [] }))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as { port: number }).port
      expect(
        (await cli([
          "add",
          "--provider",
          "openai-compatible",
          "--name",
          "Work",
          "--base-url",
          "https://llm.example.com/v1",
          "--api-key-stdin"
        ], { stdin: key })).code
      ).toBe(0)
      const file = NodePath.join(dataDir, "preferences.json")
      writeFileSync(file, readFileSync(file, "utf8").replace("https://llm.example.com/v1", `http://127.0.0.1:${port}/v1`))
      const test = await cli(["test", "Work"])
      expect(test.code, test.stderr).toBe(3)
      expect(test.stderr).toContain("entered for a different provider or base URL")
      expect(seen, "the server at the edited URL got no request").toEqual([])
      const printed = await cli(["key", "Work"])
      expect(printed.code).toBe(3)
      expect(printed.stdout + printed.stderr + test.stdout + test.stderr).not.toContain(key)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("timeout → 7", async () => {
    const timedOut = await cli(["add", "--provider", "openai", "--name", "Slow", "--api-key-stdin"], {
      stdin: "sk-slow",
      env: { ...keychainEnv, FISHBOWL_CLI_TIMEOUT_MS: "1" }
    })
    expect(timedOut.code).toBe(7)
    expect(timedOut.stderr).toContain("did not finish within 1 ms")
  })

  it("doctor --probe writes, reads and deletes a probe entry on the real keychain", async () => {
    const doctor = await cli(["doctor", "--probe", "--json"])
    expect(doctor.code, doctor.stderr).toBe(0)
    const report = JSON.parse(doctor.stdout)
    expect(report).toMatchObject({ tier: "keychain", backend: "keytar", secure: true, persistent: true, probed: true })
    expect(report.findings).toContainEqual(expect.objectContaining({ id: "secrets.probe", severity: "ok" }))
  })

  it("migrate imports llm_config.json + test_secure_keys.json into the keychain and removes the plaintext", async () => {
    const canary = Fixtures.makeCanaryKey("migrate")
    const legacyId = "5b0c8f0e-2a61-4c4e-9d2e-8f1b7c3a9e10"
    // As Fishbowl writes them (see FishbowlFiles.ts for the Fishbowl source of each fact).
    FishbowlFiles.writeLlmConfigJson(dataDir, [{
      id: legacyId,
      customName: "Legacy",
      provider: "anthropic",
      useAuthHeader: true,
      createdAt: "2025-08-07T10:00:00.000Z",
      updatedAt: "2025-08-07T10:00:00.000Z"
    }])
    FishbowlFiles.writeTestSecureKeysJson(dataDir, { [legacyId]: canary })
    const migrated = await cli(["migrate", "--json"])
    expect(migrated.code, migrated.stderr).toBe(0)
    expect(JSON.parse(migrated.stdout).migrated).toEqual([expect.objectContaining({ name: "Legacy", configId: legacyId })])
    expect(migrated.stdout).not.toContain(canary)
    expect((await cli(["key", "Legacy"])).stdout).toBe(`${canary}\n`)
    for (const file of filesUnder(dataDir)) expect(readFileSync(file, "utf8")).not.toContain(canary)
    const again = await cli(["migrate", "--json"])
    expect(JSON.parse(again.stdout).migrated).toEqual([])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).nothingToDo).toBe(true)
  })

  it("migrate of Fishbowl's production files (safeStorage) without the desktop app: exit 5, says the app must finish, keeps every file", async () => {
    const configs = FishbowlFiles.fishbowlConfigs()
    const keys = Object.fromEntries(configs.map((config) => [config.id, Fixtures.makeCanaryKey("safe")]))
    FishbowlFiles.writeLlmConfigJson(dataDir, configs)
    FishbowlFiles.writeSecureKeysJson(dataDir, keys)
    const before = readdirSync(dataDir).sort().map((name) => [name, readFileSync(NodePath.join(dataDir, name), "latin1")])
    const migrated = await cli(["migrate"])
    expect(migrated.code).toBe(5)
    expect(migrated.stderr).toContain("error: The migration is incomplete: 4 configurations not imported, 1 file still holds keys")
    expect(migrated.stderr).toContain("only the desktop app can decrypt: start Fishbowl once")
    for (const config of configs) expect(migrated.stdout).toContain(`skipped   "${config.customName}"`)
    expect(migrated.stdout).toContain(`${NodePath.join(dataDir, "secure_keys.json")}: Fishbowl's keys, encrypted with Electron safeStorage`)
    expect(readdirSync(dataDir).sort().map((name) => [name, readFileSync(NodePath.join(dataDir, name), "latin1")])).toEqual(before)
    expect(JSON.parse((await cli(["list", "--json"])).stdout)).toEqual([])
    const json = await cli(["migrate", "--json"])
    expect(json.code).toBe(5)
    expect(JSON.parse(json.stderr).error._tag).toBe("MigrationIncomplete")
    expect(JSON.parse(json.stdout).needsDesktopApp).toBe(true)
  })

  it("migrate with a base URL our rules refuse: exit 9, the fix printed, the rest imported", async () => {
    const { keys } = writeLanFishbowlFiles("url")
    const migrated = await cli(["migrate"])
    expect(migrated.code).toBe(9)
    expect(migrated.stdout).toContain("invalid base URL: plain http to a network host would send the key unencrypted")
    expect(migrated.stdout).toContain(
      `fix: Change "baseUrl" of "Self-hosted vLLM" in ${
        NodePath.join(dataDir, "llm_config.json")
      } from "http://10.0.0.5:8000/v1" to an https:// URL`
    )
    expect(migrated.stdout.match(/^  migrated /gm)?.length).toBe(3)
    for (const key of Object.values(keys)) expect(migrated.stdout + migrated.stderr).not.toContain(key)
  })

  /** Runs a command exactly as printed, in bash, with `fishbowl-llm` as this build on this data folder. */
  const runAsPrinted = (command: string) =>
    ChildProcesses.runChild("bash", ["-c", `fishbowl-llm() { "${process.execPath}" "${BIN}" --data-dir "${dataDir}" "$@"; }\n${command}`], {
      env: keychainEnv
    })

  it("Fishbowl's files not imported yet are seen by list and doctor; every printed command works as printed (issue 22)", async () => {
    const configs = lanFishbowlConfigs()
    const fresh = await cli(["doctor"])
    expect(fresh.stdout).not.toContain("is valid (0 configurations)")
    expect(fresh.stdout).toContain("preferences.json does not exist yet")
    const { keys } = writeLanFishbowlFiles("seen")

    const list = await cli(["list"])
    expect(list.code).toBe(0)
    expect(list.stdout).toBe("No configurations imported yet.\n")
    expect(list.stderr).toContain(
      `note: Fishbowl's configurations in ${dataDir} (llm_config.json, test_secure_keys.json) are not imported yet.`
    )
    const doctor = await cli(["doctor"])
    expect(doctor.stdout).toContain(`Fishbowl's configurations in ${dataDir} are not imported yet (llm_config.json, test_secure_keys.json)`)

    // The hint's command, run as printed, imports all but the LAN http entry, whose fix names the
    // consent flag; that command, run as printed, imports it with the consent recorded.
    const hinted = /hint: Run `([^`]+)`/.exec(list.stderr)![1]!
    const first = await runAsPrinted(hinted)
    expect(first.code, first.stderr).toBe(9)
    const consent = /run `(fishbowl-llm migrate --from \S+ --allow-insecure-http '[^']+')`/.exec(first.stdout)![1]!
    const second = await runAsPrinted(consent)
    expect(second.code, second.stderr + second.stdout).toBe(0)
    expect(second.stdout).toContain(
      `renamed   ${NodePath.join(dataDir, "llm_config.json")} to ${NodePath.join(dataDir, "llm_config.json.migrated")}`
    )
    const stored = JSON.parse((await cli(["list", "--json"])).stdout) as Array<{ name: string; allowInsecureHttp?: boolean }>
    expect(stored.map((config) => config.name).sort()).toEqual(configs.map((config) => config.customName).sort())
    expect(stored.filter((config) => config.allowInsecureHttp === true).map((config) => config.name)).toEqual(["Self-hosted vLLM"])
    const after = await cli(["list"])
    expect(after.stderr).not.toContain("not imported yet")
    for (const key of Object.values(keys)) expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(key)
  })

  it("a hostile folder's escape sequences never reach the terminal: the migration report is escaped, text and JSON (issue 22)", async () => {
    const from = NodePath.join(dataDir, "old\u001b[2Kfolder")
    mkdirSync(from)
    const id = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
    writeFileSync(
      NodePath.join(from, "llm_config.json"),
      JSON.stringify([{
        id,
        customName: "Evil\u001b[1A\u001b[2K\rfiles that still hold keys: none\u009b31m",
        provider: "\u001b]0;owned\u0007openai\u009b2J",
        useAuthHeader: true,
        createdAt: "2025-08-07T10:00:00.000Z",
        updatedAt: "2025-08-07T10:00:00.000Z"
      }]),
      { mode: 0o600 }
    )
    FishbowlFiles.writeTestSecureKeysJson(from, { [id]: Fixtures.makeCanaryKey("evil") })
    for (const args of [["migrate", "--from", from], ["migrate", "--from", from, "--json"]]) {
      const result = await cli(args)
      expect(result.code).toBe(9)
      // No C0 control (ESC, BEL, CR) and no C1 control (CSI U+009B) is printed raw.
      expect(result.stdout + result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
      expect(result.stdout).toContain("unknown provider")
    }
  })

  it("migrate --from a folder that does not exist fails (exit 2), it is not \"nothing to migrate\"", async () => {
    const missing = await cli(["migrate", "--from", NodePath.join(dataDir, "nonexistent")])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("does not exist")
    expect(missing.stdout).toBe("")
  })
})

/**
 * Runs the CLI with stdin left open: a command that reads it before failing would hang (and be
 * killed by runChild's hang catcher, failing the test).
 */
const cliStdinOpen = async (args: ReadonlyArray<string>, env: Record<string, string> = keychainEnv) => {
  const { code, stderr, stdout } = await ChildProcesses.runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], {
    env,
    stdinOpen: true
  })
  allOutput.push(stdout, stderr)
  return { code, stdout, stderr }
}

const showJson = async (reference: string) => {
  const shown = await cli(["show", reference, "--json"])
  expect(shown.code, shown.stderr).toBe(0)
  return JSON.parse(shown.stdout)
}

describe("fishbowl-llm command line (effect/cli)", () => {
  it("plain http with a key to a LAN host: the hint names --allow-insecure-http, and the command with it works as printed", async () => {
    const args = ["add", "--provider", "openai-compatible", "--name", "LAN", "--base-url", "http://192.168.1.5:8080/v1", "--api-key-stdin"]
    const refused = await cli(args, { stdin: "sk-lan\n" })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("hint: Use an https URL, or add --allow-insecure-http to add if you accept")
    expect(refused.stderr).not.toMatch(/highlighted|only for localhost/)
    expect((await cli([...args, "--allow-insecure-http"], { stdin: "sk-lan\n" })).code).toBe(0)
  })

  it("--api-key VALUE is refused without echoing it, points to --api-key-stdin and warns about shell history; the printed example works", async () => {
    const canary = "sk-canary-on-the-command-line-4711"
    for (const args of [["add", "--provider", "openai", "--name", "Work", "--api-key", canary], ["add", `--api-key=${canary}`]]) {
      const refused = await cli(args)
      expect(refused.code).toBe(2)
      expect(refused.stdout + refused.stderr).not.toContain(canary)
      expect(refused.stderr).toContain("there is no --api-key, nothing was changed")
      expect(refused.stderr).toContain("shell history")
      // the example in the hint, run as printed (the key piped in on stdin instead of printenv)
      const example = /`printenv OPENAI_API_KEY \| fishbowl-llm ([^`]+)`/.exec(refused.stderr)![1]!.split(" ")
      expect(example).toEqual(["add", "--provider", "openai", "--name", "Work", "--api-key-stdin"])
    }
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
    expect((await cli(["add", "--provider", "openai", "--name", "Work", "--api-key-stdin"], { stdin: "sk-piped\n" })).code).toBe(0)
    const update = await cli(["update", "Work", "--api-key", canary])
    expect(update.code).toBe(2)
    expect(update.stderr).not.toContain(canary)
    const example = /`printenv OPENAI_API_KEY \| fishbowl-llm ([^`]+)`/.exec(update.stderr)![1]!.split(" ")
    expect(example).toEqual(["update", "Work", "--api-key-stdin"])
    expect((await cli(example, { stdin: "sk-piped-again\n" })).code).toBe(0)
    expect((await cli(["key", "Work"])).stdout).toBe("sk-piped-again\n")
  })

  it("per-command help with examples on stdout, --version, and bare usage on stderr with exit 2", async () => {
    const add = await cli(["add", "--help"])
    const list = await cli(["list", "--help"])
    expect(add.code).toBe(0)
    expect(add.stderr).toBe("")
    expect(add.stdout).toContain("--provider")
    expect(add.stdout).toContain("--no-auth-header")
    expect(add.stdout).toMatch(/EXAMPLES[\s\S]*fishbowl-llm add --provider/)
    expect(list.stdout).not.toContain("--provider")
    expect(list.stdout).not.toBe(add.stdout)
    const version = await cli(["--version"])
    expect(version).toMatchObject({ code: 0, stdout: "fishbowl-llm v0.1.0\n" })
    const bare = await ChildProcesses.runChild(process.execPath, [BIN], { env: keychainEnv })
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe("")
    expect(bare.stderr).toContain("SUBCOMMANDS")
  })

  it("refuses flags a command does not take, unknown flags (with a suggestion) and extra arguments: exit 2, stderr only", async () => {
    const mixed = await cli(["list", "--provider", "anthropic", "--reveal", "--probe"])
    expect(mixed.code).toBe(2)
    expect(mixed.stdout).toBe("")
    expect(mixed.stderr).toMatch(/^error: unknown option --provider for list\nhint: /)
    const typo = await cli(["list", "--jsno"])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain("Did you mean --json?")
    const command = await cli(["lsit"])
    expect(command.code).toBe(2)
    expect(command.stderr).toContain("Did you mean list?")
    const pasted = Fixtures.makeCanaryKey("pasted")
    expect((await cli(["add", "--provider", "ollama", "--name", "W"])).code).toBe(0)
    const extra = await cli(["key", "W", pasted])
    expect(extra.code).toBe(2)
    expect(extra.stdout).toBe("")
    expect(extra.stderr).toContain("unexpected extra argument")
    expect(extra.stderr).not.toContain(pasted)
    const json = await cli(["list", "--bogus", "--json"])
    expect(JSON.parse(json.stderr).error).toMatchObject({ _tag: "InvalidInput", message: expect.stringContaining("--bogus") })
  })

  it("update --provider is refused and changes nothing; --no-auth-header and --auth-header both work", async () => {
    expect((await cli(["add", "--provider", "anthropic", "--name", "Work", "--api-key-stdin"], { stdin: "sk-ant-1" })).code).toBe(0)
    const before = await showJson("Work")
    const provider = await cli(["update", "Work", "--provider", "openai"])
    expect(provider.code).toBe(2)
    expect(provider.stdout).not.toContain("Updated")
    expect(provider.stderr).toContain("cannot change a configuration's provider")
    expect(await showJson("Work")).toEqual(before)
    const nothing = await cli(["update", "Work"])
    expect(nothing.code).toBe(2)
    expect(nothing.stderr).toContain("Nothing to change")
    expect(await showJson("Work")).toEqual(before)
    expect((await cli(["update", "Work", "--no-auth-header"])).code).toBe(0)
    expect((await showJson("Work")).useAuthHeader).toBe(false)
    expect((await cli(["update", "Work", "--auth-header"])).code).toBe(0)
    expect((await showJson("Work")).useAuthHeader).toBe(true)
  })

  it("shell completions for bash, zsh and fish name the commands and their flags", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const script = await cli(["completions", shell])
      expect(script.code, script.stderr).toBe(0)
      expect(script.stdout).toContain("fishbowl-llm")
      expect(script.stdout).toContain("providers")
      expect(script.stdout).toContain("api-key-stdin")
      // Install comments this CLI can run (the generated ones named a `--completions` flag it does
      // not have), and names and provider ids completed from `fishbowl-llm names` (issue 25).
      expect(script.stdout).not.toContain("--completions")
      expect(script.stdout).toContain(`fishbowl-llm completions ${shell} > `)
      expect(script.stdout).toMatch(shell === "fish" ? /names configs/ : /_fishbowl_llm_complete_names configs/)
      expect(script.stdout).toMatch(shell === "fish" ? /names providers/ : /_fishbowl_llm_complete_names providers/)
    }
    expect((await cli(["completions", "tcsh"])).code).toBe(2)
    // What completion reads: names only, never the keychain (this run has no keychain at all).
    expect((await cli(["add", "--provider", "ollama", "--name", "Local Box"])).code).toBe(0)
    const names = await cli(["names", "configs"], { env: noKeychainEnv })
    expect(names).toMatchObject({ code: 0, stdout: "Local Box\n", stderr: "" })
    expect((await cli(["names", "providers"], { env: noKeychainEnv })).stdout.split("\n")).toContain("openai-compatible")
  })

  it("checks that need no key run before the key is read; keyless providers read none", async () => {
    const cases: Array<[ReadonlyArray<string>, RegExp]> = [
      [["add", "--provider", "nope", "--name", "X", "--api-key-stdin"], /Unknown provider "nope"[\s\S]*fishbowl-llm providers/],
      [["add", "--provider", "openai-compatible", "--name", "X", "--api-key-stdin"], /needs a base URL[\s\S]*--base-url/],
      [["add", "--provider", "openai", "--name", " ", "--api-key-stdin"], /name[\s\S]*--name/],
      [["add", "--provider", "openai", "--name", "X", "--base-url", "http://example.com", "--api-key-stdin"], /https[\s\S]*--base-url/]
    ]
    for (const [args, message] of cases) {
      const result = await cliStdinOpen(args)
      expect(result.code, args.join(" ")).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).not.toMatch(/highlighted field|listed providers/)
    }
    expect((await cli(["add", "--provider", "openai", "--name", "Taken", "--api-key-stdin"], { stdin: "sk-1" })).code).toBe(0)
    const taken = await cliStdinOpen(["add", "--provider", "openai", "--name", "TAKEN", "--api-key-stdin"])
    expect(taken.code).toBe(8)
    expect(taken.stderr).toContain("Choose another --name")
    const local = await cliStdinOpen(["add", "--provider", "ollama", "--name", "Local", "--json"])
    expect(local.code, local.stderr).toBe(0)
    expect(JSON.parse(local.stdout)).toMatchObject({ provider: "ollama", hasKey: false })
  })

  it("a key on stdin is read only up to the 16 KiB bound: 100 MB is never buffered", async () => {
    const child = spawn(process.execPath, [BIN, "--data-dir", dataDir, "add", "--provider", "openai", "--name", "Big", "--api-key-stdin"], {
      cwd: ChildProcesses.REPO_ROOT,
      env: keychainEnv,
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const chunk = Buffer.alloc(64 * 1024, "a")
    let accepted = 0
    let exited = false
    const exit = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => {
        exited = true
        resolve(code)
      })
    )
    child.stdin.on("error", () => {})
    // Write up to 100 MB, as fast as the child takes it (each write waits for the pipe to drain,
    // so what is offered follows what the child reads, however slow the machine); stops when the
    // child exits or closes the pipe.
    while (!exited && accepted < 100 * 1024 * 1024 && !child.stdin.destroyed) {
      const more = child.stdin.write(chunk)
      accepted += chunk.length
      if (!more) await Promise.race([once(child.stdin, "drain"), once(child.stdin, "close"), exit]).catch(() => {})
    }
    expect(await exit).toBe(2)
    expect(stderr).toContain("longer than 16384 bytes")
    // what the child read is bounded by the pipe's buffers, not by what was offered
    expect(accepted).toBeLessThan(8 * 1024 * 1024)
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
    const empty = await cli(["add", "--provider", "openai", "--name", "Empty", "--api-key-stdin"], { stdin: "" })
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/^error: No API key on standard input\nhint: Pipe the key in/)
  })

  it("errors never echo escape or control characters from the command line", async () => {
    const evil = "x\u001b]0;pwned\u0007\u001b[31m"
    const shown = await cli(["show", evil])
    expect(shown.code).toBe(3)
    expect(shown.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    expect(shown.stderr).toContain("\\x1b")
    const named = await cli(["add", "--provider", "ollama", "--name", evil])
    expect(named.code).toBe(2)
    expect(named.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    const option = await cli(["list", `--${evil}`])
    expect(option.code).toBe(2)
    expect(option.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    // a data folder named with an escape sequence (from FISHBOWL_DATA_DIR, say) is quoted safely too
    const evilDir = NodePath.join(dataDir, "\u001b[2Jdir")
    const doctor = await ChildProcesses.runChild(process.execPath, [BIN, "doctor"], { env: { ...keychainEnv, FISHBOWL_DATA_DIR: evilDir } })
    expect(doctor.stdout).toContain("\\x1b[2Jdir")
    expect(doctor.stdout + doctor.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
  })

  it("terminal words: aligned tables with headers, the effective default URL, real plurals, hints that name a command", async () => {
    const providersTable = (await cli(["providers"])).stdout.split("\n").filter((line) => line !== "")
    expect(providersTable[0]).toMatch(/^ID\s+NAME\s+KEY\s+DEFAULT BASE URL$/)
    const column = providersTable[0]!.indexOf("DEFAULT BASE URL")
    expect(providersTable.find((line) => line.startsWith("openai "))!.slice(column)).toBe("https://api.openai.com/v1")
    expect(providersTable.find((line) => line.startsWith("ollama "))!.slice(column)).toBe("http://localhost:11434")
    expect((await cli(["add", "--provider", "ollama", "--name", "One"])).code).toBe(0)
    const listed = (await cli(["list"])).stdout
    expect(listed).toMatch(/^NAME\s+PROVIDER\s+BASE URL\s+KEY\s+ID\n/)
    expect(listed).toContain("http://localhost:11434 (default)")
    const doctor = await cli(["doctor"])
    expect(doctor.stdout).toContain("(1 configuration)")
    expect(doctor.stdout).not.toMatch(/\(s\)|\b1 configurations/)
    const noKey = await cli(["key", "One"])
    expect(noKey.code).toBe(3)
    expect(noKey.stderr).toContain("hint: Add one with `fishbowl-llm update One --api-key-stdin`.")
  })

  it("stdout carries only the result: a store warning goes to stderr", async () => {
    expect((await cli(["add", "--provider", "ollama", "--name", "A"])).code).toBe(0)
    // a backup generation that cannot be rotated makes the preferences store log a warning
    const { copyFileSync, mkdirSync } = await import("node:fs")
    // a .bak.1 to push down to .bak.2, which is a non-empty directory (it cannot be renamed over)
    copyFileSync(NodePath.join(dataDir, "preferences.json"), NodePath.join(dataDir, "preferences.json.bak.1"))
    for (let generation = 2; generation <= 9; generation++) {
      mkdirSync(NodePath.join(dataDir, `preferences.json.bak.${generation}`, "x"), { recursive: true })
    }
    const added = await cli(["add", "--provider", "ollama", "--name", "B", "--json"])
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ name: "B" })
    expect(added.stderr).toMatch(/^warning: .*backup rotation failed/m)
  })
})

describe("fishbowl-llm doctor", () => {
  it("a directory in place of preferences.json gives findings and exit 6; a FIFO does not hang it", async () => {
    const { mkdirSync } = await import("node:fs")
    mkdirSync(NodePath.join(dataDir, "preferences.json"))
    const doctor = await cli(["doctor", "--json"])
    expect(doctor.code).toBe(6)
    const report = JSON.parse(doctor.stdout)
    expect(report).toMatchObject({ tier: "keychain" })
    expect(report.findings).toContainEqual(
      expect.objectContaining({ id: "preferences.type", severity: "error", message: expect.stringContaining("a directory") })
    )
    expect(report.findings).toContainEqual(expect.objectContaining({ id: "keychain.reachable", severity: "ok" }))
    rmSync(NodePath.join(dataDir, "preferences.json"), { recursive: true })
    const { execFileSync } = await import("node:child_process")
    execFileSync("mkfifo", [NodePath.join(dataDir, "preferences.json")])
    const fifo = await cli(["doctor"])
    expect(fifo.code).toBe(6)
    expect(fifo.stdout).toContain("preferences.json is a named pipe (FIFO), not a file")
  })

  it("lists leftover files that hold keys (the platform's finding), without printing a key", async () => {
    const canary = Fixtures.makeCanaryKey("leftover")
    const legacyId = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    writeFileSync(NodePath.join(dataDir, "llm_config.json"), JSON.stringify([{ id: legacyId, provider: "anthropic", name: "Old" }]))
    writeFileSync(NodePath.join(dataDir, "test_secure_keys.json"), JSON.stringify({ [`llm_api_key_${legacyId}`]: canary }))
    const doctor = await cli(["doctor"])
    expect(doctor.code, doctor.stdout).toBe(0)
    expect(doctor.stdout).toMatch(/warning\s+1 file in .* still holds API keys outside the keychain: test_secure_keys\.json/)
    expect(doctor.stdout).toContain(`fix: Run \`fishbowl-llm migrate --from ${dataDir}\``)
    expect(doctor.stdout + doctor.stderr).not.toContain(canary)
  })

  it("--probe finds a configuration whose key is missing from the keychain (exit 3); internal names only as detail", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Gone", "--api-key-stdin"], { stdin: "sk-gone" })).code).toBe(0)
    expect((await cli(["add", "--provider", "openai", "--name", "Kept", "--api-key-stdin"], { stdin: "sk-kept" })).code).toBe(0)
    const healthy = await cli(["doctor", "--probe"])
    expect(healthy.code, healthy.stdout).toBe(0)
    expect(healthy.stdout).toContain("All 2 keys are in the keychain")
    const gone = await showJson("Gone")
    const { execFileSync } = await import("node:child_process")
    // keytar/libsecret store entries with the attributes service + account (keytar's keytar_posix.cc)
    execFileSync("secret-tool", ["clear", "service", `fishbowl.openai.${gone.id}`, "account", "apiKey"], { env: keychainEnv })
    const doctor = await cli(["doctor", "--probe"])
    expect(doctor.code).toBe(3)
    expect(doctor.stdout).toMatch(/error\s+"Gone" should have a key, but the keychain has none for it/)
    expect(doctor.stdout).toContain("fix: Enter the key again with `fishbowl-llm update \"Gone\" --api-key-stdin`.")
    expect(doctor.stdout).toContain(`detail: fishbowl.openai.${gone.id}/apiKey`)
    const key = await cli(["key", "Gone"])
    expect(key.code).toBe(3)
    expect(key.stderr).not.toContain(`fishbowl.openai.${gone.id}`)
  })

  it("locked → 4, no keychain → 5, like the other commands", async () => {
    await secretService.lock()
    try {
      const locked = await cli(["doctor"])
      expect(locked.code, locked.stdout).toBe(4)
      expect(locked.stdout).toMatch(/The keychain is locked/)
      // the summary counts what made it fail: never "0 errors" with a failing exit code
      expect(locked.stdout).toMatch(/^[1-9]\d* errors?, \d+ warnings?\.$/m)
      expect(locked.stdout).not.toMatch(/^0 errors/m)
      // the tier line tells what is true now, not "secure, persistent"
      expect(locked.stdout).toMatch(/^keys kept in: keychain \(keytar\), locked now: keys can be neither saved nor read/m)
    } finally {
      await secretService.unlock()
    }
    const unavailable = await cli(["doctor", "--json"], { env: noKeychainEnv })
    expect(unavailable.code).toBe(5)
    expect(JSON.parse(unavailable.stdout).findings).toContainEqual(expect.objectContaining({ id: "keychain.reachable", severity: "error" }))
    const text = await cli(["doctor"], { env: noKeychainEnv })
    expect(text.stdout).toMatch(/^keys kept in: keychain \(keytar\), which cannot be reached now: keys can be neither saved nor read$/m)
    expect(text.stdout).not.toContain("secure, persistent")
    // fix: lines are actions; internal entry names only under detail:
    expect(text.stdout).toContain("fix: Start your keyring (gnome-keyring or KWallet)")
    expect(text.stdout).not.toMatch(/fix: The Secret Service cannot be reached/)
    expect(text.stdout).not.toMatch(/^(error|warning) .*fishbowl\.probe/m)
  })

  it("a locked keyring reads as locked, not absent, through the in-process keytar: key → 4, doctor --probe → 4", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "L", "--api-key-stdin"], { stdin: "sk-locked-read" })).code).toBe(0)
    await secretService.lock()
    try {
      const key = await cli(["key", "L"])
      expect(key.code, key.stderr).toBe(4)
      expect(key.stdout).toBe("")
      expect(key.stderr).toMatch(/locked/i)
      const doctor = await cli(["doctor", "--probe", "--json"])
      expect(doctor.code).toBe(4)
      expect(JSON.parse(doctor.stdout).findings).toContainEqual(expect.objectContaining({ id: "keys.locked", severity: "error" }))
    } finally {
      await secretService.unlock()
    }
    expect((await cli(["key", "L"])).stdout).toBe("sk-locked-read\n")
  })

  it("Ctrl-C while a keychain call is open: the process waits for the Secret Service's answer, then exits 130", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "S", "--api-key-stdin"], { stdin: "sk-slow-answer" })).code).toBe(0)
    const daemon = secretService.daemonPid
    expect(daemon).toBeTypeOf("number")
    // The real keytar, behind a module that notes each call in a file first: Ctrl-C is sent once
    // the keychain call is known to be open (an event, not a guess of how long start-up takes).
    const callsFile = NodePath.join(dataDir, "keychain-calls")
    const markingKeytar = NodePath.join(dataDir, "marking-keytar.cjs")
    writeFileSync(
      markingKeytar,
      `const real = require(${JSON.stringify(createRequire(import.meta.url).resolve("keytar"))})
const { appendFileSync } = require("node:fs")
module.exports = Object.fromEntries(Object.entries(real).map(([name, fn]) =>
  [name, typeof fn === "function" ? (...args) => (appendFileSync(${JSON.stringify(callsFile)}, name + "\\n"), fn(...args)) : fn]))
`
    )
    // A budget the wait below never reaches: this test is about Ctrl-C, not the CLI's 15 s budget.
    const env = { ...keychainEnv, FISHBOWL_KEYTAR_MODULE: markingKeytar, FISHBOWL_CLI_TIMEOUT_MS: "600000" }
    // A stopped daemon leaves the D-Bus call unanswered, as a busy or prompting keyring would.
    process.kill(daemon!, "SIGSTOP")
    let exited: { code: number | null; signal: string | null } | undefined
    try {
      const child = spawn(process.execPath, [BIN, "--data-dir", dataDir, "key", "S"], {
        cwd: ChildProcesses.REPO_ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => (stdout += chunk))
      child.stderr.on("data", (chunk) => (stderr += chunk))
      const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on("exit", (code, signal) => resolve(exited = { code, signal }))
      )
      await expect.poll(() => exited !== undefined || (existsSync(callsFile) && readFileSync(callsFile, "utf8") !== "")).toBe(true)
      expect(exited, `key ended before its keychain call was answered: ${stderr}`).toBeUndefined()
      child.kill("SIGINT")
      // That it did NOT end: a short look can only miss a wrong exit on a slow machine, never
      // fail a right one (the daemon stays stopped, so nothing can answer the call meanwhile).
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(exited, "Ctrl-C ended the process with a D-Bus call open").toBeUndefined()
      process.kill(daemon!, "SIGCONT")
      expect(await exit).toEqual({ code: 130, signal: null })
      // interrupted: the key that arrived after Ctrl-C is not printed
      expect(stdout).toBe("")
      expect(stderr).toBe("error: cancelled\nhint: Nothing was changed.\n")
    } finally {
      process.kill(daemon!, "SIGCONT")
    }
    expect(secretService.daemonPid).toBe(daemon)
    expect((await cli(["key", "S"])).stdout).toBe("sk-slow-answer\n")
  })

  it("recovery undoes a change only once its process is gone; doctor --fix names one that still runs or cannot be checked", async () => {
    const configId = "0b5c9e1a-7d2f-4c3b-9a8e-1f2d3c4b5a69"
    const startedAt = new Date(Date.now() - 60 * 60_000).toISOString() // an hour old: age decides nothing
    /** An intent as LlmConfigStore.create writes it (packages/domain/src/PreferencesDocument.ts, Intent). */
    const writeIntent = (ownerProcess: Liveness.ProcessIdentity) =>
      writeFileSync(
        NodePath.join(dataDir, "preferences.json"),
        JSON.stringify({
          llm: {
            version: 1,
            configs: [],
            journal: [{
              id: "5e0f1c2d-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
              owner: "another-fishbowl-instance",
              ownerProcess,
              startedAt,
              op: "create",
              configId,
              provider: "openai",
              after: {
                id: configId,
                provider: "openai",
                name: "Stuck",
                useAuthHeader: true,
                createdAt: startedAt,
                updatedAt: startedAt,
                hasKey: true
              },
              keyChange: "set",
              phase: "pending"
            }]
          }
        }),
        { mode: 0o600 }
      )
    const journal = () => JSON.parse(readFileSync(NodePath.join(dataDir, "preferences.json"), "utf8")).llm.journal

    // 1. Its owner is this test's own process, which runs: nobody touches it.
    const alive = ProcessLiveness.currentProcess()
    writeIntent(alive)
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
    const running = await cli(["doctor", "--fix"])
    expect(running.stdout).toContain(`--fix left 1 change alone: still in progress (process ${process.pid} on ${alive.host})`)
    expect(running.stdout).toMatch(/--fix: no interrupted change to finish or undo/)
    expect(journal()).toHaveLength(1)

    // 2. Its owner could not be checked (another machine): left, with the command that takes it over.
    writeIntent({ ...alive, host: "another-machine.example" })
    const unknown = await cli(["doctor", "--fix"])
    expect(unknown.stdout).toContain("started by process")
    expect(unknown.stdout).toContain("which cannot be checked from here")
    const hint = /fix: If Fishbowl no longer runs there, finish them with `(fishbowl-llm [^`]+)`/.exec(unknown.stdout)
    expect(hint?.[1]).toBe("fishbowl-llm doctor --fix --assume-gone")
    const takenOver = await cli(hint![1]!.split(" ").slice(1))
    expect(takenOver.stdout).toMatch(/--fix: finished 0, undid 1/)
    expect(journal()).toEqual([])

    // 3. Its owner has exited: the next command of any kind undoes it, and the name is free again.
    const exited = await ChildProcesses.runChild(process.execPath, ["-p", "process.pid"], { env: keychainEnv })
    writeIntent({ ...alive, pid: Number(exited.stdout.trim()), started: "1" })
    expect((await cli(["list", "--json"])).stdout.trim()).toBe("[]")
    expect(journal()).toEqual([])
    expect((await cli(["add", "--provider", "ollama", "--name", "Stuck"])).code).toBe(0)
  })
})

describe("fishbowl-llm documentation", () => {
  it("the README's CLI section shows the real --help output", async () => {
    const readme = readFileSync(NodePath.join(ChildProcesses.REPO_ROOT, "README.md"), "utf8")
    const section = readme.slice(readme.indexOf("`fishbowl-llm --help` (every command"))
    const documented = section.slice(
      section.indexOf("```text\n") + "```text\n".length,
      section.indexOf("\n```", section.indexOf("```text\n"))
    )
    const help = await cli(["--help"])
    expect(help.code).toBe(0)
    expect(documented).toBe(help.stdout.replace(/\n$/, ""))
    // the exit-code table is ExitCodes' own, every code with its meaning (one definition)
    const flat = documented.replace(/\n\s+/g, " ")
    for (const [code, meaning] of ExitCodes.exitCodeMeanings) expect(flat).toContain(` ${code} ${meaning}`)
    expect(ExitCodes.exitCodeMeanings.map(([code]) => code)).toEqual(Object.values(ExitCodes.ExitCode).sort((a, b) => a - b))
  })
})

describe("fishbowl-llm bin", () => {
  /**
   * The bin and a private build beside it, in a temp folder (the shared cli-dist may be rebuilt
   * by a parallel test file meanwhile); `body` gets the app folder and the bin's path.
   */
  const withPrivateBuild = async (body: (appDir: string, copy: string) => Promise<void>) => {
    const { cpSync, mkdirSync } = await import("node:fs")
    const root = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-bin-"))
    try {
      const appDir = NodePath.join(root, "app")
      mkdirSync(NodePath.join(appDir, "bin"), { recursive: true })
      cpSync(BIN, NodePath.join(appDir, "bin", "fishbowl-llm.cjs"))
      await buildCli({ outDir: NodePath.join(appDir, "cli-dist") })
      await body(appDir, NodePath.join(appDir, "bin", "fishbowl-llm.cjs"))
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }

  it("runs with its build's V8 code cache, and never with a cache of another build", () =>
    withPrivateBuild(async (appDir, copy) => {
      const env = { ...keychainEnv, FISHBOWL_CLI_DEBUG_CACHE: "1" }
      const used = await ChildProcesses.runChild(process.execPath, [copy, "--version"], { env })
      expect(used).toMatchObject({ code: 0, stdout: "fishbowl-llm v0.1.0\n", stderr: "code cache used\n" })
      // same length, other build id: V8 alone would accept it
      const cacheFile = NodePath.join(appDir, "cli-dist", "fishbowl-llm.cjs.v8cache")
      const cache = readFileSync(cacheFile)
      const at = cache.indexOf("build ") + "build ".length
      cache.write(cache[at] === "0".charCodeAt(0) ? "1" : "0", at)
      writeFileSync(cacheFile, cache)
      const other = await ChildProcesses.runChild(process.execPath, [copy, "--version"], { env })
      expect(other).toMatchObject({ code: 0, stdout: "fishbowl-llm v0.1.0\n", stderr: "code cache absent\n" })
    }))

  it("a bare --help prints the help its build rendered, identical to the bundle's; another build's is never printed", () =>
    withPrivateBuild(async (appDir, copy) => {
      const help = (env: Record<string, string> = {}) =>
        ChildProcesses.runChild(process.execPath, [copy, "--help"], { env: { ...keychainEnv, ...env } })
      const rendered = await help({ FISHBOWL_CLI_PRERENDERED_HELP: "0" })
      expect(rendered.code).toBe(0)
      expect(rendered.stdout).toContain("USAGE\n  fishbowl-llm <subcommand> [flags]")
      expect(await help()).toMatchObject({ code: 0, stdout: rendered.stdout, stderr: "" })
      // the prerendered path is the one taken: a marked copy of this build's text is what prints
      const helpFile = NodePath.join(appDir, "cli-dist", "help.json")
      const stored = JSON.parse(readFileSync(helpFile, "utf8")) as { build: string; plain: string; colored: string }
      expect(stored.colored).toContain("\u001b[1mDESCRIPTION\u001b[0m")
      writeFileSync(helpFile, JSON.stringify({ ...stored, plain: `marked\n${stored.plain}` }))
      expect((await help()).stdout).toBe(`marked\n${rendered.stdout}`)
      // beside the global --data-dir (which does not change the help) the same text prints without the bundle
      for (const args of [["--data-dir", appDir, "--help"], ["--help", "--data-dir", appDir], [`--data-dir=${appDir}`, "--help"]]) {
        const printed = await ChildProcesses.runChild(process.execPath, [copy, ...args], { env: keychainEnv })
        expect(printed).toMatchObject({ code: 0, stdout: `marked\n${rendered.stdout}` })
      }
      // --help as the folder's value is not a request for help: the bundle answers
      const valued = await ChildProcesses.runChild(process.execPath, [copy, "--data-dir", "--help", "x"], { env: keychainEnv })
      expect(valued.stdout).not.toContain("marked")
      // another build's help (or a damaged file) falls through to the bundle
      writeFileSync(helpFile, JSON.stringify({ ...stored, build: `${stored.build}x`, plain: "stale\n" }))
      expect(await help()).toMatchObject({ code: 0, stdout: rendered.stdout })
      writeFileSync(helpFile, "{")
      expect(await help()).toMatchObject({ code: 0, stdout: rendered.stdout })
    }))
})
