/**
 * KeytarSecretStore on a REAL gnome-keyring Secret Service (private D-Bus, SecretServiceHarness):
 * the domain's SecretStore and LlmConfigStore contracts, plus what only this layer promises
 * (lazy worker, describe/probe/authorize, worker killed with the scope).
 *
 * The daemon starts at module load (top-level await), so the layers can be built at describe
 * time. If it cannot start, this file FAILS with the install hint; it never skips.
 */
import { assert, describe, it } from "@effect/vitest"
import { PreferencesStore, type SecretRef, SecretStore } from "@fishbowl/domain"
import { LlmConfigStoreContract, SecretStoreContract } from "@fishbowl/domain/testing"
import { Effect, Exit, Layer, Option, Redacted, Scope } from "effect"
import { afterAll } from "vitest"
import * as KeychainProbe from "../src/KeychainProbe.ts"
import * as KeytarSecretStore from "../src/KeytarSecretStore.ts"
import * as SecretServiceForTests from "../src/testing/SecretServiceForTests.ts"
import * as SecretServiceHarness from "../src/testing/SecretServiceHarness.ts"
import * as WorkerProcesses from "../src/testing/WorkerProcesses.ts"

const secretService = await SecretServiceForTests.secretServiceForThisFile()

const workerEnv = SecretServiceHarness.childEnv(secretService.env)
const layer = (options?: KeytarSecretStore.KeytarSecretStoreOptions) => KeytarSecretStore.layer({ workerEnv, ...options })

/** A hung keychain fails the test (the bound only catches a hang: each body takes well under a second). */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.timeout("60 seconds"))

SecretStoreContract.secretStoreContract("keytar (real Secret Service)", layer())

/**
 * One keytar layer instance (one worker) serves every scenario and all 200 model-based sequences,
 * as one in the app serves every operation: a fresh worker per sequence would spend most of the
 * run starting processes (~140 ms each here). Fresh instances are exercised by the SecretStore
 * contract above (one per test) and by KeytarSecretStore.faults.test.ts.
 */
const sharedKeytarScope = Effect.runSync(Scope.make())
afterAll(() => Effect.runPromise(Scope.close(sharedKeytarScope, Exit.void)))
const sharedKeytar = Layer.succeedContext(
  await Effect.runPromise(Layer.buildWithScope(layer(), sharedKeytarScope))
)

LlmConfigStoreContract.llmConfigStoreContract(
  "memory preferences + keytar",
  Layer.mergeAll(sharedKeytar, PreferencesStore.layerMemory),
  { propertyRuns: 50 }
)

describe("KeytarSecretStore on a real Secret Service", () => {
  it.live("building the layer starts no worker; the first call does, later calls reuse it", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    const ref: SecretRef.SecretRef = { service: "fishbowl.test.lazy", account: "apiKey" }
    return bounded(
      Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        assert.strictEqual(workers.length, 0, "no keychain access at layer build")
        yield* store.set(ref, Redacted.make("lazy-value"))
        assert.strictEqual(workers.length, 1)
        assert.deepStrictEqual(Option.map(yield* store.get(ref), Redacted.value), Option.some("lazy-value"))
        assert.isTrue(yield* store.delete(ref))
        assert.strictEqual(workers.length, 1, "kept alive between calls")
      }).pipe(Effect.provide(layer({ spawn })))
    )
  })

  it.live("the worker is killed when the layer's scope closes", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return bounded(Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* (yield* SecretStore.SecretStore).get({ service: "fishbowl.test.scope", account: "apiKey" })
      }).pipe(Effect.provide(layer({ spawn })))
      assert.strictEqual(workers.length, 1)
      assert.isTrue(yield* Effect.promise(() => WorkerProcesses.waitUntilGone(workers[0]!.pid!)), "worker process exited")
    }))
  })

  it.live("describe: keychain tier that tells locked from absent (the D-Bus lock check works here)", () =>
    bounded(
      Effect.gen(function*() {
        const description = yield* (yield* SecretStore.SecretStore).describe
        assert.deepStrictEqual(description, {
          backend: "keytar",
          tier: "keychain",
          persistent: true,
          secure: true,
          distinguishesLockedFromAbsent: true,
          detail: "Secret Service (gnome-keyring/KWallet) via libsecret"
        })
      }).pipe(Effect.provide(layer()))
    ))

  it.live("probe: available and unlocked, and it writes nothing", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return bounded(
      Effect.gen(function*() {
        const probe = yield* (yield* KeychainProbe.KeychainProbe).probe
        assert.deepStrictEqual(probe, {
          available: true,
          locked: false,
          detail: "Secret Service (gnome-keyring/KWallet) via libsecret is reachable and unlocked"
        })
        assert.strictEqual(workers.length, 1)
        const leftover = yield* (yield* SecretStore.SecretStore).get({ service: "fishbowl.probe.availability", account: "apiKey" })
        assert.isTrue(Option.isNone(leftover))
      }).pipe(Effect.provide(layer({ spawn })))
    )
  })

  it.live("authorize writes, reads back and deletes a throw-away entry", () =>
    bounded(
      Effect.gen(function*() {
        yield* (yield* SecretStore.SecretStore).authorize
      }).pipe(Effect.provide(layer()))
    ))
})
