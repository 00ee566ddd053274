/**
 * Reproduces, on demand, the gnome-keyring-daemon abort seen in the keychain tests (issue 9):
 *
 *   CRITICAL **: gkd_secret_service_get_pkcs11_session: assertion 'client' failed
 *   CRITICAL **: secret_objects_lookup_gck_object_for_path: assertion 'session' failed
 *   GLib-GIO:ERROR:../../../gio/gdbusconnection.c:4723:invoke_get_property_in_idle_cb: assertion failed: (error != NULL)
 *
 * Affected here: gnome-keyring-daemon 42.1 (Debian 12 package 42.1-1+b2) with GLib 2.74.6-2+deb12u9
 * (libglib2.0-0), dbus 1.14.10. The same lines are reported for gnome-keyring 50.0 / GLib 2.88 on
 * GitHub (omacom/omarchy#11590; jkoestinger/omarchy-vpn#42: short-lived clients that connect, read
 * the default collection and exit; grichard99/omaproton-vpn#63 quotes GNOME/gnome-keyring issue 195:
 * "~1 abort per ~4,000 short-lived Secret Service clients"), so newer versions are affected too.
 *
 * TRIGGER: a NEW bus connection whose FIRST message to gnome-keyring is a property Get on a
 * collection or item (org.freedesktop.DBus.Properties.Get(org.freedesktop.Secret.Collection, Locked)).
 * That is exactly what our Locked-state helper (`dbus-send ... Properties.Get ... Locked` in
 * keytar-worker.cjs) and the harness's isLocked() do: one fresh connection per check. The client does
 * NOT have to die: in mode `graceful` every client waits for its answers and then closes normally, and
 * the daemon still aborts. Killing the client (mode `old`) is not what triggers it.
 *
 * WHY (read from the sources; GNOME/gnome-keyring 42.1 daemon/dbus/gkd-secret-service.c and
 * gkd-secret-objects.c, GNOME/glib 2.74 gio/gdbusconnection.c and glib/gmain.c):
 * - gnome-keyring keeps a per-sender `clients` record. Its GDBus message filter runs in the GDBus
 *   worker thread and queues `ensure_client_for_sender` as a G_PRIORITY_HIGH idle, "to make sure
 *   this [...] is scheduled before the actual method call". GDBus then queues the property Get as a
 *   G_PRIORITY_DEFAULT idle (invoke_get_property_in_idle_cb) on the same main context.
 * - The priority does not guarantee the order: g_main_context_check() walks the sources from high to
 *   low priority and RELEASES the context lock while it calls each not-yet-ready source's check().
 *   If both idles are attached by the worker thread while the main thread is in that walk past the
 *   HIGH list, the Get idle is picked up in this pass and the ensure-client idle only in the next.
 *   The collection getter then calls gkd_secret_service_get_pkcs11_session(sender), finds no record,
 *   returns NULL without setting an error, and GDBus asserts (error != NULL) -> SIGABRT.
 * - So the window only exists while the daemon's main loop is iterating when the Get arrives: other
 *   clients' traffic, or merely the NameOwnerChanged the bus sends when the new client connects.
 *   Load on the machine (a preempted main thread) widens it; that is why full `npm test` runs hit it.
 * - A client whose record already exists is safe; a Get on the Service object needs no record, and
 *   once its answer (sent from the main loop) is back, the HIGH ensure-client idle has either run or
 *   is ahead of anything the client sends next. libsecret (keytar) is safe: its first message to the
 *   daemon is GetAll on /org/freedesktop/secrets (Service), then OpenSession (dbus-monitor below).
 *
 * MESSAGE SEQUENCE observed with `dbus-monitor --address <private bus>` right before an abort (mode
 * graceful, raw client; sender :1.1643 is the new client, :1.2 the daemon, :1.7/:1.8 traffic):
 *   :1.1643 -> org.freedesktop.DBus      Hello
 *   org.freedesktop.DBus -> (broadcast)   NameOwnerChanged(":1.1643", "", ":1.1643")
 *   :1.1643 -> org.freedesktop.secrets    Properties.Get("org.freedesktop.Secret.Collection", "Locked")
 *                                         on /org/freedesktop/secrets/aliases/default  (its 1st message)
 *   (interleaved: NameOwnerChanged of two earlier clients leaving, replies of :1.2 to :1.7/:1.8)
 *   :1.1643 -> org.freedesktop.secrets    Properties.Get(Service, Collections)          (still connected)
 *   ~7 ms later: org.freedesktop.DBus -> :1.1643  Error.NoReply "Message recipient disconnected
 *   from message bus without replying" for both calls; then :1.2's names are released. No
 *   NameOwnerChanged for :1.1643 came before the abort: the client was alive the whole time.
 *
 * MODES (each new client connects, sends Hello and its first call in one write):
 *   old       first message Get(Collection, Locked); the client is SIGKILLed / its socket destroyed
 *             0-5 ms after it was started, answered or not: the old lock check with the old shutdown.
 *   new       = getall below, closed normally: the lock check keytar-worker.cjs and the harness use now
 *             (GetAll, retried when the answer lacks Locked), with the new graceful shutdown.
 *   graceful  first message Get(Collection, Locked); the client waits for the answer, then closes
 *             normally (the "let in-flight calls finish, then exit" shutdown). Still aborts.
 *   primed    first message Get(org.freedesktop.Secret.Service, Collections) on /org/freedesktop/secrets
 *             (needs no client record), wait for it, THEN Get(Collection, Locked), then close
 *             normally. No aborts.
 *   getall    first message GetAll(org.freedesktop.Secret.Collection) (what `dbus-send ... GetAll` would
 *             do): GDBus skips properties whose getter fails, so the race costs an answer without
 *             Locked (counted as answersWithoutLocked, two CRITICALs in the daemon's log), never an abort.
 *   --client raw (default): an in-process minimal D-Bus client, fast (~1000 clients/s).
 *   --client dbus-send: spawns the worker's exact lock-check command (old, graceful only).
 *   --traffic T: T long-lived, already-known connections that keep 3 Gets in flight each, so the
 *             daemon's main loop is busy like during a test (default 2; 0 still aborts, more rarely).
 *
 * FIGURES (2026-12-01, this machine: 2 shared cores at load 7-10, `nice -n 19`, --parallel 4 --traffic 2
 * unless noted; "aborts" = daemon SIGABRTs with the three lines above, daemon restarted after each):
 *   --mode old      --client raw        20000 clients  7 aborts  (18 s)
 *   --mode graceful --client raw        20000 clients  5 aborts  (18 s; again 5 in 20000, 2 in 10000, 4 in 10000)
 *   --mode graceful --client raw --parallel 1 --traffic 0: 1 abort in 10000, then 0 in 10000 (sequential
 *                   clients, nothing else on the bus: rarer, not impossible)
 *   --mode old      --client dbus-send  12000 clients  1 abort   (44 s); 0 in 4000
 *   --mode graceful --client dbus-send  12000 clients  2 aborts  (96 s); 0 in 4000; 3 in 4000
 *   --mode primed   --client raw        30000 + 10000 + 10000 clients  0 aborts
 *   --mode getall   --client raw        20000 clients  0 aborts, 19 answers without Locked
 *   (errors in the lines: NoReply/ServiceUnknown = calls in flight when the daemon died or while it
 *   restarted; UnknownMethod on the aliases/default path = a second, harmless-looking race: the GDBus
 *   filter reads the `aliases` table in the worker thread while update_default() replaces
 *   aliases["default"] on the main thread for every new client, so the path is sometimes not rewritten.)
 *
 * Run from the repository root:
 *   nice -n 19 node --import tsx packages/desktop-layer/src/testing/reproduce-keyring-abort.ts \
 *     --mode old|graceful|primed [--client raw|dbus-send] [--iterations 10000] [--parallel 4] [--traffic 2]
 * Prints one JSON line: iterations, aborts (daemon deaths; the daemon is restarted after each), errors.
 */
