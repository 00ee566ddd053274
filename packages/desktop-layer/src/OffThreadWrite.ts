/**
 * The file steps of a locked preferences write, done with synchronous calls on a worker thread:
 * two messages (`begin`, `commit`) instead of ~15 asynchronous calls on the main thread. Each
 * asynchronous file call is a round trip through libuv's thread pool, ~50 µs of main-thread work
 * on a small VM, so a locked write cost ~2× a bare atomic write; the same calls made synchronously
 * cost a few µs each. They are made on a worker, never on the main thread: a hung network home
 * folder stalls the worker and the write waiting on it, not Electron's window or an Effect timeout.
 *
 * The worker only executes; every judgement stays in the store's modules: it takes the lock
 * folder with one `mkdir` (proper-lockfile's protocol: `<file>.lock` is a folder, stale by its
 * mtime, which is fresh for the milliseconds a write holds it) and reports what it sees; the
 * store decides, from the same rules as its other path (TrustedFile, `startsGeneration`), whether
 * to commit. Anything unusual — the lock held, the file not the one this process last wrote, any
 * failure before the rename — releases the lock and hands the write to the store's other path
 * (FileLock with its waiting and take-overs, the full read), which also words every error.
 *
 * The worker starts with the first write of a process and is used from the next write once it has
 * started, so a command that writes once or twice never waits for it. It is unreferenced while
 * idle (it never keeps a process alive) and referenced while a request is out.
 */
import { Data, Effect } from "effect"
import type * as WorkerThreads from "node:worker_threads"
import type * as TrustedFile from "./TrustedFile.ts"

/** The fields of a Stats the store's rules read (TrustedFile), as a message carries them. */
export interface RawStats {
  readonly dev: number
  readonly ino: number
  readonly size: number
  readonly mode: number
  readonly uid: number
  readonly nlink: number
  readonly mtimeMs: number
  readonly ctimeMs: number
}

/** An lstat/stat: its figures, or the errno code it failed with. */
export type Look = { readonly _tag: "Found"; readonly stats: RawStats } | { readonly _tag: "Failed"; readonly code: string }

export interface BeginRequest {
  readonly lock: string
  readonly folder: string
  /**
   * The folder's owner and mode as the store last judged them trusted: the lock is taken only in
   * the folder while it still has them (nothing is created in a folder that changed since).
   */
  readonly trusted: { readonly uid: number; readonly mode: number }
  readonly path: string
  /** Paths whose lstat the store wants beside the file's (the backups' ages). */
  readonly others: ReadonlyArray<string>
}

export type BeginReply =
  | { readonly locked: false; readonly code: string }
  | { readonly locked: true; readonly folder: Look; readonly file: Look; readonly others: ReadonlyArray<Look> }

export interface CommitRequest {
  readonly lock: string
  /** The lock is renamed over only while it is younger than half this, and removed only while younger than this. */
  readonly staleMillis: number
  readonly folder: string
  readonly path: string
  readonly temp: string
  /** open(2) flags of the temp file (exclusive, never through a link) and its mode. */
  readonly flags: number
  readonly mode: number
  readonly bytes: Uint8Array
  /**
   * The current file (private, with one link) is hard-linked here while the new one is written,
   * then rotated in.
   */
  readonly backup?: {
    readonly staged: string
    /** Renames pushing the generations down, oldest first, then `staged` → newest. */
    readonly renames: ReadonlyArray<readonly [string, string]>
  }
  /** fsync codes on the folder that mean "not supported here", not a failure. */
  readonly ignoredSyncCodes: ReadonlyArray<string>
}

export type CommitReply =
  /**
   * Nothing was written; the temp file and staged backup are gone and the lock released (when
   * it was still this thread's). `ELOCKLOST`: the lock was no longer this thread's, or too old.
   */
  | { readonly written: false; readonly code: string }
  | {
    readonly written: true
    /** The new file, still open (its descriptor is the process's), with its stats after the rename. */
    readonly held: { readonly fd: number; readonly stats: RawStats } | undefined
    /** The folder's fsync failed after the rename (the new file is in place). */
    readonly syncCode: string | undefined
    /** The backup rotation failed after the rename (only a backup is lost). */
    readonly rotationCode: string | undefined
  }

/** The worker ended (or could not start) with the request out: what it did is unknown. */
export class WorkerEnded extends Data.TaggedError("WorkerEnded")<{ readonly reason: string }> {}

/**
 * The worker's program: plain Node, synchronous calls only, no judgement (see the module
 * comment). Every request is answered; a step that throws is reported by its errno code.
 */
