/**
 * JsonFilePreferencesStore on real files in fresh temp folders: the domain contracts, bad files
 * (quarantine + restore), storage errors, modes, backups, temp-file hygiene, settings
 * preservation, two processes at once, and timings.
 *
 * Permission errors are REAL EACCES: as root (which bypasses permissions) the check runs in a
 * child process as `nobody` via `setpriv --reuid=65534 --regid=65534 --clear-groups`; as a
 * normal user it runs in a child process as that user. EIO / ENOSPC / a failing rename are
 * simulated by wrapping Node's FileSystem service (injected failures).
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Errors, JsonLimits, type LlmConfig, type PreferencesDocument, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { Fixtures, LlmConfigStoreContract, PreferencesStoreContract } from "@fishbowl/domain/testing"
import { Effect, FileSystem, Layer, PlatformError, type Scope } from "effect"
import fc from "fast-check"
import { spawn, spawnSync } from "node:child_process"
import * as fsSync from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import * as JsonFilePreferencesStore from "../src/JsonFilePreferencesStore.ts"
import * as OffThreadWrite from "../src/OffThreadWrite.ts"
import * as ChildProcesses from "../src/testing/ChildProcesses.ts"
import * as FreshDataDir from "../src/testing/FreshDataDir.ts"
import * as TrustedFile from "../src/TrustedFile.ts"

// ---------------------------------------------------------------------------------------------
// Helpers

const REPO_ROOT = ChildProcesses.REPO_ROOT
const CHILD = ChildProcesses.PREFERENCES_CHILD
const IS_ROOT = process.getuid?.() === 0

/** Runs `body` with a not-yet-existing data folder inside a fresh temp folder. */
const withDataDir = <A, E>(
  body: (dataDir: string) => Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope>
) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "fishbowl-prefs-" })
    return yield* body(NodePath.join(root, "Fishbowl"))
  })).pipe(Effect.provide(NodeFileSystem.layer))

/** A store where every write starts a backup generation (spacing 0), so each `put` is one generation. */
const openStore = (dataDir: string) => JsonFilePreferencesStore.make({ dataDir, backupSpacingMillis: 0 })

const put = (
  store: PreferencesStore.PreferencesStore["Service"],
  f: (document: PreferencesDocument.PreferencesDocument) => PreferencesDocument.PreferencesDocument
) => store.update((document) => Effect.succeed([undefined, f(document)] as const))

const withConfigs =
  (configs: ReadonlyArray<LlmConfig.LlmConfig>) =>
  (document: PreferencesDocument.PreferencesDocument): PreferencesDocument.PreferencesDocument => ({
    ...document,
    llm: { ...document.llm, configs }
  })

const prefsFile = (dataDir: string) => NodePath.join(dataDir, "preferences.json")
const listing = (dataDir: string) => fsSync.readdirSync(dataDir).sort()
const modeOf = (path: string) => fsSync.statSync(path).mode & 0o777
const leftovers = (dataDir: string) =>
  listing(dataDir).filter((name) => name.endsWith(".tmp") || name.endsWith(".lock") || name.endsWith(".bak.next"))

/** A FileSystem that is Node's, with some methods replaced (injected failures). */
const faultyFileSystem = (
  override: (node: FileSystem.FileSystem) => Partial<FileSystem.FileSystem>
): Layer.Layer<FileSystem.FileSystem> =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(Effect.service(FileSystem.FileSystem), (node) => FileSystem.FileSystem.of({ ...node, ...override(node) }))
  ).pipe(Layer.provide(NodeFileSystem.layer))

const errnoFailure = (code: string, method: string, path: string) =>
  PlatformError.systemError({
    _tag: "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    cause: Object.assign(new Error(`${code}: injected`), { code })
  })

/** Node's file functions for TrustedFile with every descriptor's `read` replaced. */
const faultyReads = (read: (handle: FileHandle) => Promise<never>): TrustedFile.NodeFilesService => {
  const node = TrustedFile.NodeFiles.defaultValue()
  return {
    ...node,
    open: async (path, flags, mode) => {
      const handle = await node.open(path, flags, mode)
      return new Proxy(handle, {
        get: (target, key) => {
          if (key === "read") return () => read(target)
          const value: unknown = Reflect.get(target, key, target)
          return typeof value === "function" ? value.bind(target) : value
        }
      })
    }
  }
}

interface ChildResult {
  readonly ok: boolean
  readonly tag?: string
  readonly message?: string
  readonly hint?: string
}

/** Runs the child fixture (as `nobody` when this process is root) and parses its JSON line. */
const runChild = (args: ReadonlyArray<string>, options?: { readonly asNobody?: boolean }) =>
  Effect.promise(() =>
    new Promise<ChildResult>((resolve, reject) => {
      const nodeArgs = ["--import", "tsx", CHILD, ...args]
      const [command, commandArgs] = options?.asNobody === true && IS_ROOT
        ? ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...nodeArgs]] as const
        : [process.execPath, nodeArgs] as const
      const child = spawn(command, commandArgs, { cwd: REPO_ROOT, env: { ...process.env, HOME: "/tmp" } })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => (stdout += String(chunk)))
      child.stderr.on("data", (chunk) => (stderr += String(chunk)))
      child.on("error", reject)
      child.on("close", (code) => {
        const line = stdout.trim().split("\n").pop() ?? ""
        try {
          resolve(JSON.parse(line) as ChildResult)
        } catch {
          reject(new Error(`child exited ${code} without a result; stderr: ${stderr}`))
        }
      })
    })
  )

// ---------------------------------------------------------------------------------------------
// Domain contracts

PreferencesStoreContract.preferencesStoreContract("json file", FreshDataDir.freshJsonFileStore)

LlmConfigStoreContract.llmConfigStoreContract(
  "json file + memory secrets",
  Layer.mergeAll(FreshDataDir.freshJsonFileStore, SecretStore.layerMemory),
  {
    propertyRuns: 100
  }
)

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: reading", () => {
  it.live("a missing file is an empty document and creates nothing", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const document = yield* store.load
        assert.deepStrictEqual(document.llm, { version: 1, configs: [], journal: [] })
        assert.deepStrictEqual(document.other, {})
        assert.isFalse(fsSync.existsSync(dataDir))
        assert.strictEqual(store.location, prefsFile(dataDir))
      })
    ))

  it.live("a file without an llm key is an empty llm section with the other keys kept", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        fsSync.writeFileSync(prefsFile(dataDir), `{"theme":"dark","fontSize":14}`)
        const store = yield* openStore(dataDir)
        const document = yield* store.load
        assert.deepStrictEqual(document.llm.configs, [])
        assert.deepStrictEqual(document.other, { theme: "dark", fontSize: 14 })
        yield* put(store, withConfigs([Fixtures.sampleConfig("A")]))
        const written = JSON.parse(fsSync.readFileSync(prefsFile(dataDir), "utf8"))
        assert.deepStrictEqual(Object.keys(written), ["theme", "fontSize", "llm"])
      })
    ))

  it.live("a load of an unchanged file opens nothing (one lstat proves it unchanged); every kind of change is read", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const node = TrustedFile.NodeFiles.defaultValue()
        const opened: Array<string> = []
        const counting: TrustedFile.NodeFilesService = {
          ...node,
          open: (path, flags, mode) => (opened.push(path), node.open(path, flags, mode))
        }
        const store = yield* openStore(dataDir)
        yield* put(store, (document) => ({ ...document, other: { theme: "dark" } }))
        const load = store.load.pipe(Effect.provideService(TrustedFile.NodeFiles, counting))
        const other = (document: PreferencesDocument.PreferencesDocument) => document.other
        // A file changed within the last file-time tick is always read again (racy): let it age.
        assert.deepStrictEqual(other(yield* load), { theme: "dark" })
        assert.strictEqual(opened.length, 1)
        yield* Effect.sleep("150 millis")
        assert.deepStrictEqual(other(yield* load), { theme: "dark" })
        assert.deepStrictEqual(other(yield* load), { theme: "dark" })
        assert.deepStrictEqual(other(yield* load), { theme: "dark" })
        assert.strictEqual(opened.length, 2, "a load of the aged, unchanged file reads no file")
        // Changed in place, same size, same inode (an editor that writes through): ctime moved.
        const file = prefsFile(dataDir)
        const text = fsSync.readFileSync(file, "utf8")
        fsSync.writeFileSync(file, text.replace(`"dark"`, `"lite"`))
        assert.deepStrictEqual(other(yield* load), { theme: "lite" })
        // Again at once, within the same file-time tick: still read (a fresh file is never remembered).
        fsSync.writeFileSync(file, text.replace(`"dark"`, `"blue"`))
        assert.deepStrictEqual(other(yield* load), { theme: "blue" })
        // Replaced by rename (every writer): a new inode.
        fsSync.writeFileSync(`${file}.next`, text, { mode: 0o600 })
        fsSync.renameSync(`${file}.next`, file)
        assert.deepStrictEqual(other(yield* load), { theme: "dark" })
        // Opened to other users: refused, never served from what was read before.
        fsSync.chmodSync(file, 0o666)
        const refused = yield* Effect.flip(load)
        assert.strictEqual(refused._tag, "StorageInaccessible")
        fsSync.chmodSync(file, 0o600)
        // A link in its place is refused too.
        fsSync.renameSync(file, `${file}.real`)
        fsSync.symlinkSync(`${file}.real`, file)
        assert.strictEqual((yield* Effect.flip(load))._tag, "StorageInaccessible")
      })
    ))

  it.live("a UTF-8 BOM (Notepad) is accepted", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir)
        fsSync.writeFileSync(prefsFile(dataDir), `\uFEFF{"theme":"light"}`)
        const document = yield* (yield* openStore(dataDir)).load
        assert.deepStrictEqual(document.other, { theme: "light" })
      })
    ))
})

