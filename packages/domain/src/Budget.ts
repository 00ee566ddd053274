/**
 * Time budgets. Storage operations must answer within 200 ms and key retrieval within 100 ms so
 * the UI never waits on a hung keychain; a miss becomes a typed `Timeout`. The store's journal
 * keeps data consistent when the operation itself finishes later.
 */
import { Duration, Effect, Fiber } from "effect"
import * as Errors from "./Errors.ts"

export const budgets = {
  storageMillis: 200,
  keyRetrievalMillis: 100,
  /** User-initiated unlock/permission prompts wait for a human. */
  authorizeMillis: 60_000
} as const

export type Budgets = { readonly [K in keyof typeof budgets]: number }

/**
 * Runs `effect` under a budget. The effect runs in a detached fiber, so a timeout answers at once
 * while an uninterruptible journaled operation completes in the background instead of being torn.
 */
export const withBudget = (operation: string, millis: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.forkDetach(effect), (fiber) =>
    Fiber.join(fiber).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(millis),
        orElse: () =>
          Effect.fail(
            new Errors.Timeout({
              operation,
              budgetMillis: millis,
              message: `${operation} did not finish within ${millis} ms`,
              hint: "The keychain or disk is slow to answer. Try again; if it persists, run diagnostics."
            })
          )
      })
    ))
