/**
 * KeytarSecretStore under REAL keychain faults: no D-Bus, no Secret Service, a locked collection,
 * a keyring daemon killed and restarted, a worker killed or frozen from outside. Nothing is
 * mocked; the daemon is gnome-keyring on a private bus (SecretServiceHarness). If it cannot
 * start, this file FAILS with the install hint; it never skips.
 *
 * Tests here run one after another (they lock and kill the shared daemon).
 */
import { assert, describe, it } from "@effect/vitest"
import { type SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, Fiber, Option, Redacted } from "effect"
import * as KeychainProbe from "../src/KeychainProbe.ts"
import * as KeytarSecretStore from "../src/KeytarSecretStore.ts"
import * as SecretServiceForTests from "../src/testing/SecretServiceForTests.ts"
import * as SecretServiceHarness from "../src/testing/SecretServiceHarness.ts"
import * as WorkerProcesses from "../src/testing/WorkerProcesses.ts"

const secretService = await SecretServiceForTests.secretServiceForThisFile()

const UNAVAILABLE_HINT = "Install and start gnome-keyring or KWallet (Secret Service), or run inside a desktop session."

/**
 * Runs `body` against a fresh layer; a hung keychain fails the test (the bound only catches a
 * hang: a body takes a few seconds on a quiet machine).
 */
const withStore = <A, E>(
  options: KeytarSecretStore.KeytarSecretStoreOptions,
  body: (store: SecretStore.SecretStore["Service"]) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    return yield* body(yield* SecretStore.SecretStore)
  }).pipe(
    Effect.provide(KeytarSecretStore.layer(options)),
    Effect.timeout("60 seconds")
  )

const reveal = (value: Option.Option<Redacted.Redacted<string>>) => Option.map(value, Redacted.value)
const ref = (label: string): SecretRef.SecretRef => ({ service: `fishbowl.faults.${label}-${Date.now().toString(36)}`, account: "apiKey" })

describe("KeytarSecretStore without a working keychain", () => {
  it.live("no session bus at all -> KeychainUnavailable with the install hint", () =>
    Effect.gen(function*() {
      const { DBUS_SESSION_BUS_ADDRESS: _, ...noBus } = secretService.env
      const env = SecretServiceHarness.childEnv(noBus)
      assert.isUndefined(env.DBUS_SESSION_BUS_ADDRESS)
      yield* withStore({ workerEnv: env }, (store) =>
        Effect.gen(function*() {
          for (
            const operation of [
              store.get(ref("nobus")),
              store.set(ref("nobus"), Redacted.make("sk-never-stored")),
              store.delete(ref("nobus"))
            ]
          ) {
            const error = yield* Effect.flip(operation)
            assert.strictEqual(error._tag, "KeychainUnavailable")
            assert.include(error.message, "Cannot autolaunch D-Bus without X11 $DISPLAY")
            assert.strictEqual(error.hint, UNAVAILABLE_HINT)
            assert.notInclude(error.message, "sk-never-stored")
          }
          const description = yield* store.describe
          assert.isFalse(description.distinguishesLockedFromAbsent)
          assert.isString(description.warning)
        }))
    }))

  it.live("bus without a Secret Service -> KeychainUnavailable; probe says unavailable", () =>
    Effect.gen(function*() {
      const bus = yield* Effect.promise(() => SecretServiceHarness.startBusOnly())
      yield* Effect.gen(function*() {
        const error = yield* Effect.flip((yield* SecretStore.SecretStore).get(ref("nosvc")))
        assert.strictEqual(error._tag, "KeychainUnavailable")
        assert.include(error.message, "The name org.freedesktop.secrets was not provided by any .service files")
        assert.strictEqual(error.hint, UNAVAILABLE_HINT)
        const probe = yield* (yield* KeychainProbe.KeychainProbe).probe
        assert.isFalse(probe.available)
        assert.isNull(probe.locked)
        assert.include(probe.detail, "org.freedesktop.secrets")
      }).pipe(
        Effect.provide(KeytarSecretStore.layer({ workerEnv: SecretServiceHarness.childEnv(bus.env) })),
        Effect.timeout("60 seconds"),
        Effect.ensuring(Effect.promise(() => bus.stop()))
      )
    }))

  it.live("a worker script that cannot start -> KeychainUnavailable after one restart, no hang", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore(
      { workerEnv: SecretServiceHarness.childEnv(secretService.env), spawn, workerPath: "/nonexistent/keytar-worker.cjs" },
      (store) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(store.get(ref("noworker")))
          assert.strictEqual(error._tag, "KeychainUnavailable")
          assert.include(error.message, "keychain helper exited with code 1")
          assert.strictEqual(workers.length, 2, "first worker, then one retry")
        })
    )
  })
})

