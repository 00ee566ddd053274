/**
 * Migration of older Fishbowl configurations on real files in fresh temp folders: (a) keys inside
 * preferences.json, (b) llm_config.json + secure_keys.json / test_secure_keys.json. Keys are canaries;
 * after every migration a recursive scan of the data folder (backups, quarantined copies, temp
 * files, lock folders included) must not find one. Crashes at every migrate crash point (at every
 * entry) are defects in-process; recover and/or a re-run must end with every config exactly once,
 * with its key, and no plaintext left. The last suite runs on the REAL keychain (keytar on a
 * private gnome-keyring, SecretServiceHarness).
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import {
  Canonical,
  CrashPoints,
  Diagnostics,
  type Ids,
  KeyBinding,
  Liveness,
  type LlmConfig,
  LlmConfigStore,
  PreferencesStore,
  SecretRef,
  SecretStore
} from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Cause, Effect, Exit, Layer, Option, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import * as fsSync from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll } from "vitest"
import * as DesktopDiagnostics from "../src/DesktopDiagnostics.ts"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as JsonFilePreferencesStore from "../src/JsonFilePreferencesStore.ts"
import * as KeytarSecretStore from "../src/KeytarSecretStore.ts"
import * as Migration from "../src/Migration.ts"
import * as FishbowlFiles from "../src/testing/FishbowlFiles.ts"
import * as SecretServiceHarness from "../src/testing/SecretServiceHarness.ts"

// ---------------------------------------------------------------------------------------------
// Helpers

const tempDirs: Array<string> = []
afterAll(() => {
  for (const dir of tempDirs) fsSync.rmSync(dir, { recursive: true, force: true })
})
const freshDir = () => {
  const dir = fsSync.mkdtempSync(NodePath.join(os.tmpdir(), "fishbowl-migration-"))
  tempDirs.push(dir)
  return dir
}

const write = (dir: string, name: string, value: unknown) =>
  fsSync.writeFileSync(NodePath.join(dir, name), typeof value === "string" ? value : JSON.stringify(value, null, 2), { mode: 0o600 })
const exists = (dir: string, name: string) => fsSync.existsSync(NodePath.join(dir, name))
const readJson = (dir: string, name: string) => JSON.parse(fsSync.readFileSync(NodePath.join(dir, name), "utf8"))

/** Every file under `dir` (recursively, hidden ones and those in lock folders included). */
const allFiles = (dir: string): Array<string> =>
  fsSync.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = NodePath.join(dir, entry.name)
    return entry.isDirectory() ? allFiles(path) : [path]
  })

/** Files under `dir` whose bytes contain any canary (as UTF-8 text or JSON-escaped). */
const filesHolding = (dir: string, canaries: ReadonlyArray<string>) =>
  allFiles(dir).filter((path) => {
    const text = fsSync.readFileSync(path).toString("latin1")
    return canaries.some((canary) => text.includes(canary))
  })

/** Stand-in for Electron safeStorage: XOR + reversal, so the ciphertext never contains the key text. */
const encrypt = (plain: string) => Buffer.from(Buffer.from(plain, "utf8").map((byte) => byte ^ 0x5a).reverse()).toString("base64")
const decrypt = async (cipher: Buffer): Promise<string> => {
  if (cipher.length === 0 || cipher[0] === 0) throw new Error("safeStorage: Error while decrypting the ciphertext provided")
  return Buffer.from(Buffer.from(cipher).reverse().map((byte) => byte ^ 0x5a)).toString("utf8")
}

/** A memory store that calls itself persistent (Migration refuses session-only stores). */
const persistentMemory = () =>
  Effect.runSync(SecretStore.makeMemory({ description: { backend: "memory (test)", tier: "keychain", persistent: true } }))

/** Ports over `dataDir` and a given secret store; crash points as given. */
const portsLayer = (
  dataDir: string,
  secrets: SecretStore.SecretStoreService,
  crash: CrashPoints.CrashPointsLayer = Layer.empty
) =>
  Layer.mergeAll(
    Layer.succeed(SecretStore.SecretStore, secrets),
    JsonFilePreferencesStore.layer({ dataDir }),
    crash,
    NodeFileSystem.layer,
    Liveness.layerMemory
  )

/** Ports plus a store instance (one "process"). */
const appLayer = (
  dataDir: string,
  secrets: SecretStore.SecretStoreService,
  crash: CrashPoints.CrashPointsLayer = Layer.empty
) => LlmConfigStore.layer.pipe(Layer.provideMerge(portsLayer(dataDir, secrets, crash)))

/** Dies at the `occurrence`-th time `point` is reached (then never again). */
const crashAt = (point: CrashPoints.CrashPoint, occurrence: number): CrashPoints.CrashPointsLayer => {
  let seen = 0
  return CrashPoints.layerWith((reached) =>
    Effect.suspend(() => reached === point && ++seen === occurrence ? Effect.die(new CrashPoints.SimulatedCrash(point)) : Effect.void)
  )
}

interface Expected {
  readonly name: string
  readonly provider: string
  readonly key?: string
}

/** The invariants after a completed migration. */
const expectMigrated = (dataDir: string, expected: ReadonlyArray<Expected>, canaries: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const store = yield* LlmConfigStore.LlmConfigStore
    const configs = yield* store.list
    for (const entry of expected) {
      const matching = configs.filter((config) => Canonical.nameKey(config.name) === Canonical.nameKey(entry.name))
      assert.strictEqual(matching.length, 1, `"${entry.name}" present exactly once (have: ${configs.map((c) => c.name).join(", ")})`)
      const config = matching[0]!
      assert.strictEqual(config.provider, entry.provider)
      assert.strictEqual(config.hasKey, entry.key !== undefined)
      if (entry.key !== undefined) assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), entry.key)
    }
    assert.strictEqual(configs.length, expected.length, "no extra configurations")
    const status = yield* store.status
    assert.strictEqual(status.pendingIntents, 0, "journal is empty")
    assert.deepStrictEqual(filesHolding(dataDir, canaries), [], "no file in the data folder holds a key")
  })

const noKeyMaterial = (report: Migration.MigrationReport, canaries: ReadonlyArray<string>) => {
  const text = JSON.stringify(report)
  for (const canary of canaries) assert.notInclude(text, canary)
}

const isSimulatedCrash = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) && Cause.prettyErrors(exit.cause).some((error) => error.message.startsWith("Simulated crash"))

// ---------------------------------------------------------------------------------------------
// Fixtures

const OPENAI_ID = "0b4c2f6e-2f0a-4c4e-9d1b-7a6f5e4d3c2b"

/** (a): an llm section without `version`, keys inline, plus settings of other parts of the app. */
const legacyPreferences = (keys: { openai: string; anthropic: string }) => ({
  theme: "dark",
  window: { width: 1200 },
  llm: {
    configs: [
      { id: OPENAI_ID, provider: "openai", name: "Work", apiKey: keys.openai, createdAt: "2024-03-01T10:00:00.000Z" },
      { id: "2", providerId: "Anthropic", displayName: "Claude", baseUrl: "https://api.anthropic.com", apiKey: keys.anthropic },
      { provider: "ollama", name: "Local", baseUrl: "http://localhost:11434", apiKey: "" }
    ]
  }
})

const expectedA = (keys: { openai: string; anthropic: string }): Array<Expected> => [
  { name: "Work", provider: "openai", key: keys.openai },
  { name: "Claude", provider: "anthropic", key: keys.anthropic },
  { name: "Local", provider: "ollama" }
]

