/**
 * Crash-safe file replacement, shared by preferences.json and (later) the encrypted secrets file.
 *
 * `writeFileAtomic` writes a temp file in the SAME folder (so the rename never crosses file
 * systems), fsyncs it, renames it over the target and fsyncs the folder, so a reader, a crash
 * or a power cut sees either the old bytes or the new bytes, never a mix or an empty file.
 *
 * Hand-written on purpose: the usual library (npm `write-file-atomic`) is not a dependency here,
 * and this needs two things it does not offer: a hook between "temp file durable" and "rename"
 * (backup rotation) and Effect-typed errors. Everything goes through Effect's `FileSystem`
 * (`NodeFileSystem.layer` from `@effect/platform-node-shared` in production): the folder fsync is
 * `FileSystem.open(dir, { flag: "r" })` + `File.sync`, so no `node:fs` call is needed.
 *
 * Folder policy: a missing folder is created (recursively) with mode 0700 and chmod-ed to 0700 so
 * an unusual umask cannot widen or narrow it. An EXISTING folder is never re-moded: it may be
 * Electron's userData or a folder the user chose via FISHBOWL_DATA_DIR and shares with other
 * files; callers that need it private check it (TrustedFile) with the info `ensureDirectory` returns.
 *
 * The temp file is created exclusively (O_CREAT | O_EXCL, plus O_NOFOLLOW where it exists) under a
 * fresh random name, so nothing planted in the folder — a file or a link — is ever written through.
 */
import { Effect, Exit, FileSystem, Schedule } from "effect"
import type { PlatformError } from "effect/PlatformError"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

export interface WriteFileAtomicOptions<E = never, R = never> {
  /** Mode of the written file (default 0o600). Applied with chmod, so the umask cannot change it. */
  readonly mode?: number
  /** Mode of a folder this call creates (default 0o700). Existing folders are left alone. */
  readonly directoryMode?: number
  /**
   * The caller has just made sure the folder exists (and checked it, under its own lock): this
   * call does not look again. A folder gone meanwhile fails the temp file's creation (ENOENT).
   */
  readonly directoryEnsured?: boolean
  /**
   * Runs once the temp file is durable and just before it replaces the target (e.g. backup
   * rotation). When it fails, the target is untouched and the temp file is removed.
   */
  readonly beforeRename?: Effect.Effect<void, E, R>
  /**
   * Runs while the temp file is written and synced (e.g. staging a backup of the target, which
   * does not change meanwhile under the caller's lock); it must succeed before the rename, else
   * the target is untouched and the temp file is removed.
   */
  readonly whileWriting?: Effect.Effect<void, E, R>
  /**
   * Runs once the target is replaced, while the folder is synced (e.g. promoting that backup).
   * It cannot fail the write: the new bytes are already in place.
   */
  readonly afterRename?: Effect.Effect<void, never, R>
}

/** Error code of a Node errno failure wrapped in a PlatformError (`EACCES`, `ENOSPC`, ...), if any. */
export const errnoCode = (error: PlatformError): string | undefined => {
  const cause = (error.reason as { readonly cause?: unknown }).cause
  const code = typeof cause === "object" && cause !== null ? (cause as { readonly code?: unknown }).code : undefined
  return typeof code === "string" ? code : undefined
}

/**
 * Makes sure `directory` exists. Creates it (and missing parents) with `mode` and reports whether
 * it did, with what `stat` says about it now; an existing folder keeps its mode (see the module comment).
 */
export const ensureDirectory = Effect.fnUntraced(function*(directory: string, mode = 0o700) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(directory).pipe(
    Effect.catchReason("PlatformError", "NotFound", () => Effect.undefined)
  )
  if (info?.type === "Directory") return { created: false, info }
  if (info !== undefined) {
    // Let the OS produce the error (EEXIST / ENOTDIR) with the path in it.
    yield* fs.makeDirectory(directory, { mode })
  }
  yield* fs.makeDirectory(directory, { recursive: true, mode })
  yield* fs.chmod(directory, mode)
  // Stat again: a folder someone else created meanwhile must be seen as theirs.
  return { created: true, info: yield* fs.stat(directory) }
})

/** fsync codes on a folder that mean "not supported here" (see `fsyncDirectory`), not a failure. */
export const IGNORED_DIRECTORY_SYNC_ERRORS: ReadonlySet<string> = new Set(["EINVAL", "ENOTSUP", "EOPNOTSUPP", "EISDIR", "EPERM", "EBADF"])

