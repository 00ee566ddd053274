/**
 * The data folder is a trust boundary, in the spirit of ssh's StrictModes and git's
 * safe.directory: before Fishbowl reads or writes there, the folder and every file it opens must
 * be owned by the current user, not writable by group or others, and of the expected type (a
 * regular file, never a FIFO, device, socket, folder or symbolic link). Another account that can
 * write the folder could otherwise point a configuration's base URL at its own server (and be
 * handed the key), or plant a link that makes the next write overwrite a file of its choosing.
 *
 * One rule (`trustProblem`), used by the store before every read and write and by diagnostics.
 * Files are opened with O_NOFOLLOW (a link is refused, never followed) and O_NONBLOCK (opening a
 * FIFO returns at once instead of blocking a libuv thread forever), then checked with fstat on the
 * open descriptor, so the check and the read see the same file. Reads stop at a size bound taken
 * from fstat: an oversized file is refused without reading it.
 *
 * Platforms:
 * - Linux, macOS (and other Unix): as above. macOS ACLs are not inspected (a folder in the user's
 *   Library is private by default).
 * - Windows: there are no POSIX owners or modes (Node reports uid 0 and 0o666), so owner and mode
 *   are not checked — the data folder is in the user's profile (`%APPDATA%`), which the profile's
 *   ACLs keep private. The type check still applies, and links (symlinks, junctions) are refused
 *   with an lstat before opening, since O_NOFOLLOW does not exist there.
 *
 * The data folder itself may be a symbolic link the user made (e.g. into a synced folder): it is
 * followed, and what it points to is checked. Parent folders are not checked.
 *
 * Node's `fs` is used directly because Effect's FileSystem has no O_NONBLOCK; the functions come
 * from the `NodeFiles` reference so tests can inject failures (EIO) without touching the disk.
 */
import { Errors } from "@fishbowl/domain"
import { Context, Effect, type FileSystem } from "effect"
import * as PlatformError from "effect/PlatformError"
import * as NodeFs from "node:fs"
import * as NodeFsPromises from "node:fs/promises"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

// ---------------------------------------------------------------------------------------------
// The rule

export type EntryKind = "file" | "directory" | "symlink" | "fifo" | "socket" | "device" | "unknown"

/** What the rule looks at: from `lstat`/`fstat` (Node) or Effect's `File.Info`. */
export interface EntryInfo {
  readonly kind: EntryKind
  readonly uid: number | undefined
  readonly mode: number
}

export interface TrustProblem {
  readonly message: string
  readonly hint: string
}

const KIND_NAMES: Record<EntryKind, string> = {
  file: "a regular file",
  directory: "a folder",
  symlink: "a symbolic link",
  fifo: "a named pipe (FIFO)",
  socket: "a socket",
  device: "a device",
  unknown: "not a regular file"
}

/** A mode's permission bits as `chmod` takes them (`644`). */
export const octal = (mode: number) => (mode & 0o777).toString(8).padStart(3, "0")

const userName = (uid: number): string => {
  try {
    return NodeOs.userInfo().username
  } catch {
    return String(uid) // no passwd entry: chown takes the number
  }
}

/**
 * Why `entry` at `path` must not be trusted as the data folder (`expected: "directory"`) or as one
 * of its files, or undefined when it may be. Hints name the exact command that fixes it.
 */
