/**
 * PreferencesStore on a JSON file: `<dataDir>/preferences.json`, mode 0600, folder 0700 when
 * Fishbowl creates it.
 *
 * File format: one JSON object, `{ ...otherSettings, "llm": { "version": 1, "configs": [...],
 * "journal": [...] } }`, written with 2-space indentation. Keys other than `llm` are kept
 * exactly (values and order; JSON itself limits this: integer-like keys come first in any JS
 * object, and numbers are re-written in canonical form, e.g. `1.50` -> `1.5`).
 *
 * Writes (`update`):
 * - serialised in this process by a semaphore per file path (shared by every store instance) and
 *   across processes by proper-lockfile (`preferences.json.lock` directory; stale after
 *   `staleMillis`, refreshed every staleMillis/2; waits with jittered exponential back-off
 *   5 ms..100 ms for at most `waitMillis`, then fails with StorageInaccessible);
 *   A lock path holding something that is not a lock (a file, a link, a FIFO) cannot be a live
 *   lock and is removed at once; a lock folder whose time is in the future (the clock was set back
 *   after a crash) is never refreshed by a live holder within FUTURE_LOCK_GRACE_MILLIS and is taken
 *   over then, well within the 200 ms storage budget;
 * - re-read the file under the lock (unless one lstat shows the very file this store last wrote,
 *   held open and unchanged: `makeWriteReuse`), apply `f`, and replace the file atomically
 *   (AtomicFile);
 * - an unchanged document is not rewritten; a document that could not be read back (over
 *   MAX_DOCUMENT_BYTES, nested over MAX_JSON_DEPTH, duplicate ids or names) is refused with
 *   Corrupted and nothing is written;
 * - backups: the current (valid) file is hard-linked — only when it is already 0600 with one link,
 *   so a backup never keeps a wider mode — or else copied (COPYFILE_EXCL, then 0600) to a fresh
 *   temp name before the rename; once the new file is in place `.bak.2` -> `.bak.3`, `.bak.1` ->
 *   `.bak.2`, staged -> `.bak.1` (the old `.bak.3` is dropped): the last 3 good generations. A
 *   failed write leaves the backups as they were. Only states with no unfinished change become
 *   backups (Restore: a restored copy never brings back an intent).
 *
 * Trust (TrustedFile): before reading or writing, the data folder and every file opened must be
 * the user's own, not writable by group or others, and a regular file; anything else is
 * StorageInaccessible with the exact fix, and is never read, renamed or quarantined. Files are
 * opened with O_NOFOLLOW | O_NONBLOCK; renames and removals never follow links; every file the
 * store writes (the file, backups, quarantined copies) ends 0600.
 *
 * Bad files (empty, not UTF-8, not JSON / truncated, larger than MAX_DOCUMENT_BYTES (refused from
 * fstat, never read), nested deeper than MAX_JSON_DEPTH, not an object, `llm` of the wrong shape,
 * two configurations with one id or one name, a newer `llm.version`) are never read as "no configs" and never overwritten: under the lock the
 * file is renamed to `preferences.json.corrupt-<UTC timestamp>` (kept, bytes unchanged), the
 * newest VALID (and trusted) backup is written back by the restore rule (Restore.over: no journal,
 * changed destinations ask for their key again, left-out configs named in the message), the quarantined file is set to 0600, and the call that found it (load or update) fails ONCE with
 * `Corrupted { quarantinedAs, restoredFrom }` so the UI can tell the user; later calls work on
 * the restored file. Without a valid backup the store starts empty and the error says so.
 *
 * Legacy content (an `llm` section without `version`, or configs holding an `apiKey`; see
 * legacy/PlaintextPreferences.ts) is neither quarantined nor rewritten — a rewrite would drop the
 * keys: load and update fail with `Unsupported` ("... need migrating") until Migration.migrate has
 * moved the configurations and keys out.
 *
 * Unreadable / unwritable storage (EACCES, EPERM, EIO, EROFS, ENOSPC, ...) is StorageInaccessible:
 * never emptiness, never corruption, nothing is quarantined. File contents are never logged nor
 * put into errors (not even JSON.parse messages, which quote the text).
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { Errors, JsonLimits, PreferencesDocument, PreferencesStore, Restore } from "@fishbowl/domain"
import { Clock, Effect, FileSystem, Layer, Predicate, Semaphore } from "effect"
import type { PlatformError } from "effect/PlatformError"
import * as NodeBuffer from "node:buffer"
import * as NodePath from "node:path"
import * as AtomicFile from "./AtomicFile.ts"
import * as Backups from "./Backups.ts"
import * as DataDir from "./DataDir.ts"
import * as FileLock from "./FileLock.ts"
import * as PlaintextPreferences from "./legacy/PlaintextPreferences.ts"
import * as OffThreadWrite from "./OffThreadWrite.ts"
import * as PreferencesText from "./PreferencesText.ts"
import * as RestoreNotices from "./RestoreNotices.ts"
import * as TrustedFile from "./TrustedFile.ts"

export interface JsonFilePreferencesStoreOptions {
  /** The data folder (see DataDir); the file is `<dataDir>/preferences.json`. */
  readonly dataDir: string
  /** How many previous good generations to keep as `.bak.1..n` (default 3). */
  readonly backups?: number
  /**
   * `.bak.1` is pushed down to `.bak.2` only when the state it holds was written at least this
   * long after the one in `.bak.2` (default one hour; 0: on every write). See `startsGeneration`.
   */
  readonly backupSpacingMillis?: number
  readonly lock?: {
    /** A lock not refreshed for this long belongs to a dead process and is taken over (default 5000, min 2000). */
    readonly staleMillis?: number
    /** How long to wait for another process's lock before failing (default 7000). */
    readonly waitMillis?: number
  }
  /**
   * When a damaged file is replaced by a good backup, let the operation succeed and report the
   * restore as a notice (`notices`) instead of failing once with Corrupted (see RestoreNotices).
   * The app and the CLI (DesktopLayer) turn this on.
   */
  readonly restoredAsNotice?: boolean
  /**
   * Do locked writes on a worker thread (OffThreadWrite), started by the first write (default
   * true). A process that writes once or twice (a CLI command) turns it off: starting the
   * thread costs it more than it saves.
   */
  readonly writeThread?: boolean
}

const FILE_MODE = 0o600
const DIRECTORY_MODE = 0o700
/** Default spacing of the backup generations `.bak.2..n` (see `startsGeneration`). */
const GENERATION_SPACING_MILLIS = 60 * 60 * 1000
/** Leftover temp files of crashed writers older than this are removed when a store is built. */
const ORPHAN_TEMP_AGE_MILLIS = 10 * 60 * 1000

