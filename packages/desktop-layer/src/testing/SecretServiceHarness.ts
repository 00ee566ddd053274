/**
 * Headless, private, REAL Secret Service for tests: a private D-Bus session bus plus a
 * gnome-keyring-daemon (secrets component) whose `login` collection is created and unlocked
 * with a known password. Nothing here touches the caller's own bus, keyring or env: the test
 * process keeps its environment; give `handle.env` to child processes (e.g. the keytar worker).
 *
 * Requires: dbus-daemon, dbus-send, gnome-keyring-daemon
 *   (apt-get install -y dbus gnome-keyring libsecret-tools libsecret-1-dev)
 *
 * Cleanup: stop() kills everything and removes the temp dirs. Anything still alive when the
 * process exits is killed by an 'exit' handler, and a detached shell watchdog
 * (secret-service.sh) kills it if the process dies without running handlers (SIGKILL).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const INSTALL_HINT = "install with: apt-get install -y dbus gnome-keyring libsecret-tools libsecret-1-dev"

const SECRETS = "org.freedesktop.secrets"
const LOGIN = "/org/freedesktop/secrets/collection/login"

export interface SecretServiceOptions {
  /** Password of the login keyring (must be non-empty). Default "fishbowl-test-password". */
  readonly password?: string
  /** Timeout of every wait, ms: a hang catcher, far above the work. Default HANG_MS (60000). */
  readonly timeoutMs?: number
}

/** Env to hand to child processes. The test process's own env is never modified. */
export interface HarnessEnv {
  readonly DBUS_SESSION_BUS_ADDRESS: string
  readonly HOME: string
  readonly XDG_RUNTIME_DIR: string
  readonly XDG_DATA_HOME: string
  readonly XDG_CONFIG_HOME: string
  readonly XDG_CACHE_HOME: string
}

export interface BusHandle {
  readonly env: HarnessEnv
  readonly busAddress: string
  readonly rootDir: string
  /** org.freedesktop.DBus.NameHasOwner on this bus. */
  nameHasOwner(name: string): Promise<boolean>
  /** Kill the bus (and daemon, if any) and remove the temp dirs. Idempotent. */
  stop(): Promise<void>
}

export interface SecretServiceHandle extends BusHandle {
  readonly password: string
  /** pid of the current gnome-keyring-daemon, undefined after killDaemon(). */
  readonly daemonPid: number | undefined
  /** Lock the login collection (org.freedesktop.Secret.Service.Lock). */
  lock(): Promise<void>
  /** Unlock the login collection with the password via the daemon's control socket (what pam_gnome_keyring does), then wait for Locked=false. */
  unlock(): Promise<void>
  isLocked(): Promise<boolean>
  /** SIGKILL the keyring daemon; the bus stays up. */
  killDaemon(): Promise<void>
  /** Start a new daemon on the same bus and HOME (same login keyring), wait until owned and unlocked. */
  restartDaemon(): Promise<void>
  /**
   * Resolves once the Secret Service is usable: at once normally, or when the automatic restart
   * after an unexpected daemon death has finished. Rejects if that restart failed.
   */
  ready(): Promise<void>
  /**
   * Kill the daemon with `signal` as if it had crashed (SIGABRT is what gnome-keyring 42 does to
   * itself), and wait until the harness has restarted it. Reported, but as asked for.
   */
  crashDaemon(signal?: NodeJS.Signals): Promise<void>
  /** Every daemon death the harness restarted, unexpected or asked for by crashDaemon. */
  readonly deaths: ReadonlyArray<DaemonDeath>
  /** Deaths nobody asked for: a test run with any of these is not clean. */
  readonly unexpectedDeaths: ReadonlyArray<DaemonDeath>
}

/** A gnome-keyring-daemon that exited without being asked to. */
export interface DaemonDeath {
  readonly pid: number | undefined
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly at: Date
  /** Caused by crashDaemon, not by the daemon itself. */
  readonly simulated: boolean
}

/** Unexpected deaths restarted within one minute before the harness gives up (a broken install). */
const MAX_RESTARTS_PER_MINUTE = 5

