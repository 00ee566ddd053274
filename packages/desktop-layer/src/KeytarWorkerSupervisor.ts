/**
 * The keytar worker and its supervisor: the child process that runs keytar (keytar-worker.cjs),
 * the request/reply protocol, and the supervisor that owns at most one live worker, matches
 * replies to calls, restarts a lost worker once, and retires (never kills mid-request) a late
 * one. KeytarSecretStore turns its answers into the domain's SecretStore; see its module comment
 * for the supervision rules in short.
 */
import { Data, Duration, Effect, Option, Schema } from "effect"
import type * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** Absolute path of the worker script shipped next to this module. */
export const keytarWorkerPath: string = fileURLToPath(new URL("./keytar-worker.cjs", import.meta.url))

/** One request to the worker; see the protocol comment at the top of keytar-worker.cjs. */
export interface KeytarWorkerRequest {
  readonly id: number
  readonly op: "get" | "set" | "delete" | "ping" | "probe"
  readonly service?: string
  readonly account?: string
  readonly secret?: string
}

/**
 * The little the supervisor needs from a worker process, so the app can swap `child_process.fork`
 * for Electron's `utilityProcess` without touching the supervisor.
 */
export interface KeytarWorkerProcess {
  /** OS process id, for diagnostics. */
  readonly pid: number | undefined
  /** Post a request. May throw if the channel is already closed (treated as a worker exit). */
  readonly send: (request: KeytarWorkerRequest) => void
  readonly onMessage: (listener: (reply: unknown) => void) => void
  /** Called once when the process is gone or unusable (exit, signal, spawn or IPC error). */
  readonly onExit: (listener: (reason: string) => void) => void
  /** SIGKILL. Used only for a worker that cannot be reached or stayed wedged past the drain bound. */
  readonly kill: () => void
  /** Ask the process to finish what it has in flight and exit; without it, `kill` is used. */
  readonly shutdown?: () => void
  /** Whether the process may keep the host's event loop alive; true only while calls are pending. */
  readonly setKeepsAlive?: (keepsAlive: boolean) => void
}

export type KeytarWorkerSpawner = (options: {
  readonly workerPath: string
  readonly env: Readonly<Record<string, string>>
  /** Node binary to run the worker with (default: this process's); Electron passes system Node. */
  readonly execPath?: string | undefined
}) => KeytarWorkerProcess

/** Default spawner: a Node child process with an `advanced`-serialization IPC channel and no stdio. */
/**
 * A worker's "gone" notice as every spawner gives it: the first reason wins, and a listener
 * added after the worker is gone hears it at once.
 */
export const makeExitNotice = () => {
  const listeners: Array<(reason: string) => void> = []
  let reason: string | undefined
  return {
    /** Why the worker is gone, once it is. */
    reason: (): string | undefined => reason,
    exited: (why: string): void => {
      if (reason !== undefined) return
      reason = why
      for (const listener of listeners) listener(why)
    },
    onExit: (listener: (reason: string) => void): void => {
      if (reason !== undefined) listener(reason)
      else listeners.push(listener)
    }
  }
}

