/**
 * Watching keytar worker processes from tests: which workers a layer started, and whether a
 * process is still alive, so restart and clean-up behaviour can be asserted.
 */
import * as KeytarSecretStore from "../KeytarSecretStore.ts"

/** A spawner that forks real workers and remembers each one. */
export const recordingSpawner = () => {
  const workers: Array<KeytarSecretStore.KeytarWorkerProcess> = []
  const spawn: KeytarSecretStore.KeytarWorkerSpawner = (options) => {
    const worker = KeytarSecretStore.forkKeytarWorker(options)
    workers.push(worker)
    return worker
  }
  return { workers, spawn }
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Resolves true once `pid` has exited, false if it is still alive after `timeoutMillis`. */
export const waitUntilGone = async (pid: number, timeoutMillis = 5000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMillis
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return !isAlive(pid)
}
