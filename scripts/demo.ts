/**
 * `npm run demo`: fishbowl-llm end to end on a real Secret Service without touching yours. Starts a
 * private D-Bus + gnome-keyring (the test harness), then runs the CLI as a user would: add a key
 * from stdin, list, show, pipe the key out, look at the raw keychain entry with secret-tool, run
 * doctor, remove. Everything lives in temp folders removed at the end.
 */
import { SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

const cli = fileURLToPath(new URL("../apps/desktop/bin/fishbowl-llm.mjs", import.meta.url))
const secretService = await SecretServiceHarness.startSecretService()
const dataDir = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-demo-"))
const env = { ...SecretServiceHarness.childEnv(secretService.env), PATH: process.env["PATH"] ?? "", FISHBOWL_DATA_DIR: dataDir }
const demoKey = `sk-demo-${Math.random().toString(36).slice(2, 14)}`

const run = (title: string, command: string, args: ReadonlyArray<string>, stdin?: string) => {
  process.stdout.write(`\n$ ${title}\n`)
  const result = spawnSync(command, args, { env, input: stdin ?? "", encoding: "utf8" })
  process.stdout.write(result.stdout)
  process.stdout.write(result.stderr)
  process.stdout.write(`(exit ${result.status})\n`)
  return result
}

try {
  console.log(`Private Secret Service started; data folder ${dataDir}`)
  run("fishbowl-llm providers", process.execPath, [cli, "providers"])
  run(`echo <key> | fishbowl-llm add --provider openai --name Work --api-key-stdin`, process.execPath, [
    cli,
    "add",
    "--provider",
    "openai",
    "--name",
    "Work",
    "--api-key-stdin"
  ], `${demoKey}\n`)
  run("fishbowl-llm list", process.execPath, [cli, "list"])
  const shown = run("fishbowl-llm show Work --json", process.execPath, [cli, "show", "Work", "--json"])
  const id = JSON.parse(shown.stdout).id as string
  const piped = spawnSync(process.execPath, [cli, "key", "Work"], { env, encoding: "utf8" })
  console.log(
    `\n$ export OPENAI_API_KEY=$(fishbowl-llm key Work)\nthe piped key ${
      piped.stdout.trim() === demoKey ? "matches" : "DOES NOT match"
    } the one added (exit ${piped.status})`
  )
  run(`secret-tool lookup service fishbowl.openai.${id} account apiKey   # the OS keychain entry`, "secret-tool", [
    "lookup",
    "service",
    `fishbowl.openai.${id}`,
    "account",
    "apiKey"
  ])
  run("cat preferences.json   # metadata only, no key", "cat", [NodePath.join(dataDir, "preferences.json")])
  run("fishbowl-llm doctor --probe", process.execPath, [cli, "doctor", "--probe"])
  run("fishbowl-llm remove Work", process.execPath, [cli, "remove", "Work"])
  run("fishbowl-llm key Work", process.execPath, [cli, "key", "Work"])
} finally {
  await secretService.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