// ---------------------------------------------------------------------------------------------

const validText = JsonFilePreferencesStore.serializeDocument({
  other: { theme: "dark" },
  llm: { version: 1, configs: [Fixtures.sampleConfig("Zed")], journal: [] }
})

const badFiles: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer; readonly problem: string }> = [
  { name: "empty file", bytes: Buffer.alloc(0), problem: "empty" },
  { name: "truncated JSON", bytes: Buffer.from(validText.slice(0, Math.floor(validText.length / 2))), problem: "not valid JSON" },
  { name: "not JSON", bytes: Buffer.from("theme = dark\n[llm]\n"), problem: "not valid JSON" },
  { name: "not UTF-8", bytes: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), problem: "not UTF-8" },
  { name: "JSON null", bytes: Buffer.from("null"), problem: "not a JSON object" },
  { name: "JSON string", bytes: Buffer.from(`"preferences"`), problem: "not a JSON object" },
  {
    name: "array instead of object",
    bytes: Buffer.from(`[{"llm":{"version":1,"configs":[],"journal":[]}}]`),
    problem: "not a JSON object"
  },
  { name: "llm not an object", bytes: Buffer.from(`{"theme":"dark","llm":"configs"}`), problem: "llm section is not an object" },
  {
    name: "llm wrong shape",
    bytes: Buffer.from(`{"theme":"dark","llm":{"version":1,"configs":[{"id":"nope","name":""}],"journal":[]}}`),
    problem: "expected layout"
  },
  {
    name: "future llm.version",
    bytes: Buffer.from(`{"theme":"dark","llm":{"version":2,"configs":[],"journal":[],"profiles":[]}}`),
    problem: "newer Fishbowl"
  }
]