/** (b): llm_config.json with tolerant field names; keys in secure_keys.json (encrypted) or test_secure_keys.json. */
const legacyFolder = (dir: string, keys: { openai: string; google: string }, mode: "encrypted" | "plain") => {
  write(dir, "llm_config.json", [
    { id: OPENAI_ID, provider: "openai", name: "Work" },
    { id: 7, providerId: "gemini", displayName: "Gemini", base_url: "https://generativelanguage.googleapis.com/v1beta" },
    { id: "local-1", type: "ollama", label: "Local" }
  ])
  const mapping = { [`llm_api_key_${OPENAI_ID}`]: keys.openai, llm_api_key_7: keys.google }
  if (mode === "encrypted") {
    write(dir, "secure_keys.json", Object.fromEntries(Object.entries(mapping).map(([name, key]) => [name, encrypt(key)])))
  } else {
    write(dir, "test_secure_keys.json", mapping)
  }
}

const expectedB = (keys: { openai: string; google: string }): Array<Expected> => [
  { name: "Work", provider: "openai", key: keys.openai },
  { name: "Gemini", provider: "google", key: keys.google },
  { name: "Local", provider: "ollama" }
]

const canariesA = () => ({ openai: Fixtures.makeCanaryKey("mig-openai"), anthropic: Fixtures.makeCanaryKey("mig-anthropic") })
const canariesB = () => ({ openai: Fixtures.makeCanaryKey("mig-openai"), google: Fixtures.makeCanaryKey("mig-google") })

const migrate = (options?: Migration.MigrateOptions) => Migration.migrate(options)

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore on legacy content", () => {
  it.live("an unversioned llm section is refused with Unsupported: not quarantined, not rewritten", () => {
    const dir = freshDir()
    const keys = canariesA()
    write(dir, "preferences.json", legacyPreferences(keys))
    const before = fsSync.readFileSync(NodePath.join(dir, "preferences.json"))
    return Effect.gen(function*() {
      const store = yield* PreferencesStore.PreferencesStore
      for (const attempt of [store.load, store.update((document) => Effect.succeed([undefined, document] as const))]) {
        const error = yield* Effect.flip(attempt)
        assert.strictEqual(error._tag, "Unsupported")
        assert.include(error.message, "preferences.json holds configurations from an older Fishbowl that need migrating")
        assert.include(error.hint, "fishbowl-llm migrate")
      }
      assert.isTrue(fsSync.readFileSync(NodePath.join(dir, "preferences.json")).equals(before), "bytes unchanged")
      assert.deepStrictEqual(fsSync.readdirSync(dir).filter((name) => name.includes("corrupt")), [], "nothing quarantined")
    }).pipe(Effect.provide(JsonFilePreferencesStore.layer({ dataDir: dir })))
  })

  it.live("a current section whose config holds an apiKey is refused too (a write would drop the key)", () => {
    const dir = freshDir()
    const key = Fixtures.makeCanaryKey("v1-inline")
    write(dir, "preferences.json", {
      llm: {
        version: 1,
        configs: [{
          id: OPENAI_ID,
          provider: "openai",
          name: "Work",
          useAuthHeader: true,
          createdAt: "2024-01-01T00:00:00.000Z",
          updatedAt: "2024-01-01T00:00:00.000Z",
          hasKey: true,
          apiKey: key
        }],
        journal: []
      }
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* PreferencesStore.PreferencesStore).load)
      assert.strictEqual(error._tag, "Unsupported")
      assert.include(fsSync.readFileSync(NodePath.join(dir, "preferences.json"), "utf8"), key)
    }).pipe(Effect.provide(JsonFilePreferencesStore.layer({ dataDir: dir })))
  })
})

