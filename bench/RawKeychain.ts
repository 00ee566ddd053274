/**
 * The two raw keytar floors the store is compared with:
 * - in-process: keytar loaded into the bench process (needs the harness's D-Bus env in
 *   process.env BEFORE the first require, because libsecret connects on first use);
 * - in-worker: the same calls through keytar-worker.cjs, forked with the product's own
 *   `forkKeytarWorker`, so the difference between the two is the process hop alone.
 */
import { KeytarSecretStore } from "@fishbowl/desktop-layer"
import { LlmConfig } from "@fishbowl/domain"
import { createRequire } from "node:module"

export interface RawKeytar {
  readonly getPassword: (service: string, account: string) => Promise<string | null>
  readonly setPassword: (service: string, account: string, password: string) => Promise<void>
  readonly deletePassword: (service: string, account: string) => Promise<boolean>
}

/**
 * Loads keytar into this process after pointing process.env at the private bus. Must run before
 * anything else in this process requires keytar (libsecret caches its session bus connection).
 */
export const loadInProcessKeytar = (env: { readonly [key: string]: string } | object): RawKeytar => {
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") process.env[key] = value
  // No X11 autolaunch fallback: if the private bus is not used, fail loudly.
  delete process.env["DISPLAY"]
  const require = createRequire(import.meta.url)
  return require("keytar") as RawKeytar
}

export interface WorkerClient {
  readonly call: (request: Omit<KeytarSecretStore.KeytarWorkerRequest, "id">) => Promise<unknown>
  readonly pid: number | undefined
  readonly close: () => void
}

/** A bare request/reply client on one keytar worker: no supervision, no schema decoding. */
export const startWorkerClient = (env: Readonly<Record<string, string>>): WorkerClient => {
  const proc = KeytarSecretStore.forkKeytarWorker({
    workerPath: KeytarSecretStore.keytarWorkerPath,
    env: { ...env, FISHBOWL_KEYTAR_MAX_SECRET_BYTES: String(LlmConfig.MAX_API_KEY_BYTES) }
  })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let exited: string | undefined
  let nextId = 0
  proc.onMessage((raw) => {
    const reply = raw as { id: number; ok: boolean; value?: unknown; error?: { kind: string; detail: string } }
    const waiter = pending.get(reply.id)
    if (!waiter) return
    pending.delete(reply.id)
    if (reply.ok) waiter.resolve(reply.value)
    else waiter.reject(new Error(`keytar worker: ${reply.error?.kind}: ${reply.error?.detail}`))
  })
  proc.onExit((reason) => {
    exited = reason
    for (const waiter of pending.values()) waiter.reject(new Error(`keytar worker exited: ${reason}`))
    pending.clear()
  })
  proc.setKeepsAlive?.(true)
  return {
    pid: proc.pid,
    call: (request) =>
      new Promise((resolve, reject) => {
        if (exited !== undefined) return reject(new Error(`keytar worker exited: ${exited}`))
        const id = ++nextId
        pending.set(id, { resolve, reject })
        proc.send({ ...request, id })
      }),
    close: () => {
      proc.setKeepsAlive?.(false)
      proc.kill()
    }
  }
}
