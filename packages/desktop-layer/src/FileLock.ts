/**
 * The cross-process lock on a file, one for every writer (the preferences store and the
 * migration alike): a proper-lockfile lock folder `<target>.lock`, taken with jittered
 * exponential back-off (5 ms..100 ms) for at most `waitMillis`, stale after `staleMillis` and
 * refreshed by its holder every staleMillis/2.
 *
 * What cannot be a live lock is taken over, so a crash or a clock change never wedges Fishbowl:
 * - something at the lock path that is not a folder (a file, a link, a FIFO) is nobody's lock and
 *   is removed at once (unlink never follows a link and never removes a folder);
 * - a lock folder dated more than FUTURE_LOCK_SLACK_MILLIS ahead of the clock (the clock was set
 *   back after a crash) is never refreshed by a live holder; unchanged for
 *   FUTURE_LOCK_GRACE_MILLIS, it is removed, well within the 200 ms storage budget.
 * A lock lost while held (the machine slept past `staleMillis`) is reported by `check`, which a
 * writer calls before it commits anything.
 */
import { Errors } from "@fishbowl/domain"
import { Clock, Data, Duration, Effect, Schedule } from "effect"
import * as NodePath from "node:path"
import type * as Lockfile from "proper-lockfile"
import * as TrustedFile from "./TrustedFile.ts"

/** A lock time this far ahead of the clock cannot come from this machine's clock as it is now. */
const FUTURE_LOCK_SLACK_MILLIS = 2000
/** A future-dated lock left unchanged this long is not held by a live writer (they hold it for ms). */
const FUTURE_LOCK_GRACE_MILLIS = 50

export interface FileLockOptions {
  readonly staleMillis: number
  readonly waitMillis: number
  /** The error when another process still holds the lock after `waitMillis`. */
  readonly busy: () => Errors.StorageInaccessible
  /** The error when the lock cannot be taken for another reason (its errno code). */
  readonly failed: (code: string | undefined) => Errors.StorageInaccessible
}

/** What a holder can ask: fails when the lock was lost while held. */
export interface HeldLock {
  readonly check: Effect.Effect<void, Errors.StorageInaccessible>
}

/** What was last seen at a future-dated lock path (to tell a live holder from a dead lock). */
interface Seen {
  future?: { readonly ino: number; readonly mtimeMs: number; readonly since: number }
}

const notRemovable = (target: string, what: string) =>
  new Errors.StorageInaccessible({
    message: `${NodePath.basename(target)} cannot be written: ${NodePath.basename(target)}.lock is ${what} and could not be removed`,
    hint: `If no other Fishbowl window or CLI command is running, remove it: rm -r "${target}.lock". Nothing was changed.`
  })

/**
 * Called when taking the lock failed: removes what is at the lock path when it cannot be a live
 * lock (see the module comment). True when it did, so the caller retries at once.
 */
const takeOverDeadLock = (target: string, seen: Seen): Effect.Effect<boolean, Errors.StorageInaccessible> =>
  Effect.gen(function*() {
    const lockPath = `${target}.lock`
    const stats = yield* TrustedFile.lstatEntry(lockPath).pipe(Effect.orElseSucceed(() => undefined))
    if (stats === undefined) return false
    if (!stats.isDirectory()) {
      yield* TrustedFile.unlinkEntry(lockPath).pipe(Effect.mapError(() => notRemovable(target, "not a Fishbowl lock")))
      yield* Effect.logWarning(`${NodePath.basename(target)}: removed ${NodePath.basename(lockPath)}, which was not a lock folder`)
      return true
    }
    const now = yield* Clock.currentTimeMillis
    if (stats.mtimeMs <= now + FUTURE_LOCK_SLACK_MILLIS) {
      delete seen.future
      return false
    }
    const future = seen.future
    if (future === undefined || future.ino !== stats.ino || future.mtimeMs !== stats.mtimeMs) {
      seen.future = { ino: stats.ino, mtimeMs: stats.mtimeMs, since: now }
      return false
    }
    if (now - future.since < FUTURE_LOCK_GRACE_MILLIS) return false
    yield* TrustedFile.removeEmptyDirectory(lockPath).pipe(Effect.mapError(() => notRemovable(target, "dated in the future")))
    yield* Effect.logWarning(`${NodePath.basename(target)}: took over a lock dated in the future (the clock was set back)`)
    delete seen.future
    return true
  })

