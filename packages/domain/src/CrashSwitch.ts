/**
 * The test control of the store's crash points: arm one point, run an operation, and the store
 * dies there as a crashed process would (see CrashPoints.ts for the points).
 */
import { Context, Effect, Layer, Ref } from "effect"
import * as CrashPoints from "./CrashPoints.ts"

/** Lets a test arm one crash point at a time; the armed point dies once, then disarms itself. */
export class CrashSwitch extends Context.Service<CrashSwitch, {
  readonly arm: (point: CrashPoints.CrashPoint) => Effect.Effect<void>
  readonly disarm: Effect.Effect<void>
  readonly passed: Effect.Effect<ReadonlyArray<CrashPoints.CrashPoint>>
}>()("@fishbowl/domain/CrashSwitch") {}

/** Provides both the switch and a CrashPoints that obeys it. */
export const layer = Layer.effectContext(
  Effect.gen(function*() {
    const armed = yield* Ref.make<CrashPoints.CrashPoint | undefined>(undefined)
    const passed = yield* Ref.make<ReadonlyArray<CrashPoints.CrashPoint>>([])
    const crashPoints = CrashPoints.CrashPoints.of({
      reached: (point) =>
        Effect.gen(function*() {
          yield* Ref.update(passed, (points) => [...points, point])
          if ((yield* Ref.get(armed)) === point) {
            yield* Ref.set(armed, undefined)
            return yield* Effect.die(new CrashPoints.SimulatedCrash(point))
          }
        })
    })
    const crashSwitch = CrashSwitch.of({
      arm: (point) => Ref.set(armed, point),
      disarm: Ref.set(armed, undefined),
      passed: Ref.get(passed)
    })
    return Context.make(CrashPoints.CrashPoints, crashPoints).pipe(Context.add(CrashSwitch, crashSwitch))
  })
)
