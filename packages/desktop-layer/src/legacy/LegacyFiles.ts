/**
 * File access shared by the legacy sources: bounded JSON reads (a file another program or another
 * user wrote must never cost unbounded memory or blow the stack: the domain's JsonLimits check
 * size and nesting before parsing), atomic 0600 writes, removal, and the cross-process lock.
 * Every failure is typed; a refused file is reported by its source, never fatal to the others.
 */
import { Errors, JsonLimits } from "@fishbowl/domain"
import { Effect, FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import * as NodeFsPromises from "node:fs/promises"
import * as NodePath from "node:path"
import * as AtomicFile from "../AtomicFile.ts"
import * as FileLock from "../FileLock.ts"
import * as TrustedFile from "../TrustedFile.ts"

export type Raw = Record<string, unknown>

export const isRecord = (value: unknown): value is Raw => typeof value === "object" && value !== null && !Array.isArray(value)

export const hasOwn = (value: Raw, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/**
 * A legacy file as read: absent, refused (unreadable, a link, a FIFO or device, another
 * account's, too large, too deep, not JSON) or parsed. A refusal says why, and `fix` what the user
 * does when the generic "restore it from a backup" would be wrong (a link, a foreign file).
 */
export type LegacyJson =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Refused"; readonly reason: string; readonly text?: string; readonly fix?: string; readonly linkTarget?: string }
  | { readonly _tag: "Parsed"; readonly value: unknown; readonly text: string }

export const ioError = (action: "read" | "written" | "removed", path: string) => (error: PlatformError) =>
  new Errors.StorageInaccessible({
    message: `${NodePath.basename(path)} cannot be ${action} (${AtomicFile.errnoCode(error) ?? error.reason._tag})`,
    hint: `Check that your user can read and write ${NodePath.dirname(path)}, then run the migration again. Nothing was lost.`
  })

const utf8 = new TextDecoder("utf-8", { fatal: false })

/** What a link points to, as text (never followed); undefined when it cannot be read. */
const linkTargetOf = (path: string) =>
  Effect.tryPromise(() => NodeFsPromises.readlink(path)).pipe(
    Effect.map((target) => NodePath.resolve(NodePath.dirname(path), target)),
    Effect.orElseSucceed(() => undefined)
  )

/** A refusal of the trusted reader, worded for a folder we import from. */
const untrustedRead = (path: string, read: Extract<TrustedFile.TrustedRead, { _tag: "Untrusted" }>) =>
  Effect.gen(function*() {
    if (read.kind !== "symlink") return { _tag: "Refused", reason: read.problem.message, fix: read.problem.hint } as const
    const target = yield* linkTargetOf(path)
    const shown = target ?? "the file it points to"
    return {
      _tag: "Refused",
      reason: `it is a symbolic link${
        target !== undefined ? ` to ${target}` : ""
      }; Fishbowl does not follow links in a folder it imports from, so ${shown} is not read or changed`,
      fix:
        `Replace the link with a copy of its target (cp --remove-destination "${shown}" "${path}"), run the migration again, then delete the keys from ${shown} yourself. Nothing was changed.`,
      ...(target !== undefined ? { linkTarget: target } : {})
    } as const
  })

/**
 * Reads and parses `path` within the domain's bounds, through the same trusted reader as the
 * store's own files (TrustedFile.readForeign): the descriptor is opened without following links
 * and without blocking, its type and owner are checked on the open descriptor, and its size is
 * bounded before a byte is read. A refusal concerns this file only.
 */
export const readLegacyJson = (path: string): Effect.Effect<LegacyJson> =>
  Effect.gen(function*() {
    const read = yield* TrustedFile.readForeign(path, JsonLimits.MAX_DOCUMENT_BYTES, NodePath.dirname(path)).pipe(Effect.result)
    if (read._tag === "Failure") {
      return { _tag: "Refused", reason: `it cannot be read (${AtomicFile.errnoCode(read.failure) ?? read.failure.reason._tag})` } as const
    }
    const file = read.success
    switch (file._tag) {
      case "Missing":
        return file
      case "Untrusted":
        return yield* untrustedRead(path, file)
      case "TooLarge":
        return {
          _tag: "Refused",
          reason: JsonLimits.describeBoundedJsonFailure({ _tag: "TooLarge", bytes: file.bytes, maxBytes: JsonLimits.MAX_DOCUMENT_BYTES })
        } as const
      case "Read": {
        const text = utf8.decode(file.bytes).replace(/^\uFEFF/, "")
        const parsed = JsonLimits.parseBoundedJson(text, { bytes: file.bytes.length })
        return parsed._tag === "Parsed"
          ? { _tag: "Parsed", value: parsed.value, text } as const
          : {
            _tag: "Refused",
            reason: JsonLimits.describeBoundedJsonFailure(parsed.failure),
            ...(parsed.failure._tag === "NotJson" ? { text } : {})
          } as const
      }
    }
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

/**
 * Runs `effect` holding the cross-process lock on `target`: the same FileLock the preferences
 * store takes (so a dead or foreign lock is taken over here too). Under the migration lock the
 * writes are atomic and idempotent, so a lock lost while held costs at worst a redundant re-run.
 */
export const withFileLock = <A, E, R>(
  target: string,
  waitMillis: number,
  busy: () => Errors.StorageInaccessible,
  effect: Effect.Effect<A, E, R>
) =>
  FileLock.withLock(target, {
    staleMillis: 5000,
    waitMillis,
    busy,
    failed: (code) =>
      new Errors.StorageInaccessible({
        message: `${NodePath.basename(target)} cannot be locked (${code ?? "unknown error"})`,
        hint: `Check that your user can write ${NodePath.dirname(target)}.`
      })
  }, () => effect)