describe("JsonFilePreferencesStore: bad files are quarantined, the newest valid backup restored", () => {
  for (const bad of badFiles) {
    it.live(`${bad.name}: quarantined byte-for-byte, .bak.1 restored, Corrupted once, then loads`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          const store = yield* openStore(dataDir)
          const [one, two] = [Fixtures.sampleConfig("One"), Fixtures.sampleConfig("Two")]
          yield* put(store, (document) => ({ ...withConfigs([one])(document), other: { theme: "dark" } }))
          yield* put(store, withConfigs([one, two])) // .bak.1 now holds the [one] generation
          const file = prefsFile(dataDir)
          const backupBytes = fsSync.readFileSync(`${file}.bak.1`)
          fsSync.writeFileSync(file, bad.bytes)

          const error = yield* Effect.flip(store.load)
          assert.strictEqual(error._tag, "Corrupted")
          if (error._tag !== "Corrupted") return
          assert.match(error.quarantinedAs ?? "", /preferences\.json\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/)
          assert.strictEqual(NodePath.dirname(error.quarantinedAs!), dataDir)
          assert.isTrue(fsSync.readFileSync(error.quarantinedAs!).equals(bad.bytes), "quarantined bytes are the original")
          assert.strictEqual(error.restoredFrom, `${file}.bak.1`)
          assert.include(error.message, bad.problem)
          assert.include(error.message, NodePath.basename(error.quarantinedAs!))
          assert.include(error.message, "preferences.json.bak.1")
          assert.include(error.hint, error.quarantinedAs!)
          if (bad.name === "future llm.version") assert.include(error.hint, "Update Fishbowl")
          assert.isTrue(fsSync.readFileSync(file).equals(backupBytes), "preferences.json is the backup's bytes")
          assert.strictEqual(modeOf(file), 0o600)

          // Reported once: later calls work on the restored file.
          const document = yield* store.load
          assert.deepStrictEqual(document.llm.configs, [one])
          assert.deepStrictEqual(document.other, { theme: "dark" })
          yield* put(store, withConfigs([one, Fixtures.sampleConfig("Three")]))
          assert.strictEqual((yield* store.load).llm.configs.length, 2)
          assert.deepStrictEqual(leftovers(dataDir), [])
          assert.isTrue(fsSync.readFileSync(error.quarantinedAs!).equals(bad.bytes), "quarantine is kept")
        })
      ))
  }

  it.live("a bad .bak.1 is skipped: the newest VALID backup (.bak.2) is restored", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const configs = [Fixtures.sampleConfig("G1"), Fixtures.sampleConfig("G2"), Fixtures.sampleConfig("G3")]
        for (let generation = 1; generation <= 3; generation++) {
          yield* put(store, withConfigs(configs.slice(0, generation)))
        }
        const file = prefsFile(dataDir)
        fsSync.writeFileSync(`${file}.bak.1`, "{\"llm\":")
        fsSync.writeFileSync(file, "")
        const error = yield* Effect.flip(store.load)
        assert.strictEqual(error._tag, "Corrupted")
        assert.strictEqual(error._tag === "Corrupted" ? error.restoredFrom : undefined, `${file}.bak.2`)
        assert.deepStrictEqual((yield* store.load).llm.configs, configs.slice(0, 1))
      })
    ))

  it.live("update on a bad file quarantines and restores, fails with Corrupted without calling f; the next update works", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const one = Fixtures.sampleConfig("One")
        yield* put(store, withConfigs([one]))
        yield* put(store, withConfigs([one, Fixtures.sampleConfig("Two")]))
        fsSync.writeFileSync(prefsFile(dataDir), "{ truncated")
        let called = false
        const error = yield* Effect.flip(store.update((document) => {
          called = true
          return Effect.succeed([undefined, document] as const)
        }))
        assert.strictEqual(error._tag, "Corrupted")
        assert.isFalse(called, "f never sees a document read from a bad file")
        yield* put(store, (document) => withConfigs([...document.llm.configs, Fixtures.sampleConfig("Three")])(document))
        assert.deepStrictEqual((yield* store.load).llm.configs.map((config) => config.name), ["One", "Three"])
      })
    ))

  it.live("no valid backup: quarantined, starts empty, and the error says so", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        const file = prefsFile(dataDir)
        fsSync.writeFileSync(file, "{\"llm\": {\"version\": 1, \"configs\": [")
        const store = yield* openStore(dataDir)
        const error = yield* Effect.flip(store.load)
        assert.strictEqual(error._tag, "Corrupted")
        if (error._tag !== "Corrupted") return
        assert.isUndefined(error.restoredFrom)
        assert.isTrue(fsSync.readFileSync(error.quarantinedAs!).equals(Buffer.from("{\"llm\": {\"version\": 1, \"configs\": [")))
        assert.include(error.message, "no valid backup")
        assert.include(error.message, "starts with empty settings")
        assert.isFalse(fsSync.existsSync(file))
        const document = yield* store.load
        assert.deepStrictEqual(document.llm.configs, [])
        assert.deepStrictEqual(document.other, {})
      })
    ))

  it.live("concurrent loads of a bad file: exactly one reports Corrupted, one quarantine", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        yield* put(store, withConfigs([]))
        fsSync.writeFileSync(prefsFile(dataDir), "garbage")
        const results = yield* Effect.forEach([1, 2, 3, 4, 5], () => Effect.result(store.load), { concurrency: "unbounded" })
        assert.strictEqual(results.filter((result) => result._tag === "Failure").length, 1)
        assert.strictEqual(listing(dataDir).filter((name) => name.includes(".corrupt-")).length, 1)
      })
    ))
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: unreadable / unwritable storage is an error, never emptiness or corruption", () => {
  const setupPermissionCase = (dataDir: string, kind: "unreadable-file" | "unwritable-folder", content: string) => {
    const root = NodePath.dirname(dataDir)
    fsSync.chmodSync(root, 0o755)
    fsSync.mkdirSync(dataDir)
    const file = prefsFile(dataDir)
    fsSync.writeFileSync(file, content, { mode: 0o600 })
    if (IS_ROOT) {
      if (kind === "unreadable-file") {
        fsSync.chownSync(dataDir, 65534, 65534) // nobody owns the folder, root owns the 0600 file
        fsSync.chmodSync(dataDir, 0o700)
      } else {
        // nobody owns the folder (the store only trusts its own folder) and the file, but the
        // folder is r-x even for its owner: nobody can read, not write
        fsSync.chownSync(file, 65534, 65534)
        fsSync.chownSync(dataDir, 65534, 65534)
        fsSync.chmodSync(dataDir, 0o555)
      }
    } else if (kind === "unreadable-file") {
      fsSync.chmodSync(file, 0o000)
    } else {
      fsSync.chmodSync(dataDir, 0o555)
    }
    return file
  }

  it.live("unreadable file (EACCES): load and update fail with StorageInaccessible; file untouched, nothing quarantined", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const file = setupPermissionCase(dataDir, "unreadable-file", validText)
        const before = listing(dataDir)
        const load = yield* runChild([dataDir, "load"], { asNobody: true })
        assert.strictEqual(load.tag, "StorageInaccessible", JSON.stringify(load))
        assert.include(load.message, "cannot be read")
        assert.include(load.message, "EACCES")
        assert.include(load.hint, dataDir)
        const update = yield* runChild([dataDir, "update"], { asNobody: true })
        assert.strictEqual(update.tag, "StorageInaccessible", JSON.stringify(update))
        assert.include(update.message, "EACCES")
        assert.strictEqual(fsSync.readFileSync(file, "utf8"), validText)
        assert.deepStrictEqual(listing(dataDir), before)
      })
    ))

  it.live("unwritable folder (EACCES): load works, update fails with StorageInaccessible; file untouched", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const file = setupPermissionCase(dataDir, "unwritable-folder", validText)
        const before = listing(dataDir)
        const load = yield* runChild([dataDir, "load"], { asNobody: true })
        assert.isTrue(load.ok, JSON.stringify(load))
        const update = yield* runChild([dataDir, "update"], { asNobody: true })
        assert.strictEqual(update.tag, "StorageInaccessible", JSON.stringify(update))
        assert.include(update.message, "cannot be written")
        assert.include(update.message, "EACCES")
        assert.strictEqual(fsSync.readFileSync(file, "utf8"), validText)
        assert.deepStrictEqual(listing(dataDir), before)
      })
    ))

  it.live("a bad file in an unwritable folder: StorageInaccessible, not emptiness; the file stays in place", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const file = setupPermissionCase(dataDir, "unwritable-folder", "{ bad")
        const load = yield* runChild([dataDir, "load"], { asNobody: true })
        assert.strictEqual(load.tag, "StorageInaccessible", JSON.stringify(load))
        assert.strictEqual(fsSync.readFileSync(file, "utf8"), "{ bad")
        assert.deepStrictEqual(listing(dataDir), ["preferences.json"])
      })
    ))

  it.live("EIO on read (injected): StorageInaccessible naming EIO; nothing quarantined", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const good = yield* openStore(dataDir)
        yield* put(good, withConfigs([Fixtures.sampleConfig("One")]))
        const before = fsSync.readFileSync(prefsFile(dataDir))
        // The store reads through TrustedFile (node:fs with O_NOFOLLOW | O_NONBLOCK): the read of
        // an open descriptor fails with EIO.
        const store = yield* openStore(dataDir)
        const failingRead = faultyReads(() => Promise.reject(Object.assign(new Error("EIO: injected"), { code: "EIO" })))
        for (const attempt of [store.load, put(store, (document) => document)]) {
          const error = yield* Effect.flip(attempt.pipe(Effect.provideService(TrustedFile.NodeFiles, failingRead)))
          assert.strictEqual(error._tag, "StorageInaccessible")
          assert.include(error.message, "EIO")
        }
        assert.isTrue(fsSync.readFileSync(prefsFile(dataDir)).equals(before))
        assert.deepStrictEqual(listing(dataDir), ["preferences.json"])
      })
    ))
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: writing", () => {
  it.live("creates the folder 0700 and the file 0600; backups are 0600; an existing folder keeps its mode", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        yield* put(store, withConfigs([Fixtures.sampleConfig("Two")]))
        assert.strictEqual(modeOf(dataDir), 0o700)
        assert.strictEqual(modeOf(prefsFile(dataDir)), 0o600)
        assert.strictEqual(modeOf(`${prefsFile(dataDir)}.bak.1`), 0o600)

        const shared = NodePath.join(NodePath.dirname(dataDir), "shared")
        fsSync.mkdirSync(shared, { mode: 0o755 })
        fsSync.chmodSync(shared, 0o755)
        const other = yield* openStore(shared)
        yield* put(other, withConfigs([Fixtures.sampleConfig("One")]))
        assert.strictEqual(modeOf(shared), 0o755)
        assert.strictEqual(modeOf(prefsFile(shared)), 0o600)
      })
    ))

  it.live("keeps the last 3 good generations in .bak.1..3; the next write drops the oldest", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const file = prefsFile(dataDir)
        const generationOf = (path: string) => JSON.parse(fsSync.readFileSync(path, "utf8")).generation
        const write = (generation: number) => put(store, (document) => ({ ...document, other: { generation } }))
        for (let generation = 1; generation <= 4; generation++) yield* write(generation)
        assert.deepStrictEqual(
          [file, `${file}.bak.1`, `${file}.bak.2`, `${file}.bak.3`].map(generationOf),
          [4, 3, 2, 1]
        )
        yield* write(5)
        assert.deepStrictEqual(
          [file, `${file}.bak.1`, `${file}.bak.2`, `${file}.bak.3`].map(generationOf),
          [5, 4, 3, 2]
        )
        assert.deepStrictEqual(listing(dataDir), [
          "preferences.json",
          "preferences.json.bak.1",
          "preferences.json.bak.2",
          "preferences.json.bak.3"
        ])
      })
    ))

  it.live("by default .bak.1 is the state before the latest write and .bak.2..3 are an hour apart: quick writes never evict them", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* JsonFilePreferencesStore.make({ dataDir })
        const file = prefsFile(dataDir)
        const generationOf = (path: string) => JSON.parse(fsSync.readFileSync(path, "utf8")).generation
        const write = (generation: number) => put(store, (document) => ({ ...document, other: { generation } }))
        const backups = () => listing(dataDir).filter((name) => name.includes(".bak."))
        // the first backup, then the first push-down (no .bak.2 yet), then .bak.1 alone is replaced
        for (let generation = 1; generation <= 5; generation++) yield* write(generation)
        assert.deepStrictEqual([file, `${file}.bak.1`, `${file}.bak.2`].map(generationOf), [5, 4, 1])
        assert.deepStrictEqual(backups(), ["preferences.json.bak.1", "preferences.json.bak.2"])
        // .bak.1's state written 2 hours after .bak.2's: the next write starts a generation
        const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000)
        fsSync.utimesSync(`${file}.bak.2`, hoursAgo(3), hoursAgo(3))
        fsSync.utimesSync(`${file}.bak.1`, hoursAgo(1), hoursAgo(1))
        yield* write(6)
        assert.deepStrictEqual([file, `${file}.bak.1`, `${file}.bak.2`, `${file}.bak.3`].map(generationOf), [6, 5, 4, 1])
        // 59 minutes apart is not a generation: only .bak.1 changes
        fsSync.utimesSync(`${file}.bak.2`, hoursAgo(2), hoursAgo(2))
        fsSync.utimesSync(`${file}.bak.1`, hoursAgo(2 - 59 / 60), hoursAgo(2 - 59 / 60))
        yield* write(7)
        assert.deepStrictEqual([file, `${file}.bak.1`, `${file}.bak.2`, `${file}.bak.3`].map(generationOf), [7, 6, 4, 1])
      })
    ))

  it.live("startsGeneration: pushed down when .bak.1 is at least the spacing newer than .bak.2, or there is no .bak.2", () =>
    Effect.sync(() => {
      const hour = 3_600_000
      assert.isFalse(JsonFilePreferencesStore.startsGeneration(undefined, undefined, hour), "no .bak.1: nothing to push down")
      assert.isTrue(JsonFilePreferencesStore.startsGeneration(5, undefined, hour))
      assert.isTrue(JsonFilePreferencesStore.startsGeneration(2 * hour, hour, hour))
      assert.isFalse(JsonFilePreferencesStore.startsGeneration(2 * hour - 1, hour, hour))
      assert.isTrue(JsonFilePreferencesStore.startsGeneration(7, 7, 0), "spacing 0: every write")
    }))

  it.live("an update that changes nothing writes nothing and rotates nothing", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        yield* put(store, withConfigs([Fixtures.sampleConfig("Two")]))
        const file = prefsFile(dataDir)
        const inode = fsSync.statSync(file).ino
        const before = listing(dataDir).map((name) => fsSync.readFileSync(NodePath.join(dataDir, name), "utf8"))
        assert.strictEqual(yield* store.update((document) => Effect.succeed(["same", document] as const)), "same")
        assert.strictEqual(fsSync.statSync(file).ino, inode)
        assert.deepStrictEqual(listing(dataDir).map((name) => fsSync.readFileSync(NodePath.join(dataDir, name), "utf8")), before)
      })
    ))

  it.live("a failing f writes nothing and leaves no temp file", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        const before = fsSync.readFileSync(prefsFile(dataDir))
        const error = yield* Effect.flip(
          store.update(() => Effect.fail(new Errors.Conflict({ message: "no", hint: "no", reason: "busy" })))
        )
        assert.strictEqual(error._tag, "Conflict")
        assert.isTrue(fsSync.readFileSync(prefsFile(dataDir)).equals(before))
        assert.deepStrictEqual(listing(dataDir), ["preferences.json"])
      })
    ))

  const failingWriteCases: ReadonlyArray<
    { readonly name: string; readonly code: string; readonly fs: Layer.Layer<FileSystem.FileSystem> }
  > = [
    {
      name: "rename fails (injected EIO)",
      code: "EIO",
      fs: faultyFileSystem((node) => ({
        rename: (from, to) => from.endsWith(".tmp") ? Effect.fail(errnoFailure("EIO", "rename", from)) : node.rename(from, to)
      }))
    },
    {
      name: "disk full while writing (injected ENOSPC)",
      code: "ENOSPC",
      fs: faultyFileSystem((node) => ({
        open: (path, options) =>
          path.endsWith(".tmp")
            ? Effect.map(node.open(path, options), (file) =>
              Object.assign(Object.create(file) as FileSystem.File, {
                writeAll: () => Effect.fail(errnoFailure("ENOSPC", "writeAll", path))
              }))
            : node.open(path, options)
      }))
    }
  ]
  for (const failing of failingWriteCases) {
    it.live(`${failing.name}: StorageInaccessible, file and backups unchanged, no temp file left`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          const good = yield* openStore(dataDir)
          for (const name of ["One", "Two", "Three"]) {
            yield* put(good, (document) => withConfigs([...document.llm.configs, Fixtures.sampleConfig(name)])(document))
          }
          const snapshot = () => listing(dataDir).map((name) => [name, fsSync.readFileSync(NodePath.join(dataDir, name), "utf8")] as const)
          const before = snapshot()
          const store = yield* JsonFilePreferencesStore.make({ dataDir }).pipe(Effect.provide(failing.fs))
          const error = yield* Effect.flip(put(store, withConfigs([])))
          assert.strictEqual(error._tag, "StorageInaccessible")
          assert.include(error.message, failing.code)
          assert.deepStrictEqual(snapshot(), before)
          assert.deepStrictEqual(leftovers(dataDir), [])
        })
      ))
  }

  it.live("unknown settings survive 10 updates byte-for-byte (canonical file) and value-for-value (any file)", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const settingsJson = `{
          "zeta": "written first, stays first",
          "theme": "dark",
          "__proto__": { "polluted": true },
          "": "empty key",
          "window": { "width": 1280, "ratio": 0.1, "big": 1e21, "negative": -3.25, "flags": [true, false, null, {}, []] },
          "text": "Ünïcödé — 工作 😀 \\u2028 \\"quoted\\" \\\\ back\\nslash \\u0000",
          "recentFiles": ["/tmp/a.md", "C:\\\\Users\\\\ünï\\\\b.md"]
        }`
        const settings = JSON.parse(settingsJson) as Record<string, unknown>
        const canonical = `${JSON.stringify({ ...settings, llm: { version: 1, configs: [], journal: [] } }, null, 2)}\n`
        const compactLlmFirst = `{"llm":{"version":1,"configs":[],"journal":[]},${settingsJson.trim().slice(1)}`
        for (const [folder, original] of [["canonical", canonical], ["compact", compactLlmFirst]] as const) {
          const dir = NodePath.join(dataDir, folder)
          fsSync.mkdirSync(dir, { recursive: true })
          fsSync.writeFileSync(prefsFile(dir), original)
          const store = yield* openStore(dir)
          for (let index = 0; index < 10; index++) {
            yield* put(store, (document) => withConfigs([...document.llm.configs, Fixtures.sampleConfig(`C${index}`)])(document))
          }
          const text = fsSync.readFileSync(prefsFile(dir), "utf8")
          const { llm, ...other } = JSON.parse(text) as Record<string, unknown>
          assert.strictEqual((llm as { configs: Array<unknown> }).configs.length, 10)
          assert.deepStrictEqual(Object.keys(other), Object.keys(settings))
          assert.deepStrictEqual(other, settings)
          assert.isTrue(Object.hasOwn(other, "__proto__"))
          assert.isUndefined(({} as Record<string, unknown>)["polluted"])
          if (folder === "canonical") {
            const settingsPart = (s: string) => s.slice(0, s.indexOf(`\n  "llm": {`))
            assert.strictEqual(settingsPart(text), settingsPart(original))
          }
        }
      })
    ))
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: processes", () => {
  it.live("two processes doing 25 read-modify-writes each at once lose nothing (50 entries)", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const results = yield* Effect.all(
          [runChild([dataDir, "increment", "a", "25"]), runChild([dataDir, "increment", "b", "25"])],
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(results, [{ ok: true }, { ok: true }])
        const document = yield* (yield* openStore(dataDir)).load
        const entries = document.other["entries"] as Array<string>
        assert.strictEqual(document.other["counter"], 50)
        assert.strictEqual(entries.length, 50)
        assert.strictEqual(new Set(entries).size, 50)
        for (const label of ["a", "b"]) {
          assert.deepStrictEqual(
            entries.filter((entry) => entry.startsWith(`${label}-`)),
            Array.from({ length: 25 }, (_, index) => `${label}-${index}`)
          )
        }
        assert.deepStrictEqual(leftovers(dataDir), [])
      })
    ))

  // An update reuses what this process last wrote while one lstat shows that very file unchanged
  // (it is held open, so its inode number cannot come back as another file's). Another writer's
  // change between two updates must be read, even one that keeps the size and the mtime.
  const counterOf = (dataDir: string) => (JSON.parse(fsSync.readFileSync(prefsFile(dataDir), "utf8")) as { counter: number }).counter
  const increment = (store: PreferencesStore.PreferencesStore["Service"]) =>
    put(store, (document) => ({ ...document, other: { ...document.other, counter: (document.other["counter"] as number) + 1 } }))
  /** Gives `to` the times of `from` to the nanosecond (`touch -r`; utimes takes a double, which cannot carry them). */
  const copyTimes = (from: string, to: string) => {
    const touched = spawnSync("touch", ["-r", from, to])
    assert.strictEqual(touched.status, 0, String(touched.stderr))
  }
  /** The same text with counter `from` (one digit) as `to`: same size, so only times and identity can tell. */
  const sameSizeWith = (dataDir: string, from: number, to: number) => {
    const text = fsSync.readFileSync(prefsFile(dataDir), "utf8")
    const changed = text.replace(`"counter": ${from}`, `"counter": ${to}`)
    assert.strictEqual(changed.length, text.length)
    assert.notStrictEqual(changed, text)
    return changed
  }

  it.live("another writer's replacement between two updates is read, even with the same size and mtime", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, (document) => ({ ...document, other: { counter: 1 } }))
        yield* increment(store) // 2, reusing what it wrote
        const before = fsSync.statSync(prefsFile(dataDir))
        // another process: a new file of the same size renamed into place, with the old times
        const temp = `${prefsFile(dataDir)}.other`
        fsSync.writeFileSync(temp, sameSizeWith(dataDir, 2, 7), { mode: 0o600 })
        copyTimes(prefsFile(dataDir), temp)
        fsSync.renameSync(temp, prefsFile(dataDir))
        assert.strictEqual(fsSync.statSync(prefsFile(dataDir)).mtimeMs, before.mtimeMs)
        yield* increment(store)
        assert.strictEqual(counterOf(dataDir), 8)
      })
    ))

  it.live("another writer's change in place between two updates is read, even with the same size and mtime", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, (document) => ({ ...document, other: { counter: 1 } }))
        yield* increment(store)
        const before = fsSync.statSync(prefsFile(dataDir))
        // Wait for the file-time clock to move past the last write (the event, not a duration): a
        // change within the same tick is the one thing times cannot show (TrustedFile.holdFile).
        const probe = NodePath.join(dataDir, "clock-probe")
        for (let ticked = false; !ticked;) {
          fsSync.writeFileSync(probe, "x")
          ticked = fsSync.statSync(probe).ctimeMs > before.ctimeMs
        }
        fsSync.rmSync(probe)
        const times = NodePath.join(dataDir, "times")
        fsSync.writeFileSync(times, "")
        copyTimes(prefsFile(dataDir), times)
        fsSync.writeFileSync(prefsFile(dataDir), sameSizeWith(dataDir, 2, 7)) // in place: same inode
        copyTimes(times, prefsFile(dataDir))
        const after = fsSync.statSync(prefsFile(dataDir))
        assert.deepStrictEqual([after.ino, after.size, after.mtimeMs], [before.ino, before.size, before.mtimeMs])
        yield* increment(store)
        assert.strictEqual(counterOf(dataDir), 8)
      })
    ))

  it.live("a lock left by a dead process is taken over once stale", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { recursive: true })
        const lock = `${prefsFile(dataDir)}.lock`
        fsSync.mkdirSync(lock)
        const old = new Date(Date.now() - 60_000)
        fsSync.utimesSync(lock, old, old)
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        assert.strictEqual((yield* store.load).llm.configs.length, 1)
        assert.isFalse(fsSync.existsSync(lock))
      })
    ))

  it.live("a live lock held too long: StorageInaccessible with a hint naming the lock", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { recursive: true })
        const lock = `${prefsFile(dataDir)}.lock`
        fsSync.mkdirSync(lock) // fresh mtime: looks held by a live process
        const store = yield* JsonFilePreferencesStore.make({ dataDir, lock: { waitMillis: 300 } })
        const error = yield* Effect.flip(put(store, withConfigs([])))
        assert.strictEqual(error._tag, "StorageInaccessible")
        // It gave up after the configured wait (the error names it); one that never gave up
        // would hang until the test's limit.
        assert.include(error.message, "locked by another Fishbowl process (waited 300 ms)")
        assert.include(error.hint, lock)
        assert.isFalse(fsSync.existsSync(prefsFile(dataDir)))
      })
    ))
})

