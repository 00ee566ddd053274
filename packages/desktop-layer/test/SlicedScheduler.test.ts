/**
 * The desktop runtime's scheduler (SlicedScheduler): fiber work spread over turns of the event
 * loop. A slice of 0 ms makes every slice one task and every fiber yield at its first look at the
 * clock, so what runs between two turns is counted, not timed. Each property is shown against
 * Effect's default scheduler in the same test, which does the same work in one turn.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime, Scheduler } from "effect"
import { SlicedScheduler } from "../src/index.ts"

const runtimeOn = (scheduler: Scheduler.Scheduler) => ManagedRuntime.make(Layer.succeed(Scheduler.Scheduler, scheduler))

/** A fiber of many small steps, each counted. */
const steps = (counter: { done: number }, count: number) =>
  Effect.forEach(Array.from({ length: count }), () => Effect.sync(() => counter.done++), { discard: true })

/**
 * Starts `fibers` fibers in one go, as a burst of IPC calls or the bench does, and counts the
 * steps done between two consecutive turns of the loop (a `setImmediate` that re-arms itself).
 */
const mostStepsInOneTurn = async (scheduler: Scheduler.Scheduler, fibers: number, stepsEach: number) => {
  const runtime = runtimeOn(scheduler)
  const counter = { done: 0 }
  let seen = 0
  let most = 0
  let turns = 0
  let ticking = true
  const tick = () => {
    most = Math.max(most, counter.done - seen)
    seen = counter.done
    turns++
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  await Promise.all(Array.from({ length: fibers }, () => runtime.runPromise(steps(counter, stepsEach))))
  ticking = false
  await runtime.dispose()
  most = Math.max(most, counter.done - seen)
  return { most, turns, total: counter.done }
}

describe("SlicedScheduler", () => {
  it("spreads fibers started together over turns of the loop, a slice per turn", async () => {
    const sliced = await mostStepsInOneTurn(new SlicedScheduler.SlicedScheduler(0), 100, 200)
    assert.strictEqual(sliced.total, 100 * 200)
    // One slice runs one task, which yields at its next look at the clock (every 32 operations;
    // a step is more than one operation).
    assert.isAtMost(sliced.most, 32)
    assert.isAtLeast(sliced.turns, (100 * 200) / 32)
    const plain = await mostStepsInOneTurn(new Scheduler.MixedScheduler(), 100, 200)
    assert.strictEqual(plain.most, plain.total, "Effect's default scheduler runs it all in the turn that started it")
  })

  it("a fiber resumed by an I/O callback goes on in a later slice, not inside the callback", async () => {
    const continuesInCallback = async (scheduler: Scheduler.Scheduler) => {
      const runtime = runtimeOn(scheduler)
      let continued = false
      let seenInCallback: boolean | undefined
      const waiting = Effect.callback<void>((resume) => {
        setImmediate(() => {
          resume(Effect.void)
          seenInCallback = continued
        })
      })
      await runtime.runPromise(waiting.pipe(Effect.andThen(Effect.sync(() => (continued = true)))))
      await runtime.dispose()
      assert.isTrue(continued)
      return seenInCallback
    }
    assert.isFalse(await continuesInCallback(new SlicedScheduler.SlicedScheduler(0)))
    assert.isTrue(await continuesInCallback(new Scheduler.MixedScheduler()))
  })

  it("every fiber shares one queue: lower priority numbers first, first in first out, one task per 0 ms slice", async () => {
    const scheduler = new SlicedScheduler.SlicedScheduler(0)
    const [first, second] = [scheduler.makeDispatcher(), scheduler.makeDispatcher()]
    const order: Array<string> = []
    first.scheduleTask(() => order.push("first 0"), 0)
    second.scheduleTask(() => order.push("second -1"), -1)
    second.scheduleTask(() => order.push("second 0"), 0)
    first.scheduleTask(() => order.push("first 5"), 5)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepStrictEqual(order, ["second -1"])
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepStrictEqual(order, ["second -1", "first 0"])
    first.flush()
    assert.deepStrictEqual(order, ["second -1", "first 0", "second 0", "first 5"])
  })

  it("a fiber that never waits still finishes, and so does the work queued behind it", async () => {
    const runtime = runtimeOn(new SlicedScheduler.SlicedScheduler(0))
    const counter = { done: 0 }
    const results = await Promise.all([
      runtime.runPromise(steps(counter, 5_000).pipe(Effect.as("long"))),
      runtime.runPromise(Effect.succeed("short"))
    ])
    await runtime.dispose()
    assert.deepStrictEqual(results, ["long", "short"])
    assert.strictEqual(counter.done, 5_000)
  })
})