// ---------------------------------------------------------------------------------------------
// Errors

const CODE_DESCRIPTIONS: Record<string, string> = {
  EACCES: "permission denied (EACCES)",
  EPERM: "operation not permitted (EPERM)",
  EROFS: "the disk is read-only (EROFS)",
  ENOSPC: "the disk is full (ENOSPC)",
  EDQUOT: "the disk quota is exceeded (EDQUOT)",
  EIO: "an input/output error (EIO)",
  EISDIR: "it is a folder, not a file (EISDIR)",
  ENOTDIR: "a part of its path is not a folder (ENOTDIR)",
  EMFILE: "too many open files (EMFILE)",
  ELOOP: "too many symbolic links (ELOOP)"
}

const hintFor = (code: string | undefined, directory: string): string => {
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `Make sure your user owns ${directory} and can read and write it (e.g. chmod u+rwx on the folder, u+rw on preferences.json). Nothing was changed.`
    case "ENOSPC":
    case "EDQUOT":
      return `Free some disk space on the drive holding ${directory}, then try again. Nothing was changed.`
    case "EROFS":
      return `${directory} is on a read-only disk; set FISHBOWL_DATA_DIR to a writable folder or remount it. Nothing was changed.`
    default:
      return `Check the disk and the folder ${directory}, then try again. Nothing was changed.`
  }
}

const inaccessibleWithCode = (action: "read" | "written", path: string, code: string | undefined, fallback: string) =>
  new Errors.StorageInaccessible({
    message: `${NodePath.basename(path)} cannot be ${action}: ${
      (code !== undefined ? CODE_DESCRIPTIONS[code] : undefined) ?? `the system reported ${code ?? fallback}`
    }`,
    hint: hintFor(code, NodePath.dirname(path))
  })

const inaccessible = (action: "read" | "written", path: string) => (error: PlatformError): Errors.StorageInaccessible =>
  inaccessibleWithCode(action, path, AtomicFile.errnoCode(error), error.reason._tag)

// ---------------------------------------------------------------------------------------------
// Reading and validating

export type FileState =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Valid"; readonly document: PreferencesDocument.PreferencesDocument; readonly text: string }
  /** `parsed`: the JSON when it parsed (a damaged file may still name configurations a restore leaves out). */
  | { readonly _tag: "Bad"; readonly problem: string; readonly newerVersion: boolean; readonly hint?: string; readonly parsed?: unknown }
  /** LLM configurations of an older Fishbowl (keys in the file): left untouched for Migration. */
  | { readonly _tag: "Legacy" }

/** One encoder for every write: building one costs more than encoding a whole settings file. */
const utf8Encoder = new TextEncoder()

/** The UTF-8 byte order mark Notepad puts first: not part of the text. */
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const

/**
 * The text of `bytes`, or undefined when they are not UTF-8: what a fatal TextDecoder gives
 * (one leading byte order mark dropped), at a fraction of its cost on a large file. Pure ASCII
 * (the usual settings file) is copied as Latin-1, which is the same text; anything else is
 * validated (`isUtf8`, the WHATWG rule the decoder applies) and then decoded.
 */
export const decodeUtf8 = (bytes: Uint8Array): string | undefined => {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (NodeBuffer.isAscii(buffer)) return buffer.toString("latin1")
  if (!NodeBuffer.isUtf8(buffer)) return undefined
  const bom = buffer.length >= 3 && UTF8_BOM.every((byte, index) => buffer[index] === byte)
  return buffer.toString("utf8", bom ? 3 : 0)
}

/** Classifies file bytes. Never echoes content: problems are fixed phrases. */
const classify = (bytes: Uint8Array): Effect.Effect<FileState> =>
  Effect.suspend(() => {
    if (bytes.length === 0) return Effect.succeed(bad("the file is empty"))
    const text = decodeUtf8(bytes)
    if (text === undefined) return Effect.succeed(bad("the file is not UTF-8 text"))
    const parsed = JsonLimits.parseBoundedJson(text, { bytes: bytes.length, iterativeParse: true })
    if (parsed._tag === "Refused") {
      return Effect.succeed(
        parsed.failure._tag === "NotJson"
          ? bad("the file is not valid JSON (it may be truncated)")
          : beyondBounds(JsonLimits.describeBoundedJsonFailure(parsed.failure))
      )
    }
    const json = parsed.value
    const problem = PreferencesDocument.documentShapeProblem(json)
    const object = json as { readonly [key: string]: unknown }
    if (problem !== undefined) {
      const llm = Predicate.isObject(json) ? (json as { readonly llm?: unknown }).llm : undefined
      const version = Predicate.isObject(llm) ? (llm as { readonly version?: unknown }).version : undefined
      return Effect.succeed(bad(problem, Predicate.isNumber(version) && version > PreferencesDocument.LLM_SECTION_VERSION, json))
    }
    if (PlaintextPreferences.isLegacyPreferences(json)) return Effect.succeed<FileState>({ _tag: "Legacy" })
    const llm: Effect.Effect<PreferencesDocument.LlmSection, unknown> = object["llm"] === undefined
      ? Effect.succeed(PreferencesDocument.emptyLlmSection)
      : PreferencesDocument.decodeLlmSection(object["llm"])
    return llm.pipe(
      Effect.match({
        onFailure: () => bad("the llm section does not have the expected layout", false, json),
        onSuccess: (section): FileState => {
          const whole = PreferencesDocument.llmSectionProblem(section)
          return whole !== undefined
            ? bad(`the llm section is inconsistent: ${whole}`, false, json)
            : { _tag: "Valid", document: PreferencesDocument.splitDocument(object, section), text }
        }
      })
    )
  })

const bad = (problem: string, newerVersion = false, parsed?: unknown): FileState => ({
  _tag: "Bad",
  problem,
  newerVersion,
  ...(parsed !== undefined ? { parsed } : {})
})

/** A file past the size or depth bound: Fishbowl never writes one, so it came from elsewhere. */
const beyondBounds = (why: string): FileState => ({
  _tag: "Bad",
  problem: `the file was refused unread: ${why}`,
  newerVersion: false,
  hint:
    `Fishbowl never writes a preferences file over ${JsonLimits.MAX_DOCUMENT_BYTES} bytes or nested over ${JsonLimits.MAX_JSON_DEPTH} levels, so another program wrote this one.`
})

/**
 * A settings file (preferences.json or one of its backups) judged as the store judges its own:
 * read only when trusted and within the size bound (TrustedFile.readTrusted: never a link, a FIFO
 * or another user's file), then classified. What was not read is `Skipped`, with why.
 */