describe("JsonFilePreferencesStore: writes on the worker thread (OffThreadWrite)", () => {
  /** The file's settings other than the llm section (preferences.json keeps them at its top level). */
  const counterIn = (path: string) => {
    const { llm: _llm, ...other } = JSON.parse(fsSync.readFileSync(path, "utf8")) as { counter?: number; readonly [key: string]: unknown }
    return other
  }
  const count = (store: PreferencesStore.PreferencesStore["Service"], counter: number) =>
    put(store, (document) => ({ ...document, other: { ...document.other, counter } }))
  /** Counters 1 (read in full: the other path) and 2 (the worker, once started): the next write is the worker's. */
  const writtenByWorker = (store: PreferencesStore.PreferencesStore["Service"]) =>
    Effect.gen(function*() {
      yield* count(store, 1)
      yield* OffThreadWrite.started
      yield* count(store, 2)
    })

  it.live("once it has started, updates are committed by it: the same file, generations, modes and no leftovers as the other path", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* count(store, 1) // the first write of an instance reads the file: the other path
        yield* OffThreadWrite.started
        const before = OffThreadWrite.commitsWritten()
        for (let counter = 2; counter <= 6; counter++) yield* count(store, counter)
        assert.strictEqual(OffThreadWrite.commitsWritten() - before, 5, "each update after the first was the worker's")
        const file = prefsFile(dataDir)
        assert.deepStrictEqual(
          [file, `${file}.bak.1`, `${file}.bak.2`, `${file}.bak.3`].map((path) => counterIn(path)?.counter),
          [6, 5, 4, 3],
          "spacing 0: every write starts a generation, the oldest dropped"
        )
        assert.deepStrictEqual(listing(dataDir), [
          "preferences.json",
          "preferences.json.bak.1",
          "preferences.json.bak.2",
          "preferences.json.bak.3"
        ])
        for (const name of listing(dataDir)) assert.strictEqual(modeOf(NodePath.join(dataDir, name)), 0o600, name)
        assert.strictEqual(fsSync.statSync(file).nlink, 1)
        // what it wrote is what a fresh instance reads
        assert.strictEqual((yield* (yield* openStore(dataDir)).load).other["counter"], 6)
      })
    ))

  it.live("a lock another process holds: the worker takes nothing and leaves that lock; the update waits and says so", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* JsonFilePreferencesStore.make({ dataDir, lock: { waitMillis: 300 } })
        yield* count(store, 1)
        yield* OffThreadWrite.started
        const lock = `${prefsFile(dataDir)}.lock`
        fsSync.mkdirSync(lock) // fresh mtime: a live holder
        const before = OffThreadWrite.commitsWritten()
        const error = yield* Effect.flip(count(store, 2))
        assert.include(error.message, "locked by another Fishbowl process (waited 300 ms)")
        assert.isTrue(fsSync.statSync(lock).isDirectory(), "the other process's lock is still there")
        assert.strictEqual(OffThreadWrite.commitsWritten(), before)
        assert.strictEqual(counterIn(prefsFile(dataDir))?.counter, 1)
        fsSync.rmdirSync(lock)
        yield* count(store, 3)
        assert.strictEqual(counterIn(prefsFile(dataDir))?.counter, 3)
      })
    ))

  it.live("a folder opened to other accounts between two updates: refused as by the other path, and no lock is made in it", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* writtenByWorker(store)
        fsSync.chmodSync(dataDir, 0o777)
        const before = listing(dataDir)
        const watcher = fsSync.watch(dataDir)
        const seen: Array<string> = []
        let sentinelArrived: () => void = () => {}
        const sentinel = new Promise<void>((resolve) => (sentinelArrived = resolve))
        watcher.on("change", (_event, name) => {
          seen.push(String(name))
          if (String(name) === "sentinel") sentinelArrived()
        })
        const sentinelSeen = Effect.promise(() => sentinel)
        const error = yield* Effect.flip(count(store, 3))
        // inotify reports in order: once the sentinel made after the update is seen, so is any lock the update made
        fsSync.writeFileSync(NodePath.join(dataDir, "sentinel"), "")
        yield* sentinelSeen
        watcher.close()
        fsSync.rmSync(NodePath.join(dataDir, "sentinel"))
        assert.include(error.message, "can be changed by other accounts")
        assert.deepStrictEqual(listing(dataDir), before)
        assert.notInclude(seen, "preferences.json.lock", "the worker made no lock in the opened folder")
        assert.strictEqual(counterIn(prefsFile(dataDir))?.counter, 2)
        fsSync.chmodSync(dataDir, 0o700)
      })
    ))

  it.live("the worker ended: the next updates are written by the other path (none waits on it), then by a new worker", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* count(store, 1)
        yield* OffThreadWrite.started
        yield* count(store, 2) // pinned: the file the worker keeps open
        yield* OffThreadWrite.stop
        const before = OffThreadWrite.commitsWritten()
        // both would wait forever if a message went to the ended worker (releasing its file, its lock)
        yield* count(store, 3)
        yield* count(store, 4)
        assert.strictEqual(counterIn(prefsFile(dataDir)).counter, 4)
        yield* OffThreadWrite.started
        yield* count(store, 5)
        assert.strictEqual(counterIn(prefsFile(dataDir)).counter, 5)
        assert.isAtLeast(OffThreadWrite.commitsWritten() - before, 1, "a new worker writes again")
        assert.deepStrictEqual(leftovers(dataDir), [])
      })
    ))

  it.live("a lock taken over while the update runs (its holder took too long): the worker renames nothing and removes only its own lock", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* JsonFilePreferencesStore.make({ dataDir, lock: { waitMillis: 300 } })
        yield* writtenByWorker(store)
        const lock = `${prefsFile(dataDir)}.lock`
        const before = OffThreadWrite.commitsWritten()
        // another process judged the worker's lock stale and took it over: the worker's folder
        // moved aside (so the new one cannot reuse its inode) and a new one made
        const takeOver = () => {
          if (fsSync.existsSync(lock) && !fsSync.existsSync(`${lock}.old`)) {
            fsSync.renameSync(lock, `${lock}.old`)
            fsSync.mkdirSync(lock)
          }
        }
        const error = yield* Effect.flip(
          store.update((document) =>
            Effect.sync(() => (takeOver(), [undefined, { ...document, other: { ...document.other, counter: 3 } }] as const))
          )
        )
        assert.include(error.message, "locked by another Fishbowl process")
        assert.isTrue(fsSync.statSync(lock).isDirectory(), "the other holder's lock is left")
        assert.strictEqual(counterIn(prefsFile(dataDir)).counter, 2, "nothing renamed over the file")
        assert.strictEqual(OffThreadWrite.commitsWritten(), before)
        assert.deepStrictEqual(listing(dataDir).filter((name) => name.endsWith(".tmp")), [])
        fsSync.rmdirSync(lock)
        fsSync.rmdirSync(`${lock}.old`)
      })
    ))

  it.live("another writer between two updates: the worker's look sees it, writes nothing, and the update is made on the new state", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* writtenByWorker(store)
        // another process: a new file renamed into place (a store in this process would also unpin the file)
        const replacement = `${prefsFile(dataDir)}.other`
        fsSync.writeFileSync(replacement, JSON.stringify({ ...counterIn(prefsFile(dataDir)), theme: "dark" }), { mode: 0o600 })
        fsSync.renameSync(replacement, prefsFile(dataDir))
        const before = OffThreadWrite.commitsWritten()
        yield* put(store, (document) => ({ ...document, other: { ...document.other, counter: 3 } }))
        assert.deepStrictEqual(counterIn(prefsFile(dataDir)), { counter: 3, theme: "dark" }, "the other writer's change is kept")
        assert.strictEqual(OffThreadWrite.commitsWritten(), before, "read in full by the other path, not written over by the worker")
        yield* count(store, 4)
        assert.strictEqual(OffThreadWrite.commitsWritten() - before, 1, "and the worker again once the file is its own")
      })
    ))
})

