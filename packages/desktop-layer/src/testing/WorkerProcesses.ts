/**
 * Watching keytar worker processes from tests: which workers a layer started, and whether a
 * process is still alive, so restart and clean-up behaviour can be asserted.
 */
import * as KeytarSecretStore from "../KeytarSecretStore.ts"

/**
 * A spawner that forks real workers and remembers each one, with the number of requests sent to
 * it, so a test can wait until calls have reached a worker instead of guessing how long that takes.
 */
export const recordingSpawner = () => {
  const workers: Array<KeytarSecretStore.KeytarWorkerProcess> = []
  const sent: Array<number> = []
  const spawn: KeytarSecretStore.KeytarWorkerSpawner = (options) => {
    const forked = KeytarSecretStore.forkKeytarWorker(options)
    const index = workers.length
    sent.push(0)
    const worker: KeytarSecretStore.KeytarWorkerProcess = {
      ...forked,
      send: (request) => {
        sent[index]!++
        forked.send(request)
      }
    }
    workers.push(worker)
    return worker
  }
  /** Requests sent to the `index`-th worker so far. */
  const requestsSent = (index: number): number => sent[index] ?? 0
  return { workers, spawn, requestsSent }
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Resolves true once `pid` has exited, false if it is still alive after `timeoutMillis`. It returns
 * as soon as the process is gone; the default bound only catches a process that never exits.
 */
export const waitUntilGone = async (pid: number, timeoutMillis = 60_000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMillis
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return !isAlive(pid)
}