import { spawn } from "node:child_process"
import * as net from "node:net"
import * as SecretServiceHarness from "./SecretServiceHarness.ts"

// ---------------------------------------------------------------------------------------------
// a minimal D-Bus client: EXTERNAL auth, method calls with string arguments, replies by serial

interface Call {
  readonly dest: string
  readonly path: string
  readonly iface: string
  readonly member: string
  readonly args: ReadonlyArray<string>
}

interface Reply {
  /** 2 method return, 3 error, 0 connection closed before an answer */
  readonly type: number
  readonly errorName: string | undefined
  /** the whole message, to look into the answer */
  readonly bytes: Buffer
}

const pad = (n: number, a: number) => (a - (n % a)) % a

/** Little-endian marshalling into a growing buffer; alignment is relative to the message start. */
class Writer {
  private readonly parts: Array<Buffer> = []
  private length = 0
  bytes(b: Buffer) {
    this.parts.push(b)
    this.length += b.length
  }
  align(a: number) {
    const p = pad(this.length, a)
    if (p > 0) this.bytes(Buffer.alloc(p))
  }
  byte(v: number) {
    this.bytes(Buffer.from([v]))
  }
  uint32(v: number) {
    this.align(4)
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v)
    this.bytes(b)
  }
  string(s: string) {
    const b = Buffer.from(s, "utf8")
    this.uint32(b.length)
    this.bytes(b)
    this.byte(0)
  }
  signature(s: string) {
    this.byte(s.length)
    this.bytes(Buffer.from(s, "ascii"))
    this.byte(0)
  }
  get size() {
    return this.length
  }
  done() {
    return Buffer.concat(this.parts)
  }
}