/** PATH plus the harness env: a minimal, isolated env for a child process (no DISPLAY, no real bus). */
export const childEnv = (env: Partial<HarnessEnv> | Record<string, string | undefined>): Record<string, string> => {
  const out: Record<string, string> = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" }
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") out[k] = v
  return out
}

// ---------------------------------------------------------------------------------------------
// process registry + exit cleanup

interface Live {
  readonly rootDir: string
  readonly children: Set<ChildProcess>
}
const live = new Set<Live>()
let exitHookInstalled = false

const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", () => {
    for (const l of live) {
      for (const c of l.children) killNow(c)
      try {
        fs.rmSync(l.rootDir, { recursive: true, force: true })
      } catch {
        // best effort at exit
      }
    }
    live.clear()
  })
}

const killNow = (c: ChildProcess) => {
  if (c.exitCode === null && c.signalCode === null) {
    try {
      c.kill("SIGKILL")
    } catch {
      // already gone
    }
  }
}

const writePids = (l: Live) => {
  const pids = [...l.children].filter((c) => c.exitCode === null && c.signalCode === null && c.pid).map((c) => c.pid)
  try {
    fs.writeFileSync(path.join(l.rootDir, "pids"), pids.join("\n") + "\n")
  } catch {
    // dir already removed
  }
}

const here = path.dirname(fileURLToPath(import.meta.url))
const startWatchdog = (rootDir: string) => {
  const script = path.join(here, "secret-service.sh")
  const w = spawn("/bin/sh", [script, "watchdog", String(process.pid), rootDir], { detached: true, stdio: "ignore" })
  w.on("error", () => {})
  w.unref()
}

// ---------------------------------------------------------------------------------------------
// helpers

const which = (bin: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter)) {
    const p = path.join(dir, bin)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return p
    } catch {
      // next
    }
  }
  return undefined
}

const requireBinaries = (bins: ReadonlyArray<string>) => {
  const missing = bins.filter((b) => !which(b))
  if (missing.length > 0) {
    throw new Error(`SecretServiceHarness: missing binaries: ${missing.join(", ")} (not on PATH). ${INSTALL_HINT}`)
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Default bound of every wait of the harness (the bus starting, the daemon owning its name, a lock
 * or unlock showing, a process exiting). Each takes milliseconds to a second on a quiet machine and
 * each wait ends as soon as its condition holds: the bound only catches a hang, and is far above
 * what a loaded machine needs.
 */
const HANG_MS = 60_000

const exec = (cmd: string, args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = HANG_MS) =>
  new Promise<{ ok: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(
      cmd,
      args as Array<string>,
      { env, timeout: timeoutMs },
      (err, stdout, stderr) => resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr || (err ? err.message : "")) })
    )
  })

/**
 * The harness's own D-Bus client. Its reply timeout is long and it is never killed before that:
 * a client that vanishes with a request pending can abort gnome-keyring 42 (see
 * reproduce-keyring-abort.ts), and the harness must not cause what it exists to test.
 */
const DBUS_REPLY_TIMEOUT_MS = HANG_MS
const dbusSend = (env: Record<string, string>, dest: string, objPath: string, method: string, ...args: Array<string>) =>
  exec(
    "dbus-send",
    ["--session", "--print-reply", `--reply-timeout=${DBUS_REPLY_TIMEOUT_MS}`, `--dest=${dest}`, objPath, method, ...args],
    env,
    DBUS_REPLY_TIMEOUT_MS + 5000
  )

const waitFor = async (what: string, fix: string | (() => string), timeoutMs: number, check: () => Promise<boolean>) => {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) {
      throw new Error(
        `SecretServiceHarness: timed out after ${timeoutMs} ms waiting for ${what}. ${typeof fix === "function" ? fix() : fix}`
      )
    }
    await sleep(delay)
    delay = Math.min(delay * 2, 100)
  }
}

const busConfig = (runtimeDir: string, serviceDir: string) =>
  `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=${runtimeDir}</listen>
  <auth>EXTERNAL</auth>
  <!-- Deliberately NO standard_session_servicedirs: nothing is ever auto-activated on this
       bus (no surprise second gnome-keyring-daemon). This dir stays empty. -->
  <servicedir>${serviceDir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <!-- same limits as /usr/share/dbus-1/session.conf, so size behaviour matches a desktop -->
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="service_start_timeout">120000</limit>
  <limit name="auth_timeout">240000</limit>
</busconfig>
`