/**
 * fsyncs a folder so a rename inside it survives a power cut. Windows cannot open folders (and
 * NTFS journals renames), and some file systems reject fsync on a folder: those cases are
 * skipped; a real I/O error (EIO) is reported.
 */
export const fsyncDirectory = (directory: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  process.platform === "win32"
    ? Effect.void
    : Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const handle = yield* fs.open(directory, { flag: "r" })
      yield* handle.sync
    }).pipe(
      Effect.scoped,
      Effect.catchIf(
        (error) => IGNORED_DIRECTORY_SYNC_ERRORS.has(errnoCode(error) ?? ""),
        () => Effect.void
      )
    )

/** Effect's `noFollow` fails with BadArgument where O_NOFOLLOW does not exist (Windows). */
const NO_FOLLOW_SUPPORTED = process.platform !== "win32"

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = NodeFs.constants
/** open(2) flags of a temp file, as `writeFileAtomic` opens it: created exclusively, never through a link. */
export const TEMP_FILE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | (NO_FOLLOW_SUPPORTED ? O_NOFOLLOW ?? 0 : 0)

/** One encoder for every write (building one costs more than encoding a settings file). */
const utf8Encoder = new TextEncoder()

const randomSuffix = () => globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 16)

/** Name of a temp file for `target`: hidden, in the same folder, unique per process and call. */
export const tempPathFor = (target: string): string =>
  NodePath.join(NodePath.dirname(target), `.${NodePath.basename(target)}.${process.pid}.${randomSuffix()}.tmp`)

/** True for names `tempPathFor(target)` produces, so leftovers of a crashed process can be found. */
export const isTempFileOf = (target: string, name: string): boolean =>
  name.startsWith(`.${NodePath.basename(target)}.`) && name.endsWith(".tmp")

// Windows refuses to replace a file another process has open (EPERM/EACCES/EBUSY) for a moment.
const WINDOWS_RENAME_RETRYABLE = new Set(["EPERM", "EACCES", "EBUSY"])
const renameWithRetry = (fs: FileSystem.FileSystem, from: string, to: string) =>
  process.platform === "win32"
    ? fs.rename(from, to).pipe(
      Effect.retry({
        while: (error) => WINDOWS_RENAME_RETRYABLE.has(errnoCode(error) ?? ""),
        schedule: Schedule.exponential("10 millis", 1.5).pipe(Schedule.upTo({ duration: "2 seconds" }))
      })
    )
    : fs.rename(from, to)

/**
 * Replaces `path` with `data` atomically and durably (see the module comment). On any failure or
 * interruption before the rename, the temp file is removed and `path` is untouched.
 */
export const writeFileAtomic = <E = never, R = never>(
  path: string,
  data: Uint8Array | string,
  options?: WriteFileAtomicOptions<E, R>
): Effect.Effect<void, PlatformError | E, FileSystem.FileSystem | R> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = NodePath.dirname(path)
    const mode = options?.mode ?? 0o600
    if (options?.directoryEnsured !== true) yield* ensureDirectory(directory, options?.directoryMode ?? 0o700)
    const bytes = typeof data === "string" ? utf8Encoder.encode(data) : data
    const temp = tempPathFor(path)
    const writeTemp = Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(temp, { flag: "wx", mode, noFollow: NO_FOLLOW_SUPPORTED })
      yield* file.writeAll(bytes)
      yield* file.sync
    })).pipe(Effect.andThen(fs.chmod(temp, mode)))
    yield* Effect.gen(function*() {
      yield* options?.whileWriting === undefined
        ? writeTemp
        : Effect.all([writeTemp, options.whileWriting], { concurrency: 2, discard: true })
      if (options?.beforeRename !== undefined) yield* options.beforeRename
      yield* renameWithRetry(fs, temp, path)
    }).pipe(
      Effect.onExit((exit) => Exit.isFailure(exit) ? Effect.ignore(fs.remove(temp, { force: true })) : Effect.void),
      Effect.uninterruptible
    )
    yield* options?.afterRename === undefined
      ? fsyncDirectory(directory)
      : Effect.all([fsyncDirectory(directory), options.afterRename], { concurrency: 2, discard: true })
  }).pipe(Effect.withSpan("AtomicFile.writeFileAtomic"))