export const forkKeytarWorker: KeytarWorkerSpawner = ({ env, workerPath, execPath }) => {
  // Loaded when first forked: the CLI runs keytar in-process and never loads child_process (with net and dgram).
  const childProcess: typeof ChildProcess = process.getBuiltinModule("node:child_process")
  const child = childProcess.fork(workerPath, [], {
    ...(execPath !== undefined ? { execPath } : {}),
    serialization: "advanced",
    env: { ...env },
    // not the host's loader or --inspect flags: the worker is plain CommonJS
    execArgv: [],
    stdio: ["ignore", "ignore", "ignore", "ipc"]
  })
  const { exited, onExit } = makeExitNotice()
  child.on(
    "exit",
    (code, signal) => exited(signal !== null ? `keychain helper killed by ${signal}` : `keychain helper exited with code ${code}`)
  )
  child.on("error", (error) => {
    exited(`keychain helper failed: ${error.message}`)
    child.kill("SIGKILL")
  })
  return {
    pid: child.pid,
    send: (request) => {
      child.send(request, (error) => {
        if (error) {
          exited(`could not reach the keychain helper: ${error.message}`)
          child.kill("SIGKILL")
        }
      })
    },
    onMessage: (listener) => child.on("message", listener),
    onExit,
    kill: () => {
      child.kill("SIGKILL")
    },
    shutdown: () => {
      // the worker drains on 'shutdown' and on disconnect alike; either reaching it is enough
      if (!child.connected) return
      child.send({ id: 0, op: "shutdown" }, () => {})
      child.disconnect()
    },
    setKeepsAlive: (keepsAlive) => {
      if (keepsAlive) {
        child.ref()
        child.channel?.ref()
      } else {
        child.unref()
        child.channel?.unref()
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// worker replies

export const WorkerErrorKind = Schema.Literals(["unavailable", "no-reply", "locked", "denied", "session-lost", "too-large", "unknown"])
export type WorkerErrorKind = typeof WorkerErrorKind.Type

const WorkerReply = Schema.Union([
  Schema.Struct({ id: Schema.Number, ok: Schema.Literal(true), value: Schema.Unknown }),
  Schema.Struct({
    id: Schema.Number,
    ok: Schema.Literal(false),
    error: Schema.Struct({ kind: WorkerErrorKind, detail: Schema.String })
  })
])
const decodeReply = Schema.decodeUnknownOption(WorkerReply)

export const GetValue = Schema.NullOr(Schema.String)
export const SetValue = Schema.Literal(true)
export const DeleteValue = Schema.Boolean
export const ProbeValue = Schema.Struct({
  locked: Schema.NullOr(Schema.Boolean),
  serviceAvailable: Schema.NullOr(Schema.Boolean),
  detail: Schema.optionalKey(Schema.String)
})

/** The worker answered with an error. */
export class WorkerFailed extends Data.TaggedError("WorkerFailed")<{ readonly kind: WorkerErrorKind; readonly detail: string }> {}
/** The worker process is gone (or could not start) before answering. */
export class WorkerLost extends Data.TaggedError("WorkerLost")<{ readonly reason: string }> {}
/** No answer within the call's budget; the worker was killed. */
export class WorkerTimedOut extends Data.TaggedError("WorkerTimedOut")<{ readonly millis: number; readonly drainMillis: number }> {}
/** The answer did not have the shape the protocol promises. */
export class WorkerProtocolError extends Data.TaggedError("WorkerProtocolError")<{ readonly detail: string }> {}

export type WorkerCallError = WorkerFailed | WorkerLost | WorkerTimedOut | WorkerProtocolError

/** Failures a fresh worker can cure: the process died, or its Secret Service session did. */
const curedByFreshWorker = (error: WorkerCallError) =>
  error._tag === "WorkerLost" || (error._tag === "WorkerFailed" && error.kind === "session-lost")

// ---------------------------------------------------------------------------------------------
// supervisor

interface Worker {
  readonly process: KeytarWorkerProcess
  readonly pending: Map<number, (outcome: Effect.Effect<unknown, WorkerCallError>) => void>
  /** Takes no new calls: draining or gone. */
  retired: boolean
  exited: boolean
  readonly exitListeners: Array<() => void>
}

/**
 * Hands a worker's reply to the call waiting for it (none: it was answered after its timeout).
 * libsecret caches a dead daemon's session for the life of the process, so a `session-lost` reply
 * retires the worker BEFORE the call is settled: the caller's retry may run synchronously and must
 * not pick this worker again. Its other calls get the same answer and retry too.
 */
const settleReply = (
  worker: Worker,
  raw: unknown,
  steps: {
    readonly retire: (worker: Worker) => void
    readonly shutDownWhenIdle: (worker: Worker) => void
    readonly keepAliveWhileBusy: (worker: Worker) => void
  }
) => {
  const reply = decodeReply(raw)
  if (Option.isNone(reply)) return
  const settle = worker.pending.get(reply.value.id)
  if (settle === undefined) return
  worker.pending.delete(reply.value.id)
  steps.keepAliveWhileBusy(worker)
  if (reply.value.ok) settle(Effect.succeed(reply.value.value))
  else {
    const { detail, kind } = reply.value.error
    if (kind === "session-lost") steps.retire(worker)
    settle(Effect.fail(new WorkerFailed({ kind, detail })))
  }
  if (worker.retired) steps.shutDownWhenIdle(worker)
}

/**
 * Owns at most one live worker; matches replies to calls by id. Plain callbacks inside (the
 * worker's events arrive on the event loop), Effects at the edge.
 *
 * A worker is never killed while it may have a D-Bus request in flight, unless it is wedged:
 * gnome-keyring 42 aborts when a client vanishes before its request is answered (see
 * testing/reproduce-keyring-abort.ts). So a worker that is late, lost its Secret Service
 * session, or belongs to a closed store is *retired*: it takes no new calls, is asked to shut down
 * once its calls are answered, and exits by itself; SIGKILL comes only `drainMillis` later.
 */
export const makeSupervisor = (options: {
  readonly spawn: KeytarWorkerSpawner
  readonly workerPath: string
  readonly env: () => Readonly<Record<string, string>>
  readonly drainMillis: number
}) => {
  let current: Worker | undefined
  let closed = false
  let nextId = 0

  const keepAliveWhileBusy = (worker: Worker) => worker.process.setKeepsAlive?.(!worker.retired && worker.pending.size > 0)

  /** The process is gone: fail everything still waiting on it (each call retries once). */
  const exited = (worker: Worker, reason: string) => {
    if (worker.exited) return
    worker.exited = true
    worker.retired = true
    if (current === worker) current = undefined
    const waiting = [...worker.pending.values()]
    worker.pending.clear()
    for (const settle of waiting) settle(Effect.fail(new WorkerLost({ reason })))
    for (const listener of worker.exitListeners.splice(0)) listener()
  }

  /** SIGKILL: only for a worker that could not be reached, or did not drain within the bound. */
  const kill = (worker: Worker, reason: string) => {
    try {
      worker.process.kill()
    } catch {
      // already gone
    }
    exited(worker, reason)
  }

  /** Ask an idle retired worker to exit (it finishes anything still in flight first). */
  const shutDownWhenIdle = (worker: Worker) => {
    if (worker.exited || worker.pending.size > 0) return
    try {
      if (worker.process.shutdown !== undefined) worker.process.shutdown()
      else worker.process.kill()
    } catch {
      kill(worker, "the keychain helper could not be asked to stop")
    }
  }

  /** No new calls go to `worker`; it drains and exits, or is killed as wedged after `drainMillis`. */
  const retire = (worker: Worker) => {
    if (worker.retired) return
    worker.retired = true
    if (current === worker) current = undefined
    worker.process.setKeepsAlive?.(false)
    const wedged = setTimeout(
      () => kill(worker, `the keychain helper was stopped: a keychain request stayed unanswered for ${options.drainMillis} ms`),
      options.drainMillis
    )
    wedged.unref?.()
    worker.exitListeners.push(() => clearTimeout(wedged))
    shutDownWhenIdle(worker)
  }

  const start = (): Worker => {
    const worker: Worker = {
      process: options.spawn({ workerPath: options.workerPath, env: options.env() }),
      pending: new Map(),
      retired: false,
      exited: false,
      exitListeners: []
    }
    worker.process.onMessage((raw) => settleReply(worker, raw, { retire, shutDownWhenIdle, keepAliveWhileBusy }))
    worker.process.onExit((reason) => exited(worker, reason))
    worker.process.setKeepsAlive?.(false)
    return worker
  }

  /** One call on the live worker (started if needed), bounded by `timeoutMillis`. */
  const call = (request: Omit<KeytarWorkerRequest, "id">, timeoutMillis: number) =>
    Effect.suspend(() => {
      let sentTo: Worker | undefined
      return Effect.callback<unknown, WorkerCallError>((resume) => {
        if (closed) return resume(Effect.fail(new WorkerLost({ reason: "the keychain store was closed" })))
        let worker: Worker
        try {
          worker = current ??= start()
        } catch (error) {
          return resume(Effect.fail(new WorkerLost({ reason: `could not start the keychain helper: ${messageOf(error)}` })))
        }
        if (worker.retired) {
          // a spawner may report an immediate exit synchronously
          if (current === worker) current = undefined
          return resume(Effect.fail(new WorkerLost({ reason: "the keychain helper exited at start" })))
        }
        const id = ++nextId
        sentTo = worker
        worker.pending.set(id, resume)
        keepAliveWhileBusy(worker)
        try {
          worker.process.send({ ...request, id })
        } catch (error) {
          // nothing reached the worker, so nothing is in flight: killing it is safe
          kill(worker, `could not reach the keychain helper: ${messageOf(error)}`)
        }
        return Effect.sync(() => {
          if (worker.pending.delete(id)) keepAliveWhileBusy(worker)
          if (worker.retired) shutDownWhenIdle(worker)
        })
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () =>
            Effect.suspend(() => {
              // Late is not dead: the worker may still be waiting on D-Bus. Retire it (it finishes
              // that request, then exits) and let the next call start a fresh one.
              if (sentTo !== undefined) retire(sentTo)
              return Effect.fail(new WorkerTimedOut({ millis: timeoutMillis, drainMillis: options.drainMillis }))
            })
        })
      )
    })

  /**
   * One call, retried once on a fresh worker when the worker or its session was lost. A `set`
   * whose retry fails too fails with the loss, not the retry's error: the first attempt may have
   * written before it was lost, so a refusal now (locked, denied) does not prove nothing was written.
   */
  const callWithRestart = (request: Omit<KeytarWorkerRequest, "id">, timeoutMillis: number) =>
    call(request, timeoutMillis).pipe(
      Effect.catchIf(curedByFreshWorker, (lost) =>
        request.op === "set"
          ? Effect.mapError(call(request, timeoutMillis), () => lost)
          : call(request, timeoutMillis))
    )

  /** Stop taking calls, let the live worker answer what it has, and wait (bounded) for it to exit. */
  const shutdown = Effect.suspend(() => {
    closed = true
    const worker = current
    if (worker === undefined) return Effect.void
    retire(worker)
    // Hold the host's event loop until the worker is gone: a one-shot process (the CLI) must not
    // end, and take the answer with it, while its worker still finishes a D-Bus call.
    if (!worker.exited) worker.process.setKeepsAlive?.(true)
    return Effect.callback<void>((resume) => {
      if (worker.exited) return resume(Effect.void)
      worker.exitListeners.push(() => resume(Effect.void))
    })
  })

  return { callWithRestart, shutdown }
}