describe("JsonFilePreferencesStore: interruption (time budgets)", () => {
  it.live("60 updates cut short by timeouts leak no lock and no temp file; the next update works", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* JsonFilePreferencesStore.make({ dataDir, lock: { waitMillis: 1000 } })
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 60 }, (_, index) => index),
          (index) =>
            put(store, (document) => ({ ...document, other: { ...document.other, [`k${index}`]: index } })).pipe(
              Effect.timeout(`${index % 7} millis`),
              Effect.result
            ),
          { concurrency: 8 }
        )
        yield* put(store, (document) => ({ ...document, other: { ...document.other, final: true } }))
        const document = yield* store.load
        assert.strictEqual(document.other["final"], true)
        assert.strictEqual(document.llm.configs.length, 1)
        assert.deepStrictEqual(leftovers(dataDir), [])
        assert.isAbove(outcomes.filter((outcome) => outcome._tag === "Failure").length, 0, "some updates were cut short")
      })
    ))

  it.live("waiting for another process's lock can be interrupted", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(`${prefsFile(dataDir)}.lock`, { recursive: true })
        // The store would wait a minute for the lock: only the interruption can end this early,
        // and its failure is the timeout's, not the store's "waited" error.
        const store = yield* JsonFilePreferencesStore.make({ dataDir, lock: { waitMillis: 60_000 } })
        const outcome = yield* put(store, withConfigs([])).pipe(Effect.timeout("200 millis"), Effect.result)
        assert.strictEqual(outcome._tag, "Failure")
        if (outcome._tag === "Failure") assert.notStrictEqual((outcome.failure as { _tag?: string })._tag, "StorageInaccessible")
      })
    ))
})

// ---------------------------------------------------------------------------------------------
// The data folder is a trust boundary (TrustedFile). A second account is uid/gid 65534 (nobody):
// as root, files are CREATED as nobody with setpriv and the store runs as root, or the store runs
// as nobody (runChild) on what root created.

const NOBODY = 65534

