/**
 * Honest slow states. An IPC call still answers within its budget (a keychain that is asking the
 * user for a password must not freeze the page), but the answer `Timeout` is not the end: the
 * operation goes on, and when it finishes its real outcome is sent to the page under the request
 * id the Timeout carried. So a slow success never shows as an error, and a real failure after the
 * wait is reported once, as itself.
 */
import { Budget } from "@fishbowl/domain"
import { Effect, type Exit, Fiber } from "effect"
import { randomUUID } from "node:crypto"

export interface LateCall<A, E> {
  readonly requestId: string
  /** Called once, with the operation's exit, when it finishes. */
  readonly onSettled: (listener: (exit: Exit.Exit<A, E>) => void) => void
}

/**
 * `withBudget`, plus: when the budget ran out while the operation is still running, `onLate` is
 * told (before the Timeout is returned) with a request id and a way to hear the final exit.
 */
export const withLateOutcome =
  (operation: string, millis: number, onLate: (call: LateCall<unknown, unknown>) => void) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkDetach(effect)
      return yield* Fiber.join(fiber).pipe(
        Budget.withBudget(operation, millis),
        Effect.tapError((error) =>
          Effect.sync(() => {
            const budgetMissed = typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "Timeout" &&
              fiber.pollUnsafe() === undefined
            if (!budgetMissed) return
            onLate({
              requestId: randomUUID(),
              onSettled: (listener) => {
                fiber.addObserver((exit) => listener(exit as Exit.Exit<unknown, unknown>))
              }
            })
          })
        )
      )
    })