/** Read the first line of a stream, with timeout. */
const firstLine = (c: ChildProcess, timeoutMs: number, what: string, stderrOf: () => string) =>
  new Promise<string>((resolve, reject) => {
    let buf = ""
    const done = (f: () => void) => {
      clearTimeout(t)
      c.stdout?.off("data", onData)
      c.off("exit", onExit)
      c.off("error", onError)
      f()
    }
    const onData = (d: Buffer) => {
      buf += d.toString("utf8")
      const i = buf.indexOf("\n")
      if (i >= 0) done(() => resolve(buf.slice(0, i).trim()))
    }
    const onExit = (code: number | null, sig: string | null) =>
      done(() =>
        reject(
          new Error(
            `SecretServiceHarness: ${what} exited (code ${code}, signal ${sig}) before printing its address. stderr: ${
              stderrOf().trim() || "(empty)"
            }. ${INSTALL_HINT}`
          )
        )
      )
    const onError = (e: Error) =>
      done(() => reject(new Error(`SecretServiceHarness: could not spawn ${what}: ${e.message}. ${INSTALL_HINT}`)))
    const t = setTimeout(
      () =>
        done(() =>
          reject(
            new Error(`SecretServiceHarness: ${what} printed no address within ${timeoutMs} ms. stderr: ${stderrOf().trim() || "(empty)"}`)
          )
        ),
      timeoutMs
    )
    c.stdout?.on("data", onData)
    c.on("exit", onExit)
    c.on("error", onError)
  })

const captureStderr = (c: ChildProcess) => {
  let s = ""
  c.stderr?.on("data", (d: Buffer) => {
    if (s.length < 16384) s += d.toString("utf8")
  })
  return () => s
}

/** Stop streams and the child itself from keeping the event loop (and vitest) alive. */
const unrefChild = (c: ChildProcess) => {
  c.unref()
  for (const s of [c.stdin, c.stdout, c.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.()
}

const killAndWait = async (c: ChildProcess, timeoutMs = HANG_MS) => {
  if (c.exitCode !== null || c.signalCode !== null) return
  const exited = new Promise<void>((r) => c.once("exit", () => r()))
  killNow(c)
  await Promise.race([exited, sleep(timeoutMs)])
}

// ---------------------------------------------------------------------------------------------
// bus

interface BusInternals extends BusHandle {
  readonly l: Live
  readonly timeoutMs: number
  readonly execEnv: Record<string, string>
}

const startBus = async (timeoutMs: number): Promise<BusInternals> => {
  requireBinaries(["dbus-daemon", "dbus-send"])
  installExitHook()
  const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), "fishbowl-ss-"))
  const l: Live = { rootDir, children: new Set() }
  live.add(l)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all([...l.children].map((c) => killAndWait(c)))
    live.delete(l)
    fs.rmSync(rootDir, { recursive: true, force: true })
  }
  try {
    const d = (n: string, mode = 0o700) => {
      const p = path.join(rootDir, n)
      fs.mkdirSync(p, { mode })
      fs.chmodSync(p, mode)
      return p
    }
    const HOME = d("home")
    const XDG_RUNTIME_DIR = d("runtime", 0o700)
    const XDG_DATA_HOME = d("data")
    const XDG_CONFIG_HOME = d("config")
    const XDG_CACHE_HOME = d("cache")
    const services = d("empty-servicedir")
    const conf = path.join(rootDir, "bus.conf")
    fs.writeFileSync(conf, busConfig(XDG_RUNTIME_DIR, services))
    startWatchdog(rootDir)

    const bus = spawn("dbus-daemon", [`--config-file=${conf}`, "--nofork", "--print-address=1"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: childEnv({ HOME, XDG_RUNTIME_DIR })
    })
    l.children.add(bus)
    const busErr = captureStderr(bus)
    const busAddress = await firstLine(bus, timeoutMs, "dbus-daemon", busErr)
    writePids(l)
    unrefChild(bus)
    if (!busAddress.startsWith("unix:")) {
      throw new Error(`SecretServiceHarness: dbus-daemon printed an unexpected address: ${JSON.stringify(busAddress)}`)
    }

    const env: HarnessEnv = { DBUS_SESSION_BUS_ADDRESS: busAddress, HOME, XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME }
    const execEnv = childEnv(env)
    const nameHasOwner = async (name: string) => {
      const r = await dbusSend(
        execEnv,
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.NameHasOwner",
        `string:${name}`
      )
      if (!r.ok) throw new Error(`SecretServiceHarness: NameHasOwner(${name}) failed on the private bus ${busAddress}: ${r.stderr.trim()}`)
      return /boolean true/.test(r.stdout)
    }
    // Prove the bus answers.
    await waitFor(
      "the private bus to answer org.freedesktop.DBus.NameHasOwner",
      () => `dbus-daemon stderr: ${busErr().trim()}`,
      timeoutMs,
      async () => {
        try {
          await nameHasOwner("org.freedesktop.DBus")
          return true
        } catch {
          return false
        }
      }
    )
    return { env, busAddress, rootDir, nameHasOwner, stop, l, timeoutMs, execEnv }
  } catch (e) {
    await stop()
    throw e
  }
}

