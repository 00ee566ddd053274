/**
 * The test control of the store's crash points: arm one point, run an operation, and the store
 * dies there as a crashed process would; or `interleave` another process's work at a point, and
 * the operation waits there while it runs (see CrashPoints.ts for the points).
 */
import { Context, Effect, Layer, Ref } from "effect"
import * as CrashPoints from "../CrashPoints.ts"

/** Lets a test arm one point at a time; the armed point fires once, then disarms itself. */
export class CrashSwitch extends Context.Service<CrashSwitch, {
  /** The next time `point` is reached, the operation dies there (a crash). */
  readonly arm: (point: CrashPoints.CrashPoint) => Effect.Effect<void>
  /** The next time `point` is reached, `meanwhile` runs before the operation goes on (a live overlap). */
  readonly interleave: (point: CrashPoints.CrashPoint, meanwhile: Effect.Effect<void>) => Effect.Effect<void>
  readonly disarm: Effect.Effect<void>
  readonly passed: Effect.Effect<ReadonlyArray<CrashPoints.CrashPoint>>
}>()("@fishbowl/domain/CrashSwitch") {}

/** Provides both the switch and a CrashPoints that obeys it. */
export const layer = Layer.effectContext(
  Effect.gen(function*() {
    const armed = yield* Ref.make<{ readonly point: CrashPoints.CrashPoint; readonly meanwhile?: Effect.Effect<void> } | undefined>(
      undefined
    )
    const passed = yield* Ref.make<ReadonlyArray<CrashPoints.CrashPoint>>([])
    const crashPoints: CrashPoints.CrashPointsService = {
      reached: (point) =>
        Effect.gen(function*() {
          yield* Ref.update(passed, (points) => [...points, point])
          const current = yield* Ref.get(armed)
          if (current?.point !== point) return
          yield* Ref.set(armed, undefined)
          if (current.meanwhile !== undefined) return yield* current.meanwhile
          return yield* Effect.die(new CrashPoints.SimulatedCrash(point))
        })
    }
    const crashSwitch = CrashSwitch.of({
      arm: (point) => Ref.set(armed, { point }),
      interleave: (point, meanwhile) => Ref.set(armed, { point, meanwhile }),
      disarm: Ref.set(armed, undefined),
      passed: Ref.get(passed)
    })
    return Context.make(CrashPoints.CrashPoints, crashPoints).pipe(Context.add(CrashSwitch, crashSwitch))
  })
)