/** Runs `script` with sh as uid/gid 65534; paths are passed in the environment, never quoted into it. */
const asNobody = (script: string, env: Record<string, string>) => {
  assert.isTrue(IS_ROOT, "acting as a second account needs root (setpriv); CI runs the tests as root")
  const result = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script], {
    env: { ...process.env, ...env },
    encoding: "utf8"
  })
  assert.strictEqual(result.status, 0, `as nobody: ${script}: ${result.stderr}`)
}

const ownerOf = (path: string) => fsSync.lstatSync(path).uid

/** Everything in the folder, with bytes, for "nothing changed" checks. */
const snapshotOf = (dataDir: string) =>
  listing(dataDir).map((name) => {
    const full = NodePath.join(dataDir, name)
    const info = fsSync.lstatSync(full)
    return [
      name,
      info.mode,
      info.isFile() ? fsSync.readFileSync(full, "utf8") : info.isSymbolicLink() ? fsSync.readlinkSync(full) : ""
    ] as const
  })

/** load and update both fail with StorageInaccessible; f is never called. */
const bothRefused = (store: PreferencesStore.PreferencesStore["Service"]) =>
  Effect.gen(function*() {
    const loadError = yield* Effect.flip(store.load)
    let called = false
    const updateError = yield* Effect.flip(store.update((document) => {
      called = true
      return Effect.succeed([undefined, document] as const)
    }))
    assert.isFalse(called, "f never sees a document read from an untrusted place")
    assert.strictEqual(loadError._tag, "StorageInaccessible", loadError.message)
    assert.strictEqual(updateError._tag, "StorageInaccessible", updateError.message)
    return { loadError, updateError }
  })

const writeValid = (dataDir: string, mode = 0o600) => {
  fsSync.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  fsSync.chmodSync(dataDir, 0o700)
  fsSync.writeFileSync(prefsFile(dataDir), validText, { mode })
  fsSync.chmodSync(prefsFile(dataDir), mode)
}

describe("JsonFilePreferencesStore: the data folder and its files must be the user's own (StrictModes)", () => {
  for (const mode of [0o777, 0o770, 0o702, 0o720]) {
    it.live(`a data folder others can write (${mode.toString(8)}): load and update refused with "chmod 700"; nothing read or written`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          writeValid(dataDir)
          fsSync.chmodSync(dataDir, mode)
          const before = snapshotOf(dataDir)
          const { loadError, updateError } = yield* bothRefused(yield* openStore(dataDir))
          for (const error of [loadError, updateError]) {
            assert.include(error.message, "can be changed by other accounts")
            assert.include(error.message, mode.toString(8))
            assert.include(error.hint, `chmod 700 "${dataDir}"`)
          }
          assert.deepStrictEqual(snapshotOf(dataDir), before, "no lock, temp file, backup or quarantine")
          // The fix named in the hint works.
          fsSync.chmodSync(dataDir, 0o700)
          assert.strictEqual((yield* (yield* openStore(dataDir)).load).other["theme"], "dark")
        })
      ))
  }

  it.live("a data folder another account created (uid 65534, even 0700): refused with a chown hint; and the reverse", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const root = NodePath.dirname(dataDir)
        fsSync.chmodSync(root, 0o777)
        asNobody(`mkdir -m 700 "$DIR" && printf '%s' "$TEXT" > "$DIR/preferences.json" && chmod 600 "$DIR/preferences.json"`, {
          DIR: dataDir,
          TEXT: validText
        })
        fsSync.chmodSync(root, 0o755)
        assert.strictEqual(ownerOf(dataDir), NOBODY)
        const before = snapshotOf(dataDir)
        const { loadError, updateError } = yield* bothRefused(yield* openStore(dataDir))
        for (const error of [loadError, updateError]) {
          assert.include(error.message, `belongs to another account (uid ${NOBODY})`)
          assert.include(error.hint, `chown -R root "${dataDir}"`)
          assert.include(error.hint, `chmod 700 "${dataDir}"`)
        }
        assert.deepStrictEqual(snapshotOf(dataDir), before)

        // The reverse: a folder root made (0755, file 0644 so nobody could read it) is not nobody's.
        const rootMade = NodePath.join(root, "root-made")
        writeValid(rootMade, 0o644)
        fsSync.chmodSync(rootMade, 0o755)
        for (const command of ["load", "update"]) {
          const result = yield* runChild([rootMade, command], { asNobody: true })
          assert.strictEqual(result.tag, "StorageInaccessible", JSON.stringify(result))
          assert.include(result.message, "belongs to another account (uid 0)")
          assert.include(result.hint, "chown -R")
        }
        assert.strictEqual(fsSync.readFileSync(prefsFile(rootMade), "utf8"), validText)
        assert.deepStrictEqual(listing(rootMade), ["preferences.json"])
      })
    ))

  it.live("a preferences.json another account wrote (uid 65534) in our folder: refused with a chown hint, never quarantined", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const root = NodePath.dirname(dataDir)
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        const drop = NodePath.join(root, "drop")
        fsSync.mkdirSync(drop, { mode: 0o777 })
        fsSync.chmodSync(drop, 0o777)
        fsSync.chmodSync(root, 0o755)
        asNobody(`umask 022 && printf '%s' "$TEXT" > "$DROP/preferences.json"`, { DROP: drop, TEXT: validText })
        fsSync.renameSync(NodePath.join(drop, "preferences.json"), prefsFile(dataDir)) // keeps its owner
        assert.strictEqual(ownerOf(prefsFile(dataDir)), NOBODY)
        const before = snapshotOf(dataDir)
        const { loadError, updateError } = yield* bothRefused(yield* openStore(dataDir))
        for (const error of [loadError, updateError]) {
          assert.include(error.message, `preferences.json belongs to another account (uid ${NOBODY})`)
          assert.include(error.hint, `chown root "${prefsFile(dataDir)}"`)
          assert.include(error.hint, `chmod 600 "${prefsFile(dataDir)}"`)
        }
        assert.deepStrictEqual(snapshotOf(dataDir), before)
      })
    ))

  for (const mode of [0o666, 0o620, 0o602]) {
    it.live(`a preferences.json others can write (${mode.toString(8)}): refused with "chmod 600"`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          writeValid(dataDir, mode)
          const before = snapshotOf(dataDir)
          const { loadError } = yield* bothRefused(yield* openStore(dataDir))
          assert.include(loadError.message, `mode ${mode.toString(8)}`)
          assert.include(loadError.hint, `chmod 600 "${prefsFile(dataDir)}"`)
          assert.deepStrictEqual(snapshotOf(dataDir), before)
        })
      ))
  }

  it.live("a FIFO as preferences.json: refused at once, and no libuv thread is left blocked on it", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        assert.strictEqual(spawnSync("mkfifo", ["-m", "600", prefsFile(dataDir)]).status, 0)
        const store = yield* openStore(dataDir)
        const { loadError, updateError } = yield* bothRefused(store)
        assert.include(loadError.message, "named pipe (FIFO)")
        assert.include(updateError.message, "named pipe (FIFO)")
        // More refusals than libuv has threads (4): a blocking open would wedge every later file read.
        for (let index = 0; index < 8; index++) assert.strictEqual((yield* Effect.flip(store.load))._tag, "StorageInaccessible")
        const unrelated = yield* Effect.promise(() =>
          Promise.race([
            fsSync.promises.readFile(CHILD, "utf8").then(() => "read"),
            // a hang catcher: the read takes milliseconds unless every libuv thread is blocked
            new Promise<string>((resolve) => setTimeout(() => resolve("hung"), 60_000).unref())
          ])
        )
        assert.strictEqual(unrelated, "read")
        assert.isTrue(fsSync.lstatSync(prefsFile(dataDir)).isFIFO(), "left in place")
      })
    ))

  it.live("a folder or a socket as preferences.json: refused, left in place", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(prefsFile(dataDir), { recursive: true, mode: 0o700 })
        fsSync.chmodSync(dataDir, 0o700)
        const asFolder = yield* bothRefused(yield* openStore(dataDir))
        assert.include(asFolder.loadError.message, "is a folder, not a regular file")
        fsSync.rmdirSync(prefsFile(dataDir))
        const server = NodeNet.createServer()
        yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(prefsFile(dataDir), resolve)))
        const asSocket = yield* bothRefused(yield* openStore(dataDir)).pipe(
          Effect.ensuring(Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve()))))
        )
        assert.include(asSocket.loadError.message, "is a socket")
      })
    ))

  it.live("a symbolic link as preferences.json is never followed: refused, its target untouched", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        const target = NodePath.join(NodePath.dirname(dataDir), "elsewhere.json")
        fsSync.writeFileSync(target, validText, { mode: 0o644 })
        fsSync.symlinkSync(target, prefsFile(dataDir))
        const before = snapshotOf(dataDir)
        const { loadError, updateError } = yield* bothRefused(yield* openStore(dataDir))
        assert.include(loadError.message, "is a symbolic link")
        assert.include(updateError.message, "is a symbolic link")
        assert.include(loadError.hint, `mv "${prefsFile(dataDir)}"`)
        assert.strictEqual(fsSync.readFileSync(target, "utf8"), validText)
        assert.strictEqual(modeOf(target), 0o644)
        assert.deepStrictEqual(snapshotOf(dataDir), before)
      })
    ))

  it.live("a data folder that is a link the user made is followed, and what it points to is checked", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const real = NodePath.join(NodePath.dirname(dataDir), "synced")
        writeValid(real)
        fsSync.symlinkSync(real, dataDir)
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        assert.strictEqual(JSON.parse(fsSync.readFileSync(prefsFile(real), "utf8")).llm.configs.length, 1)
        fsSync.chmodSync(real, 0o777)
        const { loadError } = yield* bothRefused(store)
        assert.include(loadError.hint, `chmod 700 "${dataDir}"`)
      })
    ))
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: links are never followed where it writes; every file it writes is 0600", () => {
  it.live("links planted at every backup name never redirect a write (the ~/.bashrc attack)", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        const file = prefsFile(dataDir)
        const victims = ["bak.1", "bak.2", "bak.3", "bak.next", "bak.4"].map((suffix) => {
          const victim = NodePath.join(NodePath.dirname(dataDir), `victim-${suffix}`)
          fsSync.writeFileSync(victim, `# victim ${suffix}\n`, { mode: 0o644 })
          fsSync.symlinkSync(victim, `${file}.${suffix}`)
          return victim
        })
        for (let index = 0; index < 5; index++) {
          yield* put(store, (document) => ({ ...document, other: { generation: index } }))
        }
        for (const victim of victims) {
          assert.strictEqual(fsSync.readFileSync(victim, "utf8"), `# victim ${NodePath.basename(victim).slice(7)}\n`)
          assert.strictEqual(modeOf(victim), 0o644)
        }
        for (const generation of [1, 2, 3]) {
          const backup = `${file}.bak.${generation}`
          assert.isTrue(fsSync.lstatSync(backup).isFile(), `${backup} is a real file now`)
          assert.strictEqual(modeOf(backup), 0o600)
          assert.strictEqual(JSON.parse(fsSync.readFileSync(backup, "utf8")).generation, 4 - generation)
        }
        assert.deepStrictEqual(leftovers(dataDir), ["preferences.json.bak.next"], "only the planted link, left alone")
      })
    ))

  it.live("a backup that is a link (or another account's file) is never read nor restored", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const configs = [Fixtures.sampleConfig("G1"), Fixtures.sampleConfig("G2"), Fixtures.sampleConfig("G3")]
        for (let generation = 1; generation <= 3; generation++) yield* put(store, withConfigs(configs.slice(0, generation)))
        const file = prefsFile(dataDir)
        const evil = NodePath.join(NodePath.dirname(dataDir), "evil.json")
        fsSync.writeFileSync(
          evil,
          JsonFilePreferencesStore.serializeDocument({
            other: {},
            llm: { version: 1, configs: [Fixtures.sampleConfig("Evil")], journal: [] }
          })
        )
        fsSync.rmSync(`${file}.bak.1`)
        fsSync.symlinkSync(evil, `${file}.bak.1`)
        fsSync.chownSync(`${file}.bak.2`, NOBODY, NOBODY)
        fsSync.writeFileSync(file, "{ broken")
        const error = yield* Effect.flip(store.load)
        assert.strictEqual(error._tag, "Corrupted")
        assert.isUndefined(error._tag === "Corrupted" ? error.restoredFrom : "x", "neither .bak.1 (link) nor .bak.2 (nobody's) is used")
        assert.deepStrictEqual((yield* store.load).llm.configs, [])
      })
    ))

  it.live("a 0644 preferences.json: its backup is a 0600 copy (not a hard link keeping 0644); a quarantined 0644 file becomes 0600", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        writeValid(dataDir, 0o644)
        const file = prefsFile(dataDir)
        const originalInode = fsSync.statSync(file).ino
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        assert.strictEqual(modeOf(file), 0o600)
        assert.strictEqual(modeOf(`${file}.bak.1`), 0o600)
        assert.notStrictEqual(fsSync.statSync(`${file}.bak.1`).ino, originalInode, "copied, not linked")
        assert.strictEqual(fsSync.readFileSync(`${file}.bak.1`, "utf8"), validText)
        // A 0600 file with one link is hard-linked (cheap) — the backup is that very file.
        const currentInode = fsSync.statSync(file).ino
        yield* put(store, withConfigs([Fixtures.sampleConfig("Two")]))
        assert.strictEqual(fsSync.statSync(`${file}.bak.1`).ino, currentInode)
        assert.strictEqual(modeOf(`${file}.bak.1`), 0o600)

        fsSync.writeFileSync(file, "{ broken", { mode: 0o644 })
        fsSync.chmodSync(file, 0o644)
        const error = yield* Effect.flip(store.load)
        assert.strictEqual(error._tag, "Corrupted")
        const quarantined = error._tag === "Corrupted" ? error.quarantinedAs! : ""
        assert.strictEqual(fsSync.readFileSync(quarantined, "utf8"), "{ broken")
        assert.strictEqual(modeOf(quarantined), 0o600)
        assert.strictEqual(modeOf(file), 0o600)
        assert.deepStrictEqual(leftovers(dataDir), [])
      })
    ))
})