/** One attempt at the lock did not succeed: its errno code (`ELOCKED` while another holds it). */
class LockAttemptFailed extends Data.TaggedError("LockAttemptFailed")<{ readonly code: string | undefined }> {}

const codeOf = (cause: unknown): string | undefined => {
  const code = (cause as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

let lockfileModule: Promise<typeof Lockfile> | undefined
/**
 * proper-lockfile, loaded at the first lock: it loads signal-exit (and with it `assert`) and
 * patches `fs` through graceful-fs, which a command that only reads (`list`, `key`) need not pay.
 */
const loadLockfile = () => (lockfileModule ??= import("proper-lockfile"))

/** Where the lock's holder learns that proper-lockfile found its lock compromised while held. */
interface Compromise {
  lost: boolean
}

/**
 * One attempt: takes the lock, or takes over what cannot be a live lock and asks for a retry
 * at once (as ELOCKED), or fails with the attempt's code.
 */
const attemptLock = (target: string, staleMillis: number, seen: Seen, compromise: Compromise) =>
  Effect.tryPromise({
    try: async () =>
      (await loadLockfile()).lock(target, {
        realpath: false,
        stale: staleMillis,
        retries: 0,
        onCompromised: () => {
          compromise.lost = true
        }
      }),
    catch: (cause) => new LockAttemptFailed({ code: codeOf(cause) })
  }).pipe(
    Effect.catchTag("LockAttemptFailed", (failed) =>
      takeOverDeadLock(target, seen).pipe(
        Effect.flatMap((tookOver) => Effect.fail(tookOver ? new LockAttemptFailed({ code: "ELOCKED" }) : failed))
      ))
  )

/** Retries while another process holds the lock, for at most `waitMillis`. */
const retryWhileHeld = <A, R>(
  attempt: Effect.Effect<A, LockAttemptFailed | Errors.StorageInaccessible, R>,
  options: FileLockOptions
) =>
  Effect.retry(attempt, {
    while: (error) => error._tag === "LockAttemptFailed" && error.code === "ELOCKED",
    schedule: Schedule.exponential("5 millis", 1.5).pipe(
      Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.millis(100)))),
      Schedule.jittered,
      Schedule.upTo({ duration: Duration.millis(options.waitMillis) })
    )
  })

const lockLost = (target: string) =>
  new Errors.StorageInaccessible({
    message: `${NodePath.basename(target)} was not saved: the lock on it was lost (the system was too busy or asleep)`,
    hint: "Try again; another Fishbowl process may have changed the settings meanwhile."
  })

/** Runs `effect` holding the cross-process lock on `target` (see the module comment). */
export const withLock = <A, E, R>(
  target: string,
  options: FileLockOptions,
  effect: (lock: HeldLock) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | Errors.StorageInaccessible, R> =>
  Effect.scoped(Effect.gen(function*() {
    const compromise: Compromise = { lost: false }
    const seen: Seen = {}
    // Each attempt is uninterruptible and registers its release in the scope the moment it
    // succeeds, so an interrupted writer (e.g. a time budget) can never leak a held lock; the
    // waiting between attempts stays interruptible.
    const held = Effect.acquireRelease(
      attemptLock(target, options.staleMillis, seen, compromise),
      (release) => Effect.promise(() => release().catch(() => undefined))
    )
    yield* retryWhileHeld(held, options).pipe(
      Effect.catchTag(
        "LockAttemptFailed",
        (failed) => Effect.fail(failed.code === "ELOCKED" ? options.busy() : options.failed(failed.code))
      )
    )
    const check = Effect.suspend(() => compromise.lost ? Effect.fail(lockLost(target)) : Effect.void)
    return yield* effect({ check })
  }))