export const trustProblem = (
  path: string,
  expected: "directory" | "file",
  entry: EntryInfo,
  options: {
    readonly platform?: NodeJS.Platform
    readonly uid?: number | undefined
    /** The folder a file is read from, as messages name it (default: the data folder). */
    readonly place?: string
    /**
     * Files another program wrote (Fishbowl's own, Electron's default mode 0666 & ~umask): a
     * group-writable file is accepted, since Debian's user-private groups give every user umask
     * 002 and that group holds only its owner. Writable by others is still refused.
     */
    readonly groupMayWrite?: boolean
  } = {}
): TrustProblem | undefined => {
  const what = expected === "directory" ? `The data folder ${path}` : `${NodePath.basename(path)}`
  const place = options.place ?? "the data folder"
  if (entry.kind !== expected) {
    return {
      message: expected === "directory"
        ? `${what} is ${KIND_NAMES[entry.kind]}, not a folder`
        : `${what} in ${place} is ${KIND_NAMES[entry.kind]}, not a regular file; Fishbowl does not ${
          entry.kind === "symlink" ? "follow links there" : "read or replace it"
        }`,
      hint: expected === "directory"
        ? `Move it away (mv "${path}" "${path}.moved") or set FISHBOWL_DATA_DIR to a folder of yours. Nothing was changed.`
        : `Move it out of ${place} (mv "${path}" ~/)${
          NodePath.basename(path) === "preferences.json"
            ? `, then restore the last good copy if you need it (cp "${path}.bak.1" "${path}")`
            : ""
        }. Nothing was changed.`
    }
  }
  const platform = options.platform ?? process.platform
  const uid = options.uid ?? process.getuid?.()
  if (platform === "win32" || uid === undefined) return undefined
  const chmod = expected === "directory" ? `chmod 700 "${path}"` : `chmod 600 "${path}"`
  if (entry.uid !== uid) {
    return {
      message: `${what} belongs to another account (uid ${entry.uid}), so that account could change what Fishbowl reads`,
      hint: `If it is yours, check its contents, then run: sudo chown ${expected === "directory" ? "-R " : ""}${
        userName(uid)
      } "${path}" && ${chmod}. Otherwise set FISHBOWL_DATA_DIR to a folder of your own. Nothing was changed.`
    }
  }
  if ((entry.mode & (options.groupMayWrite === true ? 0o002 : 0o022)) !== 0) {
    return {
      message: `${what} can be changed by other accounts (mode ${octal(entry.mode)})`,
      hint: `Run: ${chmod}. Nothing was changed.`
    }
  }
  return undefined
}

/** The problem as the store reports it. */
export const untrusted = (problem: TrustProblem): Errors.StorageInaccessible => new Errors.StorageInaccessible(problem)

const kindOfStats = (stats: NodeFs.Stats): EntryKind =>
  stats.isFile()
    ? "file"
    : stats.isDirectory()
    ? "directory"
    : stats.isSymbolicLink()
    ? "symlink"
    : stats.isFIFO()
    ? "fifo"
    : stats.isSocket()
    ? "socket"
    : stats.isBlockDevice() || stats.isCharacterDevice()
    ? "device"
    : "unknown"

export const entryOfStats = (stats: NodeFs.Stats): EntryInfo => ({ kind: kindOfStats(stats), uid: stats.uid, mode: stats.mode })

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFBLK, S_IFCHR } = NodeFs.constants
const KIND_OF_FORMAT = new Map<number | undefined, EntryKind>([
  [S_IFREG, "file"],
  [S_IFDIR, "directory"],
  [S_IFLNK, "symlink"],
  [S_IFIFO, "fifo"],
  [S_IFSOCK, "socket"],
  [S_IFBLK, "device"],
  [S_IFCHR, "device"]
])

/** The same as `entryOfStats`, from a Stats' figures alone (a worker's message carries no methods). */
export const entryOfFigures = (figures: { readonly mode: number; readonly uid: number }): EntryInfo => ({
  kind: KIND_OF_FORMAT.get(S_IFMT === undefined ? undefined : figures.mode & S_IFMT) ?? "unknown",
  uid: figures.uid,
  mode: figures.mode
})

const KIND_OF_TYPE: Record<FileSystem.File.Type, EntryKind> = {
  File: "file",
  Directory: "directory",
  SymbolicLink: "symlink",
  FIFO: "fifo",
  Socket: "socket",
  BlockDevice: "device",
  CharacterDevice: "device",
  Unknown: "unknown"
}

export const entryOfInfo = (info: FileSystem.File.Info): EntryInfo => ({
  kind: KIND_OF_TYPE[info.type],
  uid: info.uid._tag === "Some" ? info.uid.value : undefined,
  mode: info.mode
})

// ---------------------------------------------------------------------------------------------
// Node's file functions (a reference, so tests can inject failures)

export interface NodeFilesService {
  readonly open: (path: string, flags: number, mode?: number) => Promise<NodeFsPromises.FileHandle>
  readonly lstat: (path: string) => Promise<NodeFs.Stats>
  readonly stat: (path: string) => Promise<NodeFs.Stats>
  readonly copyFile: (from: string, to: string, mode: number) => Promise<void>
  readonly unlink: (path: string) => Promise<void>
  readonly rmdir: (path: string) => Promise<void>
}

