/**
 * A SecretStore and PreferencesStore wrapper that injects the failures real platforms produce:
 * latency, a call held until the test lets it go, denied, locked, unavailable, corrupted storage,
 * and failure after N calls. Tests of other packages (IPC timeouts, UI error states) use it
 * instead of a real broken keychain.
 */
import { Context, Effect, Layer, Ref } from "effect"
import * as Errors from "../Errors.ts"
import * as PreferencesStore from "../PreferencesStore.ts"
import * as SecretStore from "../SecretStore.ts"

export type SecretFault = "denied" | "locked" | "unavailable" | "unreachable"

export interface FaultPlan {
  /** Added before every call to the wrapped store. */
  readonly latencyMillis?: number
  /**
   * Every call to the wrapped store waits for this promise (after the latency). A budget test
   * holds the operation with it instead of guessing a latency: an answer that arrives while the
   * operation is held was given at the budget, however slow the machine.
   */
  readonly holdUntil?: Promise<unknown>
  /** Which failure to inject into secret-store calls. */
  readonly secretFault?: SecretFault
  /** Which secret-store operations fail (default: all). */
  readonly failing?: ReadonlyArray<"get" | "set" | "delete">
  /** Let this many secret-store calls succeed before the fault starts (default 0). */
  readonly failAfter?: number
  /**
   * The failing call is carried out all the same, then fails: the keychain acted but its answer
   * was lost (a timeout, a helper that died after writing).
   */
  readonly landsAnyway?: boolean
  /** Make every preferences update fail as if the file were corrupt. */
  readonly preferencesCorrupted?: boolean
}

const secretError = (fault: SecretFault) => {
  switch (fault) {
    case "denied":
      return new Errors.KeychainDenied({ message: "Access to the keychain was denied", hint: "Allow Fishbowl to use the keychain." })
    case "locked":
      return new Errors.KeychainLocked({
        message: "The keychain is locked",
        hint: "Unlock your login keyring and try again.",
        reason: "locked"
      })
    case "unavailable":
      // No reason: the request may have reached the keychain (as after a timeout).
      return new Errors.KeychainUnavailable({
        message: "No keychain service is reachable",
        hint: "Install and start gnome-keyring or KWallet, or run inside a desktop session."
      })
    case "unreachable":
      return new Errors.KeychainUnavailable({
        message: "No keychain service is reachable",
        hint: "Install and start gnome-keyring or KWallet, or run inside a desktop session.",
        reason: "not-reachable"
      })
  }
}

/** Controls the faults of the wrapping layer at run time. */
export class Faults extends Context.Service<Faults, {
  readonly set: (plan: FaultPlan) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
  /** Secret-store calls seen since the plan was set. */
  readonly secretCalls: Effect.Effect<number>
}>()("@fishbowl/domain/testing/Faults") {}

/**
 * Wraps the SecretStore and PreferencesStore found in context. Provide the real or memory
 * ports underneath: `FaultInjection.layer.pipe(Layer.provide(ports))`.
 */
export const layer: Layer.Layer<
  Faults | SecretStore.SecretStore | PreferencesStore.PreferencesStore,
  never,
  SecretStore.SecretStore | PreferencesStore.PreferencesStore
> = Layer.effectContext(
  Effect.gen(function*() {
    const inner = yield* SecretStore.SecretStore
    const innerPreferences = yield* PreferencesStore.PreferencesStore
    const plan = yield* Ref.make<FaultPlan>({})
    const calls = yield* Ref.make(0)

    const inject = <A, E>(op: "get" | "set" | "delete", effect: Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        const current = yield* Ref.get(plan)
        const seen = yield* Ref.getAndUpdate(calls, (n) => n + 1)
        if (current.latencyMillis !== undefined) yield* Effect.sleep(current.latencyMillis)
        if (current.holdUntil !== undefined) yield* Effect.promise(() => current.holdUntil!)
        const applies = current.failing === undefined || current.failing.includes(op)
        if (current.secretFault !== undefined && applies && seen >= (current.failAfter ?? 0)) {
          if (current.landsAnyway === true) yield* effect
          return yield* secretError(current.secretFault)
        }
        return yield* effect
      })

    const secrets = SecretStore.SecretStore.of({
      get: (ref) => inject("get", inner.get(ref)),
      set: (ref, value) => inject("set", inner.set(ref, value)),
      delete: (ref) => inject("delete", inner.delete(ref)),
      describe: inner.describe,
      authorize: inner.authorize,
      placement: inner.placement,
      sessionId: inner.sessionId,
      lateWriteMillis: inner.lateWriteMillis
    })
    const preferences = PreferencesStore.PreferencesStore.of({
      load: innerPreferences.load,
      update: (f) =>
        Effect.gen(function*() {
          const current = yield* Ref.get(plan)
          if (current.latencyMillis !== undefined) yield* Effect.sleep(current.latencyMillis)
          if (current.holdUntil !== undefined) yield* Effect.promise(() => current.holdUntil!)
          if (current.preferencesCorrupted === true) {
            return yield* new Errors.Corrupted({
              message: "preferences.json could not be written",
              hint: "Check the data folder's permissions and free space."
            })
          }
          return yield* innerPreferences.update(f)
        }),
      location: innerPreferences.location
    })
    const faults = Faults.of({
      set: (next) => Ref.set(plan, next).pipe(Effect.andThen(Ref.set(calls, 0))),
      clear: Ref.set(plan, {}),
      secretCalls: Ref.get(calls)
    })
    return Context.make(Faults, faults).pipe(
      Context.add(SecretStore.SecretStore, secrets),
      Context.add(PreferencesStore.PreferencesStore, preferences)
    )
  })
)

/** Faults over the memory ports, for tests that need no platform. */
export const layerMemory = layer.pipe(
  Layer.provide(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory))
)
