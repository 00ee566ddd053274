"use strict"
/*
 * keytar worker: a child process that owns every keytar (libsecret / Keychain /
 * Credential Manager) call, so a native crash, a hung D-Bus call or a stale
 * Secret Service session kills only this process, never the app.
 *
 * Start with child_process.fork(path, { serialization: 'advanced', env })
 * (or Electron utilityProcess). Plain CommonJS on purpose: no loader needed.
 *
 * Request:  { id: number, op: 'get'|'set'|'delete'|'ping'|'probe'|'shutdown', service, account, secret? }
 * Reply:    { id, ok: true, value }                       value: string|null (get), true (set),
 *                                                                boolean (delete), 'pong' (ping),
 *                                                                { locked, serviceAvailable, detail? } (probe)
 *           { id, ok: false, error: { kind, detail } }    kind: 'unavailable'|'no-reply'|'locked'|'denied'|
 *                                                                'session-lost'|'too-large'|'unknown'
 *
 * Ending: 'shutdown' (or the parent closing the channel, or the parent dying) makes the worker
 * stop taking requests, let every request already in flight finish (its D-Bus calls and its
 * lock-state helper included), then exit 0. It never leaves while a D-Bus request is pending:
 * gnome-keyring 42 aborts (SIGABRT) when a client vanishes before its request is answered
 * (src/testing/reproduce-keyring-abort.ts shows it), taking every app's keychain down with it.
 * A request still unanswered after DRAIN_BOUND_MS is given up on, as a real wedge.
 *
 * Rules:
 *  - keytar is required lazily, on the first request that needs it; a load failure is 'unavailable'.
 *  - error details never contain the secret (every occurrence is replaced by '[redacted]').
 *  - never logs, never calls findCredentials / findPassword (findCredentials SEGFAULTs inside
 *    libsecret when the collection is locked: it searches with SECRET_SEARCH_UNLOCK).
 *  - On Linux, keytar reports a LOCKED collection as "absent" (get -> null, delete -> false).
 *    When that happens the worker reads the default collection's Locked property over D-Bus
 *    and turns the answer into error kind 'locked' if it is locked.
 */

/** Maximum secret size in UTF-8 bytes accepted by 'set'. Larger secrets are refused with
 * 'too-large' before touching D-Bus (a very large message can kill the bus connection). */
const DEFAULT_MAX_SECRET_BYTES = 1024 * 1024
const MAX_SECRET_BYTES = (() => {
  const n = Number(process.env.FISHBOWL_KEYTAR_MAX_SECRET_BYTES)
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_SECRET_BYTES
})()

/**
 * Reply timeout of the D-Bus lock-state helper (dbus-send/gdbus/busctl). Generous on purpose: a
 * helper that gives up leaves gnome-keyring with an unanswered request from a vanished client
 * (see the top of this file). The caller's own budget is enforced by the supervisor, which stops
 * sending to a worker that is late without killing it.
 */
const DBUS_HELPER_TIMEOUT_MS = 6000
/** Grace for the helper to exit on its own after its reply timeout, before it is killed. */
const DBUS_HELPER_KILL_GRACE_MS = 1000
/** How long a draining worker waits for requests in flight before exiting anyway (set by the supervisor). */
const DRAIN_BOUND_MS = (() => {
  const n = Number(process.env.FISHBOWL_KEYTAR_DRAIN_MILLIS)
  return Number.isInteger(n) && n >= 0 ? n : 9000
})()

const SECRETS_DEST = "org.freedesktop.secrets"
const DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
const LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
const COLLECTION_IFACE = "org.freedesktop.Secret.Collection"

let keytar = null
let keytarLoadError = null

function loadKeytar() {
  if (keytar) return keytar
  if (keytarLoadError) throw keytarLoadError
  try {
    // FISHBOWL_KEYTAR_MODULE lets a packaged app (or a test) point at a specific keytar build.
    keytar = require(process.env.FISHBOWL_KEYTAR_MODULE || "keytar")
    return keytar
  } catch (e) {
    keytarLoadError = e instanceof Error ? e : new Error(String(e))
    throw keytarLoadError
  }
}