const WORKER_SOURCE = String.raw`
"use strict"
const { parentPort } = require("node:worker_threads")
const fs = require("node:fs")
const codeOf = (error) => (error !== null && typeof error === "object" && typeof error.code === "string" ? error.code : "EUNKNOWN")
const figures = (s) => ({ dev: s.dev, ino: s.ino, size: s.size, mode: s.mode, uid: s.uid, nlink: s.nlink, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs })
const look = (call, path) => {
  try { return { _tag: "Found", stats: figures(call(path)) } } catch (error) { return { _tag: "Failed", code: codeOf(error) } }
}
const quietly = (step) => { try { step() } catch {} }
// The lock folders this thread made: their identity and when (to tell them from a later holder's).
const locks = new Map()
const ours = (lock, staleMillis) => {
  const mine = locks.get(lock)
  if (mine === undefined) return false
  try {
    const now = fs.lstatSync(lock)
    return now.isDirectory() && now.dev === mine.dev && now.ino === mine.ino && Date.now() - mine.at < staleMillis
  } catch { return false }
}
// Removed only while it is still the folder this thread made and no one can have judged it stale.
const release = (lock, staleMillis) => {
  if (ours(lock, staleMillis)) quietly(() => fs.rmdirSync(lock))
  locks.delete(lock)
}
const begin = (m) => {
  let folder
  try { folder = fs.statSync(m.folder) } catch (error) { return { locked: false, code: codeOf(error) } }
  const same = folder.isDirectory() && folder.uid === m.trusted.uid && (folder.mode & 0o7777) === m.trusted.mode
  if (!same) return { locked: false, code: "EFOLDERCHANGED" }
  const at = Date.now()
  try { fs.mkdirSync(m.lock) } catch (error) { return { locked: false, code: codeOf(error) } }
  try {
    const made = fs.lstatSync(m.lock)
    locks.set(m.lock, { dev: made.dev, ino: made.ino, at })
  } catch (error) { return { locked: false, code: codeOf(error) } }
  return { locked: true, folder: look(fs.statSync, m.folder), file: look(fs.lstatSync, m.path), others: m.others.map((p) => look(fs.lstatSync, p)) }
}
const writeAll = (fd, bytes) => {
  for (let offset = 0; offset < bytes.length;) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset)
}
const syncFolder = (folder) => {
  const fd = fs.openSync(folder, "r")
  try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
}
const commit = (m) => {
  let fd
  try {
    fd = fs.openSync(m.temp, m.flags, m.mode)
    writeAll(fd, m.bytes)
    fs.fsyncSync(fd)
    fs.fchmodSync(fd, m.mode)
    if (m.backup !== undefined) fs.linkSync(m.path, m.backup.staged)
    // the last look before the rename: the lock is still this thread's and far from stale
    if (!ours(m.lock, m.staleMillis / 2)) throw Object.assign(new Error("lock lost"), { code: "ELOCKLOST" })
    fs.renameSync(m.temp, m.path)
  } catch (error) {
    if (fd !== undefined) quietly(() => fs.closeSync(fd))
    quietly(() => fs.unlinkSync(m.temp))
    if (m.backup !== undefined) quietly(() => fs.unlinkSync(m.backup.staged))
    release(m.lock, m.staleMillis)
    return { written: false, code: codeOf(error) }
  }
  let syncCode
  try { syncFolder(m.folder) } catch (error) { if (!m.ignoredSyncCodes.includes(codeOf(error))) syncCode = codeOf(error) }
  let rotationCode
  if (m.backup !== undefined) {
    try {
      for (const [from, to] of m.backup.renames) {
        try { fs.renameSync(from, to) } catch (error) { if (codeOf(error) !== "ENOENT" || from === m.backup.staged) throw error }
      }
    } catch (error) {
      rotationCode = codeOf(error)
      quietly(() => fs.unlinkSync(m.backup.staged))
    }
  }
  let held
  try { held = { fd, stats: figures(fs.fstatSync(fd)) } } catch { quietly(() => fs.closeSync(fd)) }
  release(m.lock, m.staleMillis)
  return { written: true, held, syncCode, rotationCode }
}
parentPort.on("message", (m) => {
  let reply = null
  if (m.op === "begin") reply = begin(m.request)
  else if (m.op === "commit") reply = commit(m.request)
  else if (m.op === "release") release(m.lock, m.staleMillis)
  else if (m.op === "close") quietly(() => fs.closeSync(m.fd))
  parentPort.postMessage({ id: m.id, reply })
})
parentPort.postMessage({ id: 0, reply: "ready" })
`

interface Running {
  readonly worker: WorkerThreads.Worker
  ready: boolean
  /** It exited or failed: a message posted now would never be answered. */
  ended: boolean
  /** Ended on purpose (`stop`), which is not a failure. */
  stopped: boolean
  readonly whenReady: Array<() => void>
  readonly pending: Map<number, (reply: { readonly ok: true; readonly value: unknown } | WorkerEnded) => void>
  nextId: number
}

let running: Running | undefined
/** Workers that could not start or ended; after MAX_FAILURES the store's other path does every write. */
let failures = 0
const MAX_FAILURES = 3
/** Writes the worker committed in this process (tests and the bench check the path taken). */
let committed = 0

/** How many writes the worker has committed in this process. */
export const commitsWritten = (): number => committed