export const readSettingsFile = (path: string): Effect.Effect<
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Skipped"; readonly why: string }
  | { readonly _tag: "Read"; readonly state: FileState; readonly bytes: Uint8Array; readonly modifiedAt: Date },
  PlatformError
> =>
  Effect.gen(function*() {
    const read = yield* TrustedFile.readTrusted(path, JsonLimits.MAX_DOCUMENT_BYTES)
    if (read._tag === "Missing") return read
    if (read._tag !== "Read") return { _tag: "Skipped" as const, why: read._tag === "Untrusted" ? read.problem.message : "too large" }
    return { _tag: "Read" as const, state: yield* classify(read.bytes), bytes: read.bytes, modifiedAt: read.modifiedAt }
  })

/** The exact text written for a document (also used to skip writes that change nothing). */
export const serializeDocument = (document: PreferencesDocument.PreferencesDocument): string => PreferencesText.serialize(document).text

/** `PreferencesText.serialize`, or undefined when JSON.stringify cannot (a setting nested thousands deep overflows the stack; a cycle). */
const serializeSafely = (document: PreferencesDocument.PreferencesDocument): PreferencesText.DocumentText | undefined => {
  try {
    return PreferencesText.serialize(document)
  } catch {
    return undefined
  }
}

/**
 * The bytes to write for `serialized` (the text of `document`), or why it must not be written:
 * what the reader would refuse, so that no write can make every later read fail. The llm
 * section's depth is fixed by its schema, so only the other settings need their depth measured.
 */
const checkWritable = (
  document: PreferencesDocument.PreferencesDocument,
  serialized: PreferencesText.DocumentText,
  /** The configurations as read (already checked as a whole): the same array needs no second check. */
  readConfigs: PreferencesDocument.LlmSection["configs"] | undefined
): { readonly _tag: "Refused"; readonly problem: string } | { readonly _tag: "Writable"; readonly bytes: Uint8Array } => {
  const whole = document.llm.configs === readConfigs ? undefined : PreferencesDocument.llmSectionProblem(document.llm)
  if (whole !== undefined) return { _tag: "Refused", problem: whole }
  const bytes = utf8Encoder.encode(serialized.text)
  if (bytes.length > JsonLimits.MAX_DOCUMENT_BYTES) {
    return {
      _tag: "Refused",
      problem: `the settings would take ${bytes.length} bytes, more than the ${JsonLimits.MAX_DOCUMENT_BYTES} bytes allowed`
    }
  }
  if (JsonLimits.jsonDepth(serialized.otherSettings, JsonLimits.MAX_JSON_DEPTH) > JsonLimits.MAX_JSON_DEPTH) {
    return { _tag: "Refused", problem: tooDeepToWrite }
  }
  return { _tag: "Writable", bytes }
}

const tooDeepToWrite = `a setting nests deeper than ${JsonLimits.MAX_JSON_DEPTH} levels (or contains itself)`

// ---------------------------------------------------------------------------------------------
// Process-wide semaphores, one per file, so every store instance in this process queues in memory
// instead of polling the cross-process lock.

const processLocks = new Map<string, Semaphore.Semaphore>()
const processLockFor = (path: string): Semaphore.Semaphore => {
  let semaphore = processLocks.get(path)
  if (semaphore === undefined) {
    semaphore = Semaphore.makeUnsafe(1)
    processLocks.set(path, semaphore)
  }
  return semaphore
}

// ---------------------------------------------------------------------------------------------
// The file a store instance last wrote, reused by its next update while the file proves unchanged.

/**
 * Per file, the one this process last wrote, held open (TrustedFile.holdFile) so that its inode
 * number cannot come back as another file's while an instance's record names it. Process-wide and
 * bounded: a file no longer pinned here is simply read again.
 */
const pinnedFiles = new Map<string, TrustedFile.HeldFile>()
const MAX_PINNED_FILES = 4

const pin = (path: string, held: TrustedFile.HeldFile | undefined) =>
  Effect.gen(function*() {
    const released: Array<TrustedFile.HeldFile> = []
    const previous = pinnedFiles.get(path)
    if (previous !== undefined) released.push(previous)
    pinnedFiles.delete(path)
    if (held !== undefined) pinnedFiles.set(path, held)
    for (const [oldest, file] of pinnedFiles) {
      if (pinnedFiles.size <= MAX_PINNED_FILES) break
      pinnedFiles.delete(oldest)
      released.push(file)
    }
    yield* Effect.forEach(released, (file) => file.release, { discard: true })
  })

interface Written {
  readonly signature: string
  readonly linkable: boolean
  readonly state: FileState & { readonly _tag: "Valid" }
}

/**
 * What one store instance last wrote (per instance, like its load cache: another instance reads
 * for itself). `unchanged`, holding the lock: that state when one lstat (with the folder's stat)
 * shows the signature of the file written, still pinned — which proves that the path names that
 * very file, unchanged (TrustedFile.holdFile says why; every other Fishbowl writer replaces the
 * file under the same lock by renaming a new one into place); else undefined, and the file is
 * read and checked in full. `remember`, still under the lock once a write is in place.
 */
const makeWriteReuse = (path: string, directory: string) => {
  let last: Written | undefined
  /** What was last written while it is still pinned, without looking at the file (the caller looks). */
  const known = (): Written | undefined => {
    const pinned = pinnedFiles.get(path)
    return last !== undefined && pinned?.signature === last.signature && pinned.isHeld?.() !== false ? last : undefined
  }
  const unchanged = Effect.gen(function*() {
    const written = last
    if (written === undefined || known() === undefined) return undefined
    const found = yield* TrustedFile.signatureIn(path, directory)
    if (found?.signature === written.signature) return { state: written.state as FileState, linkable: written.linkable }
    last = undefined
    return undefined
  })
  /** Records `held` (the file just written, open) as what this instance last wrote. */
  const keep = (held: TrustedFile.HeldFile | undefined, state: Written["state"]) => {
    last = held === undefined
      ? undefined
      : { signature: held.signature, linkable: (held.mode & 0o7777) === FILE_MODE && held.nlink === 1, state }
    return pin(path, held)
  }
  const remember = (state: Written["state"]) =>
    Effect.uninterruptible(Effect.flatMap(TrustedFile.holdFile(path), (held) => keep(held, state)))
  return { unchanged, remember, keep, known, forget: () => (last = undefined) }
}

/**
 * The state a read of `text` (the serialized `next`) gives back: `next`'s llm section (encoding
 * validated it) and its other settings as JSON returns them (only the other settings go through
 * JSON again; `llm` is dropped, as splitDocument drops it).
 */