function messageOf(e) {
  if (e instanceof Error) return e.message
  try {
    return String(e)
  } catch {
    return "unprintable error"
  }
}

function redact(text, secret) {
  let out = typeof text === "string" ? text : String(text)
  if (typeof secret === "string" && secret.length > 0) out = out.split(secret).join("[redacted]")
  return out
}

/**
 * Map keytar/libsecret error messages (Linux) to kinds. Messages reproduced against a real
 * gnome-keyring-daemon 42.1 / libsecret 0.20.5 (see test/keytar-worker.test.ts).
 */
function classify(message) {
  const m = message
  // session-lost: the daemon this process talked to is gone (killed / restarted). libsecret
  // caches both the daemon's unique bus name and its encryption session, so every later call
  // in this process fails even if a new daemon is up:
  //   get/delete: "The name :1.2 was not provided by any .service files"   (unique name, ':')
  //   set:        "The session wrapping the secret does not exist"
  // The supervisor must restart the worker; a fresh worker reports the real state.
  if (
    /session wrapping the secret does not exist|The session does not exist|No such secret session|org\.freedesktop\.Secret\.Error\.NoSession/i
      .test(m)
  ) {
    return "session-lost"
  }
  if (
    /The name :[0-9]+\.[0-9]+ (was not provided by any \.service files|is not activatable)|Remote peer disconnected|Message recipient disconnected from message bus without replying|The connection is closed|Underlying GIOStream returned 0 bytes/i
      .test(m)
  ) {
    return "session-lost"
  }
  // locked collection.
  if (/locked collection|collection is locked|is locked|IsLocked|org\.freedesktop\.Secret\.Error\.IsLocked/i.test(m)) return "locked"
  // user dismissed a prompt / policy refusal.
  if (/prompt.*(dismiss|cancel)|dismissed|cancelled|canceled|AccessDenied|not authorized|permission denied/i.test(m)) return "denied"
  // too large: message size limits.
  if (/LimitsExceeded|too large|exceeds? .*maximum|message.*size/i.test(m)) return "too-large"
  // a request sent that got no answer: the keychain may still carry it out.
  if (/NoReply|did not receive a reply|Timeout was reached/i.test(m)) return "no-reply"
  // no bus / no Secret Service / daemon gone: nothing reached a keychain.
  if (
    /Cannot autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect|Connection refused|No such file or directory|ServiceUnknown|was not provided by any \.service files|NameHasNoOwner|The name \S+ (was not provided|is not activatable)|Error spawning command line|dbus-launch/i
      .test(
        m
      )
  ) {
    return "unavailable"
  }
  return "unknown"
}

/**
 * Run a D-Bus helper binary. Resolves { ok, stdout, stderr, missing }.
 */
function run(cmd, args) {
  // Required here, not at the top: only the lock check runs a helper, and most workers (a `key`
  // that finds its key) never do, so they skip loading child_process (~3 ms at start).
  const { execFile } = require("node:child_process")
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: DBUS_HELPER_TIMEOUT_MS + DBUS_HELPER_KILL_GRACE_MS, env: process.env, windowsHide: true, maxBuffer: 64 * 1024 },
      (err, stdout, stderr) => {
        if (err && err.code === "ENOENT") return resolve({ ok: false, missing: true, stdout: "", stderr: "" })
        resolve({ ok: !err, missing: false, stdout: String(stdout), stderr: String(stderr || (err ? err.message : "")) })
      }
    )
  })
}