const encodeCall = (serial: number, call: Call): Buffer => {
  const body = new Writer()
  for (const a of call.args) body.string(a)
  const bodyBytes = body.done()
  // header fields a(yv), starting at offset 16 of the message (8-aligned)
  const fields = new Writer()
  const field = (code: number, sig: string, write: (w: Writer) => void) => {
    fields.align(8)
    fields.byte(code)
    fields.signature(sig)
    write(fields)
  }
  field(1, "o", (w) => w.string(call.path))
  field(2, "s", (w) => w.string(call.iface))
  field(3, "s", (w) => w.string(call.member))
  field(6, "s", (w) => w.string(call.dest))
  if (call.args.length > 0) field(8, "g", (w) => w.signature("s".repeat(call.args.length)))
  const fieldBytes = fields.done()
  const header = new Writer()
  header.bytes(Buffer.from([0x6c, 1, 0, 1])) // little-endian, METHOD_CALL, no flags, protocol 1
  header.uint32(bodyBytes.length)
  header.uint32(serial)
  header.uint32(fieldBytes.length)
  header.bytes(fieldBytes)
  header.align(8)
  return Buffer.concat([header.done(), bodyBytes])
}

/** Splits complete messages off `buf`; returns (type, reply serial, error name) of each. */
const decodeMessages = (buf: Buffer) => {
  const out: Array<{ type: number; replySerial: number | undefined; errorName: string | undefined; bytes: Buffer }> = []
  let off = 0
  while (buf.length - off >= 16) {
    const le = buf[off] === 0x6c
    const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
    const bodyLength = u32(off + 4)
    const fieldsLength = u32(off + 12)
    const fieldsEnd = off + 16 + fieldsLength
    const total = 16 + fieldsLength + pad(16 + fieldsLength, 8) + bodyLength
    if (buf.length - off < total) break
    let replySerial: number | undefined
    let errorName: string | undefined
    let p = off + 16
    while (p < fieldsEnd) {
      p += pad(p - off, 8)
      if (p >= fieldsEnd) break
      const code = buf[p] ?? 0
      const sigLength = buf[p + 1] ?? 0
      const sig = buf.toString("ascii", p + 2, p + 2 + sigLength)
      p += 3 + sigLength
      if (sig === "u") {
        p += pad(p - off, 4)
        if (code === 5) replySerial = u32(p)
        p += 4
      } else if (sig === "s" || sig === "o") {
        p += pad(p - off, 4)
        const n = u32(p)
        if (code === 4) errorName = buf.toString("utf8", p + 4, p + 4 + n)
        p += 4 + n + 1
      } else if (sig === "g") {
        p += 1 + (buf[p] ?? 0) + 1
      } else {
        break
      }
    }
    out.push({ type: buf[off + 1] ?? 0, replySerial, errorName, bytes: Buffer.from(buf.subarray(off, off + total)) })
    off += total
  }
  return { messages: out, rest: buf.subarray(off) }
}

