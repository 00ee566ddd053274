/**
 * End-to-end on the real Secret Service and real preferences.json: the journaled store's contract
 * with both real ports, two processes creating at once, and kill -9 of a child process at every
 * named crash point of create, update and remove followed by recovery in a new process.
 */
import { assert, describe, it } from "@effect/vitest"
import { CrashPoints, Ids, LlmConfigStore, PreferencesStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Fixtures, LlmConfigModel, LlmConfigStoreContract } from "@fishbowl/domain/testing"
import { Effect, Exit, Fiber, Layer, Option, Redacted, Scope, Stream } from "effect"
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { afterAll } from "vitest"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as JsonFilePreferencesStore from "../src/JsonFilePreferencesStore.ts"
import * as KeytarSecretStore from "../src/KeytarSecretStore.ts"
import * as ProcessLiveness from "../src/ProcessLiveness.ts"
import * as SecretBackend from "../src/SecretBackend.ts"
import * as ChildProcesses from "../src/testing/ChildProcesses.ts"
import * as FreshDataDir from "../src/testing/FreshDataDir.ts"
import * as SecretServiceForTests from "../src/testing/SecretServiceForTests.ts"
import * as SecretServiceHarness from "../src/testing/SecretServiceHarness.ts"
import * as TempDirs from "../src/testing/TempDirs.ts"

const secretService = await SecretServiceForTests.secretServiceForThisFile()

const workerEnv = SecretServiceHarness.childEnv(secretService.env)
const CHILD = ChildProcesses.STORE_CHILD

const sharedScope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(sharedScope, Exit.void)))
const sharedKeytar = Layer.succeedContext(
  await Effect.runPromise(Layer.buildWithScope(KeytarSecretStore.layer({ workerEnv }), sharedScope))
)

// 50 sequences on the real ports (~500 commands, every crash point of every operation many times
// over); the domain's memory suites run 200 of the same generator, FISHBOWL_PROPERTY_RUNS soaks more.
LlmConfigStoreContract.llmConfigStoreContract(
  "preferences.json + keytar (real Secret Service)",
  Layer.mergeAll(sharedKeytar, FreshDataDir.freshJsonFileStore),
  {
    propertyRuns: 50
  }
)

/** Runs the store child; resolves with its exit code/signal and its one JSON line. */
const runStoreChild = async (args: ReadonlyArray<string>) => {
  const { code, signal, stdout, stderr } = await ChildProcesses.runChild(process.execPath, ["--import", "tsx", CHILD, ...args], {
    env: { ...workerEnv, PATH: process.env["PATH"] ?? "" }
  })
  let output: any
  try {
    output = stdout.trim() === "" ? undefined : JSON.parse(stdout.trim().split("\n").at(-1)!)
  } catch {
    output = { unparsed: stdout, stderr }
  }
  return { code, signal, output }
}

/** A store over the same folder and keychain, as a freshly started process would build it. */
const storeLayer = (dataDir: string) =>
  LlmConfigStore.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(sharedKeytar, JsonFilePreferencesStore.layer({ dataDir }), ProcessLiveness.layer))
  )

/**
 * An update killed before its key landed: its dead owner's keychain helper could still write the
 * key (it drains after its parent dies), so the first recovery only records when that can no
 * longer happen (`settledAfter`, within the store's lateWriteMillis) and leaves it; the store then
 * recovers again by itself once that time has passed, which rolls it back. The test waits for that
 * recovery's event, as the app would.
 */
const recoverOnceSettled = (first: LlmConfigStore.RecoveryReport) =>
  Effect.gen(function*() {
    const store = yield* LlmConfigStore.LlmConfigStore
    const secrets = yield* SecretStore.SecretStore
    const recovered = yield* store.changes.pipe(
      Stream.filter((change) => change._tag === "Recovered"),
      Stream.take(1),
      Stream.runCollect,
      Effect.forkChild({ startImmediately: true })
    )
    assert.deepStrictEqual([first.left.map((entry) => entry.why), first.rolledBack], [["settling"], []], "the first recovery waits")
    const [waiting] = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
    assert.isAtMost(Date.parse(waiting!.settledAfter!), Date.now() + secrets.lateWriteMillis, "no longer than the keychain's bound")
    assert.deepStrictEqual((yield* store.recover()).left.map((entry) => entry.why), ["settling"], "still waiting before then")
    assert.deepStrictEqual(Array.from(yield* Fiber.join(recovered)), [{ _tag: "Recovered", count: 1 }], "rolled back by itself")
    assert.isAtLeast(Date.now(), Date.parse(waiting!.settledAfter!), "not before no write could land")
    return yield* store.recover()
  })

const listFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = NodePath.join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })

describe("desktop store across processes", () => {
  it("two processes creating configs at once lose nothing", async () => {
    const dataDir = TempDirs.testTempDir("two")
    try {
      const [a, b] = await Promise.all([
        runStoreChild([dataDir, "create-many", "alpha", "12"]),
        runStoreChild([dataDir, "create-many", "beta", "12"])
      ])
      assert.deepStrictEqual([a.code, b.code], [0, 0], JSON.stringify([a.output, b.output]))
      assert.isTrue(a.output.ok && b.output.ok)
      await Effect.runPromise(
        Effect.gen(function*() {
          const store = yield* LlmConfigStore.LlmConfigStore
          const configs = yield* store.list
          assert.strictEqual(configs.length, 24)
          for (const config of configs) {
            const [label, index] = config.name.split(" ")
            assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), `sk-${label}-${index}`)
          }
        }).pipe(Effect.provide(storeLayer(dataDir)))
      )
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })

  for (const op of ["create", "update", "remove"] as const) {
    for (const point of CrashPoints.crashPoints[op]) {
      it(`kill -9 at ${point}, then recover in a new process: consistent`, async () => {
        const dataDir = TempDirs.testTempDir("crash")
        try {
          const seeded = op === "create" ? undefined : (await runStoreChild([dataDir, "create-many", "seed", "1"])).output.ids[0]
          const crashed = await runStoreChild([dataDir, "crash", op, point, ...(seeded ? [seeded] : [])])
          assert.strictEqual(crashed.signal, "SIGKILL", `the child died at ${point}: ${JSON.stringify(crashed.output)}`)
          const outcome = LlmConfigModel.crashOutcome(op, point, true)
          await Effect.runPromise(
            Effect.gen(function*() {
              const store = yield* LlmConfigStore.LlmConfigStore
              const secrets = yield* SecretStore.SecretStore
              const pending = (yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal
              let report = yield* store.recover()
              if (op === "update" && outcome === "before") report = yield* recoverOnceSettled(report)
              assert.deepStrictEqual(report.failed, [])
              assert.deepStrictEqual((yield* (yield* PreferencesStore.PreferencesStore).load).llm.journal, [], "journal drained")
              const configs = yield* store.list
              if (op === "create") {
                if (outcome === "after") {
                  assert.strictEqual(configs.length, 1)
                  assert.strictEqual(Redacted.value(yield* store.getApiKey(configs[0]!.id)), "sk-crash-new")
                } else {
                  assert.strictEqual(configs.length, 0)
                  for (const intent of pending) {
                    const orphan = yield* secrets.get(SecretRef.secretRefFor(intent.provider, intent.configId))
                    assert.isTrue(Option.isNone(orphan), "no orphan key")
                  }
                }
              } else if (op === "update") {
                const id = Ids.ConfigId.make(seeded)
                assert.strictEqual(configs.length, 1)
                assert.strictEqual(configs[0]!.name, outcome === "after" ? "Renamed" : "seed 0")
                assert.strictEqual(Redacted.value(yield* store.getApiKey(id)), outcome === "after" ? "sk-crash-new" : "sk-seed-0")
                const staged = yield* secrets.get(SecretRef.secretRefFor(configs[0]!.provider, id, "apiKey.staged"))
                assert.isTrue(Option.isNone(staged), "staged key cleaned up")
              } else {
                assert.strictEqual(configs.length, 0)
                const orphan = yield* secrets.get(
                  SecretRef.secretRefFor(configs[0]?.provider ?? ("openai" as never), Ids.ConfigId.make(seeded))
                )
                assert.isTrue(Option.isNone(orphan), "no orphan key")
              }
            }).pipe(Effect.provide(storeLayer(dataDir)))
          )
          for (const file of listFiles(dataDir)) {
            assert.notInclude(readFileSync(file, "utf8"), "sk-crash-new", `${file} holds no key`)
          }
        } finally {
          rmSync(dataDir, { recursive: true, force: true })
        }
      })
    }
  }

  it.live("DesktopLayer forced to session keeps keys in memory and says so", () =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const status = yield* store.status
      assert.strictEqual(status.secretStore.tier, "session")
      assert.isFalse(status.secretStore.persistent)
      assert.include(status.secretStore.warning ?? "", "FISHBOWL_SECRET_BACKEND=session")
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "S", apiKey: "sk-session" }))
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-session")
    }).pipe(Effect.provide(DesktopLayer.layer({ dataDir: TempDirs.testTempDir("session"), secretBackend: "session" }))))

  it.live("DesktopLayer on auto picks the keychain when it is reachable", () =>
    Effect.gen(function*() {
      const status = yield* (yield* LlmConfigStore.LlmConfigStore).status
      assert.strictEqual(status.secretStore.tier, "keychain")
      assert.strictEqual(status.secretStore.backend, "keytar")
    }).pipe(Effect.provide(DesktopLayer.layer({ dataDir: TempDirs.testTempDir("auto"), keytar: { workerEnv } }))))

  it.live("DesktopLayer on auto falls back to session (with a warning) when no keychain is reachable", () =>
    Effect.gen(function*() {
      const status = yield* (yield* LlmConfigStore.LlmConfigStore).status
      assert.strictEqual(status.secretStore.tier, "session")
      assert.strictEqual(status.health, "degraded")
      assert.include(status.secretStore.warning ?? "", "Install and start gnome-keyring or KWallet")
    }).pipe(Effect.provide(DesktopLayer.layer({
      dataDir: TempDirs.testTempDir("nokeychain"),
      keytar: { workerEnv: { PATH: process.env["PATH"] ?? "", HOME: tmpdir() } }
    }))))

  it.live("DesktopLayer on auto: without a keychain keys are session-only and say so; when it is back the app moves to it", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => secretService.killDaemon())
      yield* Effect.gen(function*() {
        const store = yield* LlmConfigStore.LlmConfigStore
        const secrets = yield* SecretStore.SecretStore
        const early = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Early", apiKey: "sk-while-degraded" }))
        assert.strictEqual(early.keyStorage, "session")
        assert.strictEqual((yield* store.status).secretStore.tier, "session")
        yield* Effect.promise(() => secretService.restartDaemon())
        // the user presses "Try again" (authorize): the keychain is looked for now
        yield* secrets.authorize
        assert.strictEqual((yield* store.status).secretStore.tier, "keychain")
        const later = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Later", apiKey: "sk-in-keychain-again" }))
        assert.strictEqual(later.keyStorage, "keychain")
        // the key written while degraded is still this session's, and still readable
        assert.strictEqual(Redacted.value(yield* store.getApiKey(early.id)), "sk-while-degraded")
        const keys = (yield* store.status).keys
        assert.deepStrictEqual(keys, { keychain: 1, encryptedFile: 0, session: 1, notSaved: 0 })
        yield* store.remove(early.id)
        yield* store.remove(later.id)
        assert.deepStrictEqual(yield* store.list, [])
      }).pipe(
        Effect.provide(DesktopLayer.layer({ dataDir: TempDirs.testTempDir("comeback"), keytar: { workerEnv } })),
        Effect.ensuring(Effect.promise(() => secretService.ready()))
      )
    }))

  it.live("DesktopLayer forced to keychain without one fails loudly instead of falling back", () =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const error = yield* Effect.flip(store.create(Fixtures.configInput({ provider: "openai", name: "K", apiKey: "sk-nope" })))
      assert.strictEqual(error._tag, "KeychainUnavailable")
      assert.deepStrictEqual(yield* store.list, [])
    }).pipe(Effect.provide(DesktopLayer.layer({
      dataDir: TempDirs.testTempDir("forced"),
      secretBackend: "keychain",
      keytar: { workerEnv: { PATH: process.env["PATH"] ?? "", HOME: tmpdir() } }
    }))))

  it("FISHBOWL_SECRET_BACKEND forces each candidate by its name; anything else is refused, naming them", () => {
    for (const name of SecretBackend.FORCEABLE_BACKENDS) {
      assert.strictEqual(SecretBackend.secretBackendFromEnv({ FISHBOWL_SECRET_BACKEND: name }), name)
    }
    assert.strictEqual(SecretBackend.secretBackendFromEnv({}), "auto")
    assert.throws(
      () => SecretBackend.secretBackendFromEnv({ FISHBOWL_SECRET_BACKEND: "plaintext" }),
      "must be one of keychain, safe-storage, session"
    )
  })
})