describe("Migration (a): keys inside preferences.json", () => {
  it.live("imports every config with its key, keeps other settings, scrubs backups, quarantine and temp copies", () => {
    const dir = freshDir()
    const keys = canariesA()
    const legacy = legacyPreferences(keys)
    write(dir, "preferences.json", legacy)
    // Generations and leftovers that hold the same keys.
    write(dir, "preferences.json.bak.1", legacy)
    write(dir, "preferences.json.bak.2", "{\"llm\":{\"configs\":[{\"apiKey\":\"" + keys.openai + "\"") // truncated
    write(dir, "preferences.json.corrupt-2024-05-01T10-00-00.000Z", legacy) // quarantined by an older build
    write(dir, ".preferences.json.4242.abcdef0123456789.tmp", legacy) // a crashed writer's temp file
    // A lock folder left by a crashed writer (stale: older than the 5 s stale time).
    fsSync.mkdirSync(NodePath.join(dir, "preferences.json.lock"))
    fsSync.utimesSync(NodePath.join(dir, "preferences.json.lock"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    const secrets = persistentMemory()
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.isFalse(report.nothingToDo)
      assert.deepStrictEqual(report.migrated.map((entry) => [entry.name, entry.provider, entry.hasKey]), [
        ["Work", "openai", true],
        ["Claude", "anthropic", true],
        ["Local", "ollama", false]
      ])
      assert.strictEqual(report.migrated[0]!.configId, OPENAI_ID, "a UUID v4 legacy id is kept")
      assert.deepStrictEqual(report.skipped, [], "the quarantined copy's identical entries are imported once")
      assert.deepStrictEqual(report.keptFiles, [])
      assert.include(report.removedFiles, NodePath.join(dir, "llm_migration_pending.json"))
      assert.include(report.removedFiles, NodePath.join(dir, ".preferences.json.4242.abcdef0123456789.tmp"))
      assert.include(report.rewrittenFiles, NodePath.join(dir, "preferences.json.bak.1"))
      // the truncated copy is not JSON, yet the key it names is replaced (not left for a rotation to evict)
      assert.include(report.rewrittenFiles, NodePath.join(dir, "preferences.json.bak.2"))
      noKeyMaterial(report, [keys.openai, keys.anthropic])

      yield* expectMigrated(dir, expectedA(keys), [keys.openai, keys.anthropic])
      // The keychain entry of the kept id is where the docs say it is.
      const stored = yield* (yield* SecretStore.SecretStore).get(SecretRef.secretRefFor("openai" as never, OPENAI_ID as Ids.ConfigId))
      // bound to the destination it was imported for (KeyBinding)
      const opened = Option.map(stored, (value) => KeyBinding.open(value, { provider: "openai" }))
      assert.strictEqual(
        Option.map(opened, (entry) => entry._tag === "Bound" ? Redacted.value(entry.key) : entry._tag).pipe(Option.getOrUndefined),
        keys.openai
      )
      const prefs = readJson(dir, "preferences.json")
      assert.strictEqual(prefs.theme, "dark")
      assert.deepStrictEqual(prefs.window, { width: 1200 })
      assert.strictEqual(prefs.llm.version, 1)
      assert.strictEqual(
        prefs.llm.configs.find((config: LlmConfig.LlmConfig) => config.id === OPENAI_ID).createdAt,
        "2024-03-01T10:00:00.000Z"
      )
      // Quarantined copy kept (keys removed), marked so it is not imported again.
      const quarantined = readJson(dir, "preferences.json.corrupt-2024-05-01T10-00-00.000Z")
      assert.strictEqual(quarantined.theme, "dark")
      assert.isObject(quarantined.fishbowlMigration)
      assert.isFalse(exists(dir, "llm_migration_pending.json"))
    }).pipe(Effect.provide(appLayer(dir, secrets)))
  })

  it.live("a current section with one inline key: that config keeps its id; clean configs stay untouched", () => {
    const dir = freshDir()
    const key = Fixtures.makeCanaryKey("v1-inline")
    const clean: LlmConfig.LlmConfig = {
      id: "7d1e5a3c-9b2f-4e8d-a6c4-1f3b5d7e9a0c" as Ids.ConfigId,
      provider: "ollama" as never,
      name: "Local",
      useAuthHeader: true,
      createdAt: "2024-01-01T00:00:00.000Z",
      updatedAt: "2024-01-01T00:00:00.000Z",
      hasKey: false
    }
    write(dir, "preferences.json", {
      llm: {
        version: 1,
        configs: [clean, { ...clean, id: OPENAI_ID, provider: "openai", name: "Work", hasKey: true, apiKey: key }],
        journal: []
      }
    })
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => [entry.name, entry.configId]), [["Work", OPENAI_ID]])
      yield* expectMigrated(dir, [{ name: "Local", provider: "ollama" }, { name: "Work", provider: "openai", key }], [key])
      assert.deepStrictEqual(readJson(dir, "preferences.json").llm.configs[0], clean)
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("running twice: the second run has nothing to do and changes nothing", () => {
    const dir = freshDir()
    const keys = canariesA()
    write(dir, "preferences.json", legacyPreferences(keys))
    return Effect.gen(function*() {
      yield* migrate()
      const snapshot = allFiles(dir).map((path) => [path, fsSync.readFileSync(path, "utf8")])
      const again = yield* migrate()
      assert.deepStrictEqual(again, {
        from: dir,
        rerunCommand: `fishbowl-llm migrate --from ${dir}`,
        nothingToDo: true,
        complete: true,
        needsDesktopApp: false,
        migrated: [],
        skipped: [],
        removedFiles: [],
        renamedFiles: [],
        rewrittenFiles: [],
        keptFiles: [],
        filesHoldingKeys: []
      })
      assert.deepStrictEqual(allFiles(dir).map((path) => [path, fsSync.readFileSync(path, "utf8")]), snapshot)
      yield* expectMigrated(dir, expectedA(keys), [keys.openai, keys.anthropic])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("entries that cannot be imported stay in the pending file (reported), the rest is migrated", () => {
    const dir = freshDir()
    const good = Fixtures.makeCanaryKey("good")
    const bad = `sk-bad\u0007${Fixtures.makeCanaryKey("bell")}`
    write(dir, "preferences.json", {
      llm: {
        configs: [
          { provider: "openai", name: "Good", apiKey: good },
          { provider: "openai", name: "Bell", apiKey: bad },
          { provider: "mistral", name: "Unknown", apiKey: Fixtures.makeCanaryKey("unknown") },
          {
            provider: "openai-compatible",
            name: "Insecure",
            baseUrl: "http://llm.example.com/v1",
            apiKey: Fixtures.makeCanaryKey("insecure")
          }
        ]
      }
    })
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => entry.name), ["Good"])
      assert.deepStrictEqual(report.skipped.map((entry) => [entry.name, entry.reason]), [
        ["Bell", "invalid key (empty, contains control characters or is too long)"],
        ["Unknown", "unknown provider \"mistral\""],
        ["Insecure", "invalid base URL: base URL must use https: plain http is allowed only to this machine or a private network"]
      ])
      noKeyMaterial(report, [good, bad])
      const pendingPath = NodePath.join(dir, "llm_migration_pending.json")
      assert.deepStrictEqual(report.keptFiles, [pendingPath])
      const pending = readJson(dir, "llm_migration_pending.json")
      assert.deepStrictEqual(pending.entries.map((entry: { legacy: { name: string } }) => entry.legacy.name), [
        "Bell",
        "Unknown",
        "Insecure"
      ])
      assert.deepStrictEqual(filesHolding(dir, [good]), [], "the migrated key is gone from disk")
      // The store works meanwhile; a re-run changes nothing and reports the same.
      assert.deepStrictEqual((yield* (yield* LlmConfigStore.LlmConfigStore).list).map((config) => config.name), ["Good"])
      const again = yield* migrate()
      assert.deepStrictEqual(again.migrated, [])
      assert.deepStrictEqual(again.skipped.map((entry) => entry.name), ["Bell", "Unknown", "Insecure"])
      assert.deepStrictEqual(again.keptFiles, [pendingPath])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a duplicate name is imported as \"<name> (imported)\"; an identical existing config counts as already migrated", () => {
    const dir = freshDir()
    const legacyKey = Fixtures.makeCanaryKey("dup")
    const sameKey = Fixtures.makeCanaryKey("same")
    return Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: Fixtures.makeCanaryKey("existing") }))
      yield* store.create(Fixtures.configInput({ provider: "anthropic", name: "Claude", apiKey: sameKey }))
      // Entries with an inline key appended to the current section (what an older build wrote).
      const current = readJson(dir, "preferences.json")
      write(dir, "preferences.json", {
        ...current,
        llm: {
          ...current.llm,
          configs: [
            ...current.llm.configs,
            { provider: "openai", name: "work", apiKey: legacyKey },
            { provider: "anthropic", name: "Claude", apiKey: sameKey }
          ]
        }
      })
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => [entry.name, entry.renamedFrom]), [["work (imported)", "work"]])
      assert.deepStrictEqual(report.skipped.map((entry) => [entry.name, entry.reason]), [["Claude", "already migrated"]])
      const configs = yield* store.list
      assert.deepStrictEqual(configs.map((config) => config.name), ["Work", "Claude", "work (imported)"])
      assert.strictEqual(Redacted.value(yield* store.getApiKey(configs[2]!.id)), legacyKey)
      assert.deepStrictEqual(filesHolding(dir, [legacyKey, sameKey]), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a session-only secret store is refused: files untouched", () => {
    const dir = freshDir()
    const keys = canariesA()
    write(dir, "preferences.json", legacyPreferences(keys))
    const secrets = Effect.runSync(SecretStore.makeMemory())
    return Effect.gen(function*() {
      const error = yield* Effect.flip(migrate())
      assert.strictEqual(error._tag, "Unsupported")
      assert.deepStrictEqual(fsSync.readdirSync(dir), ["preferences.json"])
      assert.include(fsSync.readFileSync(NodePath.join(dir, "preferences.json"), "utf8"), keys.openai)
    }).pipe(Effect.provide(portsLayer(dir, secrets)))
  })

  it.live("two migrations at once: each config once", () => {
    const dir = freshDir()
    const keys = canariesA()
    write(dir, "preferences.json", legacyPreferences(keys))
    return Effect.gen(function*() {
      const reports = yield* Effect.all([migrate(), migrate()], { concurrency: 2 })
      assert.strictEqual(reports[0].migrated.length + reports[1].migrated.length, 3)
      yield* expectMigrated(dir, expectedA(keys), [keys.openai, keys.anthropic])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })
})

describe("Migration (b): llm_config.json + secure_keys.json / test_secure_keys.json", () => {
  it.live("secure_keys.json decrypted by the injected function; other secrets in it are kept", () => {
    const dir = freshDir()
    const keys = canariesB()
    legacyFolder(dir, keys, "encrypted")
    const secureKeys = readJson(dir, "secure_keys.json")
    write(dir, "secure_keys.json", { ...secureKeys, github_token: encrypt("not-an-llm-key") })
    return Effect.gen(function*() {
      const report = yield* migrate({ decrypt })
      assert.deepStrictEqual(report.migrated.map((entry) => [entry.name, entry.provider]), [
        ["Work", "openai"],
        ["Gemini", "google"],
        ["Local", "ollama"]
      ])
      assert.strictEqual(report.migrated[0]!.configId, OPENAI_ID)
      noKeyMaterial(report, [keys.openai, keys.google])
      yield* expectMigrated(dir, expectedB(keys), [keys.openai, keys.google])
      assert.isFalse(exists(dir, "llm_config.json"))
      assert.deepStrictEqual(readJson(dir, "llm_config.json.migrated")[1].displayName, "Gemini")
      assert.deepStrictEqual(readJson(dir, "secure_keys.json"), { github_token: encrypt("not-an-llm-key") })
      assert.deepStrictEqual(report.keptFiles, [])
      assert.deepStrictEqual(report.rewrittenFiles, [NodePath.join(dir, "secure_keys.json")])
      assert.deepStrictEqual(report.renamedFiles, [{
        from: NodePath.join(dir, "llm_config.json"),
        to: NodePath.join(dir, "llm_config.json.migrated")
      }])
      assert.notInclude(report.removedFiles, NodePath.join(dir, "llm_config.json"))
      assert.isTrue((yield* migrate({ decrypt })).nothingToDo, "a key file with only other secrets is not legacy data")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("test_secure_keys.json (plain text), no decrypt needed; ids are stable across runs", () => {
    const dir = freshDir()
    const keys = canariesB()
    legacyFolder(dir, keys, "plain")
    return Effect.gen(function*() {
      const report = yield* migrate()
      yield* expectMigrated(dir, expectedB(keys), [keys.openai, keys.google])
      assert.deepStrictEqual(report.removedFiles, [NodePath.join(dir, "test_secure_keys.json")])
      assert.deepStrictEqual(report.renamedFiles, [{
        from: NodePath.join(dir, "llm_config.json"),
        to: NodePath.join(dir, "llm_config.json.migrated")
      }])
      assert.isTrue((yield* migrate()).nothingToDo)
      // The same files in the same folder map to the same ids (derived from folder + legacy id).
      const first = report.migrated.map((entry) => entry.configId)
      const again = freshDir()
      legacyFolder(again, keys, "plain")
      const other = yield* Migration.migrate({ from: again }).pipe(
        Effect.provide(appLayer(again, persistentMemory()))
      )
      assert.strictEqual(other.migrated[0]!.configId, first[0], "UUID legacy id reused")
      assert.notStrictEqual(other.migrated[1]!.configId, first[1], "derived ids depend on the folder")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("an undecryptable key: skipped with the reason, every file kept until it is migrated", () => {
    const dir = freshDir()
    const keys = canariesB()
    legacyFolder(dir, keys, "encrypted")
    const secureKeys = readJson(dir, "secure_keys.json")
    const brokenCipher = Buffer.concat([Buffer.from([0]), Buffer.from(secureKeys.llm_api_key_7, "base64")]).toString("base64")
    write(dir, "secure_keys.json", { ...secureKeys, llm_api_key_7: brokenCipher })
    const before = Object.fromEntries(
      ["llm_config.json", "secure_keys.json"].map((name) => [name, fsSync.readFileSync(NodePath.join(dir, name), "utf8")])
    )
    return Effect.gen(function*() {
      const report = yield* migrate({ decrypt })
      assert.deepStrictEqual(report.migrated.map((entry) => entry.name), ["Work", "Local"])
      assert.deepStrictEqual(report.skipped.map(({ fix: _fix, ...entry }) => entry), [{
        name: "Gemini",
        source: NodePath.join(dir, "llm_config.json"),
        reason: "key undecryptable (safeStorage could not decrypt it)",
        kind: "blocked"
      }])
      assert.include(report.skipped[0]!.fix, "safeStorage keys are tied to that login")
      assert.isFalse(report.complete)
      assert.deepStrictEqual(report.filesHoldingKeys.map((file) => file.path), [NodePath.join(dir, "secure_keys.json")])
      assert.deepStrictEqual(report.removedFiles, [])
      assert.deepStrictEqual([...report.keptFiles].sort(), [NodePath.join(dir, "llm_config.json"), NodePath.join(dir, "secure_keys.json")])
      for (const [name, text] of Object.entries(before)) assert.strictEqual(fsSync.readFileSync(NodePath.join(dir, name), "utf8"), text)

      // Once it decrypts (e.g. the desktop app with the right safeStorage), the rest follows.
      write(dir, "secure_keys.json", secureKeys)
      const again = yield* migrate({ decrypt })
      assert.deepStrictEqual(again.migrated.map((entry) => entry.name), ["Gemini"])
      assert.deepStrictEqual(again.skipped.map((entry) => entry.reason), ["already migrated", "already migrated"])
      yield* expectMigrated(dir, expectedB(keys), [keys.openai, keys.google])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("without decrypt (the CLI): secure_keys.json entries are skipped as needing the desktop app", () => {
    const dir = freshDir()
    const keys = canariesB()
    legacyFolder(dir, keys, "encrypted")
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => entry.name), ["Local"])
      assert.deepStrictEqual(report.skipped.map((entry) => entry.reason), [
        "needs the desktop app to decrypt (Electron safeStorage)",
        "needs the desktop app to decrypt (Electron safeStorage)"
      ])
      assert.isTrue(exists(dir, "secure_keys.json") && exists(dir, "llm_config.json"))
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })
})

// ---------------------------------------------------------------------------------------------
// Fishbowl's own files, written exactly as Fishbowl writes them (fixtures/fishbowl/FishbowlFiles.ts
// cites the Fishbowl source of every fact).

/** A Fishbowl user's folder: configs plus one canary key per config. */
const fishbowlUser = (dir: string, variant: "production" | "test", configs = FishbowlFiles.fishbowlConfigs()) => {
  const keys = Object.fromEntries(configs.map((config) => [config.id, Fixtures.makeCanaryKey(`fb-${config.provider}`)]))
  FishbowlFiles.writeLlmConfigJson(dir, configs)
  if (variant === "production") FishbowlFiles.writeSecureKeysJson(dir, keys)
  else FishbowlFiles.writeTestSecureKeysJson(dir, keys)
  return { configs, keys, canaries: Object.values(keys) }
}

/** Fishbowl's files with the `custom` entry's base URL on a LAN host over plain http (and its key). */
const lanFishbowlUser = (dir: string) => {
  const configs = FishbowlFiles.fishbowlConfigs().map((config) =>
    config.provider === "custom" ? { ...config, baseUrl: "http://192.168.1.20:8000/v1" } : config
  )
  const { keys, canaries } = fishbowlUser(dir, "test", configs)
  return { configs, keys, canaries, custom: configs.find((config) => config.provider === "custom")! }
}

/** Every Fishbowl config is in the store with its name, provider, base URL, flags, timestamps and key. */
const expectFishbowlImported = (configs: ReadonlyArray<FishbowlFiles.FishbowlLlmConfigMetadata>, keys: Record<string, string>) =>
  Effect.gen(function*() {
    const store = yield* LlmConfigStore.LlmConfigStore
    const stored = yield* store.list
    assert.strictEqual(stored.length, configs.length)
    for (const legacy of configs) {
      const config = stored.find((candidate) => candidate.id === legacy.id)
      assert.isDefined(config, `${legacy.customName} kept its Fishbowl id`)
      assert.deepStrictEqual(config, {
        id: legacy.id,
        provider: FishbowlFiles.OUR_PROVIDER[legacy.provider],
        name: legacy.customName,
        ...(legacy.baseUrl !== undefined ? { baseUrl: legacy.baseUrl } : {}),
        useAuthHeader: legacy.useAuthHeader,
        createdAt: legacy.createdAt,
        updatedAt: legacy.updatedAt,
        hasKey: true,
        keyStorage: "keychain"
      } as LlmConfig.LlmConfig)
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config!.id)), keys[legacy.id])
    }
    assert.strictEqual((yield* store.status).pendingIntents, 0)
  })

const fileBytes = (dir: string) =>
  Object.fromEntries(fsSync.readdirSync(dir).sort().map((name) => [name, fsSync.readFileSync(NodePath.join(dir, name), "latin1")]))

describe("Migration of Fishbowl's real files (llm_config.json + secure_keys.json / test_secure_keys.json)", () => {
  it.live("the fixture files have Fishbowl's shape: customName, double-prefixed key names, no key in llm_config.json", () =>
    Effect.sync(() => {
      const dir = freshDir()
      const { configs, keys } = fishbowlUser(dir, "test")
      const text = fsSync.readFileSync(NodePath.join(dir, "llm_config.json"), "utf8")
      assert.isFalse(text.endsWith("\n"), "safeJsonStringify writes no trailing newline")
      assert.deepStrictEqual(Object.keys(JSON.parse(text)[0]).sort(), [
        "createdAt",
        "customName",
        "id",
        "provider",
        "updatedAt",
        "useAuthHeader"
      ])
      assert.deepStrictEqual(
        Object.keys(readJson(dir, "test_secure_keys.json")),
        configs.map((config) => `test_llm_api_key_llm_api_key_${config.id}`)
      )
      assert.strictEqual(readJson(dir, "test_secure_keys.json")[FishbowlFiles.testSecureKeysName(configs[0]!.id)], keys[configs[0]!.id])
      const other = freshDir()
      fishbowlUser(other, "production", configs)
      assert.strictEqual(Object.keys(readJson(other, "secure_keys.json"))[0], FishbowlFiles.secureKeysName(configs[0]!.id))
      assert.deepStrictEqual(filesHolding(other, Object.values(keys)), [], "safeStorage ciphertext never holds the key text")
    }))

  for (const variant of ["test", "production"] as const) {
    it.live(`${variant} build: every config with its name, provider, base URL, timestamps and key; no key left; idempotent`, () => {
      const dir = freshDir()
      const { configs, keys, canaries } = fishbowlUser(dir, variant)
      const keyFile = variant === "production" ? "secure_keys.json" : "test_secure_keys.json"
      return Effect.gen(function*() {
        const report = yield* migrate(variant === "production" ? { decrypt: FishbowlFiles.safeStorage.decrypt } : {})
        noKeyMaterial(report, canaries)
        assert.deepStrictEqual(
          report.migrated.map((entry) => [entry.name, entry.provider, entry.configId, entry.hasKey]),
          configs.map((config) => [config.customName, FishbowlFiles.OUR_PROVIDER[config.provider], config.id, true])
        )
        assert.deepStrictEqual(report.skipped, [])
        assert.isTrue(report.complete)
        assert.isFalse(report.needsDesktopApp)
        assert.deepStrictEqual(report.filesHoldingKeys, [])
        // llm_config.json is renamed, not removed (it holds no key; kept as a record): said as such
        assert.deepStrictEqual(report.removedFiles, [NodePath.join(dir, keyFile)])
        assert.deepStrictEqual(report.renamedFiles, [{
          from: NodePath.join(dir, "llm_config.json"),
          to: NodePath.join(dir, "llm_config.json.migrated")
        }])
        yield* expectFishbowlImported(configs, keys)
        assert.deepStrictEqual(filesHolding(dir, canaries), [], "no key on disk")
        assert.isFalse(exists(dir, keyFile))
        assert.deepStrictEqual(readJson(dir, "llm_config.json.migrated"), configs, "the metadata is kept as it was")
        const before = fileBytes(dir)
        const again = yield* migrate(variant === "production" ? { decrypt: FishbowlFiles.safeStorage.decrypt } : {})
        assert.isTrue(again.nothingToDo)
        assert.isTrue(again.complete)
        assert.deepStrictEqual(fileBytes(dir), before, "a second run changes nothing")
        yield* expectFishbowlImported(configs, keys)
      }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
    })
  }

  it.live("production files without safeStorage (the CLI): nothing imported, every file kept byte for byte, the desktop app finishes", () => {
    const dir = freshDir()
    const { configs, keys, canaries } = fishbowlUser(dir, "production")
    const before = fileBytes(dir)
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated, [])
      assert.deepStrictEqual(
        report.skipped.map((entry) => [entry.name, entry.reason, entry.needsDesktopApp]),
        configs.map((config) => [config.customName, "needs the desktop app to decrypt (Electron safeStorage)", true])
      )
      for (const entry of report.skipped) assert.include(entry.fix, "start the Fishbowl desktop app")
      assert.isTrue(report.needsDesktopApp)
      assert.isFalse(report.complete)
      assert.deepStrictEqual(report.filesHoldingKeys.map((file) => [file.path, file.encrypted]), [[
        NodePath.join(dir, "secure_keys.json"),
        true
      ]])
      assert.deepStrictEqual(report.removedFiles, [])
      assert.deepStrictEqual(fileBytes(dir), before, "nothing changed on disk (preferences.json not even created)")
      assert.deepStrictEqual(yield* (yield* LlmConfigStore.LlmConfigStore).list, [], "no keyless config the app would later treat as done")
      // The desktop app (with safeStorage) then imports everything with its key.
      const app = yield* migrate({ decrypt: FishbowlFiles.safeStorage.decrypt })
      assert.strictEqual(app.migrated.length, configs.length)
      assert.isTrue(app.complete)
      yield* expectFishbowlImported(configs, keys)
      assert.deepStrictEqual(filesHolding(dir, canaries), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a base URL our rules refuse (http with a key to a LAN host): reported with the exact fix, kept with its key; after the fix the rest follows", () => {
    const dir = freshDir()
    const { configs, keys, canaries, custom } = lanFishbowlUser(dir)
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(
        report.migrated.map((entry) => entry.name),
        configs.filter((config) => config !== custom).map((config) => config.customName)
      )
      assert.strictEqual(report.skipped.length, 1)
      const skipped = report.skipped[0]!
      assert.strictEqual(skipped.name, custom.customName)
      // a private-network host over plain http, with a key: allowed only with consent, which a migration cannot give
      assert.strictEqual(
        skipped.reason,
        "invalid base URL: plain http to a network host would send the key unencrypted: use https, or allow insecure http for this configuration explicitly"
      )
      assert.include(
        skipped.fix,
        `Change "baseUrl" of "${custom.customName}" in ${
          NodePath.join(dir, "llm_config.json")
        } from "http://192.168.1.20:8000/v1" to an https:// URL`
      )
      // the fix names the command that works as printed: the folder used, and the consent flag
      assert.include(skipped.fix, `then run \`fishbowl-llm migrate --from ${dir}\` (or restart Fishbowl)`)
      assert.include(skipped.fix, `run \`fishbowl-llm migrate --from ${dir} --allow-insecure-http '${custom.customName}'\``)
      assert.isFalse(report.complete)
      assert.deepStrictEqual([...report.keptFiles].sort(), [
        NodePath.join(dir, "llm_config.json"),
        NodePath.join(dir, "test_secure_keys.json")
      ])
      assert.deepStrictEqual(report.filesHoldingKeys.map((file) => file.path), [NodePath.join(dir, "test_secure_keys.json")])
      // The user applies the fix; the re-run imports the last one and removes the plaintext.
      FishbowlFiles.writeLlmConfigJson(
        dir,
        configs.map((config) => config === custom ? { ...config, baseUrl: "https://192.168.1.20:8443/v1" } : config)
      )
      const again = yield* migrate()
      assert.deepStrictEqual(again.migrated.map((entry) => entry.name), [custom.customName])
      assert.isTrue(again.complete)
      const stored = (yield* (yield* LlmConfigStore.LlmConfigStore).list).find((config) => config.id === custom.id)!
      assert.strictEqual(stored.baseUrl, "https://192.168.1.20:8443/v1")
      assert.strictEqual(
        Redacted.value(yield* (yield* LlmConfigStore.LlmConfigStore).getApiKey(custom.id as Ids.ConfigId)),
        keys[custom.id]
      )
      assert.deepStrictEqual(filesHolding(dir, canaries), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("what the earlier, wrong import left (keyless configs, llm_config.json.migrated, keys still in test_secure_keys.json) is repaired", () => {
    const dir = freshDir()
    const { configs, keys, canaries } = fishbowlUser(dir, "test")
    return Effect.gen(function*() {
      // The wrong import: configs without their keys, llm_config.json renamed away.
      const store = yield* LlmConfigStore.LlmConfigStore
      yield* (yield* PreferencesStore.PreferencesStore).update((document) =>
        Effect.succeed(
          [undefined, {
            ...document,
            llm: {
              ...document.llm,
              configs: configs.map((config) => ({
                id: config.id as Ids.ConfigId,
                provider: FishbowlFiles.OUR_PROVIDER[config.provider] as never,
                name: config.customName,
                ...(config.baseUrl !== undefined ? { baseUrl: config.baseUrl } : {}),
                useAuthHeader: config.useAuthHeader,
                createdAt: config.createdAt,
                updatedAt: config.updatedAt,
                hasKey: false
              }))
            }
          }] as const
        )
      )
      fsSync.renameSync(NodePath.join(dir, "llm_config.json"), NodePath.join(dir, "llm_config.json.migrated"))
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => [entry.configId, entry.hasKey]), configs.map((config) => [config.id, true]))
      assert.isTrue(report.complete)
      yield* expectFishbowlImported(configs, keys)
      assert.deepStrictEqual(filesHolding(dir, canaries), [])
      assert.strictEqual((yield* store.list).length, configs.length)
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a key without a config (Fishbowl deletes metadata first) is reported and removed with the file", () => {
    const dir = freshDir()
    const { configs, keys } = fishbowlUser(dir, "test")
    const orphan = Fixtures.makeCanaryKey("orphan")
    const file = readJson(dir, "test_secure_keys.json")
    fsSync.writeFileSync(
      NodePath.join(dir, "test_secure_keys.json"),
      JSON.stringify({ ...file, [FishbowlFiles.testSecureKeysName("0d9f7a3e-1c2b-4a5d-8e6f-7a8b9c0d1e2f")]: orphan }, null, 2)
    )
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.strictEqual(report.migrated.length, configs.length)
      assert.deepStrictEqual(report.skipped.map((entry) => entry.reason), [
        "key \"test_llm_api_key_llm_api_key_0d9f7a3e-1c2b-4a5d-8e6f-7a8b9c0d1e2f\" has no configuration in llm_config.json (Fishbowl deletes the metadata before the key); it is not imported"
      ])
      assert.isTrue(report.complete)
      yield* expectFishbowlImported(configs, keys)
      assert.deepStrictEqual(filesHolding(dir, [orphan, ...Object.values(keys)]), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("pathological files (nesting, size, a FIFO) give a reason per file, never a failure; nothing is deleted", () => {
    const deep = freshDir()
    fishbowlUser(deep, "test")
    fsSync.writeFileSync(NodePath.join(deep, "llm_config.json"), "[".repeat(200_000) + "]".repeat(200_000))
    const big = freshDir()
    const { canaries } = fishbowlUser(big, "test")
    fsSync.truncateSync(NodePath.join(big, "test_secure_keys.json"), 11 * 1024 * 1024)
    const fifo = freshDir()
    fishbowlUser(fifo, "test")
    fsSync.rmSync(NodePath.join(fifo, "llm_config.json"))
    const mkfifo = spawnSync("mkfifo", [NodePath.join(fifo, "llm_config.json")])
    assert.strictEqual(mkfifo.status, 0, "mkfifo works here")
    return Effect.gen(function*() {
      const cases = [
        [deep, "llm_config.json", "it nests deeper than 100 levels"],
        [big, "test_secure_keys.json", "more than the 10485760 bytes allowed"],
        [fifo, "llm_config.json", "is a named pipe (FIFO), not a regular file"]
      ] as const
      for (const [dir, file, why] of cases) {
        const before = fsSync.readdirSync(dir).sort()
        const report = yield* Migration.migrate({ from: dir }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
        assert.deepStrictEqual(report.migrated, [])
        assert.strictEqual(report.skipped.length, 1)
        assert.strictEqual(report.skipped[0]!.source, NodePath.join(dir, file))
        assert.include(report.skipped[0]!.reason, why)
        assert.include(report.skipped[0]!.fix!.toLowerCase(), "nothing was changed")
        assert.isFalse(report.complete)
        assert.deepStrictEqual(fsSync.readdirSync(dir).sort(), before, "no file removed or added")
      }
      assert.isAbove(filesHolding(big, canaries).length, 0, "the oversized key file was not touched")
    })
  })

  it.live("--from a folder that does not exist fails with InvalidInput (not \"nothing to migrate\")", () => {
    const dir = freshDir()
    return Effect.gen(function*() {
      const error = yield* Effect.flip(migrate({ from: NodePath.join(dir, "missing") }))
      assert.strictEqual(error._tag, "InvalidInput")
      assert.include(error.message, "does not exist")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })
})

describe("Migration: a Fishbowl folder is untrusted input (issue 22)", () => {
  const keyFileOf = (dir: string) => NodePath.join(dir, "test_secure_keys.json")

  it.live("a key file that is a link to a dotfiles copy: not followed, nothing removed, the copy still holds the key, the run is not complete", () => {
    const dir = freshDir()
    const dotfiles = freshDir()
    const { canaries } = fishbowlUser(dir, "test")
    // what a dotfiles manager leaves: the file lives elsewhere, the folder holds a link to it
    fsSync.renameSync(keyFileOf(dir), NodePath.join(dotfiles, "test_secure_keys.json"))
    fsSync.symlinkSync(NodePath.join(dotfiles, "test_secure_keys.json"), keyFileOf(dir))
    return Effect.gen(function*() {
      const before = fsSync.readdirSync(dir).sort()
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated, [])
      assert.deepStrictEqual(report.removedFiles, [])
      assert.deepStrictEqual(report.renamedFiles, [])
      assert.isFalse(report.complete)
      const note = report.skipped.find((entry) => entry.source === keyFileOf(dir))!
      assert.include(note.reason, `it is a symbolic link to ${NodePath.join(dotfiles, "test_secure_keys.json")}`)
      assert.include(note.fix, "cp --remove-destination")
      assert.deepStrictEqual(report.filesHoldingKeys.map((file) => file.path), [keyFileOf(dir)])
      assert.deepStrictEqual(fsSync.readdirSync(dir).sort(), before, "nothing removed or added")
      assert.isTrue(fsSync.lstatSync(keyFileOf(dir)).isSymbolicLink())
      assert.deepStrictEqual(filesHolding(dotfiles, canaries).length, 1, "the link's target still holds every key")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("llm_config.json linked to /proc/self/pagemap (unbounded, reports size 0): refused as a link without reading a byte", () => {
    const dir = freshDir()
    fishbowlUser(dir, "test")
    fsSync.rmSync(NodePath.join(dir, "llm_config.json"))
    fsSync.symlinkSync("/proc/self/pagemap", NodePath.join(dir, "llm_config.json"))
    return Effect.gen(function*() {
      const rssBefore = process.memoryUsage().rss
      const report = yield* migrate()
      assert.strictEqual(report.skipped.length, 1)
      assert.include(report.skipped[0]!.reason, "it is a symbolic link to /proc/self/pagemap")
      assert.isFalse(report.complete)
      // Following the link used to read until memory ran out (1.5 GB); nothing is read now.
      assert.isBelow(process.memoryUsage().rss - rssBefore, 100 * 1024 * 1024)
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live.runIf(process.getuid?.() === 0)("a key file that belongs to another account is refused for that file only, and kept", () => {
    const dir = freshDir()
    const { canaries } = fishbowlUser(dir, "test")
    fsSync.chownSync(keyFileOf(dir), 4242, 4242)
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated, [])
      assert.include(report.skipped[0]!.reason, "belongs to another account (uid 4242)")
      assert.isFalse(report.complete)
      assert.strictEqual(filesHolding(dir, canaries).length, 1, "the key file is kept as it was")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("an entry whose id is taken by a different configuration (another provider, another key) is blocked: its key and the files are kept", () => {
    const dir = freshDir()
    const k1 = Fixtures.makeCanaryKey("ours")
    return Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      // "Work" already holds the id here (an earlier sync, a copied folder): other provider, other key.
      const work = yield* store.create({ provider: "anthropic" as never, name: "Work", useAuthHeader: true, apiKey: Redacted.make(k1) })
      const configs = FishbowlFiles.fishbowlConfigs().map((config, index) => index === 0 ? { ...config, id: work.id } : config)
      const clash = configs[0]!
      const { keys, canaries } = fishbowlUser(dir, "test", configs)
      const report = yield* migrate()
      const blocked = report.skipped.find((entry) => entry.name === clash.customName)!
      assert.strictEqual(blocked.kind, "blocked")
      assert.include(blocked.reason, "its id is already used by \"Work\"")
      assert.include(blocked.fix!, "fishbowl-llm add")
      assert.isFalse(report.complete)
      assert.notInclude(report.removedFiles, keyFileOf(dir))
      assert.include(report.keptFiles, keyFileOf(dir))
      assert.isAbove(filesHolding(dir, [keys[clash.id]!]).length, 0, "the entry's key is still in the legacy file")
      assert.strictEqual(Redacted.value(yield* store.getApiKey(work.id)), k1, "Work keeps its own key")
      assert.isAbove(filesHolding(dir, canaries).length, 0)
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("two legacy ids that differ only in case: the second is blocked, not \"already migrated\"; both keys survive", () => {
    const dir = freshDir()
    const [first] = FishbowlFiles.fishbowlConfigs()
    const { baseUrl: _unused, ...withoutUrl } = first!
    const upper = { ...withoutUrl, id: first!.id.toUpperCase(), customName: "Shouting", provider: "anthropic" as const }
    const { keys } = fishbowlUser(dir, "test", [first!, upper])
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.migrated.map((entry) => entry.name), [first!.customName])
      const blocked = report.skipped.find((entry) => entry.name === "Shouting")!
      assert.strictEqual(blocked.kind, "blocked")
      assert.notStrictEqual(blocked.reason, "already migrated")
      assert.isFalse(report.complete)
      assert.isAbove(filesHolding(dir, [keys[upper.id]!]).length, 0, "the second key stays in its file")
      assert.strictEqual(
        Redacted.value(yield* (yield* LlmConfigStore.LlmConfigStore).getApiKey(first!.id as Ids.ConfigId)),
        keys[first!.id]
      )
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a LAN http entry is imported with the consent the user names (--allow-insecure-http NAME), recorded on that config only", () => {
    const dir = freshDir()
    const { keys, canaries, custom } = lanFishbowlUser(dir)
    return Effect.gen(function*() {
      const report = yield* migrate({ allowInsecureHttp: [custom.customName.toUpperCase()] })
      assert.isTrue(report.complete)
      const store = yield* LlmConfigStore.LlmConfigStore
      const stored = yield* store.list
      assert.deepStrictEqual(stored.filter((config) => config.allowInsecureHttp === true).map((config) => config.name), [custom.customName])
      assert.strictEqual(Redacted.value(yield* store.getApiKey(custom.id as Ids.ConfigId)), keys[custom.id])
      assert.deepStrictEqual(filesHolding(dir, canaries), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })
})

describe("doctor: files that still hold keys", () => {
  it.live("lists the pending file, Fishbowl's key files and copies of preferences.json with keys, with the fix", () => {
    const dir = freshDir()
    const key = Fixtures.makeCanaryKey("left")
    const withKey = { llm: { configs: [{ provider: "openai", name: "Old", apiKey: key }] } }
    write(dir, "llm_migration_pending.json", { format: "fishbowl-llm-migration-pending", version: 1, entries: [] })
    FishbowlFiles.writeSecureKeysJson(dir, { "0b4c2f6e-2f0a-4c4e-9d1b-7a6f5e4d3c2b": key })
    FishbowlFiles.writeTestSecureKeysJson(dir, { "0b4c2f6e-2f0a-4c4e-9d1b-7a6f5e4d3c2b": key })
    write(dir, "preferences.json.bak.1", withKey)
    write(dir, "preferences.json.bak.2", { llm: { version: 1, configs: [], journal: [] } })
    write(dir, "preferences.json.corrupt-2024-05-01T10-00-00.000Z", withKey)
    write(dir, "preferences.json.corrupt-2024-06-01T10-00-00.000Z", `{"llm":{"configs":[{"apiKey":"${key}"`)
    write(dir, ".llm_migration_pending.json.4242.0123456789abcdef.tmp", `{"entries":[{"legacy":{"apiKey":"${key}"`)
    return Effect.gen(function*() {
      const finding = yield* DesktopDiagnostics.leftoverKeyFilesFinding(dir)
      assert.strictEqual(finding.severity, "warning")
      for (
        const name of [
          "llm_migration_pending.json",
          ".llm_migration_pending.json.4242.0123456789abcdef.tmp",
          "secure_keys.json",
          "test_secure_keys.json",
          "preferences.json.bak.1",
          "preferences.json.corrupt-2024-05-01T10-00-00.000Z",
          "preferences.json.corrupt-2024-06-01T10-00-00.000Z"
        ]
      ) {
        assert.include(finding.message, `${name} (`)
      }
      assert.notInclude(finding.message, "preferences.json.bak.2")
      assert.include(finding.message, "7 files")
      assert.include(finding.hint, `Run \`fishbowl-llm migrate --from ${dir}\``)
      assert.include(finding.hint, "start Fishbowl once")
      assert.include(finding.hint, `rm "${NodePath.join(dir, "preferences.json.corrupt-2024-06-01T10-00-00.000Z")}"`)
      assert.notInclude(JSON.stringify(finding), key)
      // Through `doctor` (Diagnostics on the desktop layer).
      const report = yield* Diagnostics.Diagnostics.use((diagnostics) => diagnostics.diagnose()).pipe(
        Effect.provide(DesktopLayer.layer({ dataDir: dir, secretBackend: "session" }))
      )
      assert.deepInclude(report.findings, finding)
      // A clean folder is ok.
      assert.strictEqual((yield* DesktopDiagnostics.leftoverKeyFilesFinding(freshDir())).severity, "ok")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  })

  it.live("an interrupted write of the pending file is removed by migrate (the pending file itself is the committed state)", () => {
    const dir = freshDir()
    const key = Fixtures.makeCanaryKey("pending-tmp")
    write(dir, ".llm_migration_pending.json.4242.0123456789abcdef.tmp", {
      format: "fishbowl-llm-migration-pending",
      version: 1,
      entries: [{ configId: OPENAI_ID, origin: "x", legacy: { provider: "openai", name: "W", apiKey: key } }]
    })
    return Effect.gen(function*() {
      const report = yield* migrate()
      assert.deepStrictEqual(report.removedFiles, [NodePath.join(dir, ".llm_migration_pending.json.4242.0123456789abcdef.tmp")])
      assert.isTrue(report.complete)
      assert.deepStrictEqual(filesHolding(dir, [key]), [])
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })

  it.live("a backup that still has keys (no other legacy data) is stripped by migrate, which then reports complete", () => {
    const dir = freshDir()
    const key = Fixtures.makeCanaryKey("bak")
    return Effect.gen(function*() {
      yield* (yield* LlmConfigStore.LlmConfigStore).create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      write(dir, "preferences.json.bak.3", { theme: "dark", llm: { configs: [{ provider: "openai", name: "Gone", apiKey: key }] } })
      const report = yield* migrate()
      assert.deepStrictEqual(report.rewrittenFiles, [NodePath.join(dir, "preferences.json.bak.3")])
      assert.isTrue(report.complete)
      assert.deepStrictEqual(filesHolding(dir, [key]), [])
      assert.strictEqual(readJson(dir, "preferences.json.bak.3").theme, "dark")
      assert.strictEqual((yield* DesktopDiagnostics.leftoverKeyFilesFinding(dir)).severity, "ok")
    }).pipe(Effect.provide(appLayer(dir, persistentMemory())))
  })
})

// ---------------------------------------------------------------------------------------------

type Scenario = {
  readonly name: string
  readonly setUp: (dir: string) => { readonly expected: Array<Expected>; readonly canaries: Array<string> }
  readonly options: Migration.MigrateOptions
}

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "(a) preferences.json",
    setUp: (dir) => {
      const keys = canariesA()
      write(dir, "preferences.json", legacyPreferences(keys))
      write(dir, "preferences.json.bak.1", legacyPreferences(keys))
      return { expected: expectedA(keys), canaries: [keys.openai, keys.anthropic] }
    },
    options: {}
  },
  {
    name: "(b) secure_keys.json",
    setUp: (dir) => {
      const keys = canariesB()
      legacyFolder(dir, keys, "encrypted")
      return { expected: expectedB(keys), canaries: [keys.openai, keys.google] }
    },
    options: { decrypt }
  },
  {
    name: "(c) Fishbowl's secure_keys.json",
    setUp: (dir) => {
      const { configs, keys, canaries } = fishbowlUser(dir, "production")
      return {
        expected: configs.map((config) => ({
          name: config.customName,
          provider: FishbowlFiles.OUR_PROVIDER[config.provider],
          key: keys[config.id]!
        })),
        canaries
      }
    },
    options: { decrypt: FishbowlFiles.safeStorage.decrypt }
  }
]

const perEntryPoints = CrashPoints.crashPoints.migrate.filter((point) => point !== "migrate.plaintext-removed")
const crashCases = [
  ...perEntryPoints.flatMap((point) => [1, 2, 3].map((occurrence) => ({ point, occurrence }))),
  { point: "migrate.plaintext-removed" as const, occurrence: 1 }
]

describe("Migration crash safety (in-process crash = defect)", () => {
  for (const scenario of scenarios) {
    for (const { point, occurrence } of crashCases) {
      for (const recovery of ["recover, then migrate", "migrate only"] as const) {
        it.live(`${scenario.name}: crash at ${point} #${occurrence}; ${recovery}`, () => {
          const dir = freshDir()
          const { expected, canaries } = scenario.setUp(dir)
          const secrets = persistentMemory()
          return Effect.gen(function*() {
            const crashed = yield* Migration.migrate(scenario.options).pipe(
              Effect.provide(portsLayer(dir, secrets, crashAt(point, occurrence))),
              Effect.exit
            )
            assert.isTrue(
              isSimulatedCrash(crashed),
              `crashed at ${point} #${occurrence}: ${Exit.isFailure(crashed) ? Cause.pretty(crashed.cause) : "no failure"}`
            )
            // "Restart": new store instance over the same files and secret store.
            yield* Effect.gen(function*() {
              if (recovery === "recover, then migrate") {
                const store = yield* LlmConfigStore.make()
                const recovered = yield* store.recover().pipe(
                  Effect.catchTag("Unsupported", () => Effect.undefined) // crash before adoption finished
                )
                if (recovered !== undefined) assert.deepStrictEqual(recovered.failed, [])
              }
              const report = yield* Migration.migrate(scenario.options)
              noKeyMaterial(report, canaries)
              assert.deepStrictEqual(report.keptFiles, [])
              yield* expectMigrated(dir, expected, canaries)
              assert.isTrue((yield* Migration.migrate(scenario.options)).nothingToDo)
            }).pipe(Effect.provide(appLayer(dir, secrets)))
            // No key is orphaned in the secret store: exactly the migrated configs' entries exist.
            yield* Effect.gen(function*() {
              const store = yield* LlmConfigStore.LlmConfigStore
              for (const config of yield* store.list) {
                const stagedGone = yield* secrets.get(SecretRef.secretRefFor(config.provider, config.id, "apiKey.staged"))
                assert.isTrue(Option.isNone(stagedGone))
              }
            }).pipe(Effect.provide(appLayer(dir, secrets)))
          })
        })
      }
    }
  }
})

// ---------------------------------------------------------------------------------------------

describe("Migration end to end on the REAL keychain (keytar + private gnome-keyring)", () => {
  let secretService: SecretServiceHarness.SecretServiceHandle | undefined
  beforeAll(async () => {
    secretService = await SecretServiceHarness.startSecretService()
  })
  afterAll(() => secretService?.stop())

  it.live("(a) and (b) in one folder: every key in the keychain, readable by a new process, no canary on disk", () => {
    const dir = freshDir()
    const keysA = canariesA()
    const keysB = canariesB()
    write(dir, "preferences.json", legacyPreferences(keysA))
    write(dir, "preferences.json.bak.1", legacyPreferences(keysA))
    // (b) uses other names and a different UUID so both sets are distinct configs.
    write(dir, "llm_config.json", [
      { id: "5f0e8d7c-6b5a-4e3d-8c2b-1a0f9e8d7c6b", provider: "openai", name: "Old work" },
      { id: 7, providerId: "gemini", displayName: "Gemini" }
    ])
    write(dir, "test_secure_keys.json", {
      "llm_api_key_5f0e8d7c-6b5a-4e3d-8c2b-1a0f9e8d7c6b": keysB.openai,
      llm_api_key_7: keysB.google
    })
    const keytar = () => KeytarSecretStore.layer({ workerEnv: SecretServiceHarness.childEnv(secretService!.env) })
    const real = (crash: CrashPoints.CrashPointsLayer = Layer.empty) =>
      LlmConfigStore.layer.pipe(
        Layer.provideMerge(
          Layer.mergeAll(keytar(), JsonFilePreferencesStore.layer({ dataDir: dir }), crash, NodeFileSystem.layer, Liveness.layerMemory)
        )
      )
    const expected: Array<Expected> = [
      ...expectedA(keysA),
      { name: "Old work", provider: "openai", key: keysB.openai },
      { name: "Gemini", provider: "google", key: keysB.google }
    ]
    const canaries = [keysA.openai, keysA.anthropic, keysB.openai, keysB.google]
    return Effect.gen(function*() {
      // A crash after the first key reached the keychain, then a fresh process finishes the job.
      const crashed = yield* Migration.migrate().pipe(Effect.provide(real(crashAt("migrate.secret-verified", 1))), Effect.exit)
      assert.isTrue(isSimulatedCrash(crashed))
      const report = yield* Migration.migrate().pipe(Effect.provide(real()))
      noKeyMaterial(report, canaries)
      assert.strictEqual(report.migrated.length, 5)
      assert.deepStrictEqual(report.keptFiles, [])
      // A separate keytar worker (a new "process") reads every key back.
      yield* expectMigrated(dir, expected, canaries).pipe(Effect.provide(real()))
      // Clean the shared keychain.
      yield* Effect.gen(function*() {
        const store = yield* LlmConfigStore.LlmConfigStore
        for (const config of yield* store.list) yield* store.remove(config.id)
        assert.deepStrictEqual(yield* store.list, [])
      }).pipe(Effect.provide(real()))
    }).pipe(Effect.timeout("5 minutes")) // a hang catcher: the whole test takes seconds
  })

  it.live("Fishbowl's production and test files: a crash mid-import, then every key read back from the keychain by a new worker; no key on disk", () => {
    const production = freshDir()
    const test = freshDir()
    const prod = fishbowlUser(production, "production")
    const plain = fishbowlUser(test, "test")
    const real = (dir: string, crash: CrashPoints.CrashPointsLayer = Layer.empty) =>
      LlmConfigStore.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(
          KeytarSecretStore.layer({ workerEnv: SecretServiceHarness.childEnv(secretService!.env) }),
          JsonFilePreferencesStore.layer({ dataDir: dir }),
          crash,
          NodeFileSystem.layer,
          Liveness.layerMemory
        ))
      )
    return Effect.gen(function*() {
      for (
        const [dir, user, options] of [[production, prod, { decrypt: FishbowlFiles.safeStorage.decrypt }], [test, plain, {}]] as const
      ) {
        const crashed = yield* Migration.migrate(options).pipe(Effect.provide(real(dir, crashAt("migrate.secret-written", 2))), Effect.exit)
        assert.isTrue(isSimulatedCrash(crashed))
        const report = yield* Migration.migrate(options).pipe(Effect.provide(real(dir)))
        noKeyMaterial(report, user.canaries)
        assert.isTrue(report.complete)
        yield* expectFishbowlImported(user.configs, user.keys).pipe(Effect.provide(real(dir)))
        assert.deepStrictEqual(filesHolding(dir, user.canaries), [])
        assert.isTrue((yield* Migration.migrate(options).pipe(Effect.provide(real(dir)))).nothingToDo)
        yield* Effect.gen(function*() {
          const store = yield* LlmConfigStore.LlmConfigStore
          for (const config of yield* store.list) yield* store.remove(config.id)
        }).pipe(Effect.provide(real(dir)))
      }
    }).pipe(Effect.timeout("5 minutes")) // a hang catcher: the whole test takes seconds
  })
})