export const NodeFiles = Context.Reference<NodeFilesService>("@fishbowl/desktop-layer/TrustedFile/NodeFiles", {
  defaultValue: () => ({
    open: (path, flags, mode) => NodeFsPromises.open(path, flags, mode),
    lstat: (path) => NodeFsPromises.lstat(path),
    stat: (path) => NodeFsPromises.stat(path),
    copyFile: (from, to, mode) => NodeFsPromises.copyFile(from, to, mode),
    unlink: (path) => NodeFsPromises.unlink(path),
    rmdir: (path) => NodeFsPromises.rmdir(path)
  })
})

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = NodeFs.constants
/** Read-only, never through a link, never blocking on a FIFO, never becoming a controlling tty. */
const SAFE_READ_FLAGS = O_RDONLY | (O_NOFOLLOW ?? 0) | (O_NONBLOCK ?? 0) | (O_NOCTTY ?? 0)
const HAS_NOFOLLOW = process.platform !== "win32" && typeof O_NOFOLLOW === "number" && O_NOFOLLOW !== 0

const codeOf = (error: unknown): string | undefined => {
  const code = typeof error === "object" && error !== null ? (error as { readonly code?: unknown }).code : undefined
  return typeof code === "string" ? code : undefined
}

/** A Node errno failure as the PlatformError Effect's own FileSystem would give (errnoCode reads it back). */
export const toPlatformError = (method: string, path: string) => (error: unknown): PlatformError.PlatformError => {
  const code = codeOf(error)
  return PlatformError.systemError({
    _tag: code === "ENOENT"
      ? "NotFound"
      : code === "EACCES" || code === "EPERM"
      ? "PermissionDenied"
      : code === "EEXIST"
      ? "AlreadyExists"
      : "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    cause: error
  })
}

const tryFs = <A>(
  method: string,
  path: string,
  run: (files: NodeFilesService) => Promise<A>
): Effect.Effect<A, PlatformError.PlatformError> =>
  Effect.gen(function*() {
    const files = yield* NodeFiles
    return yield* Effect.tryPromise({ try: () => run(files), catch: toPlatformError(method, path) })
  })

/** O_NOFOLLOW reports a link as ELOOP (Linux, macOS) or EMLINK (FreeBSD). */
const isLinkRefusal = (error: unknown) => {
  const code = codeOf(error)
  return code === "ELOOP" || code === "EMLINK"
}

// ---------------------------------------------------------------------------------------------
// Reading

export type TrustedRead =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Untrusted"; readonly problem: TrustProblem; readonly kind: EntryKind }
  | { readonly _tag: "TooLarge"; readonly bytes: number }
  | {
    readonly _tag: "Read"
    readonly bytes: Uint8Array
    /** Mode and link count of the file read (a hard link to it shares them). */
    readonly mode: number
    readonly nlink: number
    readonly modifiedAt: Date
    /** The signature of the file read, from the descriptor read (as `signatureIn` gives it), and its ctime. */
    readonly signature: string
    readonly changedAtMillis: number
  }

/** How a file is judged: the data folder's own rule unless told otherwise (see `trustProblem`). */
type FileRule = { readonly place?: string; readonly groupMayWrite?: boolean }

const symlinkRead = (path: string, rule: FileRule): TrustedRead => ({
  _tag: "Untrusted",
  problem: trustProblem(path, "file", { kind: "symlink", uid: undefined, mode: 0 }, rule)!,
  kind: "symlink"
})

const judged = (path: string, entry: EntryInfo, rule: FileRule): TrustedRead | undefined => {
  const problem = trustProblem(path, "file", entry, rule)
  return problem === undefined ? undefined : { _tag: "Untrusted", problem, kind: entry.kind }
}

/**
 * Reads `path` if it is a file this user may trust (see the module comment), at most `maxBytes`:
 * a larger file is reported as TooLarge without being read. Never follows a link, never blocks.
 */
export const readTrusted = (
  path: string,
  maxBytes: number,
  /** The data folder holding `path`, checked too (at the same time as the file is opened). */
  folder?: string
): Effect.Effect<TrustedRead, PlatformError.PlatformError> =>
  tryFs("readFile", path, async (files): Promise<TrustedRead> => {
    if (folder === undefined) return readFileOf(files, path, maxBytes, {})
    const [folderStats, read] = await Promise.allSettled([files.stat(folder), readFileOf(files, path, maxBytes, {})])
    if (folderStats.status === "rejected") {
      if (codeOf(folderStats.reason) === "ENOENT") return { _tag: "Missing" }
      throw folderStats.reason
    }
    const problem = trustProblem(folder, "directory", entryOfStats(folderStats.value))
    if (problem !== undefined) return { _tag: "Untrusted", problem, kind: "directory" }
    if (read.status === "rejected") throw read.reason
    return read.value
  })

