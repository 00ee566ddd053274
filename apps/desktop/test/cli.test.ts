/**
 * fishbowl-llm as a subprocess on the real Secret Service: every command, the exit codes, the
 * error format, and that the key never reaches stdout (except `key`) or stderr.
 */
import { makeCanaryKey } from "@fishbowl/domain/testing"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeEach, describe, expect, it } from "vitest"
import { REPO_ROOT, runChild } from "../../../packages/desktop-layer/test-support/ChildProcesses.ts"
import { childEnv, startSecretService } from "../../../packages/desktop-layer/test-support/SecretServiceHarness.ts"
import {
  fishbowlConfigs,
  writeLlmConfigJson,
  writeSecureKeysJson,
  writeTestSecureKeysJson
} from "../../../packages/desktop-layer/test/fixtures/fishbowl/FishbowlFiles.ts"

const secretService = await startSecretService()
afterAll(() => secretService.stop())

const BIN = fileURLToPath(new URL("../bin/fishbowl-llm.mjs", import.meta.url))
const keychainEnv = { ...childEnv(secretService.env), PATH: process.env["PATH"] ?? "" }
const noKeychainEnv = { PATH: process.env["PATH"] ?? "", HOME: tmpdir() }

interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const allOutput: Array<string> = []
let dataDir = ""

const cli = async (args: ReadonlyArray<string>, options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> => {
  const result = await runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], {
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

beforeEach(() => {
  dataDir = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-cli-"))
  return () => rmSync(dataDir, { recursive: true, force: true })
})

describe("fishbowl-llm", () => {
  it("add, list, show, key, update, remove on the real keychain; the key only ever leaves through `key`", async () => {
    const canary = makeCanaryKey("cli")
    const added = await cli(["add", "--provider", "openai", "--name", "Work", "--api-key-stdin", "--json"], { stdin: `${canary}\n` })
    expect(added.code, added.stderr).toBe(0)
    const config = JSON.parse(added.stdout)
    expect(Object.keys(config).sort()).toEqual(["createdAt", "hasKey", "id", "name", "provider", "updatedAt", "useAuthHeader"])
    expect(config).toMatchObject({ provider: "openai", name: "Work", hasKey: true, useAuthHeader: true })

    const listed = await cli(["list", "--json"])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout).map((c: { id: string }) => c.id)).toEqual([config.id])
    const table = await cli(["list"])
    expect(table.stdout).toMatch(/Work\s+openai\s+\(default\)\s+stored/)

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
    const replacement = makeCanaryKey("cli-replacement")
    const updated = await cli(["update", "Work", "--base-url", "https://proxy.example.com/v1", "--name", "Proxy", "--api-key-stdin", "--json"], { stdin: replacement })
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
    const canary = makeCanaryKey("tty")
    expect((await cli(["add", "--provider", "anthropic", "--name", "T", "--api-key-stdin"], { stdin: canary })).code).toBe(0)
    // `script` gives the CLI a pseudo-terminal as stdout.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --data-dir ${JSON.stringify(dataDir)} key T`
    const onTty = await new Promise<CliResult>((resolve) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, env: keychainEnv })
      let stdout = ""
      child.stdout.on("data", (chunk) => (stdout += chunk))
      child.on("exit", (code) => resolve({ code, stdout, stderr: "" }))
      child.stdin.end()
    })
    expect(onTty.code).toBe(2)
    expect(onTty.stdout).toContain("Refusing to print a key to a terminal")
    expect(onTty.stdout).not.toContain(canary)
  })

  it("maps failures to exit codes and one-line errors (JSON with --json)", async () => {
    expect((await cli(["add", "--provider", "openai", "--name", "Dup", "--api-key-stdin"], { stdin: "sk-one" })).code).toBe(0)
    const conflict = await cli(["add", "--provider", "openai", "--name", "dup", "--api-key-stdin", "--json"], { stdin: "sk-two" })
    expect(conflict.code).toBe(8)
    expect(JSON.parse(conflict.stderr)).toEqual({ error: { _tag: "Conflict", message: expect.any(String), hint: expect.any(String) } })
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
    const unavailable = await cli(["add", "--provider", "openai", "--name", "NoKeychain", "--api-key-stdin"], { stdin: "sk-x", env: noKeychainEnv })
    expect(unavailable.code).toBe(5)
    expect(unavailable.stderr).toMatch(/hint: .*gnome-keyring/)
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
    const canary = makeCanaryKey("migrate")
    const legacyId = "5b0c8f0e-2a61-4c4e-9d2e-8f1b7c3a9e10"
    // As Fishbowl writes them (see FishbowlFiles.ts for the Fishbowl source of each fact).
    writeLlmConfigJson(dataDir, [{
      id: legacyId,
      customName: "Legacy",
      provider: "anthropic",
      useAuthHeader: true,
      createdAt: "2025-08-07T10:00:00.000Z",
      updatedAt: "2025-08-07T10:00:00.000Z"
    }])
    writeTestSecureKeysJson(dataDir, { [legacyId]: canary })
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
    const configs = fishbowlConfigs()
    const keys = Object.fromEntries(configs.map((config) => [config.id, makeCanaryKey("safe")]))
    writeLlmConfigJson(dataDir, configs)
    writeSecureKeysJson(dataDir, keys)
    const before = readdirSync(dataDir).sort().map((name) => [name, readFileSync(NodePath.join(dataDir, name), "latin1")])
    const migrated = await cli(["migrate"])
    expect(migrated.code).toBe(5)
    expect(migrated.stderr).toContain("error: The migration is incomplete: 4 configuration(s) not imported, 1 file(s) still hold keys")
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
    const configs = fishbowlConfigs().map((config) => config.provider === "custom" ? { ...config, baseUrl: "http://10.0.0.5:8000/v1" } : config)
    const keys = Object.fromEntries(configs.map((config) => [config.id, makeCanaryKey("url")]))
    writeLlmConfigJson(dataDir, configs)
    writeTestSecureKeysJson(dataDir, keys)
    const migrated = await cli(["migrate"])
    expect(migrated.code).toBe(9)
    expect(migrated.stdout).toContain("invalid base URL: base URL must use https")
    expect(migrated.stdout).toContain(`fix: Change "baseUrl" of "Self-hosted vLLM" in ${NodePath.join(dataDir, "llm_config.json")} from "http://10.0.0.5:8000/v1" to an https:// URL`)
    expect(migrated.stdout.match(/^  migrated /gm)?.length).toBe(3)
    for (const key of Object.values(keys)) expect(migrated.stdout + migrated.stderr).not.toContain(key)
  })

  it("migrate --from a folder that does not exist fails (exit 2), it is not \"nothing to migrate\"", async () => {
    const missing = await cli(["migrate", "--from", NodePath.join(dataDir, "nonexistent")])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("does not exist")
    expect(missing.stdout).toBe("")
  })
})
