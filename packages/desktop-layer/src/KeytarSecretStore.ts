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
import { Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as KeychainProbe from "./KeychainProbe.ts"
import {
  DeleteValue,
  forkKeytarWorker,
  GetValue,
  keytarWorkerPath,
  type KeytarWorkerSpawner,
  makeSupervisor,
  ProbeValue,
  SetValue,
  type WorkerCallError,
  WorkerProtocolError
} from "./KeytarWorkerSupervisor.ts"

export {
  forkKeytarWorker,
  keytarWorkerPath,
  type KeytarWorkerProcess,
  type KeytarWorkerRequest,
  type KeytarWorkerSpawner,
  makeExitNotice
} from "./KeytarWorkerSupervisor.ts"

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
          return new Errors.KeychainLocked({ message: `${action}: the keychain is locked`, hint: lockedHint(), reason: "locked" })
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
const probeRef = (suffix: string): SecretRef.SecretRef => ({ service: `${SecretRef.PROBE_SERVICE_PREFIX}${suffix}`, account: "apiKey" })

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
      Effect.mapError((error) => toSecretStoreError(error, `Could not read ${SecretRef.spokenName(ref)}`, ref))
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
        Effect.mapError((error) => toSecretStoreError(error, `Could not save ${SecretRef.spokenName(ref)}`, ref, text))
      )

  const deleteEntry = (ref: SecretRef.SecretRef, timeoutMillis: number) =>
    supervisor.callWithRestart({ op: "delete", service: ref.service, account: ref.account }, timeoutMillis).pipe(
      Effect.flatMap((value) => decodeValue(DeleteValue, value)),
      Effect.mapError((error) => toSecretStoreError(error, `Could not delete ${SecretRef.spokenName(ref)}`, ref))
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
  const lateWriteMillis = lateWriteMillisOf(options)
  return Context.make(
    SecretStore.SecretStore,
    SecretStore.SecretStore.of({ get, set, delete: remove, describe, authorize, placement, sessionId, lateWriteMillis })
  ).pipe(
    Context.add(KeychainProbe.KeychainProbe, KeychainProbe.KeychainProbe.of({ probe }))
  )
})

/** Time for a D-Bus message a helper sent just before it ended to be handled by the Secret Service. */
const BUS_DELIVERY_MARGIN_MILLIS = 5000

/**
 * How long after a `set` was sent its write may still land: the helper answers late calls until
 * the call's timeout, then drains for up to `drainMillis` before it is killed (or exits by itself
 * when its parent died), and a message it sent just before may still be on the bus.
 */
export const lateWriteMillisOf = (options?: KeytarSecretStoreOptions): number =>
  (options?.callTimeoutMillis ?? DEFAULT_CALL_TIMEOUT_MILLIS) + (options?.drainMillis ?? DEFAULT_DRAIN_MILLIS) +
  BUS_DELIVERY_MARGIN_MILLIS

/** A copy of an environment without its unset entries: what a child process is given. */
export const definedEnv = (env: NodeJS.ProcessEnv): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value
  return out
}

/** {@link make} as a layer: SecretStore and KeychainProbe. */
export const layer = (options?: KeytarSecretStoreOptions): Layer.Layer<SecretStore.SecretStore | KeychainProbe.KeychainProbe> =>
  Layer.effectContext(make(options))
