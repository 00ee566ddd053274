/**
 * File access shared by the legacy sources: bounded JSON reads (a file another program or another
 * user wrote must never cost unbounded memory or blow the stack: the domain's JsonLimits check
 * size and nesting before parsing), atomic 0600 writes, removal, and the cross-process lock.
 * Every failure is typed; a refused file is reported by its source, never fatal to the others.
 */
import { Errors, JsonLimits } from "@fishbowl/domain"
import * as AtomicFile from "../AtomicFile.ts"
import { Clock, Effect, FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import * as NodePath from "node:path"
import * as lockfile from "proper-lockfile"

export type Raw = Record<string, unknown>

export const isRecord = (value: unknown): value is Raw =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const hasOwn = (value: Raw, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** A legacy file as read: absent, refused (unreadable, too large, too deep, not JSON) or parsed. */
export type LegacyJson =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Refused"; readonly reason: string; readonly text?: string }
  | { readonly _tag: "Parsed"; readonly value: unknown; readonly text: string }

export const ioError = (action: "read" | "written" | "removed", path: string) => (error: PlatformError) =>
  new Errors.StorageInaccessible({
    message: `${NodePath.basename(path)} cannot be ${action} (${AtomicFile.errnoCode(error) ?? error.reason._tag})`,
    hint: `Check that your user can read and write ${NodePath.dirname(path)}, then run the migration again. Nothing was lost.`
  })

const utf8 = new TextDecoder("utf-8", { fatal: false })

/**
 * Reads and parses `path` within the domain's bounds. Only regular files are read (a FIFO would
 * block, a directory is not a file); the size is checked before the bytes are read.
 */
export const readLegacyJson = (path: string): Effect.Effect<LegacyJson, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(path).pipe(Effect.result)
    if (info._tag === "Failure") {
      return info.failure.reason._tag === "NotFound"
        ? { _tag: "Missing" } as const
        : { _tag: "Refused", reason: `it cannot be read (${AtomicFile.errnoCode(info.failure) ?? info.failure.reason._tag})` } as const
    }
    if (info.success.type !== "File") return { _tag: "Refused", reason: `it is not a regular file (${info.success.type})` } as const
    const size = Number(info.success.size)
    if (size > JsonLimits.MAX_DOCUMENT_BYTES) {
      return { _tag: "Refused", reason: JsonLimits.describeBoundedJsonFailure({ _tag: "TooLarge", bytes: size, maxBytes: JsonLimits.MAX_DOCUMENT_BYTES }) } as const
    }
    const bytes = yield* fs.readFile(path).pipe(Effect.result)
    if (bytes._tag === "Failure") {
      return bytes.failure.reason._tag === "NotFound"
        ? { _tag: "Missing" } as const
        : { _tag: "Refused", reason: `it cannot be read (${AtomicFile.errnoCode(bytes.failure) ?? bytes.failure.reason._tag})` } as const
    }
    const text = utf8.decode(bytes.success).replace(/^\uFEFF/, "")
    const parsed = JsonLimits.parseBoundedJson(text, { bytes: bytes.success.length })
    return parsed._tag === "Parsed"
      ? { _tag: "Parsed", value: parsed.value, text } as const
      : { _tag: "Refused", reason: JsonLimits.describeBoundedJsonFailure(parsed.failure), ...(parsed.failure._tag === "NotJson" ? { text } : {}) } as const
  })

export const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

export const writeAtomic = (path: string, text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* AtomicFile.writeFileAtomic(path, text, { mode: 0o600 }).pipe(
      Effect.provideService(FileSystem.FileSystem, fs),
      Effect.mapError(ioError("written", path))
    )
  })

export const removeFile = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.remove(path, { force: true }).pipe(Effect.mapError(ioError("removed", path)))
  })

export const listFolder = (dir: string): Effect.Effect<ReadonlyArray<string>, Errors.StorageInaccessible, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.readDirectory(dir).pipe(
      Effect.catchReason("PlatformError", "NotFound", () => Effect.succeed([] as Array<string>)),
      Effect.mapError(ioError("read", dir))
    )
  })

/** Runs `effect` holding a proper-lockfile lock on `target` (the same kind JsonFilePreferencesStore uses). */
export const withFileLock = <A, E, R>(
  target: string,
  waitMillis: number,
  busy: () => Errors.StorageInaccessible,
  effect: Effect.Effect<A, E, R>
) =>
  Effect.scoped(Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + waitMillis
    let delay = 5
    for (;;) {
      const attempt = yield* Effect.acquireRelease(
        Effect.tryPromise({
          // A compromised lock (e.g. the machine slept) must not throw from a timer; the writes
          // under it are atomic and idempotent, so the worst case is a redundant re-run.
          try: () => lockfile.lock(target, { realpath: false, stale: 5000, retries: 0, onCompromised: () => undefined }),
          catch: (error) => error as NodeJS.ErrnoException
        }).pipe(Effect.result),
        (result) => result._tag === "Success" ? Effect.promise(() => result.success().catch(() => undefined)) : Effect.void
      )
      if (attempt._tag === "Success") break
      if (attempt.failure.code !== "ELOCKED") {
        return yield* new Errors.StorageInaccessible({
          message: `${NodePath.basename(target)} cannot be locked (${attempt.failure.code ?? "unknown error"})`,
          hint: `Check that your user can write ${NodePath.dirname(target)}.`
        })
      }
      if ((yield* Clock.currentTimeMillis) >= deadline) return yield* Effect.fail(busy())
      yield* Effect.sleep(delay)
      delay = Math.min(100, Math.round(delay * 1.5))
    }
    return yield* effect
  }))