const writtenState = (next: PreferencesDocument.PreferencesDocument, text: string): Written["state"] => {
  const { llm: _llm, ...other } = JSON.parse(JSON.stringify(next.other)) as { readonly [key: string]: unknown }
  return { _tag: "Valid", document: { llm: next.llm, other }, text }
}

// ---------------------------------------------------------------------------------------------

/**
 * The classification of the last bytes read. `classify` depends on the bytes alone, so a
 * byte-identical re-read (the common case: every list/get/getApiKey loads the file) reuses it
 * instead of parsing and schema-validating the whole document again. `Effect.cached` also makes
 * readers that arrive while it is still being classified (a burst after a write) wait for that one
 * run instead of each parsing the same bytes. Documents are immutable, so sharing one is safe.
 */
const makeClassifier = () => {
  let last: { readonly bytes: Uint8Array; readonly state: Effect.Effect<FileState> } | undefined
  return {
    classify: (bytes: Uint8Array): Effect.Effect<FileState> =>
      Effect.suspend(() => {
        const cached = last
        if (cached !== undefined && cached.bytes.length === bytes.length && Buffer.compare(cached.bytes, bytes) === 0) {
          return cached.state
        }
        return Effect.flatMap(Effect.cached(classify(bytes)), (state) => {
          last = { bytes, state }
          return state
        })
      }),
    /** What was just written is known valid: the next read of these bytes reuses it. */
    remember: (bytes: Uint8Array, state: FileState) => {
      last = { bytes, state: Effect.succeed(state) }
    }
  }
}

/** Newest backup that is trusted and valid, if any (a link, a FIFO or a foreign file is skipped unread). */
const newestValidBackup = (path: string, backupCount: number) =>
  Effect.gen(function*() {
    for (let generation = 1; generation <= backupCount; generation++) {
      const candidate = Backups.backupPath(path, generation)
      const file = yield* readSettingsFile(candidate).pipe(Effect.orElseSucceed(() => undefined))
      if (file === undefined || file._tag === "Missing") continue
      if (file._tag === "Skipped") {
        yield* Effect.logWarning(`${NodePath.basename(path)}: skipped ${NodePath.basename(candidate)} (${file.why})`)
        continue
      }
      if (file.state._tag === "Valid") return { path: candidate, document: file.state.document }
    }
    return undefined
  })

/** What a quarantine and restore tells the user: what happened, what is missing, and what to do. */
const quarantineWords = (
  path: string,
  found: FileState & { readonly _tag: "Bad" },
  quarantinedAs: string,
  restoredFrom: string | undefined,
  leftOutConfigs: ReadonlyArray<{ readonly name: string }>
) => {
  const fileName = NodePath.basename(path)
  const moved = `It was moved to ${NodePath.basename(quarantinedAs)}`
  const leftOut = leftOutConfigs.length === 0 ?
    "" :
    ` It still names ${
      [...new Set(leftOutConfigs.map((config) => `"${config.name}"`))].join(", ")
    }, which the copy does not have; their keys are still in your keychain, and \`fishbowl-llm doctor --fix\` (or "Bring back" in Storage health) returns them.`
  const message = restoredFrom !== undefined
    ? `${fileName} could not be used: ${found.problem}. ${moved} and the last good copy (${
      NodePath.basename(restoredFrom)
    }) was restored; changes saved after that copy are missing.${leftOut}`
    : `${fileName} could not be used: ${found.problem}. ${moved}; no valid backup was found, so Fishbowl starts with empty settings and no LLM configurations.`
  const hint = (found.hint !== undefined ? `${found.hint} ` : "") + (found.newerVersion
    ? `Update Fishbowl to use the newer settings: after updating, rename ${quarantinedAs} back to ${fileName}.`
    : restoredFrom !== undefined
    ? `Check your LLM configurations and settings. The damaged file is kept at ${quarantinedAs}.`
    : `Add your LLM configurations again (their keys may still be in the system keychain). The damaged file is kept at ${quarantinedAs}.`)
  return { message, hint }
}

/**
 * Backups are generations, not one per write. `.bak.1` always holds the state before the latest
 * write; it is pushed down to `.bak.2` (and the older ones after it, the oldest dropped) only when
 * the state it holds was written at least `spacingMillis` after the one in `.bak.2`, or there is
 * no `.bak.2` file. So `.bak.2..n` stay about an hour apart and a run of quick writes (three
 * `test` runs, a rename and back) replaces `.bak.1` alone instead of evicting every older state.
 * `newest`/`next`: the write times (mtime) of the states in `.bak.1`/`.bak.2`, undefined when
 * there is no such file.
 */
export const startsGeneration = (newest: number | undefined, next: number | undefined, spacingMillis: number): boolean =>
  newest !== undefined && (next === undefined || newest - next >= spacingMillis)

/** The write times of the states in `.bak.1` and `.bak.2` (undefined: none, or not a file). */
const newestGenerations = (path: string) =>
  Effect.all(
    [1, 2].map((generation) =>
      TrustedFile.lstatEntry(Backups.backupPath(path, generation)).pipe(
        Effect.map((stats) => stats?.isFile() === true ? stats.mtimeMs : undefined),
        Effect.orElseSucceed(() => undefined)
      )
    ),
    { concurrency: "unbounded" }
  )

/** The new file is saved; only the backup rotation failed: logged, without contents. */
const rotationFailed = (path: string, code: string) => Effect.logWarning(`${NodePath.basename(path)}: backup rotation failed (${code})`)

/** The renames that push the generations down when one starts (`.bak.n-1` -> `.bak.n` ... first), then `staged` -> `.bak.1`. */
const rotationRenames = (path: string, backupCount: number, staged: string, newGeneration: boolean) => {
  const renames: Array<readonly [string, string]> = []
  for (let generation = newGeneration ? backupCount - 1 : 0; generation >= 1; generation--) {
    renames.push([Backups.backupPath(path, generation), Backups.backupPath(path, generation + 1)])
  }
  renames.push([staged, Backups.backupPath(path, 1)])
  return renames
}

/**
 * After the rename: when a generation starts, `.bak.n-1` -> `.bak.n` ... `.bak.1` -> `.bak.2`;
 * then staged -> `.bak.1`. The new file is already saved, so a failure here only costs a backup:
 * it is logged (no contents).
 */
const promoteBackup = (fs: FileSystem.FileSystem, path: string, backupCount: number, staged: string, newGeneration: boolean) =>
  Effect.forEach(rotationRenames(path, backupCount, staged, newGeneration), ([from, to]) =>
    from === staged
      ? fs.rename(from, to)
      : fs.rename(from, to).pipe(Effect.catchReason("PlatformError", "NotFound", () => Effect.void)), { discard: true }).pipe(
      Effect.catch((error) =>
        Effect.andThen(
          Effect.ignore(fs.remove(staged, { force: true })),
          rotationFailed(path, AtomicFile.errnoCode(error) ?? error.reason._tag)
        )
      )
    )