interface Connection {
  /** Resolves with the answer to the n-th call sent with the connection (0 = Hello). */
  readonly answer: (serial: number) => Promise<Reply>
  readonly call: (call: Call) => Promise<Reply>
  /** Close our side and wait until the bus has closed the connection. */
  readonly end: () => Promise<void>
  readonly destroy: () => void
}

const HELLO: Call = {
  dest: "org.freedesktop.DBus",
  path: "/org/freedesktop/DBus",
  iface: "org.freedesktop.DBus",
  member: "Hello",
  args: []
}

/** Connects to the bus and writes Hello plus `first` in one go, without waiting for Hello's answer. */
const connect = (busAddress: string, first: ReadonlyArray<Call>): Promise<Connection> =>
  new Promise((resolve, reject) => {
    const socketPath = /unix:path=([^,;]+)/.exec(busAddress)?.[1]
    if (socketPath === undefined) return reject(new Error(`unsupported bus address ${busAddress}`))
    const socket = net.connect(socketPath)
    let authenticated = false
    let buf = Buffer.alloc(0)
    let serial = 0
    const waiting = new Map<number, (r: Reply) => void>()
    const early = new Map<number, Reply>()
    let closedResolve: () => void = () => {}
    const closed = new Promise<void>((r) => (closedResolve = r))
    const settle = (n: number, r: Reply) => {
      const w = waiting.get(n)
      if (w === undefined) return void early.set(n, r)
      waiting.delete(n)
      w(r)
    }
    const answer = (n: number) =>
      new Promise<Reply>((r) => {
        const got = early.get(n)
        if (got !== undefined) return r(got)
        waiting.set(n, r)
      })
    const connection: Connection = {
      answer: (n) => answer(n + 1),
      call: (c) => {
        const n = ++serial
        socket.write(encodeCall(n, c))
        return answer(n)
      },
      end: () => {
        socket.end()
        return closed
      },
      destroy: () => socket.destroy()
    }
    socket.on("error", (e) => {
      if (!authenticated) reject(e)
    })
    socket.on("close", () => {
      closedResolve()
      for (const [n] of waiting) settle(n, { type: 0, errorName: "closed", bytes: Buffer.alloc(0) })
    })
    socket.on("connect", () => {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString("hex")
      socket.write(Buffer.concat([Buffer.from([0]), Buffer.from(`AUTH EXTERNAL ${uid}\r\n`)]))
    })
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (!authenticated) {
        const i = buf.indexOf("\r\n")
        if (i < 0) return
        const line = buf.toString("ascii", 0, i)
        buf = buf.subarray(i + 2)
        if (!line.startsWith("OK")) {
          socket.destroy()
          return reject(new Error(`D-Bus authentication refused: ${line}`))
        }
        authenticated = true
        const out = [Buffer.from("BEGIN\r\n"), encodeCall(++serial, HELLO)]
        for (const c of first) out.push(encodeCall(++serial, c))
        socket.write(Buffer.concat(out))
        resolve(connection)
      }
      const { messages, rest } = decodeMessages(buf)
      buf = Buffer.from(rest)
      for (const m of messages) {
        if ((m.type === 2 || m.type === 3) && m.replySerial !== undefined) {
          settle(m.replySerial, { type: m.type, errorName: m.errorName, bytes: m.bytes })
        }
      }
    })
  })