/**
 * Read Locked of a collection object. Tries dbus-send, then gdbus, then busctl.
 * Resolves { locked: boolean|null, serviceAvailable: boolean|null, detail?: string }.
 * serviceAvailable null = could not tell (no helper binary).
 *
 * Each helper is a fresh D-Bus connection, and it asks GetAll, never Get: gnome-keyring 42 (and
 * later) aborts when a new connection's FIRST message is a property Get on a collection and its
 * per-client record is not made yet, a main-loop race (src/testing/reproduce-keyring-abort.ts).
 * GetAll loses the race harmlessly: the answer then lacks Locked, and the read is simply retried.
 */
const LOCK_READ_ATTEMPTS = 3

async function readLocked(objectPath) {
  const getAll = "org.freedesktop.DBus.Properties.GetAll"
  const helpers = [
    [
      "dbus-send",
      [
        "--session",
        "--print-reply",
        "--reply-timeout=" + DBUS_HELPER_TIMEOUT_MS,
        "--dest=" + SECRETS_DEST,
        objectPath,
        getAll,
        "string:" + COLLECTION_IFACE
      ],
      /string "Locked"\s+variant\s+boolean (true|false)/
    ],
    [
      "gdbus",
      [
        "call",
        "--session",
        "--timeout",
        String(Math.ceil(DBUS_HELPER_TIMEOUT_MS / 1000)),
        "--dest",
        SECRETS_DEST,
        "--object-path",
        objectPath,
        "--method",
        getAll,
        COLLECTION_IFACE
      ],
      /'Locked': <(true|false)>/
    ],
    [
      "busctl",
      ["--user", "call", SECRETS_DEST, objectPath, "org.freedesktop.DBus.Properties", "GetAll", "s", COLLECTION_IFACE],
      /"Locked" b (true|false)/
    ]
  ]
  for (const [cmd, args, re] of helpers) {
    let answeredWithoutLocked = false
    for (let attempt = 0; attempt < LOCK_READ_ATTEMPTS; attempt++) {
      const r = await run(cmd, args)
      if (r.missing) break
      if (r.ok) {
        const match = re.exec(r.stdout)
        if (match) return { locked: match[1] === "true", serviceAvailable: true }
        answeredWithoutLocked = true
        continue // the daemon's race dropped the property: ask again on a new connection
      }
      const detail = (cmd + ": " + r.stderr).trim().slice(0, 500)
      if (
        /UnknownObject|UnknownMethod|No such object|Object does not exist|NoSuchObject|UnknownInterface|No such interface/i.test(r.stderr)
      ) {
        return { locked: null, serviceAvailable: true, detail }
      }
      return { locked: null, serviceAvailable: false, detail }
    }
    if (answeredWithoutLocked) return { locked: null, serviceAvailable: true, detail: cmd + ": the answer did not include Locked" }
  }
  return { locked: null, serviceAvailable: null, detail: "none of dbus-send, gdbus, busctl is installed" }
}

/** Lock state of the collection keytar writes to (default alias, falling back to 'login'). */
async function lockState() {
  const r = await readLocked(DEFAULT_COLLECTION)
  if (r.locked === null && r.serviceAvailable === true) {
    const login = await readLocked(LOGIN_COLLECTION)
    if (login.locked !== null) return login
  }
  return r
}

function lockedError() {
  return { kind: "locked", detail: "the default Secret Service collection is locked" }
}

function fail(id, kind, detail) {
  return { id, ok: false, error: { kind, detail } }
}

function requireString(v, name) {
  if (typeof v !== "string" || v.length === 0) throw new TypeError(name + " must be a non-empty string")
}

