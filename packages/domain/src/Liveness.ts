/**
 * Port: is the owner of an unfinished operation still running? Recovery finishes or undoes only
 * the operations of owners that are provably gone; an owner that waits minutes on a keychain
 * prompt keeps its operation, whatever its age.
 *
 * An owner is one LlmConfigStore instance (`Intent.owner`) inside one process
 * (`Intent.ownerProcess`, recorded from `self`). Instances of this process are known from a
 * registry: registered when built, released when their scope closes or when a test crashes them.
 * Other processes are asked of the operating system (desktop: ProcessLiveness); on platforms with
 * one process per app (mobile, memory) `self` is undefined and an instance not registered here is
 * one of an earlier launch: gone.
 */
import { Context, Effect, Layer, Schema } from "effect"

/** Who a process is, well enough for another process on the same machine to tell if it still runs. */
export const ProcessIdentity = Schema.Struct({
  /** The machine's host name; an owner on another machine cannot be checked. */
  host: Schema.String,
  pid: Schema.Number,
  /** When the process started, as the OS says; with `pid`, one process (a reused pid differs). */
  started: Schema.optional(Schema.String),
  /** Linux: the boot id; a process of an earlier boot is gone. */
  boot: Schema.optional(Schema.String),
  /** Linux: the pid namespace; a process of another one (a container, a sandbox) cannot be seen. */
  pidNamespace: Schema.optional(Schema.String)
})
export type ProcessIdentity = typeof ProcessIdentity.Type

/** What an intent says of its owner. */
export interface Owner {
  readonly instance: string
  readonly process?: ProcessIdentity | undefined
  readonly startedAt: string
}

/**
 * `Alive`: leave its operation alone. `Gone`: finish or undo it. `Unknown`: it cannot be checked
 * from here (another machine, another container); left alone unless the user says it is gone.
 */
export type Verdict =
  | { readonly _tag: "Alive"; readonly owner: string }
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Unknown"; readonly owner: string; readonly why: string }

export interface LivenessService {
  /** This process, recorded in every intent it writes; undefined where the app is one process. */
  readonly self: ProcessIdentity | undefined
  readonly register: (instance: string) => Effect.Effect<void>
  /** The instance is gone (closed, or crashed in a test): its operations may be recovered. */
  readonly release: (instance: string) => Effect.Effect<void>
  readonly verdict: (owner: Owner) => Effect.Effect<Verdict>
}

export class Liveness extends Context.Service<Liveness, LivenessService>()("@fishbowl/domain/Liveness") {}

/** "process 1234 on host" for messages; the instance when there is no process. */
export const describeOwner = (owner: Owner): string =>
  owner.process === undefined ? `another Fishbowl instance` : `process ${owner.process.pid} on ${owner.process.host}`

/**
 * The registry of this process's live instances, and a liveness built on it: an instance of this
 * process is alive while registered; owners of other processes are judged by `otherProcess`.
 */
export const makeWith = (options: {
  readonly self: ProcessIdentity | undefined
  readonly otherProcess: (owner: Owner & { readonly process: ProcessIdentity }) => Effect.Effect<Verdict>
  /**
   * An owner that recorded no process while this one has an identity: written by an older version
   * (default: gone, as on platforms with one process).
   */
  readonly unrecorded?: (owner: Owner) => Effect.Effect<Verdict>
  /** The live instances; shared by every Liveness of one process (desktop), or per layer (memory). */
  readonly registry?: Set<string>
}): LivenessService => {
  const registry = options.registry ?? new Set<string>()
  const sameProcess = (process: ProcessIdentity | undefined) =>
    process === undefined ? options.self === undefined : options.self !== undefined && sameIdentity(process, options.self)
  return {
    self: options.self,
    register: (instance) => Effect.sync(() => void registry.add(instance)),
    release: (instance) => Effect.sync(() => void registry.delete(instance)),
    verdict: (owner) =>
      Effect.suspend(() => {
        if (registry.has(owner.instance)) return Effect.succeed({ _tag: "Alive", owner: describeOwner(owner) } as const)
        if (owner.process === undefined && options.self !== undefined && options.unrecorded !== undefined) {
          return options.unrecorded(owner)
        }
        if (owner.process === undefined || sameProcess(owner.process)) return Effect.succeed({ _tag: "Gone" } as const)
        return options.otherProcess({ ...owner, process: owner.process })
      })
  }
}

const sameIdentity = (a: ProcessIdentity, b: ProcessIdentity) =>
  a.host === b.host && a.pid === b.pid && a.started === b.started && a.boot === b.boot && a.pidNamespace === b.pidNamespace

/**
 * One process per app (memory, mobile): every instance not registered here is gone — on mobile
 * an earlier launch, in tests a store instance that crashed or was closed.
 */
export const makeMemory = (): LivenessService =>
  makeWith({ self: undefined, otherProcess: () => Effect.succeed({ _tag: "Gone" } as const) })

/** A fresh registry per layer: in tests each store instance over it is its own "process". */
export const layerMemory = Layer.sync(Liveness, makeMemory)