/**
 * The backup steps around one write of `path`, which does not change meanwhile (the caller holds
 * the lock). `stage`, while the new file is written: the current file under a fresh temp name (an
 * orphan is cleaned up like any temp file), hard-linked (instant) when it is already 0600 with one
 * link, else (or when linking fails) copied without ever writing through an existing name
 * (COPYFILE_EXCL) and made 0600. `promote`, once the new file is in place and while the folder is
 * synced: uninterruptible, so a time budget firing right after the rename never leaves the staged
 * copy under its temp name. `discard`: the staged copy, when the write failed.
 */
const backupAroundWrite = (
  fs: FileSystem.FileSystem,
  path: string,
  options: { readonly backupCount: number; readonly linkable: boolean; readonly newGeneration: boolean }
) => {
  const staged = AtomicFile.tempPathFor(`${path}.bak`)
  return {
    stage: options.linkable
      ? fs.link(path, staged).pipe(Effect.catch(() => TrustedFile.copyExclusive(path, staged, FILE_MODE)))
      : TrustedFile.copyExclusive(path, staged, FILE_MODE),
    promote: Effect.uninterruptible(promoteBackup(fs, path, options.backupCount, staged, options.newGeneration)),
    discard: Effect.ignore(fs.remove(staged, { force: true }))
  }
}

/**
 * Removes temp files left by writers that crashed long ago (never a live writer's file), and only
 * in a folder this user may trust.
 */
const sweepOrphanTemps = (
  fs: FileSystem.FileSystem,
  path: string,
  checkFolder: (info: FileSystem.File.Info) => Effect.Effect<void, Errors.StorageInaccessible>
) => {
  const directory = NodePath.dirname(path)
  return fs.stat(directory).pipe(
    Effect.flatMap(checkFolder),
    Effect.andThen(fs.readDirectory(directory)),
    Effect.flatMap((names) =>
      Effect.forEach(names.filter((name) => AtomicFile.isTempFileOf(path, name)), (name) => {
        const temp = NodePath.join(directory, name)
        return Effect.all([fs.stat(temp), Clock.currentTimeMillis]).pipe(
          Effect.flatMap(([info, now]) =>
            info.mtime._tag === "Some" && now - info.mtime.value.getTime() > ORPHAN_TEMP_AGE_MILLIS
              ? fs.remove(temp, { force: true })
              : Effect.void
          )
        )
      }, { discard: true })
    ),
    Effect.ignore
  )
}

/** Holding the lock, with the file found bad: quarantine it, restore the newest valid backup, fail with Corrupted. */
const quarantineAndRestoreIn = (
  fs: FileSystem.FileSystem,
  path: string,
  backupCount: number,
  found: FileState & { readonly _tag: "Bad" }
) =>
  Effect.gen(function*() {
    const fileName = NodePath.basename(path)
    const directory = NodePath.dirname(path)
    const provideFs = Effect.provideService(FileSystem.FileSystem, fs)
    const quarantinedAs = yield* Backups.stampedPath(path, "corrupt", (candidate) =>
      fs.exists(candidate).pipe(Effect.orElseSucceed(() =>
        true
      )))
    yield* fs.rename(path, quarantinedAs).pipe(Effect.mapError(inaccessible("written", path)))
    // It was read as this user's regular file; it may have a wider mode than the store's files.
    yield* TrustedFile.restrictMode(quarantinedAs, FILE_MODE).pipe(
      Effect.catch((error) =>
        Effect.logWarning(
          `${fileName}: could not make ${NodePath.basename(quarantinedAs)} private (${AtomicFile.errnoCode(error) ?? error.reason._tag})`
        )
      )
    )
    const backup = yield* newestValidBackup(path, backupCount)
    // The restore rule (Restore): no journal of the copy survives, no key is touched, and what
    // the damaged file still names beyond the copy is reported as left out.
    const restored = backup !== undefined ? Restore.over(backup.document, Restore.configsIn(found.parsed)) : undefined
    if (restored !== undefined) {
      yield* AtomicFile.writeFileAtomic(path, utf8Encoder.encode(serializeDocument(restored.document)), {
        mode: FILE_MODE,
        directoryMode: DIRECTORY_MODE
      }).pipe(
        provideFs,
        Effect.mapError(inaccessible("written", path))
      )
    } else {
      yield* AtomicFile.fsyncDirectory(directory).pipe(provideFs, Effect.mapError(inaccessible("written", path)))
    }
    const { message, hint } = quarantineWords(path, found, quarantinedAs, backup?.path, restored?.leftOut ?? [])
    return yield* new Errors.Corrupted({
      message,
      hint,
      quarantinedAs,
      ...(backup !== undefined ? { restoredFrom: backup.path } : {})
    })
  })

/**
 * The file's state from what the trusted reader found. `linkable`: the file is already 0600 with
 * a single link, so a hard link to it is as private as a copy.
 */
const stateOfRead = (
  read: TrustedFile.TrustedRead,
  classifyBytes: (bytes: Uint8Array) => Effect.Effect<FileState>
): Effect.Effect<{ readonly state: FileState; readonly linkable: boolean }, Errors.StorageInaccessible> => {
  switch (read._tag) {
    case "Missing":
      return Effect.succeed({ state: { _tag: "Missing" } as FileState, linkable: false })
    case "Untrusted":
      return Effect.fail(TrustedFile.untrusted(read.problem))
    case "TooLarge":
      return Effect.succeed({
        state: beyondBounds(
          JsonLimits.describeBoundedJsonFailure({ _tag: "TooLarge", bytes: read.bytes, maxBytes: JsonLimits.MAX_DOCUMENT_BYTES })
        ),
        linkable: false
      })
    case "Read":
      return Effect.map(classifyBytes(read.bytes), (state) => ({ state, linkable: (read.mode & 0o7777) === FILE_MODE && read.nlink === 1 }))
  }
}

/** Longer than any kernel's file-time tick (a jiffy: 1-10 ms) with room for a loaded machine. */
const RACY_CHANGE_MILLIS = 100

/**
 * The document a load last read, with the signature of the file it was read from (fstat of the
 * descriptor, before its bytes were read; no lstat of its own before a first read): while one
 * lstat shows the same signature, the path names that file and it holds what was read (a change
 * during the read changes its ctime, so the next load reads again). A file changed less than
 * RACY_CHANGE_MILLIS before the read began is not remembered: file times tick by the kernel's
 * coarse clock, so a second same-size write within that tick would keep the signature (git's
 * "racy clean" rule).
 */