/** A private bus with NO Secret Service and no service activation at all. */
export const startBusOnly = (options: { timeoutMs?: number } = {}): Promise<BusHandle> =>
  startBus(options.timeoutMs ?? HANG_MS).then(
    (b) => ({ env: b.env, busAddress: b.busAddress, rootDir: b.rootDir, nameHasOwner: b.nameHasOwner, stop: b.stop }),
    withInstallHint
  )

/** Re-throws `error` with the apt command appended, so a failed start says how to fix it. */
const withInstallHint = (error: unknown): never => {
  const message = error instanceof Error ? error.message : String(error)
  throw new Error(message.includes(INSTALL_HINT) ? message : `${message}\n${INSTALL_HINT}`)
}

// ---------------------------------------------------------------------------------------------
// secret service

/**
 * Starts the private Secret Service. Any failure rejects with an Error whose message ends with
 * the apt command that installs what is needed, so a test file can simply `await` it and fail
 * loudly instead of skipping.
 */
export const startSecretService = (options: SecretServiceOptions = {}): Promise<SecretServiceHandle> =>
  startSecretServiceUnexplained(options).catch(withInstallHint)

const startSecretServiceUnexplained = async (options: SecretServiceOptions): Promise<SecretServiceHandle> => {
  const password = options.password ?? "fishbowl-test-password"
  if (password.length === 0 || /[\r\n]/.test(password)) {
    throw new Error("SecretServiceHarness: password must be non-empty and single-line (an empty password creates no login collection)")
  }
  const timeoutMs = options.timeoutMs ?? HANG_MS
  requireBinaries(["dbus-daemon", "dbus-send", "gnome-keyring-daemon"])
  const b = await startBus(timeoutMs)
  const { env, execEnv, l } = b
  let daemon: ChildProcess | undefined
  let daemonErr: () => string = () => ""
  let stopped = false
  /** The automatic restart in progress after an unexpected death, if any. */
  let restarting: Promise<void> | undefined
  const deaths: Array<DaemonDeath> = []
  /** The daemon that crashDaemon is killing, so its exit is reported as asked for. */
  let simulatedCrash: ChildProcess | undefined

  /**
   * GetAll, never Get: a fresh connection (each dbus-send is one) whose first message is a
   * collection property Get can abort gnome-keyring 42 (reproduce-keyring-abort.ts). When GetAll
   * loses that race the answer just lacks Locked, and it is asked again.
   */
  const isLocked = async (): Promise<boolean> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await dbusSend(
        execEnv,
        SECRETS,
        LOGIN,
        "org.freedesktop.DBus.Properties.GetAll",
        "string:org.freedesktop.Secret.Collection"
      )
      if (!r.ok) throw new Error(`SecretServiceHarness: reading Locked of ${LOGIN} failed: ${r.stderr.trim()}`)
      const m = /string "Locked"\s+variant\s+boolean (true|false)/.exec(r.stdout)
      if (m) return m[1] === "true"
    }
    throw new Error(`SecretServiceHarness: three answers reading the properties of ${LOGIN} had no Locked`)
  }

  const waitUnlocked = (why: string) =>
    waitFor(
      `${LOGIN} to report Locked=false (${why})`,
      () => `Was the login keyring created with a non-empty password? gnome-keyring-daemon stderr: ${daemonErr().trim() || "(empty)"}`,
      timeoutMs,
      async () => {
        try {
          return !(await isLocked())
        } catch {
          return false
        }
      }
    )

  const startDaemon = async () => {
    const d = spawn("gnome-keyring-daemon", ["--unlock", "--components=secrets", "--foreground"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: execEnv
    })
    daemon = d
    l.children.add(d)
    daemonErr = captureStderr(d)
    let spawnError: Error | undefined
    d.on("error", (e) => {
      spawnError = e
    })
    d.stdout?.resume()
    d.stdin?.on("error", () => {})
    d.stdin?.end(password) // password on stdin, then EOF
    // A daemon that dies while it is still the current one was not stopped by us. Like D-Bus
    // activation on a desktop, a new one is started on the same bus and HOME and unlocked with
    // the same password, so one death costs at most the test that was running; the death is
    // reported with the daemon's stderr, so that test's failure points at the cause.
    const stderrOfThisDaemon = daemonErr
    d.once("exit", (code, signal) => {
      l.children.delete(d)
      writePids(l)
      if (daemon !== d || stopped) return
      daemon = undefined
      const simulated = simulatedCrash === d
      const death: DaemonDeath = { pid: d.pid, code, signal, stderr: stderrOfThisDaemon().trim(), at: new Date(), simulated }
      deaths.push(death)
      const recent = deaths.filter((x) => Date.now() - x.at.getTime() < 60_000).length
      const restart = recent <= MAX_RESTARTS_PER_MINUTE
      console.error(
        `[SecretServiceHarness] gnome-keyring-daemon (pid ${d.pid}) ${
          simulated ? "crashed as the test asked" : "exited unexpectedly"
        } (code ${code}, signal ${signal}); ${
          restart ? "restarting it on the same bus" : `not restarting: ${recent} deaths within a minute`
        }; stderr: ${death.stderr || "(empty)"}`
      )
      if (!restart) {
        restarting = Promise.reject(
          new Error(
            `SecretServiceHarness: gnome-keyring-daemon died ${recent} times within a minute; last stderr: ${death.stderr || "(empty)"}`
          )
        )
        restarting.catch(() => {})
        return
      }
      const attempt: Promise<void> = startDaemon().then(
        () => {
          if (restarting === attempt) restarting = undefined
        },
        (error: unknown) => {
          console.error(
            `[SecretServiceHarness] restarting gnome-keyring-daemon failed: ${error instanceof Error ? error.message : String(error)}`
          )
          throw error
        }
      )
      attempt.catch(() => {})
      restarting = attempt
    })
    writePids(l)
    unrefChild(d)
    await waitFor(
      "org.freedesktop.secrets to get an owner on the private bus (checked via org.freedesktop.DBus.NameHasOwner)",
      () =>
        `gnome-keyring-daemon ${
          spawnError
            ? `failed to spawn: ${spawnError.message}`
            : d.exitCode !== null
            ? `exited with code ${d.exitCode}`
            : "is running but did not register"
        }; stderr: ${daemonErr().trim() || "(empty)"}. ${INSTALL_HINT}`,
      timeoutMs,
      async () => {
        if (spawnError) {
          throw new Error(`SecretServiceHarness: could not spawn gnome-keyring-daemon: ${spawnError.message}. ${INSTALL_HINT}`)
        }
        if (d.exitCode !== null || d.signalCode !== null) {
          throw new Error(
            `SecretServiceHarness: gnome-keyring-daemon exited (code ${d.exitCode}, signal ${d.signalCode}) before owning org.freedesktop.secrets. stderr: ${
              daemonErr().trim() || "(empty)"
            }`
          )
        }
        return b.nameHasOwner(SECRETS)
      }
    )
    await waitUnlocked("after daemon start with --unlock")
  }

  const ready = async () => {
    while (restarting !== undefined) {
      const current = restarting
      await current
      if (restarting === current) restarting = undefined
    }
  }

  const crashDaemon = async (signal: NodeJS.Signals = "SIGABRT") => {
    await ready()
    const d = daemon
    if (d === undefined) throw new Error("SecretServiceHarness: crashDaemon: no daemon is running")
    simulatedCrash = d
    d.kill(signal)
    await waitFor(`gnome-keyring-daemon (pid ${d.pid}) to die of ${signal}`, "", timeoutMs, async () => daemon !== d)
    await ready()
  }

  const killDaemon = async () => {
    await ready().catch(() => {})
    const d = daemon
    daemon = undefined
    if (!d) return
    await killAndWait(d)
    l.children.delete(d)
    writePids(l)
    await waitFor("org.freedesktop.secrets to lose its owner after SIGKILL", "", timeoutMs, async () => !(await b.nameHasOwner(SECRETS)))
  }

  const unlock = async () => {
    await ready()
    const control = path.join(env.XDG_RUNTIME_DIR, "keyring", "control")
    const code = await controlUnlock(control, password, timeoutMs)
    if (code !== 0) {
      throw new Error(
        `SecretServiceHarness: gnome-keyring control-socket unlock of the login keyring answered ${code} (${
          ["OK", "DENIED (wrong password)", "FAILED", "NO_DAEMON"][code] ?? "unknown"
        })`
      )
    }
    await waitUnlocked("after control-socket unlock")
  }

  const lock = async () => {
    await ready()
    const r = await dbusSend(execEnv, SECRETS, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", `array:objpath:${LOGIN}`)
    if (!r.ok) throw new Error(`SecretServiceHarness: org.freedesktop.Secret.Service.Lock(${LOGIN}) failed: ${r.stderr.trim()}`)
    await waitFor(`${LOGIN} to report Locked=true after Lock`, "", timeoutMs, () => isLocked())
  }

  try {
    await startDaemon()
  } catch (e) {
    await b.stop()
    throw e
  }

  return {
    env,
    busAddress: b.busAddress,
    rootDir: b.rootDir,
    password,
    get daemonPid() {
      return daemon?.pid
    },
    nameHasOwner: b.nameHasOwner,
    isLocked,
    lock,
    unlock,
    killDaemon,
    restartDaemon: async () => {
      await killDaemon()
      await startDaemon()
    },
    ready,
    crashDaemon,
    deaths,
    get unexpectedDeaths() {
      return deaths.filter((death) => !death.simulated)
    },
    stop: () => {
      stopped = true
      daemon = undefined // an exit from here on is ours, not news
      return b.stop()
    }
  }
}