describe("KeytarSecretStore on a real Secret Service under faults", () => {
  const workerEnv = SecretServiceHarness.childEnv(secretService.env)

  it.live("locked collection: get of an existing entry and set fail KeychainLocked (not None); unlock restores the value", () =>
    withStore({ workerEnv }, (store) =>
      Effect.gen(function*() {
        const entry = ref("locked")
        yield* store.set(entry, Redacted.make("before-lock"))
        yield* Effect.promise(() => secretService.lock())
        const lockedErrors = yield* Effect.gen(function*() {
          const get = yield* Effect.flip(store.get(entry))
          const set = yield* Effect.flip(store.set(entry, Redacted.make("while-locked")))
          const remove = yield* Effect.flip(store.delete(entry))
          const description = yield* store.describe
          const probe = yield* (yield* KeychainProbe.KeychainProbe).probe
          return { get, set, remove, description, probe }
        }).pipe(
          Effect.provide(KeytarSecretStore.layer({ workerEnv })),
          Effect.ensuring(Effect.promise(() => secretService.unlock()))
        )
        assert.strictEqual(lockedErrors.get._tag, "KeychainLocked")
        assert.strictEqual(lockedErrors.set._tag, "KeychainLocked")
        assert.strictEqual(lockedErrors.remove._tag, "KeychainLocked")
        assert.include(lockedErrors.get.hint, "Unlock the login keyring")
        assert.notInclude(lockedErrors.set.message, "while-locked")
        // messages name the key in words (SecretRef.spokenName), never the entry's coordinates:
        // no face has to scrub them (Add on a locked keychain once said "Could not store the stored key")
        assert.strictEqual(lockedErrors.set.message, "Could not save the key: the keychain is locked")
        for (const error of [lockedErrors.get, lockedErrors.set, lockedErrors.remove]) {
          assert.notInclude(error.message, entry.service)
          assert.notInclude(error.message, "fishbowl.")
        }
        assert.isTrue(lockedErrors.description.distinguishesLockedFromAbsent)
        assert.include(lockedErrors.description.warning ?? "", "locked")
        assert.deepStrictEqual(
          { available: lockedErrors.probe.available, locked: lockedErrors.probe.locked },
          { available: true, locked: true }
        )
        // the store that was used before the lock works again, with the value written before
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("before-lock"))
        assert.isTrue(yield* store.delete(entry))
      })))

  it.live("daemon restarted while idle: the same layer recovers transparently (session-lost -> new worker -> retry)", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn }, (store) =>
      Effect.gen(function*() {
        const entry = ref("restart")
        yield* store.set(entry, Redacted.make("survives-restart"))
        yield* Effect.promise(() => secretService.restartDaemon())
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("survives-restart"))
        assert.strictEqual(workers.length, 2, "the worker was replaced once")
        assert.isTrue(yield* store.delete(entry))
      }))
  })

  it.live("daemon killed mid-sequence: KeychainUnavailable while down, then the same layer recovers after restart", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn }, (store) =>
      Effect.gen(function*() {
        const entry = ref("killed")
        yield* store.set(entry, Redacted.make("written-before-crash"))
        yield* Effect.promise(() => secretService.killDaemon())
        const down = yield* Effect.flip(store.get(entry)).pipe(
          Effect.ensuring(Effect.promise(() => secretService.restartDaemon()))
        )
        assert.strictEqual(down._tag, "KeychainUnavailable")
        assert.strictEqual(down.hint, UNAVAILABLE_HINT)
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("written-before-crash"))
        assert.isTrue(yield* store.delete(entry))
        assert.isAtMost(workers.length, 3)
      }))
  })

  it.live("worker SIGKILLed from outside: the next call succeeds on a fresh worker", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn }, (store) =>
      Effect.gen(function*() {
        const entry = ref("sigkill")
        yield* store.set(entry, Redacted.make("value-1"))
        const first = workers[0]!.pid!
        process.kill(first, "SIGKILL")
        // same tick: the exit is not observed yet, so the request goes to the dead worker and
        // must fail over to a fresh one (restart + retry)
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("value-1"))
        assert.strictEqual(workers.length, 2)
        assert.isFalse(WorkerProcesses.isAlive(first))
        assert.isTrue(yield* store.delete(entry))
      }))
  })

  it.live("calls in flight on a worker that dies all fail over to one fresh worker", () => {
    const { requestsSent, spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn }, (store) =>
      Effect.gen(function*() {
        const entries = Array.from({ length: 5 }, (_, index) => ({ ref: ref(`inflight${index}`), value: `v-${index}` }))
        yield* Effect.forEach(entries, (e) => store.set(e.ref, Redacted.make(e.value)), { concurrency: "unbounded" })
        const pid = workers[0]!.pid!
        const sentBefore = requestsSent(0)
        process.kill(pid, "SIGSTOP") // frozen: requests queue up unanswered
        const reads = yield* Effect.forEach(entries, (e) => store.get(e.ref), { concurrency: "unbounded" }).pipe(
          Effect.forkChild
        )
        // all five reads are in flight on the frozen worker (by count, not by a guessed pause)
        while (requestsSent(0) < sentBefore + entries.length) yield* Effect.sleep("10 millis")
        process.kill(pid, "SIGKILL")
        const values = yield* Fiber.join(reads)
        assert.deepStrictEqual(values.map(reveal), entries.map((e) => Option.some(e.value)))
        assert.strictEqual(workers.length, 2, "one restart for all five calls")
        yield* Effect.forEach(entries, (e) => store.delete(e.ref))
      }))
  })

  it.live("a frozen worker times out with a hint, is killed as wedged only after the drain bound, and the next call works", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn, callTimeoutMillis: 500, drainMillis: 1500 }, (store) =>
      Effect.gen(function*() {
        const entry = ref("frozen")
        yield* store.set(entry, Redacted.make("still-there"))
        const frozen = workers[0]!
        const pid = frozen.pid!
        const gone = new Promise<{ readonly reason: string; readonly at: number }>((resolve) =>
          frozen.onExit((reason) => resolve({ reason, at: Date.now() }))
        )
        process.kill(pid, "SIGSTOP")
        const started = Date.now()
        // The worker is stopped, so only the call's bound can end this call: the error names it.
        const error = yield* Effect.flip(store.get(entry))
        assert.strictEqual(error._tag, "KeychainUnavailable")
        assert.include(error.message, "did not answer within 500 ms")
        assert.include(error.message, "is stopped only if it stays stuck")
        assert.include(error.hint, "prompt")
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("still-there"))
        assert.strictEqual(workers.length, 2)
        // Late is not dead: a worker inside a D-Bus call must not vanish (gnome-keyring 42 aborts).
        // It is retired, and SIGKILLed as wedged only once the drain bound has passed: it went
        // no sooner than drainMillis (1500) after the call started, a lower bound that follows
        // from the store's own configured delays (500 ms call bound, then 1500 ms drain).
        const { at, reason } = yield* Effect.promise(() => gone)
        assert.strictEqual(reason, "keychain helper killed by SIGKILL", "the frozen worker was killed once the drain bound passed")
        assert.isAtLeast(at - started, 1500, "a late worker is retired, not killed at once")
        assert.isFalse(WorkerProcesses.isAlive(pid))
        assert.isTrue(yield* store.delete(entry))
      }))
  })

  it.live("a late worker that answers after all finishes its D-Bus request and exits by itself, never killed", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    // The drain bound is one this test never reaches: the worker must exit by itself first.
    return withStore({ workerEnv, spawn, callTimeoutMillis: 500, drainMillis: 60_000 }, (store) =>
      Effect.gen(function*() {
        const entry = ref("late")
        yield* store.set(entry, Redacted.make("late-value"))
        const late = workers[0]!
        const exitReason = new Promise<string>((resolve) => late.onExit(resolve))
        process.kill(late.pid!, "SIGSTOP")
        const error = yield* Effect.flip(store.get(entry))
        assert.include(error.message, "did not answer within 500 ms")
        process.kill(late.pid!, "SIGCONT") // the keychain answers at last
        const reason = yield* Effect.promise(() => exitReason)
        assert.strictEqual(reason, "keychain helper exited with code 0", "drained and exited, not SIGKILLed")
        assert.deepStrictEqual(reveal(yield* store.get(entry)), Option.some("late-value"))
        assert.isTrue(yield* store.delete(entry))
      }))
  })

  it.live("a 1 MiB key and a key with NUL are rejected with InvalidInput before any worker call", () => {
    const { spawn, workers } = WorkerProcesses.recordingSpawner()
    return withStore({ workerEnv, spawn }, (store) =>
      Effect.gen(function*() {
        const huge = yield* Effect.flip(store.set(ref("huge"), Redacted.make("k".repeat(1024 * 1024))))
        assert.strictEqual(huge._tag, "InvalidInput")
        assert.include(huge.message, "16384 bytes")
        const nul = yield* Effect.flip(store.set(ref("nul"), Redacted.make("sk-left\u0000right")))
        assert.strictEqual(nul._tag, "InvalidInput")
        assert.notInclude(nul.message, "sk-left")
        assert.strictEqual(workers.length, 0, "the keychain was never called")
      }))
  })

  it.live("a lower maxValueBytes (Windows' 2560-byte blob limit) is enforced", () =>
    withStore({ workerEnv, maxValueBytes: 2560 }, (store) =>
      Effect.gen(function*() {
        const entry = ref("win")
        yield* store.set(entry, Redacted.make("w".repeat(2560)))
        const error = yield* Effect.flip(store.set(entry, Redacted.make("w".repeat(2561))))
        assert.strictEqual(error._tag, "InvalidInput")
        assert.isTrue(yield* store.delete(entry))
      })))

  it.live("unicode values and unicode-heavy refs round-trip", () =>
    withStore({ workerEnv }, (store) =>
      Effect.gen(function*() {
        const value = "pässwörd ✓ 🔐 秘密 \u{1F600} \"quotes\" ключ ‮rtl‬ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
        const unicodeRef = {
          service: `fishbowl.ünïcödé-🔑-秘密-${Date.now()}`,
          account: "apiKey.staged"
        } as unknown as SecretRef.SecretRef
        yield* store.set(unicodeRef, Redacted.make(value))
        assert.deepStrictEqual(reveal(yield* store.get(unicodeRef)), Option.some(value))
        const sibling = { ...unicodeRef, service: unicodeRef.service.normalize("NFD") }
        assert.isTrue(Option.isNone(yield* store.get(sibling)), "no normalization: NFD is another entry")
        assert.isTrue(yield* store.delete(unicodeRef))
        assert.isTrue(Option.isNone(yield* store.get(unicodeRef)))
      })))
})
