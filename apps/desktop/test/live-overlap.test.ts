/**
 * Two live processes on the real keychain: an operation paused inside each of its steps in one
 * process (store-child.ts, built like the Electron app: DesktopLayer with a forked keytar worker),
 * while the real `fishbowl-llm` runs `list`, `doctor --fix` and a whole `add` in another. Nothing
 * may be lost or misreported: the paused operation's answer is true, no key is deleted under it,
 * no orphan is left, and doctor says the change was left alone because its process still runs.
 * One case pauses for a full minute (recovery once judged an intent by its age: 10 s). The cases
 * run concurrently (each in its own data folder), so the minute overlaps the others.
 */
import { DesktopLayer } from "@fishbowl/desktop-layer"
import {
  ChildProcesses,
  FishbowlFiles,
  PausedChild,
  SecretServiceForTests,
  SecretServiceHarness,
  TempDirs
} from "@fishbowl/desktop-layer/testing"
import { CrashPoints, type Ids, LlmConfigStore, PreferencesStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, Option, Redacted } from "effect"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const secretService = await SecretServiceForTests.secretServiceForThisFile()
const env = { ...SecretServiceHarness.childEnv(secretService.env), PATH: process.env["PATH"] ?? "" }
const BIN = fileURLToPath(new URL("../bin/fishbowl-llm.cjs", import.meta.url))
/** A pause far longer than the 10 s after which recovery used to call an intent crashed. */
const LONG_PAUSE_MILLIS = 60_000

const cli = (dataDir: string, args: ReadonlyArray<string>, stdin?: string) =>
  ChildProcesses.runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) })

/** What the store holds, read by a fresh process's DesktopLayer: configs, their keys, and the journal. */
const readBack = (dataDir: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const secrets = yield* SecretStore.SecretStore
      const journal = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
      const configs = yield* store.list
      const keys: Record<string, string | undefined> = {}
      for (const config of configs) {
        keys[config.name] = config.hasKey ? Redacted.value(yield* store.getApiKey(config.id)) : undefined
        const staged = yield* secrets.get(SecretRef.secretRefFor(config.provider, config.id, "apiKey.staged"))
        expect(Option.isNone(staged), `no staged copy left for ${config.name}`).toBe(true)
      }
      return { configs, keys, journal }
    }).pipe(Effect.scoped, Effect.provide(DesktopLayer.layer({ dataDir, secretBackend: "keychain", keytar: { workerEnv: env } })))
  )

const rawKey = (dataDir: string, provider: string, id: string) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const secrets = yield* SecretStore.SecretStore
      return yield* secrets.get(SecretRef.secretRefFor(provider as never, id as Ids.ConfigId))
    }).pipe(Effect.scoped, Effect.provide(DesktopLayer.layer({ dataDir, secretBackend: "keychain", keytar: { workerEnv: env } })))
  )

/** The other process's turn: list, doctor --fix, and a whole add of another config. */
const actBeside = async (dataDir: string, label: string, intentHeld: boolean) => {
  const listed = await cli(dataDir, ["list", "--json"])
  expect(listed.code, listed.stderr).toBe(0)
  const doctor = await cli(dataDir, ["doctor", "--fix", "--json"])
  const findings = JSON.parse(doctor.stdout).findings as Array<{ id: string; message: string }>
  const fix = findings.find((finding) => finding.id === "journal.fix")
  expect(fix?.message, `${label}: doctor --fix undid nothing`).toBe("--fix: no interrupted change to finish or undo")
  expect(findings.some((finding) => finding.id === "journal.running"), `${label}: doctor says a change is still running: ${doctor.stdout}`)
    .toBe(intentHeld)
  const added = await cli(dataDir, ["add", "--provider", "openai", "--name", `Beside ${label}`, "--api-key-stdin"], `sk-beside-${label}\n`)
  expect(added.code, added.stderr).toBe(0)
}

interface Case {
  readonly op: "create" | "update" | "rename" | "remove" | "import"
  readonly point: CrashPoints.CrashPoint
}

const cases: ReadonlyArray<Case> = [
  ...CrashPoints.crashPoints.create.map((point) => ({ op: "create" as const, point })),
  ...CrashPoints.crashPoints.update.map((point) => ({ op: "update" as const, point })),
  // a name-only update is one write (LlmConfigStore.updateMetadata): it passes only its commit
  { op: "rename" as const, point: "update.committed" as const },
  ...CrashPoints.crashPoints.remove.map((point) => ({ op: "remove" as const, point })),
  ...CrashPoints.crashPoints.migrate.filter((point) => point !== "migrate.plaintext-removed").map((point) => ({
    op: "import" as const,
    point
  }))
]

/** Whether the operation's intent is still in the journal at `point` (every commit drops it in the same write). */
const intentHeldAt = (point: CrashPoints.CrashPoint) =>
  !(point === "create.committed" || point === "update.committed" || point === "remove.committed" || point === "migrate.committed")