const makeLoadReuse = (path: string, directory: string) => {
  let last: { readonly signature: string; readonly document: PreferencesDocument.PreferencesDocument } | undefined
  /** The document last read while one lstat shows the same signature (nothing to look at before a first read). */
  const check = Effect.suspend(() => {
    const remembered = last
    if (remembered === undefined) return Effect.undefined
    return Effect.map(
      TrustedFile.signatureIn(path, directory),
      (found) => found?.signature === remembered.signature ? remembered.document : undefined
    )
  })
  /**
   * After a full read that began at `startedAt`: remember it under the signature of the
   * descriptor it was read from (fstat before the bytes were read), or forget when the file was
   * too fresh or the read did not say.
   */
  const keep = (
    startedAt: number,
    read: { readonly signature: string; readonly changedAtMillis: number } | undefined,
    document: PreferencesDocument.PreferencesDocument
  ) => {
    last = read !== undefined && startedAt - read.changedAtMillis > RACY_CHANGE_MILLIS
      ? { signature: read.signature, document }
      : undefined
  }
  return { check, keep }
}

// ---------------------------------------------------------------------------------------------
// One write, on either path

/** What an update asks: the new document (and its result) from the current one. */
type UpdateFunction<A, E> = (
  document: PreferencesDocument.PreferencesDocument
) => Effect.Effect<readonly [A, PreferencesDocument.PreferencesDocument], E>

interface WriteRules {
  readonly backupCount: number
  readonly backupSpacingMillis: number
}

/** A write decided: nothing to write (the same text), or the bytes, the state they give and whether (how) to back up. */
type WritePlan<A> =
  | { readonly _tag: "Same"; readonly result: A }
  | {
    readonly _tag: "Write"
    readonly result: A
    readonly bytes: Uint8Array
    readonly written: Written["state"]
    /** undefined: no backup (no backups kept, or the current state holds an unfinished change). */
    readonly newGeneration: boolean | undefined
  }

/**
 * Runs `f` on `state` (the file under the lock) and decides the write: refused when the document
 * cannot be written (WriteRefused, nothing changed). `generations`: the write times of `.bak.1`
 * and `.bak.2` (`startsGeneration`).
 */
const prepareWrite = <A, E>(
  f: UpdateFunction<A, E>,
  state: FileState,
  generations: ReadonlyArray<number | undefined>,
  rules: WriteRules
): Effect.Effect<WritePlan<A>, E | Errors.WriteRefused> =>
  Effect.gen(function*() {
    const [result, next] = yield* f(state._tag === "Valid" ? state.document : PreferencesDocument.emptyDocument)
    const serialized = serializeSafely(next)
    const text = serialized?.text
    if (text !== undefined && state._tag === "Valid" && state.text === text) return { _tag: "Same", result } as const
    const writable = serialized === undefined
      ? { _tag: "Refused" as const, problem: tooDeepToWrite }
      : checkWritable(next, serialized, state._tag === "Valid" ? state.document.llm.configs : undefined)
    if (writable._tag === "Refused") {
      return yield* new Errors.WriteRefused({
        message: `${DataDir.PREFERENCES_FILE_NAME} was not saved: ${writable.problem}.`,
        hint: "Nothing was changed; the saved settings are as they were. Undo the change that caused this and try again."
      })
    }
    // Backups hold only states with no unfinished change: a restored copy never brings back an
    // intent whose operation has finished since (Restore).
    const keepBackup = state._tag === "Valid" && rules.backupCount > 0 && state.document.llm.journal.length === 0
    // What is written is known to be valid (encoding validated it, checkWritable bounded it): the
    // next update reuses it while the file proves unchanged, the next read of these bytes instead
    // of parsing and checking them again.
    return {
      _tag: "Write",
      result,
      bytes: writable.bytes,
      written: writtenState(next, text!),
      newGeneration: keepBackup ? startsGeneration(generations[0], generations[1], rules.backupSpacingMillis) : undefined
    } as const
  })

/** The write time of a backup generation an lstat found (undefined: none, or not a file). */
const generationTime = (look: OffThreadWrite.Look) =>
  look._tag === "Found" && TrustedFile.entryOfFigures(look.stats).kind === "file" ? look.stats.mtimeMs : undefined

/** The update was not taken by the worker: the store's other path does it. */
const NOT_TAKEN = undefined

/**
 * The write on the worker thread (OffThreadWrite), taken only while the file is the one this
 * instance last wrote, still pinned: the worker takes the lock and looks in one message, `f` runs
 * on the remembered state once the look proves it current (the same proof the other path uses),
 * and the worker writes, syncs, rotates the backups, keeps the new file open and releases the
 * lock in a second. Undefined when not taken: the worker is not ready, the lock is held, the file
 * or the folder is not as expected, or a step before the rename failed (nothing was written; the
 * other path does it again and words its error). The caller holds the semaphore.
 */
