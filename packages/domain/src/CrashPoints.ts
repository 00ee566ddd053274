/**
 * Named points inside multi-step operations where a crash is simulated in tests. Production
 * code calls `reached` at each step; the default (a Context.Reference, so nobody has to provide
 * it) does nothing, tests swap in a layer that dies (in-process) or kills the process
 * (subprocess tests), so every step's recovery is provable.
 */
import { Context, Effect, Layer } from "effect"

/** Every crash point, by operation and step. */
export const crashPoints = {
  create: ["create.intent-recorded", "create.secret-written", "create.committed"],
  update: ["update.intent-recorded", "update.secret-written", "update.committed"],
  remove: ["remove.intent-recorded", "remove.secret-deleted", "remove.committed"],
  migrate: [
    "migrate.intent-recorded",
    "migrate.secret-written",
    "migrate.secret-verified",
    "migrate.committed",
    "migrate.plaintext-removed"
  ]
} as const

export type CrashPoint = (typeof crashPoints)[keyof typeof crashPoints][number]

/** A crash raised by a test layer; a defect, so nothing upstream can catch it as a domain error. */
export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`Simulated crash at ${point}`)
  }
}

export interface CrashPointsService {
  readonly reached: (point: CrashPoint) => Effect.Effect<void>
}

/** Production needs nothing: unless a test provides one, crash points cost nothing. */
export const CrashPoints = Context.Reference<CrashPointsService>("@fishbowl/domain/CrashPoints", {
  defaultValue: () => ({ reached: () => Effect.void })
})

/** What a test provides to replace the default (a layer that adds no requirement). */
export type CrashPointsLayer = Layer.Layer<never>

/** Runs `onReached` at every point; subprocess tests use it to SIGKILL themselves at one step. */
export const layerWith = (onReached: (point: CrashPoint) => Effect.Effect<void>): CrashPointsLayer =>
  Layer.succeed(CrashPoints, { reached: onReached })
