/**
 * keytar inside the CLI process, behind the same supervisor protocol as the worker.
 *
 * Why not fork the worker: a one-shot command pays ~60 ms to start a second Node, and the worker's
 * guarantees that matter to a long-lived app (a native crash or a stale Secret Service session
 * must not take the app down) cost little here: a crash kills one command, which the user reruns.
 * What must hold is kept by running the worker's own `handle` in-process:
 * - a locked keyring still reads as locked, not absent (`handle` asks D-Bus for `Locked` when
 *   keytar says "absent"), and errors are classified and redacted the same way;
 * - the process ends only after every D-Bus call it started is answered: gnome-keyring 42 can
 *   abort when a client vanishes mid-request. {@link KeychainCalls.settled} is awaited before exit, also when
 *   a call timed out or a signal arrived (see main.ts).
 */
import { KeytarSecretStore } from "@fishbowl/desktop-layer"
import { createRequire } from "node:module"
import * as KeychainCalls from "./KeychainCalls.ts"

interface WorkerModule {
  readonly handle: (request: KeytarSecretStore.KeytarWorkerRequest) => Promise<unknown>
}

/** A {@link KeytarSecretStore.KeytarWorkerSpawner} that runs the worker module in this process. */
export const inProcessKeytar: KeytarSecretStore.KeytarWorkerSpawner = ({ workerPath }) => {
  const worker = createRequire(import.meta.url)(workerPath) as WorkerModule
  const messageListeners: Array<(reply: unknown) => void> = []
  const { exited, onExit, reason: exitReason } = KeytarSecretStore.makeExitNotice()
  const mine = new Set<Promise<unknown>>()
  let shuttingDown = false
  return {
    pid: process.pid,
    send: (request) => {
      if (exitReason() !== undefined || shuttingDown) throw new Error(exitReason() ?? "the keychain store is closing")
      const call: Promise<unknown> = worker.handle(request).then(
        (reply) => {
          if (exitReason() === undefined) { for (const listener of messageListeners) listener(reply) }
        },
        (error: unknown) => exited(`keychain call failed: ${error instanceof Error ? error.name : "unknown error"}`)
      ).finally(() => {
        KeychainCalls.inFlight.delete(call)
        mine.delete(call)
        if (shuttingDown && mine.size === 0) exited("the keychain store was closed")
      })
      KeychainCalls.inFlight.add(call)
      mine.add(call)
    },
    // Like the worker: answer what is in flight, then count as exited.
    shutdown: () => {
      shuttingDown = true
      if (mine.size === 0) exited("the keychain store was closed")
    },
    onMessage: (listener) => void messageListeners.push(listener),
    onExit,
    // A native call cannot be cancelled: its answer is dropped, and exit still waits for it.
    kill: () => exited("keychain call abandoned")
  }
}