// ---------------------------------------------------------------------------------------------
// the experiment

const SECRETS = "org.freedesktop.secrets"
const GET_LOCKED: Call = {
  dest: SECRETS,
  path: "/org/freedesktop/secrets/aliases/default",
  iface: "org.freedesktop.DBus.Properties",
  member: "Get",
  args: ["org.freedesktop.Secret.Collection", "Locked"]
}
const GET_ALL_COLLECTION: Call = { ...GET_LOCKED, member: "GetAll", args: ["org.freedesktop.Secret.Collection"] }
/** Answered from the daemon's main loop and needs no client record (Service skeleton property). */
const GET_COLLECTIONS: Call = {
  dest: SECRETS,
  path: "/org/freedesktop/secrets",
  iface: "org.freedesktop.DBus.Properties",
  member: "Get",
  args: ["org.freedesktop.Secret.Service", "Collections"]
}
/** The keytar worker's lock-state helper, argument for argument (keytar-worker.cjs readLocked). */
const DBUS_SEND_GET_ALL = [
  "--session",
  "--print-reply",
  "--reply-timeout=3000",
  `--dest=${SECRETS}`,
  GET_LOCKED.path,
  "org.freedesktop.DBus.Properties.GetAll",
  "string:org.freedesktop.Secret.Collection"
]
const DBUS_SEND_LOCK_CHECK = [
  "--session",
  "--print-reply",
  "--reply-timeout=3000",
  `--dest=${SECRETS}`,
  GET_LOCKED.path,
  "org.freedesktop.DBus.Properties.Get",
  "string:org.freedesktop.Secret.Collection",
  "string:Locked"
]

const options = (() => {
  const out = new Map<string, string>()
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ""
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a)
    if (!m || m[1] === undefined) throw new Error(`unexpected argument ${a}`)
    const next = argv[i + 1]
    out.set(m[1], m[2] ?? (next !== undefined && !next.startsWith("--") ? argv[++i] ?? "" : "true"))
  }
  return out
})()
/** `new` is what keytar-worker.cjs and the harness do now: GetAll on a fresh connection, closed normally. */
const mode = options.get("mode") === "new" ? "getall" : options.get("mode") ?? "old"
const client = options.get("client") ?? "raw"
const iterations = Number(options.get("iterations") ?? 10_000)
const parallel = Number(options.get("parallel") ?? 4)
const trafficConnections = Number(options.get("traffic") ?? 2)
if (!["old", "graceful", "primed", "getall"].includes(mode)) {
  throw new Error("--mode must be old, new (= getall), graceful, primed or getall")
}
if (!["raw", "dbus-send"].includes(client)) throw new Error("--client must be raw or dbus-send")
if (client === "dbus-send" && mode === "primed") {
  throw new Error("dbus-send sends one message per connection: --mode primed needs --client raw")
}

// The harness reports an unexpected daemon death (with its stderr) on console.error: keep it.
const harnessReports: Array<string> = []
const printError = console.error.bind(console)
console.error = (...args: Array<unknown>) => void harnessReports.push(args.map(String).join(" "))

const ss = await SecretServiceHarness.startSecretService()
const env = SecretServiceHarness.childEnv(ss.env)

let generation = 0 // bumped at each daemon restart; traffic connections reconnect
let stopping = false
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Long-lived clients the daemon already knows, keeping its main loop busy as a test does. */
const traffic = async () => {
  while (!stopping) {
    const mine = generation
    try {
      const c = await connect(ss.busAddress, [GET_COLLECTIONS])
      await c.answer(1)
      const loop = async () => {
        while (!stopping && generation === mine) if ((await c.call(GET_LOCKED)).type !== 2) return
      }
      await Promise.all([loop(), loop(), loop()])
      c.destroy()
    } catch {
      // daemon restarting; retry below
    }
    await sleep(50)
  }
}