const makeOffThreadUpdate = (context: {
  readonly path: string
  readonly directory: string
  readonly staleMillis: number
  readonly backupCount: number
  readonly writeRules: WriteRules
  readonly lastWrite: ReturnType<typeof makeWriteReuse>
  readonly classifier: ReturnType<typeof makeClassifier>
  /** The folder's owner and mode when the store last judged it trusted (OffThreadWrite.BeginRequest). */
  readonly trustedFolder: () => { readonly uid: number; readonly mode: number } | undefined
}) => {
  const { path, directory, staleMillis, backupCount, writeRules, lastWrite, classifier, trustedFolder } = context
  const lock = `${path}.lock`
  const backups = backupCount > 0 ? [Backups.backupPath(path, 1), Backups.backupPath(path, 2)] : []

  /** Whether what the worker saw under the lock is the state remembered (folder trusted, file unchanged). */
  const proven = (begun: OffThreadWrite.BeginReply & { readonly locked: true }, known: Written) =>
    begun.folder._tag === "Found" &&
    TrustedFile.trustProblem(directory, "directory", TrustedFile.entryOfFigures(begun.folder.stats)) === undefined &&
    begun.file._tag === "Found" &&
    TrustedFile.signatureOf(begun.file.stats) === known.signature &&
    lastWrite.known() === known

  /** After the rename: the new file pinned, its bytes remembered, a failed rotation logged, a failed folder sync reported. */
  const settle = (
    writer: OffThreadWrite.Writer,
    reply: OffThreadWrite.CommitReply & { readonly written: true },
    plan: WritePlan<unknown> & { readonly _tag: "Write" }
  ) =>
    Effect.gen(function*() {
      const held = reply.held === undefined ? undefined : writer.held(reply.held, TrustedFile.signatureOf(reply.held.stats))
      yield* lastWrite.keep(held, plan.written)
      classifier.remember(plan.bytes, plan.written)
      if (reply.rotationCode !== undefined) yield* rotationFailed(path, reply.rotationCode)
      if (reply.syncCode !== undefined) {
        return yield* inaccessibleWithCode("written", path, reply.syncCode, "an unknown error")
      }
    })

  const commit = (writer: OffThreadWrite.Writer, plan: WritePlan<unknown> & { readonly _tag: "Write" }) => {
    const staged = AtomicFile.tempPathFor(`${path}.bak`)
    return writer.commit({
      lock,
      staleMillis,
      folder: directory,
      path,
      temp: AtomicFile.tempPathFor(path),
      flags: AtomicFile.TEMP_FILE_FLAGS,
      mode: FILE_MODE,
      bytes: plan.bytes,
      ...(plan.newGeneration !== undefined
        ? {
          backup: { staged, renames: rotationRenames(path, backupCount, staged, plan.newGeneration) }
        }
        : {}),
      ignoredSyncCodes: [...AtomicFile.IGNORED_DIRECTORY_SYNC_ERRORS]
    }).pipe(
      // The thread ended mid-write: whether the file was replaced is unknown, so nothing is remembered.
      Effect.catchTag("WorkerEnded", (ended) => {
        lastWrite.forget()
        return Effect.fail(
          new Errors.StorageInaccessible({
            message: `${NodePath.basename(path)} may or may not have been saved: the thread writing it ended (${ended.reason})`,
            hint: "Look at your settings again to see whether the change is there, and make it again if it is not."
          })
        )
      })
    )
  }

  return <A, E>(f: UpdateFunction<A, E>): Effect.Effect<{ readonly result: A } | undefined, E | Errors.PreferencesStoreError> =>
    Effect.suspend(() => {
      const known = lastWrite.known()
      const trusted = trustedFolder()
      const writer = known === undefined || trusted === undefined ? undefined : OffThreadWrite.writer()
      if (known === undefined || trusted === undefined || writer === undefined) return Effect.succeed(NOT_TAKEN)
      const session = { open: false, lockedAt: 0 }
      const begin = Effect.gen(function*() {
        session.lockedAt = yield* Clock.currentTimeMillis
        const begun = yield* writer.begin({ lock, folder: directory, trusted, path, others: backups })
        session.open = begun.locked
        return begun
      }).pipe(Effect.uninterruptible)
      const use = (begun: OffThreadWrite.BeginReply) =>
        Effect.gen(function*() {
          if (!begun.locked || !proven(begun, known)) return NOT_TAKEN
          // `f` runs at most once here: every reason to hand over is checked before it; after it,
          // only a failed write step (the other path meets it again) or a lost lock hands over
          const heldFor = (yield* Clock.currentTimeMillis) - session.lockedAt
          // a backup is staged as a hard link, so only of a private file with one link (else copied, by the other path)
          if (heldFor > staleMillis / 4 || (backupCount > 0 && !known.linkable)) return NOT_TAKEN
          const plan = yield* prepareWrite(f, known.state, begun.others.map(generationTime), writeRules)
          if (plan._tag === "Same") return { result: plan.result }
          // the commit releases the lock whatever happens; once the file is replaced, the new one
          // is pinned before anything can interrupt
          const written = yield* Effect.uninterruptible(Effect.suspend(() => {
            session.open = false
            return Effect.flatMap(
              commit(writer, plan),
              (reply) => reply.written ? Effect.as(settle(writer, reply, plan), true) : Effect.succeed(false)
            )
          }))
          return written ? { result: plan.result } : NOT_TAKEN
        })
      return Effect.acquireUseRelease(
        Effect.catchTag(begin, "WorkerEnded", () => Effect.succeed(undefined)),
        (begun) => begun === undefined ? Effect.succeed(NOT_TAKEN) : use(begun),
        () => session.open ? Effect.ignore(writer.release(lock, staleMillis)) : Effect.void
      )
    })
}

/** The lock's words for preferences.json: who holds it and how to clear a dead one. */
const preferencesLockOptions = (path: string, staleMillis: number, waitMillis: number): FileLock.FileLockOptions => ({
  staleMillis,
  waitMillis,
  busy: () =>
    new Errors.StorageInaccessible({
      message: `${NodePath.basename(path)} is locked by another Fishbowl process (waited ${waitMillis} ms)`,
      hint:
        `Close other Fishbowl windows or CLI commands and try again. If none is running, delete the folder ${path}.lock (it is taken over automatically after ${staleMillis} ms).`
    }),
  failed: (code) => inaccessibleWithCode("written", path, code, "an unknown error")
})