// ---------------------------------------------------------------------------------------------

/** `[[[...]]]` nested `depth` levels, built without recursion. */
const nested = (depth: number): unknown => {
  let value: unknown = []
  for (let level = 1; level < depth; level++) value = [value]
  return value
}

/** TrustedFile's Node functions, counting the bytes read from files whose name ends with `suffix`. */
const countingReads = (suffix: string) => {
  const node = TrustedFile.NodeFiles.defaultValue()
  const counter = { bytes: 0 }
  const files: TrustedFile.NodeFilesService = {
    ...node,
    open: async (path, flags, mode) => {
      const handle = await node.open(path, flags, mode)
      if (!path.endsWith(suffix)) return handle
      return new Proxy(handle, {
        get: (target, key) => {
          const value: unknown = Reflect.get(target, key, target)
          if (key !== "read" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value
          return async (...args: Array<unknown>) => {
            const result = await (value as (...a: Array<unknown>) => Promise<{ bytesRead: number }>).apply(target, args)
            counter.bytes += result.bytesRead
            return result
          }
        }
      })
    }
  }
  return { files, counter }
}

describe("JsonFilePreferencesStore: bounded input (JsonLimits)", () => {
  it.live(`a preferences.json over MAX_DOCUMENT_BYTES is refused from its size, unread: Corrupted, quarantined, restored`, () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const one = Fixtures.sampleConfig("One")
        yield* put(store, withConfigs([one]))
        yield* put(store, withConfigs([one, Fixtures.sampleConfig("Two")]))
        const file = prefsFile(dataDir)
        fsSync.truncateSync(file, 100 * 1024 * 1024) // 100 MB, sparse: the size is what matters
        const { files, counter } = countingReads("preferences.json")
        const error = yield* Effect.flip(store.load.pipe(Effect.provideService(TrustedFile.NodeFiles, files)))
        assert.strictEqual(error._tag, "Corrupted")
        if (error._tag !== "Corrupted") return
        assert.strictEqual(counter.bytes, 0, "not one byte of the big file was read")
        assert.include(error.message, `${100 * 1024 * 1024} bytes, more than the ${JsonLimits.MAX_DOCUMENT_BYTES} bytes allowed`)
        assert.include(error.hint, "another program wrote")
        assert.strictEqual(error.restoredFrom, `${file}.bak.1`)
        assert.strictEqual(fsSync.statSync(error.quarantinedAs!).size, 100 * 1024 * 1024)
        assert.strictEqual(modeOf(error.quarantinedAs!), 0o600)
        assert.deepStrictEqual((yield* store.load).llm.configs, [one])
      })
    ))

  it.live("nested 5,000 deep: Corrupted (never a stack overflow), quarantined, restored; later updates work", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        const one = Fixtures.sampleConfig("One")
        yield* put(store, withConfigs([one]))
        yield* put(store, withConfigs([one, Fixtures.sampleConfig("Two")]))
        const deepText = `{"theme":"dark","deep":${"[".repeat(5000)}${"]".repeat(5000)}}`
        fsSync.writeFileSync(prefsFile(dataDir), deepText)
        for (const attempt of [store.load, put(store, (document) => document)]) {
          const error = yield* Effect.flip(attempt)
          assert.strictEqual(error._tag, "Corrupted")
          assert.include(error.message, `nests deeper than ${JsonLimits.MAX_JSON_DEPTH} levels`)
          if (error._tag === "Corrupted") assert.strictEqual(fsSync.readFileSync(error.quarantinedAs!, "utf8"), deepText)
          fsSync.writeFileSync(prefsFile(dataDir), deepText) // again, for update
        }
        fsSync.rmSync(prefsFile(dataDir))
        yield* put(store, withConfigs([Fixtures.sampleConfig("Three")]))
        assert.deepStrictEqual((yield* store.load).llm.configs.map((config) => config.name), ["Three"])
      })
    ))

  it.live(`exactly ${JsonLimits.MAX_JSON_DEPTH} levels is read; ${JsonLimits.MAX_JSON_DEPTH + 1} is Corrupted`, () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        // The top-level object is level 1, so a setting of depth-1 levels makes the document `depth` deep.
        fsSync.writeFileSync(prefsFile(dataDir), JSON.stringify({ deep: nested(JsonLimits.MAX_JSON_DEPTH - 1) }))
        const store = yield* openStore(dataDir)
        assert.deepStrictEqual((yield* store.load).other["deep"], nested(JsonLimits.MAX_JSON_DEPTH - 1))
        fsSync.writeFileSync(prefsFile(dataDir), JSON.stringify({ deep: nested(JsonLimits.MAX_JSON_DEPTH) }))
        assert.strictEqual((yield* Effect.flip(store.load))._tag, "Corrupted")
      })
    ))

  for (const depth of [5000, JsonLimits.MAX_JSON_DEPTH]) {
    it.live(`an update writing a setting ${depth} deep fails with WriteRefused, writes nothing; the next update works`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          const store = yield* openStore(dataDir)
          yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
          yield* put(store, withConfigs([Fixtures.sampleConfig("Two")]))
          const before = snapshotOf(dataDir)
          const error = yield* Effect.flip(put(store, (document) => ({ ...document, other: { deep: nested(depth) } })))
          assert.strictEqual(error._tag, "WriteRefused")
          assert.include(error.message, "preferences.json was not saved")
          assert.include(error.message, `nests deeper than ${JsonLimits.MAX_JSON_DEPTH} levels`)
          assert.include(error.hint, "Nothing was changed")
          assert.deepStrictEqual(snapshotOf(dataDir), before)
          yield* put(store, (document) => ({ ...document, other: { fine: nested(10) } }))
          assert.deepStrictEqual((yield* openStore(dataDir).pipe(Effect.flatMap((fresh) => fresh.load))).other, { fine: nested(10) })
        })
      ))
  }

  it.live("an update that would write more than MAX_DOCUMENT_BYTES fails with WriteRefused, writes nothing", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        const before = snapshotOf(dataDir)
        const error = yield* Effect.flip(
          put(store, (document) => ({ ...document, other: { big: "x".repeat(JsonLimits.MAX_DOCUMENT_BYTES) } }))
        )
        assert.strictEqual(error._tag, "WriteRefused")
        assert.include(error.message, `more than the ${JsonLimits.MAX_DOCUMENT_BYTES} bytes allowed`)
        assert.deepStrictEqual(snapshotOf(dataDir), before)
      })
    ))
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: the document is checked as a whole", () => {
  const duplicateCases: ReadonlyArray<
    { readonly name: string; readonly configs: () => ReadonlyArray<LlmConfig.LlmConfig>; readonly problem: string }
  > = [
    {
      name: "two configurations with one id",
      configs: () => {
        const first = Fixtures.sampleConfig("First")
        return [first, { ...Fixtures.sampleConfig("Second"), id: first.id }]
      },
      problem: "same id"
    },
    {
      name: "two configurations whose names differ only in case",
      configs: () => [Fixtures.sampleConfig("Work"), Fixtures.sampleConfig("WORK")],
      problem: "same name"
    },
    {
      name: "two configurations whose names differ only in Unicode normalisation",
      configs: () => [Fixtures.sampleConfig("Caf\u00e9"), Fixtures.sampleConfig("Cafe\u0301")],
      problem: "same name"
    }
  ]
  for (const duplicate of duplicateCases) {
    it.live(`${duplicate.name} in the file: Corrupted, quarantined, the last good copy restored — never accepted`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          const store = yield* openStore(dataDir)
          const good = Fixtures.sampleConfig("Good")
          yield* put(store, withConfigs([good]))
          yield* put(store, withConfigs([good, Fixtures.sampleConfig("Other")]))
          const text = JsonFilePreferencesStore.serializeDocument({
            other: {},
            llm: { version: 1, configs: duplicate.configs(), journal: [] }
          })
          fsSync.writeFileSync(prefsFile(dataDir), text)
          const error = yield* Effect.flip(store.load)
          assert.strictEqual(error._tag, "Corrupted")
          if (error._tag !== "Corrupted") return
          assert.include(error.message, duplicate.problem)
          assert.strictEqual(fsSync.readFileSync(error.quarantinedAs!, "utf8"), text)
          assert.strictEqual(error.restoredFrom, `${prefsFile(dataDir)}.bak.1`)
          assert.deepStrictEqual((yield* store.load).llm.configs, [good])
        })
      ))

    it.live(`an update writing ${duplicate.name}: WriteRefused, nothing written`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          const store = yield* openStore(dataDir)
          yield* put(store, withConfigs([Fixtures.sampleConfig("Good")]))
          const before = snapshotOf(dataDir)
          const error = yield* Effect.flip(put(store, withConfigs(duplicate.configs())))
          assert.strictEqual(error._tag, "WriteRefused")
          assert.include(error.message, duplicate.problem)
          assert.include(error.message, "was not saved")
          assert.deepStrictEqual(snapshotOf(dataDir), before)
        })
      ))
  }
})