/**
 * GKD_CONTROL_OP_UNLOCK over $XDG_RUNTIME_DIR/keyring/control, exactly what pam_gnome_keyring
 * does at login. Wire: one credentials byte (0; the daemon checks SO_PEERCRED uid), then
 * big-endian u32 [packet length][op=1][password length][password bytes];
 * answer: [u32 8][u32 result] with 0 OK, 1 DENIED, 2 FAILED, 3 NO_DAEMON.
 */
const controlUnlock = (socketPath: string, password: string, timeoutMs: number) =>
  new Promise<number>((resolve, reject) => {
    const pw = Buffer.from(password, "utf8")
    const packet = Buffer.alloc(12 + pw.length)
    packet.writeUInt32BE(packet.length, 0)
    packet.writeUInt32BE(1, 4)
    packet.writeUInt32BE(pw.length, 8)
    pw.copy(packet, 12)
    let buf = Buffer.alloc(0)
    const s = net.connect(socketPath)
    const t = setTimeout(() => {
      s.destroy()
      reject(new Error(`SecretServiceHarness: no answer on the gnome-keyring control socket ${socketPath} within ${timeoutMs} ms`))
    }, timeoutMs)
    s.on("connect", () => s.write(Buffer.concat([Buffer.from([0]), packet])))
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d])
      if (buf.length >= 8) {
        clearTimeout(t)
        s.destroy()
        resolve(buf.readUInt32BE(4))
      }
    })
    s.on("error", (e) => {
      clearTimeout(t)
      reject(
        new Error(
          `SecretServiceHarness: cannot talk to the gnome-keyring control socket ${socketPath}: ${e.message}. Is the daemon running?`
        )
      )
    })
    s.on("close", () => {
      if (buf.length < 8) {
        clearTimeout(t)
        reject(new Error(`SecretServiceHarness: gnome-keyring control socket ${socketPath} closed without an answer`))
      }
    })
  })
