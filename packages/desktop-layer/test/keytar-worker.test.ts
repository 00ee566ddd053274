/**
 * keytar-worker.cjs against a REAL gnome-keyring-daemon on a private bus (SecretServiceHarness).
 * Nothing is mocked: every outcome below is what keytar/libsecret actually does on Linux.
 * If the harness cannot start (binaries missing), these tests FAIL with the install hint.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as SecretServiceHarness from "../src/testing/SecretServiceHarness.ts"

const WORKER = fileURLToPath(new URL("../src/keytar-worker.cjs", import.meta.url))
/** A hang catcher per call: a keychain call answers in milliseconds, a loaded machine's in well under a second. */
const CALL_TIMEOUT_MS = 60_000

type Kind = "unavailable" | "locked" | "denied" | "session-lost" | "too-large" | "unknown"
type Reply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: { kind: Kind; detail: string } }

interface Worker {
  readonly child: ChildProcess
  call(op: string, fields?: { service?: string; account?: string; secret?: string }): Promise<Reply>
}

const workers = new Set<ChildProcess>()

const startWorker = (env: Record<string, string>): Worker => {
  const child = fork(WORKER, [], { serialization: "advanced", env, stdio: ["ignore", "pipe", "pipe", "ipc"] })
  workers.add(child)
  let output = ""
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()))
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()))
  let next = 0
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>()
  child.on("message", (r: Reply) => {
    pending.get(r.id)?.resolve(r)
    pending.delete(r.id)
  })
  child.on("exit", (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`keytar worker exited (code ${code}, signal ${signal}); output: ${output}`))
    pending.clear()
  })
  const call: Worker["call"] = (op, fields = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const id = ++next
      const t = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`keytar worker: no reply to ${op} within ${CALL_TIMEOUT_MS} ms`))
      }, CALL_TIMEOUT_MS)
      pending.set(id, {
        resolve: (r) => {
          clearTimeout(t)
          resolve(r)
        },
        reject: (e) => {
          clearTimeout(t)
          reject(e)
        }
      })
      child.send({ id, op, service: "fishbowl-test", account: "default", ...fields })
    })
  return { child, call }
}

const errorOf = (r: Reply) => {
  if (r.ok) throw new Error(`expected an error reply, got ${JSON.stringify(r)}`)
  return r.error
}

/** Ends a worker the way the supervisor does: close its channel, let it drain, SIGKILL only if it is stuck. */
const endGracefully = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  if (child.connected) child.disconnect()
  // only a worker that never drains (a hang) is killed; a slow one is waited for
  const stuck = setTimeout(() => child.kill("SIGKILL"), 60_000)
  await exited
  clearTimeout(stuck)
}

afterEach(async () => {
  await Promise.all([...workers].map(endGracefully))
  workers.clear()
})

const UNICODE_SECRET = "pässwörd ✓ 🔐 秘密 \u{1F600} \\\"quotes\" \n newline"