describe.concurrent("an operation paused in each of its steps while another process works beside it", () => {
  it(`a create paused for ${LONG_PAUSE_MILLIS / 1000} s keeps its key while other processes list, fix and add again and again`, async ({ onTestFinished }) => {
    const dataDir = TempDirs.testTempDir("long-pause", onTestFinished)
    const child = PausedChild.start({ dataDir, op: "create", point: "create.secret-written", env })
    expect(await child.paused).toBe("create.secret-written")
    const started = performance.now()
    let rounds = 0
    // The pause lasts at least LONG_PAUSE_MILLIS: others act at every age of the intent, 10 s included.
    while (performance.now() - started < LONG_PAUSE_MILLIS) {
      rounds++
      await actBeside(dataDir, String(rounds), true)
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
    child.resume()
    const { code, outcome, stderr } = await child.done
    expect(code, stderr).toBe(0)
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true)
    const { journal, keys } = await readBack(dataDir)
    expect(journal).toEqual([])
    expect(keys["Crashy"], "the key typed once is still there after a minute-long pause").toBe("sk-paused-new")
    expect(Object.keys(keys).length).toBe(rounds + 1)
  })

  for (const { op, point } of cases) {
    it(`${op} paused at ${point}: list, doctor --fix and another add lose nothing; its answer is true`, async ({ onTestFinished }) => {
      const dataDir = TempDirs.testTempDir("overlap", onTestFinished)
      const seed = op === "update" || op === "rename" || op === "remove"
        ? (await ChildProcesses.runChild(process.execPath, [
          "--import",
          "tsx",
          ChildProcesses.STORE_CHILD,
          dataDir,
          "create-many",
          "seed",
          "1"
        ], { env }))
        : undefined
      const seedId = seed === undefined ? undefined : JSON.parse(seed.stdout.trim().split("\n").at(-1)!).ids[0] as string
      const child = PausedChild.start({ dataDir, op, point, env, ...(seedId !== undefined ? { arg: seedId } : {}) })
      expect(await child.paused).toBe(point)
      await actBeside(dataDir, "1", intentHeldAt(point))
      if (seedId !== undefined && intentHeldAt(point)) {
        const busy = await cli(dataDir, ["update", seedId, "--name", "Meanwhile"])
        expect(busy.code, `a second change to the same config is refused while the first runs: ${busy.stderr}`).toBe(8)
      }
      child.resume()
      const { code, outcome, stderr } = await child.done
      expect(code, stderr).toBe(0)
      expect(outcome.ok, JSON.stringify(outcome)).toBe(true)

      const { configs, journal, keys } = await readBack(dataDir)
      expect(journal, "nothing was left unfinished").toEqual([])
      expect(keys["Beside 1"]).toBe("sk-beside-1")
      const names = configs.map((config) => config.name).sort()
      switch (op) {
        case "create":
          expect(names).toEqual(["Beside 1", "Crashy"])
          expect(keys["Crashy"], "the key of the create that was told 'Added' is there").toBe("sk-paused-new")
          break
        case "update":
          expect(names).toEqual(["Beside 1", "Renamed"])
          expect(keys["Renamed"]).toBe("sk-paused-new")
          expect(configs.find((config) => config.name === "Renamed")?.baseUrl).toBe("https://new.example.com/")
          break
        case "rename":
          expect(names).toEqual(["Beside 1", "Renamed"])
          expect(keys["Renamed"]).toBe("sk-seed-0")
          break
        case "remove":
          expect(names).toEqual(["Beside 1"])
          expect(Option.isNone(await rawKey(dataDir, "openai", seedId!)), "the removed config's key is gone, no orphan").toBe(true)
          break
        case "import":
          expect(outcome.result).toBe("Imported")
          expect(names).toEqual(["Beside 1", "Imported"])
          expect(keys["Imported"]).toBe("sk-imported")
          break
      }
    })
  }

  for (const point of ["migrate.intent-recorded", "migrate.secret-verified"] as const) {
    it(`a Fishbowl migration paused at ${point}: doctor --fix beside it loses no key, and the key file goes only once its key is home`, async ({ onTestFinished }) => {
      const dataDir = TempDirs.testTempDir("migrate-overlap", onTestFinished)
      const [config] = FishbowlFiles.fishbowlConfigs()
      FishbowlFiles.writeLlmConfigJson(dataDir, [config!])
      FishbowlFiles.writeTestSecureKeysJson(dataDir, { [config!.id]: "sk-fishbowl-legacy" })
      const child = PausedChild.start({ dataDir, op: "migrate", point, arg: dataDir, env })
      expect(await child.paused).toBe(point)
      const doctor = await cli(dataDir, ["doctor", "--fix", "--json"])
      const findings = JSON.parse(doctor.stdout).findings as Array<{ id: string; message: string }>
      expect(findings.find((finding) => finding.id === "journal.fix")?.message).toBe("--fix: no interrupted change to finish or undo")
      expect(existsSync(`${dataDir}/test_secure_keys.json`), "the key file is kept while the import runs").toBe(true)
      child.resume()
      const { code, outcome, stderr } = await child.done
      expect(code, stderr).toBe(0)
      expect(outcome.result, JSON.stringify(outcome)).toMatchObject({ complete: true, migrated: 1 })
      const { keys } = await readBack(dataDir)
      expect(keys[config!.customName], "the migrated key is in the keychain").toBe("sk-fishbowl-legacy")
      expect(existsSync(`${dataDir}/test_secure_keys.json`), "the key file is removed once its key is verified home").toBe(false)
    })
  }
})