let aborts = 0
let errors = 0
/** What went wrong besides aborts, by kind (answers that were errors, failed connects, ...). */
const errorKinds = new Map<string, number>()
const failed = (kind: string) => {
  errors++
  errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1)
}
const check = (what: string, r: Reply) => {
  if (r.type !== 2) failed(`${what}: ${r.errorName ?? "no answer"}`)
}
let started = 0
let daemonPid = ss.daemonPid
let restarting: Promise<void> | undefined
/** Counts a daemon death once and restarts the daemon on the same bus (same login keyring). */
const noticeDeath = async () => {
  if (ss.daemonPid === daemonPid && ss.daemonPid !== undefined) return
  restarting ??= (async () => {
    aborts++
    generation++
    await ss.restartDaemon()
    daemonPid = ss.daemonPid
  })().finally(() => (restarting = undefined))
  await restarting
}

/** GetAll answers in which the race left out the properties (the getter failed, GDBus skipped them). */
let answersWithoutLocked = 0

const oneClient = async () => {
  if (client === "dbus-send" && mode === "getall") {
    const child = spawn("dbus-send", DBUS_SEND_GET_ALL, { env, stdio: ["ignore", "pipe", "ignore"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")))
    const code = await new Promise<number | null>((r) => child.once("close", (c) => r(c)))
    if (code !== 0) failed(`dbus-send exited with ${code}`)
    else if (!out.includes("\"Locked\"")) answersWithoutLocked++
    return
  }
  if (client === "dbus-send") {
    const child = spawn("dbus-send", DBUS_SEND_LOCK_CHECK, { env, stdio: "ignore" })
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    if (mode === "old") {
      await sleep(Math.random() * 5)
      child.kill("SIGKILL")
      await exited
    } else {
      const code = await exited
      if (code !== 0) failed(`dbus-send exited with ${code}`)
    }
    return
  }
  if (mode === "primed") {
    const c = await connect(ss.busAddress, [GET_COLLECTIONS])
    check("Get Collections", await c.answer(1))
    check("Get Locked", await c.call(GET_LOCKED))
    await c.end()
    return
  }
  if (mode === "getall") {
    const c = await connect(ss.busAddress, [GET_ALL_COLLECTION])
    const r = await c.answer(1)
    check("GetAll", r)
    if (r.type === 2 && !r.bytes.includes("Locked")) answersWithoutLocked++
    await c.end()
    return
  }
  const c = await connect(ss.busAddress, [GET_LOCKED])
  if (mode === "old") {
    await sleep(Math.random() * 5)
    c.destroy()
    return
  }
  check("Get Locked", await c.answer(1))
  await c.end()
}

const runner = async () => {
  while (started < iterations) {
    await noticeDeath()
    started++
    try {
      await oneClient()
    } catch (e) {
      failed(`client failed: ${e instanceof Error ? e.message : String(e)}`) // e.g. connect refused
    }
  }
}

const t0 = Date.now()
const trafficDone = Promise.all(Array.from({ length: trafficConnections }, traffic))
await Promise.all(Array.from({ length: parallel }, runner))
await sleep(500) // a late abort still counts
await noticeDeath()
stopping = true
await Promise.race([trafficDone, sleep(2000)])
await ss.stop()

const firstAbort = harnessReports.find((r) => r.includes("exited unexpectedly"))
console.log(
  JSON.stringify({
    mode,
    client,
    iterations: started,
    parallel,
    traffic: trafficConnections,
    aborts,
    ...(mode === "getall" ? { answersWithoutLocked } : {}),
    errors,
    errorKinds: Object.fromEntries(errorKinds),
    seconds: (Date.now() - t0) / 1000
  })
)
if (firstAbort !== undefined) printError(firstAbort.slice(0, 700))
process.exit(0)
