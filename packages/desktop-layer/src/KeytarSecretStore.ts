/**
 * SecretStore backed by the OS keychain (Secret Service on Linux, Keychain on macOS, Credential
 * Manager on Windows) through keytar, which runs in a supervised child process
 * (keytar-worker.cjs). keytar is native code: a crash, a hung D-Bus call or a Secret Service
 * session that died with its daemon then costs one restarted helper process, never the app.
 *
 * Supervision, in short:
 * - The worker starts on first use (building the layer touches no keychain) and stays alive.
 * - When it exits (crash, signal, external kill) every call in flight on it fails over to a
 *   fresh worker; a reply of kind `session-lost` (the keyring daemon restarted) retires the
 *   worker the same way. The failed call is retried ONCE on the fresh worker.
 * - Every call has its own timeout. A late call fails with KeychainUnavailable and is not retried
 *   (the timeout is the caller's latency budget, and a hang usually repeats: an open prompt, a
 *   stuck daemon). The late worker is retired, not killed: it may still be inside a D-Bus call,
 *   and gnome-keyring 42 aborts when a client vanishes mid-request. It finishes, exits, and the
 *   next call starts a fresh one; only a worker still stuck `drainMillis` later is killed.
 * - When the layer's scope closes the worker is asked to finish and exit (and killed only after
 *   the same bound); it never keeps the Node event loop alive while idle: its IPC channel is
 *   referenced only while calls are pending.
 */