describe("keytar worker against a real Secret Service", () => {
  // Started once; a start failure (e.g. missing binaries) makes EVERY test fail with the
  // harness's message (install hint) instead of vitest reporting them as skipped.
  let started: Promise<SecretServiceHarness.SecretServiceHandle>
  let ss: SecretServiceHarness.SecretServiceHandle
  beforeAll(() => {
    started = SecretServiceHarness.startSecretService()
    started.catch(() => {})
  })
  beforeEach(async () => {
    ss = await started
    await ss.ready()
  })
  afterAll(async () => {
    await (await started.catch(() => undefined))?.stop()
  })

  it("harness: private env, login collection unlocked, test process env untouched", async () => {
    expect(ss.env.DBUS_SESSION_BUS_ADDRESS).toMatch(/^unix:path=/)
    expect(process.env.DBUS_SESSION_BUS_ADDRESS).not.toBe(ss.env.DBUS_SESSION_BUS_ADDRESS)
    expect(process.env.HOME).not.toBe(ss.env.HOME)
    expect(await ss.nameHasOwner("org.freedesktop.secrets")).toBe(true)
    expect(await ss.isLocked()).toBe(false)
  })

  it("set/get/delete round trip with a unicode secret", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await w.call("ping")).toEqual({ id: 1, ok: true, value: "pong" })
    expect(await w.call("set", { account: "unicode", secret: UNICODE_SECRET })).toEqual({ id: 2, ok: true, value: true })
    expect(await w.call("get", { account: "unicode" })).toEqual({ id: 3, ok: true, value: UNICODE_SECRET })
    // overwrite
    expect((await w.call("set", { account: "unicode", secret: "second" })).ok).toBe(true)
    expect(await w.call("get", { account: "unicode" })).toMatchObject({ ok: true, value: "second" })
    // a different process (fresh libsecret session) sees it too
    const w2 = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await w2.call("get", { account: "unicode" })).toMatchObject({ ok: true, value: "second" })
    expect(await w.call("delete", { account: "unicode" })).toMatchObject({ ok: true, value: true })
    expect(await w.call("get", { account: "unicode" })).toMatchObject({ ok: true, value: null })
    expect(await w.call("delete", { account: "unicode" })).toMatchObject({ ok: true, value: false })
  })

  it("get of a missing entry is null; probe reports unlocked", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await w.call("get", { account: "never-set" })).toMatchObject({ ok: true, value: null })
    expect(await w.call("probe")).toMatchObject({ ok: true, value: { locked: false, serviceAvailable: true } })
  })

  it("1 MiB secret round-trips; over the cap is 'too-large'; NUL and empty are refused", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    const big = "x".repeat(1024 * 1024)
    expect(await w.call("set", { account: "big", secret: big })).toMatchObject({ ok: true })
    const got = await w.call("get", { account: "big" })
    expect(got.ok && got.value === big).toBe(true)
    expect(errorOf(await w.call("set", { account: "big", secret: big + "y" })).kind).toBe("too-large")
    expect(errorOf(await w.call("set", { account: "nul", secret: "a\0b" })).kind).toBe("unknown")
    expect(errorOf(await w.call("set", { account: "empty", secret: "" })).kind).toBe("unknown")
    expect(await w.call("get", { account: "nul" })).toMatchObject({ ok: true, value: null })
    await w.call("delete", { account: "big" })
  })

  it("locked collection: get/set/delete -> 'locked' (keytar itself says null/false); unlock restores access", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect((await w.call("set", { account: "lk", secret: "before-lock" })).ok).toBe(true)
    await ss.lock()
    expect(await ss.isLocked()).toBe(true)
    try {
      // keytar.getPassword returns null here; the worker must not report "absent".
      expect(errorOf(await w.call("get", { account: "lk" })).kind).toBe("locked")
      const set = errorOf(await w.call("set", { account: "lk", secret: "while-locked" }))
      expect(set).toEqual({ kind: "locked", detail: "Cannot create an item in a locked collection" })
      // keytar.deletePassword returns false here; must not look like "nothing to delete".
      expect(errorOf(await w.call("delete", { account: "lk" })).kind).toBe("locked")
      expect(await w.call("probe")).toMatchObject({ ok: true, value: { locked: true, serviceAvailable: true } })
    } finally {
      await ss.unlock()
    }
    expect(await ss.isLocked()).toBe(false)
    expect(await w.call("get", { account: "lk" })).toMatchObject({ ok: true, value: "before-lock" })
    expect(await w.call("delete", { account: "lk" })).toMatchObject({ ok: true, value: true })
  })

  it("shutdown: a request already in flight is answered, later ones are refused, then the worker exits 0", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect((await w.call("set", { account: "drain", secret: "drained-value" })).ok).toBe(true)
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      w.child.once("exit", (code, signal) => resolve([code, signal]))
    )
    // The daemon is stopped, so the first get is certainly still in flight when `shutdown` and the
    // later get arrive (on a busy machine it could otherwise finish first, the idle worker exit at
    // `shutdown`, and the later get never be read).
    const daemon = ss.daemonPid!
    process.kill(daemon, "SIGSTOP")
    let inFlight: Promise<Reply>
    try {
      inFlight = w.call("get", { account: "drain" })
      w.child.send({ id: 0, op: "shutdown" })
      const refused = w.call("get", { account: "drain" })
      expect(errorOf(await refused)).toEqual({ kind: "unavailable", detail: "the keychain helper is shutting down" })
    } finally {
      process.kill(daemon, "SIGCONT")
    }
    expect(await inFlight).toMatchObject({ ok: true, value: "drained-value" })
    expect(await exited).toEqual([0, null])
    const cleaner = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await cleaner.call("delete", { account: "drain" })).toMatchObject({ ok: true, value: true })
  })

  it("a closed channel (the parent died) lets the request in flight finish before the worker exits 0", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      w.child.once("exit", (code, signal) => resolve([code, signal]))
    )
    // Written through the channel, then the channel closes at once: the set must still land.
    w.child.send({ id: 1, op: "set", service: "fishbowl-test", account: "orphaned-parent", secret: "landed" })
    w.child.disconnect()
    expect(await exited).toEqual([0, null])
    const fresh = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await fresh.call("get", { account: "orphaned-parent" })).toMatchObject({ ok: true, value: "landed" })
    expect(await fresh.call("delete", { account: "orphaned-parent" })).toMatchObject({ ok: true, value: true })
  })

  it("a closed channel while a request is stuck: the worker ends itself with SIGKILL at its drain bound, not when the call returns", async () => {
    // A small drain bound; the Secret Service is stopped, so the set cannot finish while it waits.
    const w = startWorker({ ...SecretServiceHarness.childEnv(ss.env), FISHBOWL_KEYTAR_DRAIN_MILLIS: "300" })
    expect((await w.call("get", { account: "stuck" })).ok).toBe(true) // keytar loaded, session open
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      w.child.once("exit", (code, signal) => resolve([code, signal]))
    )
    const daemon = ss.daemonPid!
    process.kill(daemon, "SIGSTOP")
    try {
      w.child.send({ id: 1, op: "set", service: "fishbowl-test", account: "stuck", secret: "late" })
      w.child.disconnect()
      // process.exit would wait for the stuck native call (the thread pool); SIGKILL does not.
      expect(await exited).toEqual([null, "SIGKILL"])
    } finally {
      process.kill(daemon, "SIGCONT")
    }
    const cleaner = startWorker(SecretServiceHarness.childEnv(ss.env))
    await cleaner.call("delete", { account: "stuck" })
    await endGracefully(cleaner.child)
  })

  it("harness: a daemon that dies on its own is reported and restarted on the same bus, unlocked, keys intact", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect((await w.call("set", { account: "abort-survivor", secret: "kept" })).ok).toBe(true)
    await endGracefully(w.child)
    const deathsBefore = ss.deaths.length
    const unexpectedBefore = ss.unexpectedDeaths.length
    const oldPid = ss.daemonPid!
    const reports: Array<string> = []
    const original = console.error
    console.error = (...args: Array<unknown>) => {
      reports.push(args.map(String).join(" "))
      original(...args)
    }
    try {
      await ss.crashDaemon("SIGABRT") // what gnome-keyring 42 does to itself on the assertion
    } finally {
      console.error = original
    }
    expect(reports.join("\n")).toMatch(
      /gnome-keyring-daemon \(pid \d+\) crashed as the test asked \(code null, signal SIGABRT\); restarting it on the same bus/
    )
    expect(ss.daemonPid).toBeDefined()
    expect(ss.daemonPid).not.toBe(oldPid)
    expect(ss.deaths.length).toBe(deathsBefore + 1)
    expect(ss.deaths.at(-1)).toMatchObject({ pid: oldPid, signal: "SIGABRT", simulated: true })
    expect(ss.unexpectedDeaths.length).toBe(unexpectedBefore)
    expect(await ss.isLocked()).toBe(false)
    const fresh = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await fresh.call("get", { account: "abort-survivor" })).toMatchObject({ ok: true, value: "kept" })
    expect(await fresh.call("delete", { account: "abort-survivor" })).toMatchObject({ ok: true, value: true })
  })

  it("daemon killed and restarted: the old worker gets 'session-lost' on every op, a fresh worker works", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect((await w.call("set", { account: "survivor", secret: "persisted" })).ok).toBe(true)
    const oldPid = ss.daemonPid
    await ss.restartDaemon()
    expect(ss.daemonPid).not.toBe(oldPid)
    const get = errorOf(await w.call("get", { account: "survivor" }))
    expect(get.kind).toBe("session-lost")
    expect(get.detail).toMatch(/^The name :\d+\.\d+ was not provided by any \.service files$/)
    const set = errorOf(await w.call("set", { account: "survivor", secret: "again" }))
    expect(set).toEqual({ kind: "session-lost", detail: "The session wrapping the secret does not exist" })
    expect(errorOf(await w.call("delete", { account: "survivor" })).kind).toBe("session-lost")
    // still broken on retry: only a new process recovers
    expect(errorOf(await w.call("get", { account: "survivor" })).kind).toBe("session-lost")

    const fresh = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await fresh.call("get", { account: "survivor" })).toMatchObject({ ok: true, value: "persisted" })
    expect(await fresh.call("delete", { account: "survivor" })).toMatchObject({ ok: true, value: true })
  })

  it("daemon killed, not restarted: old worker 'session-lost', fresh worker 'unavailable'", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(ss.env))
    expect(await w.call("get", { account: "x" })).toMatchObject({ ok: true, value: null })
    await ss.killDaemon()
    try {
      expect(errorOf(await w.call("get", { account: "x" })).kind).toBe("session-lost")
      const fresh = startWorker(SecretServiceHarness.childEnv(ss.env))
      const e = errorOf(await fresh.call("get", { account: "x" }))
      expect(e).toEqual({ kind: "unavailable", detail: "The name org.freedesktop.secrets was not provided by any .service files" })
      expect(errorOf(await fresh.call("set", { account: "x", secret: "s3cr3t-value" })).kind).toBe("unavailable")
      expect(await fresh.call("probe")).toMatchObject({ ok: true, value: { locked: null, serviceAvailable: false } })
    } finally {
      await ss.restartDaemon()
    }
    expect(await ss.isLocked()).toBe(false)
  })
})

