import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Ref } from "effect"
import * as Budget from "../src/Budget.ts"

describe("withBudget", () => {
  it.live("answers Timeout at the budget while the operation still completes in the background", () =>
    Effect.gen(function*() {
      const finished = yield* Deferred.make<void>()
      const completed = yield* Ref.make(false)
      const slow = Effect.sleep("300 millis").pipe(
        Effect.andThen(Ref.set(completed, true)),
        Effect.andThen(Deferred.succeed(finished, undefined)),
        Effect.uninterruptible
      )
      const started = Date.now()
      const error = yield* Effect.flip(slow.pipe(Budget.withBudget("create", 50)))
      const elapsed = Date.now() - started
      assert.strictEqual(error._tag, "Timeout")
      assert.strictEqual(error.budgetMillis, 50)
      assert.isBelow(elapsed, 250, "the caller is answered at the budget, not when the work ends")
      assert.isFalse(yield* Ref.get(completed))
      yield* Deferred.await(finished)
      assert.isTrue(yield* Ref.get(completed), "the operation was not torn")
    }))

  it.live("passes results and typed failures through within the budget", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Effect.succeed(42).pipe(Budget.withBudget("get", 100)), 42)
      const error = yield* Effect.flip(Effect.fail("boom" as const).pipe(Budget.withBudget("get", 100)))
      assert.strictEqual(error, "boom")
    }))
})
