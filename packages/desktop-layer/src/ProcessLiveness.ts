/**
 * Liveness on a desktop: several processes (the app, CLI commands) share one data folder, so an
 * intent records its owner's process and another process asks the operating system whether that
 * process still runs. Nothing here depends on how old an intent is.
 *
 * A process is named by host, pid and start time (so a reused pid is another process), plus on
 * Linux the boot id and the pid namespace:
 * - Linux: `/proc/<pid>/stat` field 22 (start time in clock ticks since boot, proc(5)),
 *   `/proc/sys/kernel/random/boot_id`, `/proc/self/ns/pid`. A different boot: gone. A different
 *   pid namespace (a container or a Flatpak/Snap sandbox sharing the folder): cannot be seen from
 *   here, so Unknown — never guessed dead.
 * - macOS: `ps -o lstart= -p <pid>` (start time to the second).
 * - Windows: no start time without spawning PowerShell; `process.kill(pid, 0)` only (a reused pid
 *   keeps an intent until that process ends — never the reverse).
 * Everywhere: no such pid (ESRCH) means gone; an owner on another host is Unknown.
 *
 * Instances of this process are known from one registry per process (module level), shared by
 * every layer built in it, so two stores in one process never mistake each other for gone.
 */
import { Liveness } from "@fishbowl/domain"
import { Clock, Effect, Layer } from "effect"
import type * as ChildProcess from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"

/** This process's live store instances (one registry per process). */
const registry = new Set<string>()

const readText = (path: string): string | undefined => {
  try {
    return fs.readFileSync(path, "utf8").trim()
  } catch {
    return undefined
  }
}

/** Linux: the start time of `pid` in clock ticks since boot (proc(5), field 22), or undefined. */
const linuxStartTicks = (pid: number): string | undefined => {
  const stat = readText(`/proc/${pid}/stat`)
  if (stat === undefined) return undefined
  // Field 2 (the command) is in parentheses and may hold spaces or ")": fields 3.. follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return fields[19]
}

/** macOS: the start time of `pid` as `ps` prints it, or undefined when there is no such process. */
const darwinStart = (pid: number): string | undefined => {
  try {
    // child_process (with net and dgram) is loaded only here, on macOS, when first needed.
    const childProcess: typeof ChildProcess = process.getBuiltinModule("node:child_process")
    const text = childProcess.execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], {
      encoding: "utf8",
      timeout: 5000,
      stdio: ["ignore", "pipe", "ignore"]
    })
      .trim()
    return text === "" ? undefined : text
  } catch {
    return undefined
  }
}

const startOf = (pid: number): string | undefined =>
  process.platform === "linux" ? linuxStartTicks(pid) : process.platform === "darwin" ? darwinStart(pid) : undefined

const pidNamespace = (): string | undefined => {
  try {
    return fs.readlinkSync("/proc/self/ns/pid")
  } catch {
    return undefined
  }
}

/** Who this process is, for the intents it writes. */
export const currentProcess = (): Liveness.ProcessIdentity => {
  const started = startOf(process.pid)
  const boot = process.platform === "linux" ? readText("/proc/sys/kernel/random/boot_id") : undefined
  const namespace = process.platform === "linux" ? pidNamespace() : undefined
  return {
    host: os.hostname(),
    pid: process.pid,
    ...(started !== undefined ? { started } : {}),
    ...(boot !== undefined ? { boot } : {}),
    ...(namespace !== undefined ? { pidNamespace: namespace } : {})
  }
}

/** Whether a process with `pid` exists: ESRCH means no; EPERM means it exists (another user's). */
const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}

/** The verdict on a process of this machine other than this one. */
export const judge = (
  self: Liveness.ProcessIdentity,
  owner: Liveness.Owner & { readonly process: Liveness.ProcessIdentity }
): Liveness.Verdict => {
  const described = Liveness.describeOwner(owner)
  const recorded = owner.process
  if (recorded.host !== self.host) return { _tag: "Unknown", owner: described, why: `it ran on another machine (${recorded.host})` }
  if (recorded.boot !== undefined && self.boot !== undefined && recorded.boot !== self.boot) return { _tag: "Gone" }
  if (recorded.pidNamespace !== self.pidNamespace) {
    return { _tag: "Unknown", owner: described, why: "it ran in another container or sandbox, whose processes cannot be seen from here" }
  }
  if (!Number.isSafeInteger(recorded.pid) || recorded.pid <= 0 || !pidExists(recorded.pid)) return { _tag: "Gone" }
  if (recorded.started === undefined) return { _tag: "Alive", owner: described }
  const started = startOf(recorded.pid)
  // Unreadable start time: it exited meanwhile (gone), or it cannot be read (alive, to be safe).
  if (started === undefined) return pidExists(recorded.pid) ? { _tag: "Alive", owner: described } : { _tag: "Gone" }
  return started === recorded.started ? { _tag: "Alive", owner: described } : { _tag: "Gone" }
}

/**
 * An intent without a process was written by an earlier version, which judged liveness by age:
 * it is recovered on the rule it was written under (10 s), never sooner.
 */
const LEGACY_STALE_MILLIS = 10_000

export const make = (): Liveness.LivenessService => {
  const self = currentProcess()
  return Liveness.makeWith({
    self,
    registry,
    otherProcess: (owner) => Effect.sync(() => judge(self, owner)),
    unrecorded: (owner) =>
      Clock.currentTimeMillis.pipe(Effect.map((now): Liveness.Verdict =>
        now - Date.parse(owner.startedAt) >= LEGACY_STALE_MILLIS
          ? { _tag: "Gone" }
          : { _tag: "Alive", owner: "an earlier version of Fishbowl" }
      ))
  })
}

export const layer = Layer.sync(Liveness.Liveness, make)
