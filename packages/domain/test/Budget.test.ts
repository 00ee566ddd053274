import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Ref } from "effect"
import * as Budget from "../src/Budget.ts"

describe("withBudget", () => {
  it.live("answers Timeout at the budget while the operation still completes in the background", () =>
    Effect.gen(function*() {
      // The work is held until the test lets it go, so it cannot end before the answer however
      // slow the machine: an answer while it is held was given at the budget.
      const release = yield* Deferred.make<void>()
      const finished = yield* Deferred.make<void>()
      const completed = yield* Ref.make(false)
      const slow = Deferred.await(release).pipe(
        Effect.andThen(Ref.set(completed, true)),
        Effect.andThen(Deferred.succeed(finished, undefined)),
        Effect.uninterruptible
      )
      const error = yield* Effect.flip(slow.pipe(Budget.withBudget("create", 50)))
      assert.strictEqual(error._tag, "Timeout")
      assert.strictEqual(error.budgetMillis, 50)
      assert.isFalse(yield* Ref.get(completed), "the caller is answered at the budget, not when the work ends")
      yield* Deferred.succeed(release, undefined)
      yield* Deferred.await(finished)
      assert.isTrue(yield* Ref.get(completed), "the operation was not torn")
    }))

  it.live("passes results and typed failures through within the budget", () =>
    Effect.gen(function*() {
      // a budget no loaded machine misses: this is about what passes through, not about time
      assert.strictEqual(yield* Effect.succeed(42).pipe(Budget.withBudget("get", 60_000)), 42)
      const error = yield* Effect.flip(Effect.fail("boom" as const).pipe(Budget.withBudget("get", 60_000)))
      assert.strictEqual(error, "boom")
    }))
})