/**
 * A file's identity and last change (device, inode, size, mode, owner, links, mtime and ctime to
 * the fraction of a ms) by one lstat, its folder's trust checked at the same time. Equal
 * signatures mean the file was neither replaced (every writer renames: a new inode) nor changed
 * in place (ctime). `undefined` when either is missing, untrusted or unreadable: read it properly,
 * and that read says why.
 */
export const signatureIn = (
  path: string,
  folder: string
): Effect.Effect<{ readonly signature: string; readonly changedAtMillis: number } | undefined> =>
  tryFs("stat", path, async (files) => {
    const [folderStats, stats] = await Promise.all([files.stat(folder), files.lstat(path)])
    if (trustProblem(folder, "directory", entryOfStats(folderStats)) !== undefined) return undefined
    if (!stats.isFile()) return undefined
    return { signature: signatureOf(stats), changedAtMillis: stats.ctimeMs }
  }).pipe(Effect.orElseSucceed(() => undefined))

/** The figures of a Stats a signature is made of. */
export type SignatureFigures = Pick<NodeFs.Stats, "dev" | "ino" | "size" | "mode" | "uid" | "nlink" | "mtimeMs" | "ctimeMs">

/** What `signatureIn` gives for a file with these figures. */
export const signatureOf = (stats: SignatureFigures): string =>
  [stats.dev, stats.ino, stats.size, stats.mode, stats.uid, stats.nlink, stats.mtimeMs, stats.ctimeMs].join(":")

/** A file kept open so that its inode stays allocated (see `holdFile`). */
export interface HeldFile {
  /** What `signatureIn` gives for the path while it still names this very file, unchanged. */
  readonly signature: string
  /** Mode and link count of the file (a hard link to it shares them). */
  readonly mode: number
  readonly nlink: number
  /** False once the file is no longer held by no act of the holder (its thread ended); absent: held until released. */
  readonly isHeld?: () => boolean
  readonly release: Effect.Effect<void>
}

/**
 * Opens the file at `path` when the store may trust it (`trustProblem`; never through a link,
 * never blocking) and keeps it open, with
 * its signature as `signatureIn` gives it. While it is held its inode cannot be freed, so its
 * number never comes back as another file's: a later `signatureIn` equal to `signature` proves
 * that `path` still names this file and that nothing changed it since (size, mode, owner, links,
 * mtime and ctime; ctime is set by every write, chmod and utimes and cannot be set back). The one
 * blind spot is a change within the same tick of the file-time clock as the last one (1-10 ms,
 * coarser on some file systems), which only a writer that does not take Fishbowl's lock can make,
 * and such a writer races every reader anyway. Undefined on Windows (an open file there can keep
 * other processes from replacing it) and on any error.
 */
export const holdFile = (path: string): Effect.Effect<HeldFile | undefined> =>
  process.platform === "win32" ? Effect.undefined : tryFs("open", path, async (files): Promise<HeldFile | undefined> => {
    const handle = await files.open(path, SAFE_READ_FLAGS)
    try {
      const stats = await handle.stat()
      if (judged(path, entryOfStats(stats), {}) !== undefined) throw new Error("not a file the store may trust")
      const release = Effect.promise(() => handle.close().catch(() => undefined))
      return { signature: signatureOf(stats), mode: stats.mode, nlink: stats.nlink, release }
    } catch (error) {
      await handle.close().catch(() => undefined)
      throw error
    }
  }).pipe(Effect.orElseSucceed(() => undefined))

/**
 * Reads a file another program wrote (Fishbowl's own files in its folder `place`) under the same
 * rule as the store's files — never through a link, never a FIFO or device, owned by this user,
 * at most `maxBytes` — except that a group-writable file is accepted (see `trustProblem`).
 */
export const readForeign = (path: string, maxBytes: number, place: string): Effect.Effect<TrustedRead, PlatformError.PlatformError> =>
  tryFs("readFile", path, (files) => readFileOf(files, path, maxBytes, { place, groupMayWrite: true }))