/** Starts the worker if it has not started and waits until it is ready (tests, the bench). */
export const started: Effect.Effect<void> = Effect.callback<void>((resume) => {
  const state = readyWorker() ?? running
  if (state === undefined || state.ready) return resume(Effect.void)
  state.worker.ref() // waited on: keeps the process alive until then
  state.whenReady.push(() => resume(Effect.void))
})

const start = (): Running => {
  // Loaded when the thread first starts: the CLI, which writes without it, never loads worker_threads.
  const workerThreads: typeof WorkerThreads = process.getBuiltinModule("node:worker_threads")
  const worker = new workerThreads.Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false })
  const state: Running = { worker, ready: false, ended: false, stopped: false, whenReady: [], pending: new Map(), nextId: 1 }
  worker.on("message", (message: { readonly id: number; readonly reply: unknown }) => {
    if (message.id === 0) {
      state.ready = true
      if (state.pending.size === 0) worker.unref()
      for (const resume of state.whenReady.splice(0)) resume()
      return
    }
    const resume = state.pending.get(message.id)
    state.pending.delete(message.id)
    if ((message.reply as { readonly written?: unknown } | null)?.written === true) committed++
    if (state.pending.size === 0) worker.unref()
    resume?.({ ok: true, value: message.reply })
  })
  const end = (reason: string) => {
    state.ended = true
    if (!state.stopped) failures++
    if (running === state) running = undefined
    for (const resume of state.whenReady.splice(0)) resume()
    const waiting = [...state.pending.values()]
    state.pending.clear()
    for (const resume of waiting) resume(new WorkerEnded({ reason }))
  }
  worker.on("error", (error) => end(error.message))
  worker.on("exit", (code) => end(`exit ${code}`))
  // after the listeners: attaching a "message" listener refs the thread again
  worker.unref()
  return state
}

/**
 * The worker when it has started, else undefined (and it is started, for a later write). Never on
 * Windows, whose rename and open-file rules the store's other path handles.
 */
const readyWorker = (): Running | undefined => {
  if (process.platform === "win32" || failures >= MAX_FAILURES) return undefined
  try {
    running ??= start()
  } catch {
    failures++ // e.g. Node's permission model without --allow-worker
    return undefined
  }
  return running.ready ? running : undefined
}

const send = (state: Running, message: { readonly op: string; readonly [key: string]: unknown }) =>
  Effect.callback<unknown, WorkerEnded>((resume) => {
    if (state.ended) return resume(Effect.fail(new WorkerEnded({ reason: "it had ended" })))
    const id = state.nextId++
    state.pending.set(id, (reply) => resume(reply instanceof WorkerEnded ? Effect.fail(reply) : Effect.succeed(reply.value)))
    if (state.pending.size === 1) state.worker.ref()
    state.worker.postMessage({ ...message, id })
  })

/** One locked write on the worker: `begin` takes the lock and looks; `commit` or `release` ends it. */
export interface Writer {
  readonly begin: (request: BeginRequest) => Effect.Effect<BeginReply, WorkerEnded>
  readonly commit: (request: CommitRequest) => Effect.Effect<CommitReply, WorkerEnded>
  readonly release: (lock: string, staleMillis: number) => Effect.Effect<void, WorkerEnded>
  /** The file a commit kept open (see `heldFile`). */
  readonly held: (held: { readonly fd: number; readonly stats: RawStats }, signature: string) => TrustedFile.HeldFile
}

/** Ends the worker (tests; a process may call it when it stops writing). The next write starts another. */
export const stop: Effect.Effect<void> = Effect.suspend(() => {
  const state = running
  if (state === undefined) return Effect.void
  state.stopped = true
  return Effect.promise(() => state.worker.terminate().then(() => undefined))
})

/** The worker's requests when it is ready (see `readyWorker`), else undefined. */
export const writer = (): Writer | undefined => {
  const state = readyWorker()
  if (state === undefined) return undefined
  return {
    begin: (request) => send(state, { op: "begin", request }) as Effect.Effect<BeginReply, WorkerEnded>,
    commit: (request) => send(state, { op: "commit", request }) as Effect.Effect<CommitReply, WorkerEnded>,
    release: (lock, staleMillis) => Effect.asVoid(send(state, { op: "release", lock, staleMillis })),
    held: (held, signature) => heldFile(state, held, signature)
  }
}

/**
 * The new file the worker kept open, as TrustedFile.holdFile gives one. The descriptor is the
 * worker's to close: Node closes a worker's descriptors when it ends, so one closed elsewhere
 * could be a reused number by then. `isHeld` turns false if the worker ended (and closed it).
 */
const heldFile = (
  state: Running,
  held: { readonly fd: number; readonly stats: RawStats },
  signature: string
): TrustedFile.HeldFile => ({
  signature,
  mode: held.stats.mode,
  nlink: held.stats.nlink,
  isHeld: () => !state.ended,
  // an ended worker's descriptors were closed by Node as it ended
  release: Effect.suspend(() => state.ended ? Effect.void : Effect.ignore(send(state, { op: "close", fd: held.fd })))
})