describe("keytar worker without a Secret Service", () => {
  let started: Promise<SecretServiceHarness.BusHandle>
  let bus: SecretServiceHarness.BusHandle
  beforeAll(() => {
    started = SecretServiceHarness.startBusOnly()
    started.catch(() => {})
  })
  beforeEach(async () => {
    bus = await started
  })
  afterAll(async () => {
    await (await started.catch(() => undefined))?.stop()
  })

  it("bus but no Secret Service -> 'unavailable' (and nothing gets auto-activated)", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(bus.env))
    const expected = { kind: "unavailable", detail: "The name org.freedesktop.secrets was not provided by any .service files" }
    expect(errorOf(await w.call("get"))).toEqual(expected)
    expect(errorOf(await w.call("delete"))).toEqual(expected)
    expect(errorOf(await w.call("set", { secret: "a-secret-value" }))).toEqual(expected)
    expect(await w.call("probe")).toMatchObject({ ok: true, value: { locked: null, serviceAvailable: false } })
    expect(await bus.nameHasOwner("org.freedesktop.secrets")).toBe(false)
  })

  it("error details never contain the secret, and redaction does not break classification", async () => {
    const w = startWorker(SecretServiceHarness.childEnv(bus.env))
    // "service" occurs in libsecret's message ("... by any .service files")
    const e = errorOf(await w.call("set", { secret: "service" }))
    expect(e.kind).toBe("unavailable")
    expect(e.detail).not.toContain("service")
    expect(e.detail).toContain("[redacted]")
  })

  it("no bus at all (no DBUS_SESSION_BUS_ADDRESS, no DISPLAY) -> 'unavailable' with the autolaunch message", async () => {
    const { DBUS_SESSION_BUS_ADDRESS: _, ...noBus } = bus.env
    const env = SecretServiceHarness.childEnv(noBus)
    expect(env.DBUS_SESSION_BUS_ADDRESS).toBeUndefined()
    expect(env.DISPLAY).toBeUndefined()
    const w = startWorker(env)
    const expected = { kind: "unavailable", detail: "Cannot autolaunch D-Bus without X11 $DISPLAY" }
    expect(errorOf(await w.call("get"))).toEqual(expected)
    expect(errorOf(await w.call("set", { secret: "a-secret-value" }))).toEqual(expected)
    expect(errorOf(await w.call("delete"))).toEqual(expected)
    expect(await w.call("probe")).toMatchObject({ ok: true, value: { locked: null, serviceAvailable: false } })
  })

  it("keytar that fails to load -> 'unavailable' with the load error; ping still answers", async () => {
    const w = startWorker({ ...SecretServiceHarness.childEnv(bus.env), FISHBOWL_KEYTAR_MODULE: "/nonexistent/keytar" })
    expect(await w.call("ping")).toMatchObject({ ok: true, value: "pong" })
    const e = errorOf(await w.call("get"))
    expect(e.kind).toBe("unavailable")
    expect(e.detail).toMatch(/^keytar failed to load: Cannot find module '\/nonexistent\/keytar'/)
  })
})