import { Canonical, Errors, Hints, LlmConfig, SecretRef, SecretStore } from "@fishbowl/domain"
import { Context, Data, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { fork } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import * as KeychainProbe from "./KeychainProbe.ts"

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
  const child = fork(workerPath, [], {
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

export interface KeytarSecretStoreOptions {
  /** Environment of the worker (a function is read at every start); default `process.env`. */
  readonly workerEnv?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>)
  /** Budget of one worker call, ms; default 5000. A hang must not wedge the app. */
  readonly callTimeoutMillis?: number
  /** Budget of `authorize`, which may wait for the user to answer a prompt, ms; default 120000. */
  readonly authorizeTimeoutMillis?: number
  /** Largest value `set` accepts, UTF-8 bytes; default 2560 on Windows (blob limit), else 16 KiB. */
  readonly maxValueBytes?: number
  /** Starts a worker process; default {@link forkKeytarWorker}. */
  readonly spawn?: KeytarWorkerSpawner
  /** Worker script; default {@link keytarWorkerPath} (a bundled app points at its copy). */
  readonly workerPath?: string
  /**
   * How long a retired worker (late, session lost, store closed) may take to answer what it has
   * in flight and exit before it is killed as wedged, ms; default 10000.
   */
  readonly drainMillis?: number
}

/** Windows Credential Manager stores at most 2560 bytes per credential blob (CRED_MAX_CREDENTIAL_BLOB_SIZE). */
const WINDOWS_MAX_VALUE_BYTES = 2560
const DEFAULT_CALL_TIMEOUT_MILLIS = 5000
const DEFAULT_AUTHORIZE_TIMEOUT_MILLIS = 120_000
const DEFAULT_DRAIN_MILLIS = 10_000

// ---------------------------------------------------------------------------------------------
// worker replies

const WorkerErrorKind = Schema.Literals(["unavailable", "no-reply", "locked", "denied", "session-lost", "too-large", "unknown"])
type WorkerErrorKind = typeof WorkerErrorKind.Type

const WorkerReply = Schema.Union([
  Schema.Struct({ id: Schema.Number, ok: Schema.Literal(true), value: Schema.Unknown }),
  Schema.Struct({
    id: Schema.Number,
    ok: Schema.Literal(false),
    error: Schema.Struct({ kind: WorkerErrorKind, detail: Schema.String })
  })
])
const decodeReply = Schema.decodeUnknownOption(WorkerReply)

const GetValue = Schema.NullOr(Schema.String)
const SetValue = Schema.Literal(true)
const DeleteValue = Schema.Boolean
const ProbeValue = Schema.Struct({
  locked: Schema.NullOr(Schema.Boolean),
  serviceAvailable: Schema.NullOr(Schema.Boolean),
  detail: Schema.optionalKey(Schema.String)
})

/** The worker answered with an error. */
class WorkerFailed extends Data.TaggedError("WorkerFailed")<{ readonly kind: WorkerErrorKind; readonly detail: string }> {}
/** The worker process is gone (or could not start) before answering. */
class WorkerLost extends Data.TaggedError("WorkerLost")<{ readonly reason: string }> {}
/** No answer within the call's budget; the worker was killed. */
class WorkerTimedOut extends Data.TaggedError("WorkerTimedOut")<{ readonly millis: number; readonly drainMillis: number }> {}
/** The answer did not have the shape the protocol promises. */
class WorkerProtocolError extends Data.TaggedError("WorkerProtocolError")<{ readonly detail: string }> {}

type WorkerCallError = WorkerFailed | WorkerLost | WorkerTimedOut | WorkerProtocolError

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
 * Owns at most one live worker; matches replies to calls by id. Plain callbacks inside (the
 * worker's events arrive on the event loop), Effects at the edge.
 *
 * A worker is never killed while it may have a D-Bus request in flight, unless it is wedged:
 * gnome-keyring 42 aborts when a client vanishes before its request is answered (see
 * testing/reproduce-keyring-abort.ts). So a worker that is late, lost its Secret Service
 * session, or belongs to a closed store is *retired*: it takes no new calls, is asked to shut down
 * once its calls are answered, and exits by itself; SIGKILL comes only `drainMillis` later.
 */
const makeSupervisor = (options: {
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
    worker.process.onMessage((raw) => {
      const reply = decodeReply(raw)
      if (Option.isNone(reply)) return
      const settle = worker.pending.get(reply.value.id)
      if (settle === undefined) return // answered after its timeout
      worker.pending.delete(reply.value.id)
      keepAliveWhileBusy(worker)
      if (reply.value.ok) settle(Effect.succeed(reply.value.value))
      else {
        const { detail, kind } = reply.value.error
        // libsecret caches the dead daemon's session for the life of the process: only a new
        // process recovers. Retire BEFORE settling: the caller's retry may run synchronously and
        // must not pick this worker again. Its other calls get the same answer and retry too.
        if (kind === "session-lost") retire(worker)
        settle(Effect.fail(new WorkerFailed({ kind, detail })))
      }
      if (worker.retired) shutDownWhenIdle(worker)
    })
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

  /** A call retried once on a fresh worker when the first one died or lost its session. */
  const callWithRestart = (request: Omit<KeytarWorkerRequest, "id">, timeoutMillis: number) =>
    call(request, timeoutMillis).pipe(
      Effect.catchIf(curedByFreshWorker, () => call(request, timeoutMillis))
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

// ---------------------------------------------------------------------------------------------
// errors users see

const platformText = (texts: { readonly linux: string; readonly darwin: string; readonly win32: string }) =>
  process.platform === "darwin" ? texts.darwin : process.platform === "win32" ? texts.win32 : texts.linux

const unavailableHint = () =>
  platformText({
    linux: "Install and start gnome-keyring or KWallet (Secret Service), or run inside a desktop session.",
    darwin: "Sign in to a macOS desktop session so the login keychain can be reached, then retry.",
    win32: "Sign in to a Windows desktop session so Credential Manager can be reached, then retry."
  })

const lockedHint = () =>
  platformText({
    linux: "Unlock the login keyring (e.g. in Passwords and Keys / Seahorse, or by logging in again), then retry.",
    darwin: "Unlock the login keychain in Keychain Access, then retry.",
    win32: "Sign in to Windows again to unlock Credential Manager, then retry."
  })

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

const CONTROL_RUNS = new RegExp(`${Canonical.CONTROL_CHARACTERS.source}+`, "g")

/** Worker details are already redacted by the worker; this also bounds their length and drops control characters. */
const sanitize = (detail: string, secretText?: string) => {
  let text = detail
  if (secretText !== undefined && secretText.length > 0) text = text.split(secretText).join("[redacted]")
  text = text.replace(CONTROL_RUNS, " ").trim()
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

/** Turns a failed worker call into the domain error users see. Never includes the secret. */
const toSecretStoreError = (
  error: WorkerCallError,
  action: string,
  ref: SecretRef.SecretRef | undefined,
  secretText?: string
): Errors.SecretStoreError => {
  switch (error._tag) {
    case "WorkerTimedOut":
      return new Errors.KeychainUnavailable({
        message:
          `${action}: the keychain did not answer within ${error.millis} ms; the request may still complete (the keychain helper gets ${
            Math.round(error.drainMillis / 1000)
          } s more to finish it and is stopped only if it stays stuck)`,
        hint: "If a keychain or unlock prompt is open, answer it; otherwise check that the keyring daemon is responsive, then retry.",
        reason: "no-answer"
      })
    case "WorkerLost":
      return new Errors.KeychainUnavailable({
        message: `${action}: ${sanitize(error.reason)}`,
        hint: `${unavailableHint()} If it keeps happening, restart the app.`,
        reason: "helper-lost"
      })
    case "WorkerProtocolError":
      return new Errors.KeychainUnavailable({
        message: `${action}: unexpected answer from the keychain helper (${sanitize(error.detail)})`,
        hint: "Reinstall the app; the keychain helper does not match this version.",
        reason: "error"
      })
    case "WorkerFailed": {
      const detail = sanitize(error.detail, secretText)
      switch (error.kind) {
        case "unavailable":
          return new Errors.KeychainUnavailable({
            message: `${action}: no keychain is available (${detail})`,
            hint: unavailableHint(),
            reason: "not-reachable"
          })
        case "no-reply":
          return new Errors.KeychainUnavailable({
            message: `${action}: the keychain did not reply (${detail}); the request may still complete`,
            hint: "If a keychain or unlock prompt is open, answer it; otherwise check that the keyring daemon is responsive, then retry.",
            reason: "no-answer"
          })
        case "locked":
          return new Errors.KeychainLocked({ message: `${action}: the keychain is locked`, hint: lockedHint() })
        case "denied":
          return new Errors.KeychainDenied({
            message: `${action}: access to the keychain was denied (${detail})`,
            hint: "Allow Fishbowl to use the keychain when asked, or check the entry's access settings in your keychain app."
          })
        case "too-large":
          return new Errors.InvalidInput({
            field: ref?.account ?? "apiKey",
            message: `${action}: the value is larger than the keychain accepts`,
            hint: Hints.pasteOnlyTheKey
          })
        case "session-lost":
          return new Errors.KeychainUnavailable({
            message: `${action}: the keychain service restarted and could not be reached again (${detail})`,
            hint: unavailableHint(),
            reason: "session-lost"
          })
        case "unknown":
          return new Errors.KeychainUnavailable({
            message: `${action}: the keychain reported an error (${detail})`,
            hint: unavailableHint(),
            reason: "error"
          })
      }
    }
  }
}

const decodeValue = <S extends Schema.Decoder<unknown>>(schema: S, value: unknown) =>
  Option.match(Schema.decodeUnknownOption(schema)(value), {
    onNone: () => Effect.fail(new WorkerProtocolError({ detail: `unexpected value ${typeof value}` })),
    onSome: (decoded) => Effect.succeed(decoded)
  })

// ---------------------------------------------------------------------------------------------
// service

/** A ref that no real configuration can own (`fishbowl.probe.*`), for probes and `authorize`. */
const probeRef = (suffix: string): SecretRef.SecretRef => ({ service: `fishbowl.probe.${suffix}`, account: "apiKey" })

const detailOfPlatform = () =>
  process.platform === "darwin"
    ? "macOS Keychain"
    : process.platform === "win32"
    ? "Windows Credential Manager"
    : process.platform === "linux"
    ? "Secret Service (gnome-keyring/KWallet) via libsecret"
    : `OS keychain via keytar (${process.platform})`

/**
 * The domain's SecretStore on the OS keychain, plus KeychainProbe for diagnostics. The worker
 * starts on first use and is stopped (drained, then killed only if stuck) when the scope closes.
 */
export const make = Effect.fnUntraced(function*(options?: KeytarSecretStoreOptions) {
  const callTimeoutMillis = options?.callTimeoutMillis ?? DEFAULT_CALL_TIMEOUT_MILLIS
  const authorizeTimeoutMillis = options?.authorizeTimeoutMillis ?? DEFAULT_AUTHORIZE_TIMEOUT_MILLIS
  const maxValueBytes = options?.maxValueBytes ??
    (process.platform === "win32" ? WINDOWS_MAX_VALUE_BYTES : LlmConfig.MAX_API_KEY_BYTES)
  const workerEnv = options?.workerEnv
  const supervisor = makeSupervisor({
    spawn: options?.spawn ?? forkKeytarWorker,
    workerPath: options?.workerPath ?? keytarWorkerPath,
    drainMillis: options?.drainMillis ?? DEFAULT_DRAIN_MILLIS,
    env: () => ({
      ...(typeof workerEnv === "function" ? workerEnv() : workerEnv ?? definedEnv(process.env)),
      // the worker re-checks the size, as defence in depth
      FISHBOWL_KEYTAR_MAX_SECRET_BYTES: String(maxValueBytes),
      // the worker gives up on a request a little before the supervisor kills it as wedged
      FISHBOWL_KEYTAR_DRAIN_MILLIS: String(Math.max(0, (options?.drainMillis ?? DEFAULT_DRAIN_MILLIS) - 1000))
    })
  })
  yield* Effect.addFinalizer(() => supervisor.shutdown)

  const readEntry = (ref: SecretRef.SecretRef, timeoutMillis: number) =>
    supervisor.callWithRestart({ op: "get", service: ref.service, account: ref.account }, timeoutMillis).pipe(
      Effect.flatMap((value) => decodeValue(GetValue, value)),
      Effect.map((value) => value === null ? Option.none() : Option.some(Redacted.make(value))),
      Effect.mapError((error) => toSecretStoreError(error, `Could not read ${SecretRef.describeSecretRef(ref)}`, ref))
    )

  /**
   * The value crosses the IPC channel as a plain string. Node strings are immutable and cannot be
   * zeroed, so the best we can do is keep no reference once the call (and its one retry) is over.
   */
  const writeEntry = (ref: SecretRef.SecretRef, text: string, timeoutMillis: number) =>
    supervisor.callWithRestart({ op: "set", service: ref.service, account: ref.account, secret: text }, timeoutMillis)
      .pipe(
        Effect.flatMap((value) => decodeValue(SetValue, value)),
        Effect.asVoid,
        Effect.mapError((error) => toSecretStoreError(error, `Could not store ${SecretRef.describeSecretRef(ref)}`, ref, text))
      )

  const deleteEntry = (ref: SecretRef.SecretRef, timeoutMillis: number) =>
    supervisor.callWithRestart({ op: "delete", service: ref.service, account: ref.account }, timeoutMillis).pipe(
      Effect.flatMap((value) => decodeValue(DeleteValue, value)),
      Effect.mapError((error) => toSecretStoreError(error, `Could not delete ${SecretRef.describeSecretRef(ref)}`, ref))
    )

  const get = Effect.fn("KeytarSecretStore.get")(function*(ref: SecretRef.SecretRef) {
    return yield* readEntry(ref, callTimeoutMillis)
  })

  const set = Effect.fn("KeytarSecretStore.set")(function*(ref: SecretRef.SecretRef, value: Redacted.Redacted<string>) {
    // NUL, control characters and oversize values never reach native code.
    const text = yield* SecretStore.checkSecretValue(ref, value, maxValueBytes)
    yield* writeEntry(ref, text, callTimeoutMillis)
  })

  const remove = Effect.fn("KeytarSecretStore.delete")(function*(ref: SecretRef.SecretRef) {
    return yield* deleteEntry(ref, callTimeoutMillis)
  })

  /** Linux only: the worker's D-Bus read of the collection's Locked property. */
  const lockState = supervisor.callWithRestart({ op: "probe" }, callTimeoutMillis).pipe(
    Effect.flatMap((value) => decodeValue(ProbeValue, value)),
    Effect.option
  )

  const probe: Effect.Effect<KeychainProbe.KeychainProbeResult> = Effect.gen(function*() {
    const lock = process.platform === "linux" ? yield* lockState : Option.none()
    const lockedByProbe = Option.match(lock, { onNone: () => null, onSome: (state) => state.locked })
    return yield* readEntry(probeRef("availability"), callTimeoutMillis).pipe(
      Effect.match({
        onSuccess: (): KeychainProbe.KeychainProbeResult => ({
          available: true,
          locked: lockedByProbe,
          detail: `${detailOfPlatform()} is reachable${
            lockedByProbe === null ? "; its lock state cannot be read" : lockedByProbe ? " but locked" : " and unlocked"
          }`
        }),
        onFailure: (error): KeychainProbe.KeychainProbeResult =>
          error._tag === "KeychainLocked"
            ? { available: true, locked: true, detail: `${detailOfPlatform()} is reachable but locked` }
            : { available: false, locked: lockedByProbe, detail: error.message }
      })
    )
  }).pipe(Effect.withSpan("KeytarSecretStore.probe"))

  const describe: Effect.Effect<SecretStore.SecretStoreDescription, Errors.SecretStoreError> = Effect.gen(function*() {
    const base = {
      backend: "keytar",
      tier: "keychain" as const,
      persistent: true,
      secure: true,
      detail: detailOfPlatform()
    }
    // macOS and Windows report a locked or refused keychain as an error, never as "absent".
    if (process.platform !== "linux") return { ...base, distinguishesLockedFromAbsent: true }
    // On Linux keytar reports a locked collection as "absent"; the worker corrects that only
    // when it can read the collection's Locked property over D-Bus.
    const lock = yield* lockState
    const lockCheckUsable = Option.isSome(lock) && lock.value.locked !== null
    if (lockCheckUsable) {
      return lock.value.locked === true
        ? {
          ...base,
          distinguishesLockedFromAbsent: true,
          warning: "The login keyring is locked: keys cannot be read until it is unlocked."
        }
        : { ...base, distinguishesLockedFromAbsent: true }
    }
    const reason = Option.isSome(lock) && lock.value.serviceAvailable === false
      ? "The Secret Service cannot be reached right now."
      : "The keyring's lock state cannot be read (no dbus-send, gdbus or busctl)."
    return {
      ...base,
      distinguishesLockedFromAbsent: false,
      warning: `${reason} A missing key may also mean a locked keyring.`
    }
  }).pipe(Effect.withSpan("KeytarSecretStore.describe"))

  /**
   * Write, read back and delete a throw-away entry, with the long budget: on macOS this is where
   * the user answers the access prompt. (libsecret does not prompt to unlock on a write to a locked
   * collection; Linux users get KeychainLocked with a hint instead.)
   */
  const authorize = Effect.gen(function*() {
    const ref = probeRef(randomBytes(8).toString("hex"))
    const value = randomBytes(16).toString("hex")
    yield* writeEntry(ref, value, authorizeTimeoutMillis)
    const readBack = yield* readEntry(ref, authorizeTimeoutMillis).pipe(
      Effect.ensuring(Effect.ignore(deleteEntry(ref, authorizeTimeoutMillis)))
    )
    if (Option.isNone(readBack) || Redacted.value(readBack.value) !== value) {
      return yield* new Errors.KeychainUnavailable({
        message: "The keychain did not return the test entry that was just written",
        hint: unavailableHint()
      })
    }
  }).pipe(Effect.withSpan("KeytarSecretStore.authorize"))

  const placement = Effect.succeed("keychain" as const)
  const sessionId = SecretStore.newSessionId()
  return Context.make(
    SecretStore.SecretStore,
    SecretStore.SecretStore.of({ get, set, delete: remove, describe, authorize, placement, sessionId })
  ).pipe(
    Context.add(KeychainProbe.KeychainProbe, KeychainProbe.KeychainProbe.of({ probe }))
  )
})

/** A copy of an environment without its unset entries: what a child process is given. */
export const definedEnv = (env: NodeJS.ProcessEnv): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value
  return out
}

/** {@link make} as a layer: SecretStore and KeychainProbe. */
export const layer = (options?: KeytarSecretStoreOptions): Layer.Layer<SecretStore.SecretStore | KeychainProbe.KeychainProbe> =>
  Layer.effectContext(make(options))