async function handle(msg) {
  const id = msg && typeof msg.id === "number" ? msg.id : -1
  const op = msg && msg.op
  let secret = msg && typeof msg.secret === "string" ? msg.secret : undefined
  if (msg && "secret" in msg) msg.secret = undefined
  try {
    if (op === "ping") return { id, ok: true, value: "pong" }
    if (op === "probe") {
      const s = await lockState()
      const value = { locked: s.locked, serviceAvailable: s.serviceAvailable }
      if (s.detail) value.detail = s.detail
      return { id, ok: true, value }
    }
    if (op !== "get" && op !== "set" && op !== "delete") return fail(id, "unknown", "unsupported op: " + String(op))
    try {
      requireString(msg.service, "service")
      requireString(msg.account, "account")
      if (op === "set") {
        requireString(secret, "secret")
        if (secret.indexOf("\0") !== -1) return fail(id, "unknown", "secret contains a NUL character (libsecret would truncate it)")
        if (Buffer.byteLength(secret, "utf8") > MAX_SECRET_BYTES) {
          return fail(id, "too-large", "secret exceeds " + MAX_SECRET_BYTES + " bytes (UTF-8)")
        }
      }
    } catch (e) {
      return fail(id, "unknown", redact(messageOf(e), secret))
    }

    let kt
    try {
      kt = loadKeytar()
    } catch (e) {
      return fail(id, "unavailable", "keytar failed to load: " + messageOf(e))
    }

    if (op === "get") {
      const value = await kt.getPassword(msg.service, msg.account)
      if (value !== null && value !== undefined) return { id, ok: true, value }
      const s = await lockState()
      if (s.locked === true) return { id, ok: false, error: lockedError() }
      return { id, ok: true, value: null }
    }
    if (op === "set") {
      const s = secret
      secret = undefined
      try {
        await kt.setPassword(msg.service, msg.account, s)
      } catch (e) {
        // classify the raw message (the kind leaks nothing), then redact the detail.
        const raw = messageOf(e)
        return fail(id, classify(raw), redact(raw, s))
      }
      return { id, ok: true, value: true }
    }
    // delete
    const deleted = await kt.deletePassword(msg.service, msg.account)
    if (deleted) return { id, ok: true, value: true }
    const s = await lockState()
    if (s.locked === true) return { id, ok: false, error: lockedError() }
    return { id, ok: true, value: false }
  } catch (e) {
    const raw = messageOf(e)
    return fail(id, classify(raw), redact(raw, secret))
  } finally {
    secret = undefined
  }
}

function send(reply) {
  if (typeof process.send !== "function" || !process.connected) return
  try {
    process.send(reply)
  } catch {
    // parent gone; the 'disconnect' handler exits.
  }
}

let inFlight = 0
let draining = false

/** Exit once nothing is in flight; see "Ending" at the top. */
function drain() {
  if (draining) return
  draining = true
  if (inFlight === 0) return process.exit(0)
  // SIGKILL, not process.exit: exit waits for the thread pool, where a stuck native keychain call
  // would keep this process (and a write queued behind it) alive past the bound that recovery
  // counts on (KeytarSecretStore.lateWriteMillisOf).
  setTimeout(() => process.kill(process.pid, "SIGKILL"), DRAIN_BOUND_MS).unref()
}

function onRequest(msg, reply) {
  if (msg && msg.op === "shutdown") return drain()
  if (draining) return reply(fail(msg && msg.id, "unavailable", "the keychain helper is shutting down"))
  inFlight++
  handle(msg)
    .then(reply, (e) => reply(fail(msg && msg.id, "unknown", "worker bug: " + messageOf(e).slice(0, 200))))
    .finally(() => {
      inFlight--
      if (draining && inFlight === 0) process.exit(0)
    })
}

if (require.main === module) {
  if (process.parentPort) {
    // Electron utilityProcess.
    const port = process.parentPort
    port.on("message", (e) => onRequest(e.data, (r) => port.postMessage(r)))
  } else if (typeof process.send === "function") {
    // child_process.fork
    process.on("message", (msg) => onRequest(msg, send))
    // Parent closed the channel or died: nothing left to serve, but finish what is in flight.
    process.on("disconnect", drain)
  }
  // A polite kill (the OS at logout, `kill`) drains too; only SIGKILL ends a request mid-way.
  process.on("SIGTERM", drain)
  process.on("SIGINT", drain)
  process.on("SIGHUP", drain)
}

module.exports = { classify, redact, handle }
