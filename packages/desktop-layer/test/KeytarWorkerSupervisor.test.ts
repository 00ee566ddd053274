/**
 * The supervisor's retry rule, against scripted worker processes (the KeytarWorkerProcess port,
 * not keytar): a call whose worker was lost is retried once on a fresh worker; a `set` whose
 * retry fails too reports the loss, because the lost attempt may have written. What each worker
 * does is scripted by the test; everything keytar does is tested on the real Secret Service
 * (KeytarSecretStore*.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type KeytarWorkerProcess, type KeytarWorkerRequest, makeExitNotice, makeSupervisor } from "../src/KeytarWorkerSupervisor.ts"

/** What a scripted worker does with a request: answer with a failure of `kind`, or die. */
type Script = "dies" | { readonly fails: "locked" | "denied" }

/** A spawner whose n-th worker follows `scripts[n]`; records the ops each was sent. */
const scriptedSpawner = (scripts: ReadonlyArray<Script>) => {
  const sent: Array<string> = []
  let started = 0
  const spawn = (): KeytarWorkerProcess => {
    const script = scripts[started++]!
    const notice = makeExitNotice()
    const listeners: Array<(reply: unknown) => void> = []
    return {
      pid: undefined,
      send: (request: KeytarWorkerRequest) => {
        sent.push(`worker ${started}: ${request.op}`)
        queueMicrotask(() => {
          if (script === "dies") return notice.exited("the keychain helper exited (signal SIGKILL)")
          for (const listener of listeners) {
            listener({ id: request.id, ok: false, error: { kind: script.fails, detail: `the keychain is ${script.fails}` } })
          }
        })
      },
      onMessage: (listener) => void listeners.push(listener),
      onExit: notice.onExit,
      kill: () => notice.exited("killed")
    }
  }
  return { spawn, sent }
}

const supervised = (scripts: ReadonlyArray<Script>) => {
  const { sent, spawn } = scriptedSpawner(scripts)
  return { sent, supervisor: makeSupervisor({ spawn, workerPath: "scripted", drainMillis: 1000, env: () => ({}) }) }
}

describe("KeytarWorkerSupervisor: a call whose worker was lost", () => {
  it.effect("a set lost with its worker, then refused on the fresh one, fails as lost: the first attempt may have written", () =>
    Effect.gen(function*() {
      const { sent, supervisor } = supervised(["dies", { fails: "locked" }])
      const error = yield* Effect.flip(supervisor.callWithRestart({ op: "set", service: "s", account: "a", secret: "v" }, 60_000))
      assert.deepStrictEqual(sent, ["worker 1: set", "worker 2: set"])
      assert.strictEqual(error._tag, "WorkerLost")
    }))

  it.effect("a get lost with its worker reports the fresh worker's answer (a read writes nothing)", () =>
    Effect.gen(function*() {
      const { sent, supervisor } = supervised(["dies", { fails: "locked" }])
      const error = yield* Effect.flip(supervisor.callWithRestart({ op: "get", service: "s", account: "a" }, 60_000))
      assert.deepStrictEqual(sent, ["worker 1: get", "worker 2: get"])
      assert.deepStrictEqual([error._tag, error._tag === "WorkerFailed" ? error.kind : undefined], ["WorkerFailed", "locked"])
    }))
})