/** Builds the store; needs a FileSystem (NodeFileSystem.layer in production, a faulty one in tests). */
export const make = Effect.fnUntraced(function*(options: JsonFilePreferencesStoreOptions) {
  const fs = yield* FileSystem.FileSystem
  const path = NodePath.resolve(DataDir.preferencesPath(options.dataDir))
  const directory = NodePath.dirname(path)
  const backupCount = Math.max(0, options.backups ?? 3)
  const backupSpacingMillis = Math.max(0, options.backupSpacingMillis ?? GENERATION_SPACING_MILLIS)
  const staleMillis = Math.max(2000, options.lock?.staleMillis ?? 5000)
  const waitMillis = Math.max(0, options.lock?.waitMillis ?? 7000)
  const semaphore = processLockFor(path)
  const provideFs = Effect.provideService(FileSystem.FileSystem, fs)

  const classifier = makeClassifier()
  const classifyCached = classifier.classify
  const writeRules: WriteRules = { backupCount, backupSpacingMillis }

  /** The folder's owner and mode when `checkFolder` last found it trusted. */
  let trustedFolder: { readonly uid: number; readonly mode: number } | undefined
  /** Fails unless the data folder may be trusted (TrustedFile.trustProblem). */
  const checkFolder = (info: FileSystem.File.Info): Effect.Effect<void, Errors.StorageInaccessible> => {
    const entry = TrustedFile.entryOfInfo(info)
    const problem = TrustedFile.trustProblem(directory, "directory", entry)
    trustedFolder = problem === undefined && entry.uid !== undefined ? { uid: entry.uid, mode: entry.mode & 0o7777 } : undefined
    return problem === undefined ? Effect.void : Effect.fail(TrustedFile.untrusted(problem))
  }
  /**
   * The file's state, read only once the folder and the file are trusted. `linkable`: the file is
   * already 0600 with a single link, so a hard link to it is as private as a copy. `read`: what
   * was read, with its signature (a file that was read at all).
   */
  const readState = TrustedFile.readTrusted(path, JsonLimits.MAX_DOCUMENT_BYTES, directory).pipe(
    Effect.mapError(inaccessible("read", path)),
    Effect.flatMap((read) =>
      Effect.map(stateOfRead(read, classifyCached), (found) => ({ ...found, read: read._tag === "Read" ? read : undefined }))
    )
  )

  /** Runs `effect` holding the cross-process file lock (FileLock); the caller holds the semaphore. */
  const lockedSection = <A, E>(
    effect: (lock: { readonly check: Effect.Effect<void, Errors.StorageInaccessible> }) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | Errors.StorageInaccessible> =>
    Effect.gen(function*() {
      const folder = yield* AtomicFile.ensureDirectory(directory, DIRECTORY_MODE).pipe(
        provideFs,
        Effect.mapError(inaccessible("written", path))
      )
      yield* checkFolder(folder.info)
      return yield* FileLock.withLock(path, preferencesLockOptions(path, staleMillis, waitMillis), effect)
    })
  /** Runs `effect` holding the in-process semaphore and the cross-process file lock (FileLock). */
  const exclusive = <A, E>(
    effect: (lock: { readonly check: Effect.Effect<void, Errors.StorageInaccessible> }) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | Errors.StorageInaccessible> => semaphore.withPermits(1)(lockedSection(effect))

  const quarantineAndRestore = (found: FileState & { readonly _tag: "Bad" }) => quarantineAndRestoreIn(fs, path, backupCount, found)

  /** Under the lock: the current document; a bad file is quarantined and restored (failing once). */
  const readForWrite = Effect.gen(function*() {
    const read = yield* readState
    const state = read.state
    if (state._tag === "Bad") return yield* quarantineAndRestore(state)
    if (state._tag === "Legacy") return yield* PlaintextPreferences.legacyPreferencesError(path)
    return { state, linkable: read.linkable }
  })

  const lastWrite = makeWriteReuse(path, directory)
  /** Under the lock: the file as this store last wrote it when it proves unchanged, else read in full. */
  const readForUpdate = Effect.flatMap(lastWrite.unchanged, (known) => known !== undefined ? Effect.succeed(known) : readForWrite)

  const lastLoad = makeLoadReuse(path, directory)

  const load: Effect.Effect<PreferencesDocument.PreferencesDocument, Errors.PreferencesStoreError> = Effect.gen(function*() {
    const reused = yield* lastLoad.check
    if (reused !== undefined) return reused
    const startedAt = yield* Clock.currentTimeMillis
    const { state, read } = yield* readState
    if (state._tag === "Valid") {
      lastLoad.keep(startedAt, read, state.document)
      return state.document
    }
    if (state._tag === "Missing") return PreferencesDocument.emptyDocument
    if (state._tag === "Legacy") return yield* PlaintextPreferences.legacyPreferencesError(path)
    // Bad: quarantine and restore under the lock (re-reading first: another process may have done it).
    const repaired = (yield* exclusive(() => readForWrite)).state
    return repaired._tag === "Valid" ? repaired.document : PreferencesDocument.emptyDocument
  }).pipe(Effect.withSpan("JsonFilePreferencesStore.load"))

  /** The write under FileLock, from the file as read (or proven unchanged) under it. */
  const lockedUpdate = <A, E>(f: UpdateFunction<A, E>): Effect.Effect<A, E | Errors.PreferencesStoreError> =>
    lockedSection(({ check }) =>
      Effect.gen(function*() {
        // the backups' ages are read beside the file (no extra wait): they decide the rotation below
        const [{ state, linkable }, generations] = yield* Effect.all(
          [readForUpdate, backupCount > 0 ? newestGenerations(path) : Effect.succeed([undefined, undefined])],
          { concurrency: "unbounded" }
        )
        const plan = yield* prepareWrite(f, state, generations, writeRules)
        if (plan._tag === "Same") return plan.result
        const backup = plan.newGeneration !== undefined
          ? backupAroundWrite(fs, path, { backupCount, linkable, newGeneration: plan.newGeneration })
          : undefined
        const remember = lastWrite.remember(plan.written)
        yield* AtomicFile.writeFileAtomic<Errors.StorageInaccessible | PlatformError>(path, plan.bytes, {
          mode: FILE_MODE,
          directoryEnsured: true,
          beforeRename: check,
          afterRename: backup !== undefined ? Effect.all([backup.promote, remember], { concurrency: 2, discard: true }) : remember,
          ...(backup !== undefined ? { whileWriting: backup.stage } : {})
        }).pipe(
          Effect.onError(() => backup?.discard ?? Effect.void),
          provideFs,
          Effect.mapError((error) => error._tag === "PlatformError" ? inaccessible("written", path)(error) : error)
        )
        classifier.remember(plan.bytes, plan.written)
        return plan.result
      })
    )

  const offThread = options.writeThread === false ? () => Effect.succeed(NOT_TAKEN) : makeOffThreadUpdate({
    path,
    directory,
    staleMillis,
    backupCount,
    writeRules,
    lastWrite,
    classifier,
    trustedFolder: () => trustedFolder
  })

  const update = <A, E>(f: UpdateFunction<A, E>): Effect.Effect<A, E | Errors.PreferencesStoreError> =>
    semaphore.withPermits(1)(
      Effect.flatMap(offThread(f), (done) => done !== undefined ? Effect.succeed(done.result) : lockedUpdate(f))
    ).pipe(Effect.withSpan("JsonFilePreferencesStore.update"))

  yield* sweepOrphanTemps(fs, path, checkFolder)

  if (options.restoredAsNotice === true) {
    const notices = yield* RestoreNotices.make
    return PreferencesStore.PreferencesStore.of(
      {
        load: notices.noticing(load),
        update: (f) => notices.noticing(update(f)),
        location: path,
        notices: notices.port
      } satisfies PreferencesStore.PreferencesStoreService
    )
  }
  return PreferencesStore.PreferencesStore.of({ load, update, location: path } satisfies PreferencesStore.PreferencesStoreService)
})

/** The store on `<dataDir>/preferences.json`, using a FileSystem from the context. */
export const layerWithFileSystem = (
  options: JsonFilePreferencesStoreOptions
): Layer.Layer<PreferencesStore.PreferencesStore, never, FileSystem.FileSystem> =>
  Layer.effect(PreferencesStore.PreferencesStore, make(options))

/** The store on `<dataDir>/preferences.json` over Node's file system. */
export const layer = (options: JsonFilePreferencesStoreOptions): Layer.Layer<PreferencesStore.PreferencesStore> =>
  layerWithFileSystem(options).pipe(Layer.provide(NodeFileSystem.layer))