const readFileOf = async (files: NodeFilesService, path: string, maxBytes: number, rule: FileRule): Promise<TrustedRead> => {
  if (!HAS_NOFOLLOW) {
    const stats = await files.lstat(path).catch((error) => codeOf(error) === "ENOENT" ? undefined : Promise.reject(error))
    if (stats === undefined) return { _tag: "Missing" }
    if (stats.isSymbolicLink()) return symlinkRead(path, rule)
  }
  let handle: NodeFsPromises.FileHandle
  try {
    handle = await files.open(path, SAFE_READ_FLAGS)
  } catch (error) {
    if (codeOf(error) === "ENOENT") return { _tag: "Missing" }
    if (isLinkRefusal(error)) return symlinkRead(path, rule)
    if (codeOf(error) === "ENXIO") {
      // A socket (or a device without a driver) cannot be opened at all: say what it is.
      const refused = judged(path, entryOfStats(await files.lstat(path)), rule)
      if (refused !== undefined) return refused
    }
    throw error
  }
  try {
    const stats = await handle.stat()
    const refused = judged(path, entryOfStats(stats), rule)
    if (refused !== undefined) return refused
    if (stats.size > maxBytes) return { _tag: "TooLarge", bytes: stats.size }
    // Read what fstat reported: the store's files are replaced by rename, never grown in place.
    const bytes = new Uint8Array(stats.size)
    let filled = 0
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return {
      _tag: "Read",
      bytes: filled === bytes.length ? bytes : bytes.subarray(0, filled),
      mode: stats.mode,
      nlink: stats.nlink,
      modifiedAt: stats.mtime,
      signature: signatureOf(stats),
      changedAtMillis: stats.ctimeMs
    }
  } finally {
    await handle.close()
  }
}

/**
 * What is at `path`, for diagnostics: `stat` for the data folder (a link the user made to it is
 * followed, as the store does), `lstat` for a file in it (never followed). Undefined when missing.
 */
export const inspectEntry = (
  path: string,
  expected: "directory" | "file"
): Effect.Effect<{ readonly entry: EntryInfo; readonly problem: TrustProblem | undefined } | undefined, PlatformError.PlatformError> =>
  tryFs("stat", path, async () => {
    try {
      const stats = expected === "directory" ? await NodeFsPromises.stat(path) : await NodeFsPromises.lstat(path)
      const entry = entryOfStats(stats)
      return { entry, problem: trustProblem(path, expected, entry) }
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined
      throw error
    }
  })

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Sets the mode of the regular file at `path` through a descriptor opened without following
 * links (a link or a non-file there is left alone and reported). No-op on Windows.
 */
export const restrictMode = (path: string, mode: number): Effect.Effect<void, PlatformError.PlatformError> =>
  process.platform === "win32" ? Effect.void : tryFs("chmod", path, async (files) => {
    const handle = await files.open(path, SAFE_READ_FLAGS)
    try {
      const stats = await handle.stat()
      if (!stats.isFile()) throw Object.assign(new Error(`${NodePath.basename(path)} is not a regular file`), { code: "EINVAL" })
      if ((stats.mode & 0o7777) !== mode) await handle.chmod(mode)
    } finally {
      await handle.close()
    }
  })

/**
 * Copies `from` to a name that must not exist yet (COPYFILE_EXCL: an existing file or a planted
 * link there makes it fail instead of being written through), then sets `mode`.
 */
export const copyExclusive = (from: string, to: string, mode: number): Effect.Effect<void, PlatformError.PlatformError> =>
  tryFs("copyFile", to, (files) => files.copyFile(from, to, NodeFs.constants.COPYFILE_EXCL)).pipe(
    Effect.andThen(restrictMode(to, mode))
  )

/** lstat, undefined when missing. */
export const lstatEntry = (path: string): Effect.Effect<NodeFs.Stats | undefined, PlatformError.PlatformError> =>
  tryFs("stat", path, (files) => files.lstat(path).catch((error) => codeOf(error) === "ENOENT" ? undefined : Promise.reject(error)))

/** Removes a non-folder entry (unlink never follows a link and never removes a folder). Missing is fine. */
export const unlinkEntry = (path: string): Effect.Effect<void, PlatformError.PlatformError> =>
  tryFs("remove", path, (files) => files.unlink(path).catch((error) => codeOf(error) === "ENOENT" ? undefined : Promise.reject(error)))

/** Removes an empty folder. Missing is fine. */
export const removeEmptyDirectory = (path: string): Effect.Effect<void, PlatformError.PlatformError> =>
  tryFs("remove", path, (files) => files.rmdir(path).catch((error) => codeOf(error) === "ENOENT" ? undefined : Promise.reject(error)))