// ---------------------------------------------------------------------------------------------

describe("JsonFilePreferencesStore: lock edge cases", () => {
  it.live("a lock folder dated in the future (clock set back after a crash) is taken over at once, not waited out", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        const lock = `${prefsFile(dataDir)}.lock`
        fsSync.mkdirSync(lock)
        const future = new Date(Date.now() + 60 * 60 * 1000)
        fsSync.utimesSync(lock, future, future)
        // Waits up to 7000 ms for a live lock: one dated in the future never goes stale by age
        // and nobody removes it, so a store that waited it out would fail; success means taken over.
        const store = yield* openStore(dataDir)
        yield* put(store, withConfigs([Fixtures.sampleConfig("One")]))
        assert.strictEqual((yield* store.load).llm.configs.length, 1)
        assert.isFalse(fsSync.existsSync(lock))
      })
    ))

  it.live("a future-dated lock that cannot be removed (not empty) is a clear StorageInaccessible at once", () =>
    withDataDir((dataDir) =>
      Effect.gen(function*() {
        fsSync.mkdirSync(dataDir, { mode: 0o700 })
        const lock = `${prefsFile(dataDir)}.lock`
        fsSync.mkdirSync(lock)
        fsSync.writeFileSync(NodePath.join(lock, "something"), "")
        const future = new Date(Date.now() + 60 * 60 * 1000)
        fsSync.utimesSync(lock, future, future)
        const error = yield* Effect.flip(put(yield* openStore(dataDir), withConfigs([])))
        assert.strictEqual(error._tag, "StorageInaccessible")
        // its own error, not the one of a lock waited out ("... (waited 7000 ms)")
        assert.include(error.message, "dated in the future")
        assert.notInclude(error.message, "waited")
        assert.include(error.hint, `rm -r "${lock}"`)
        assert.isTrue(fsSync.existsSync(NodePath.join(lock, "something")))
      })
    ))

  const notLocks: ReadonlyArray<{ readonly name: string; readonly make: (lock: string, outside: string) => void }> = [
    { name: "a regular file", make: (lock) => fsSync.writeFileSync(lock, "not a lock") },
    {
      name: "a link to a folder elsewhere (old mtime)",
      make: (lock, outside) => {
        fsSync.mkdirSync(outside)
        const old = new Date(Date.now() - 60_000)
        fsSync.utimesSync(outside, old, old)
        fsSync.symlinkSync(outside, lock)
      }
    },
    { name: "a link to a fresh folder elsewhere", make: (lock, outside) => (fsSync.mkdirSync(outside), fsSync.symlinkSync(outside, lock)) },
    { name: "a dangling link", make: (lock, outside) => fsSync.symlinkSync(outside, lock) },
    { name: "a FIFO", make: (lock) => assert.strictEqual(spawnSync("mkfifo", [lock]).status, 0) }
  ]
  for (const notLock of notLocks) {
    it.live(`${notLock.name} at the lock path is not a lock: removed (never followed), the update succeeds`, () =>
      withDataDir((dataDir) =>
        Effect.gen(function*() {
          fsSync.mkdirSync(dataDir, { mode: 0o700 })
          const lock = `${prefsFile(dataDir)}.lock`
          const outside = NodePath.join(NodePath.dirname(dataDir), "outside")
          notLock.make(lock, outside)
          // Locks never go stale here: had the store taken this for a held lock, it would have
          // waited (7000 ms) and failed, so success means it was not taken for a lock.
          yield* put(
            yield* JsonFilePreferencesStore.make({ dataDir, lock: { staleMillis: 600_000 } }),
            withConfigs([Fixtures.sampleConfig("One")])
          )
          assert.throws(() => fsSync.lstatSync(lock), /ENOENT/, "nothing left at the lock path")
          assert.deepStrictEqual(listing(dataDir), ["preferences.json"])
          if (fsSync.existsSync(outside)) assert.isTrue(fsSync.statSync(outside).isDirectory(), "the link's target is untouched")
        })
      ))
  }
})

describe("decodeUtf8: the text a fatal TextDecoder gives", () => {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
  const reference = (bytes: Uint8Array): string | undefined => {
    try {
      return decoder.decode(bytes)
    } catch {
      return undefined
    }
  }

  it("for any bytes: ASCII, UTF-8, byte order marks, invalid sequences, lone surrogates", () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf)
    const pieces = fc.oneof(
      fc.string().map((text) => new TextEncoder().encode(text)),
      fc.string({ unit: "grapheme" }).map((text) => new TextEncoder().encode(text)),
      fc.uint8Array({ maxLength: 12 }),
      fc.constantFrom(
        bom,
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0xc0, 0xaf),
        Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
        Uint8Array.of(0xe2, 0x82)
      )
    )
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 5 }), (parts) => {
        const bytes = Uint8Array.from(parts.flatMap((part) => [...part]))
        assert.strictEqual(JsonFilePreferencesStore.decodeUtf8(bytes), reference(bytes))
        // a view into a larger buffer reads only its own bytes
        const padded = Uint8Array.from([0x7b, ...bytes, 0x7d])
        assert.strictEqual(JsonFilePreferencesStore.decodeUtf8(padded.subarray(1, padded.length - 1)), reference(bytes))
      }),
      { numRuns: 3000 }
    )
  })
})
