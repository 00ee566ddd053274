/**
 * The main-process side of the IPC contract as a plain table of handlers, one per channel, built
 * over one ManagedRuntime. Electron registers it on `ipcMain.handle`; tests call it directly.
 *
 * Every call: sender check → decode the request with its schema → run the effect under its time
 * budget → encode `{ ok, value | error }` with the response schema. Payloads are never logged.
 */
import {
  Budget,
  ConfigCheck,
  Diagnostics,
  Errors,
  type HealthContract,
  Hints,
  IpcContract,
  LlmConfigStore,
  ProviderCheck,
  SecretStore,
  UntrustedInput
} from "@fishbowl/domain"
import { Effect, Exit, Fiber, ManagedRuntime, Option, Schema, Stream } from "effect"
import * as KeyCheck from "./KeyCheck.ts"
import * as LateOutcomes from "./LateOutcomes.ts"
import type * as SenderPolicy from "./SenderPolicy.ts"
import type * as StorageActions from "./StorageActions.ts"

/** What the main process needs from its runtime. */
export type MainServices = LlmConfigStore.LlmConfigStore | Diagnostics.Diagnostics | SecretStore.SecretStore

/** The caller of a request, as far as the handler needs to know. */
export interface IpcSender {
  readonly frameUrl: string | undefined
}

export type IpcHandler = (sender: IpcSender, payload: unknown) => Promise<unknown>

export type IpcHandlerTable = { readonly [C in IpcContract.InvokeChannel]: IpcHandler }

type RequestOf<C extends IpcContract.InvokeChannel> = IpcContract.IpcRoutes[C]["request"]["Type"]
type ResponseOf<C extends IpcContract.InvokeChannel> = IpcContract.IpcRoutes[C]["response"]["Type"]

/** What main does for one route: its time budget (it may depend on the request) and its effect. */
interface RouteHandler<C extends IpcContract.InvokeChannel> {
  readonly budget: (request: RequestOf<C>) => number
  readonly run: (request: RequestOf<C>) => Effect.Effect<ResponseOf<C>, unknown, MainServices>
}

/** One handler per route, under the route's method name: a missing or an extra one does not compile. */
type RouteHandlers = { readonly [C in IpcContract.InvokeChannel as IpcContract.IpcRoutes[C]["method"]]: RouteHandler<C> }

/** One line per call: channel, outcome and duration. Never the payload or the response. */
export type IpcLogger = (entry: {
  readonly channel: string
  readonly outcome: string
  readonly millis: number
  readonly origin?: string
}) => void

export interface IpcHandlerOptions {
  readonly senderPolicy: SenderPolicy.SenderPolicy
  readonly budgets?: Partial<Budget.Budgets>
  readonly log?: IpcLogger
  /** File actions of the health panel (backups, restore, show folder); absent: Unsupported. */
  readonly storage?: StorageActions.StorageActions
  /** Receives the outcome of a call that was answered with Timeout but then finished. */
  readonly onLateOutcome?: (outcome: HealthContract.LateOutcome) => void
}

/**
 * The checker, when the runtime has one. Optional so runtimes built for other purposes (tests of
 * the other channels) need not provide it; without it a check answers Unsupported.
 */
const withProviderCheck = <A, E, R>(
  effect: Effect.Effect<A, E, R | ProviderCheck.ProviderCheck>
): Effect.Effect<A, E | Errors.Unsupported, Exclude<R, ProviderCheck.ProviderCheck>> =>
  Effect.flatMap(
    Effect.serviceOption(ProviderCheck.ProviderCheck),
    (checker): Effect.Effect<A, E | Errors.Unsupported, Exclude<R, ProviderCheck.ProviderCheck>> =>
      Option.isSome(checker)
        ? Effect.provideService(effect, ProviderCheck.ProviderCheck, checker.value)
        : Effect.fail(
          new Errors.Unsupported({
            reason: "not-available-here",
            message: "Checking a key is not available in this build",
            hint: "Update Fishbowl; the check needs the main process's network access."
          })
        )
  )

/** Requests larger than this are refused before decoding (the largest legal one is ~18 KiB). */
export const MAX_REQUEST_BYTES = 64 * 1024

/**
 * The wire form, as the contract's schema defines it: the words for a log, the typed reason (and
 * an InvalidInput's field) for the page's own words; every other field of the error is dropped.
 */
const toWireError: (error: Errors.FishbowlError) => IpcContract.IpcError = Schema.encodeSync(IpcContract.IpcError)

/** What the renderer is told when the failure is not a domain error (a defect, a bug). */
const internal = new Errors.Internal({
  message: "Something went wrong inside Fishbowl",
  hint: "Try again; if it keeps happening, run diagnostics."
})

const refusal = new Errors.NotPermitted({
  message: "This window is not allowed to access stored configurations",
  hint: "Only Fishbowl's own settings page can manage API keys."
})

const oversized = (channel: string) => ({
  ok: false as const,
  error: {
    _tag: "InvalidInput" as const,
    message: `The ${channel} request is too large`,
    hint: Hints.pasteOnlyTheKey,
    field: "request"
  }
})

const approximateSize = (payload: unknown): number => {
  try {
    return JSON.stringify(payload ?? null)?.length ?? 0
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** Builds the handler table. The runtime is shared by every call and owned by the caller. */
export const make = (
  runtime: ManagedRuntime.ManagedRuntime<MainServices, unknown>,
  options: IpcHandlerOptions
): IpcHandlerTable => {
  const limits = { ...Budget.budgets, ...options.budgets }
  const log = options.log ?? (() => {})

  const route = <C extends IpcContract.InvokeChannel>(channel: C, { budget, run }: RouteHandler<C>): IpcHandler => {
    const { request: requestSchema, response } = IpcContract.IpcRoutes[channel]
    const decode = UntrustedInput.decodeInput(requestSchema as Schema.Top & { readonly DecodingServices: never }, `${channel} request`)
    const encode = Schema.encodeUnknownSync(IpcContract.IpcResult(response as Schema.Top & { readonly EncodingServices: never }))
    return async (sender, payload) => {
      const started = performance.now()
      const finish = (outcome: string, result: unknown, origin?: string) => {
        log({ channel, outcome, millis: Math.round((performance.now() - started) * 100) / 100, ...(origin ? { origin } : {}) })
        return result
      }
      if (!options.senderPolicy.isTrusted(sender.frameUrl)) {
        const origin = (() => {
          try {
            return new URL(sender.frameUrl ?? "").origin
          } catch {
            return "unknown"
          }
        })()
        return finish("refused", { ok: false, error: toWireError(refusal) }, origin)
      }
      // own data properties only, before anything reads the payload (no getter ever runs)
      const data = UntrustedInput.ownDataCopy(payload ?? {})
      if (approximateSize(data) > MAX_REQUEST_BYTES) return finish("InvalidInput", oversized(channel))
      /** The `{ ok, value | error }` answer for an exit; the same on time and late. */
      const answer = (exit: Exit.Exit<unknown, unknown>): { readonly outcome: string; readonly result: unknown } => {
        if (Exit.isSuccess(exit)) {
          try {
            return { outcome: "ok", result: encode({ ok: true, value: exit.value }) }
          } catch {
            return { outcome: "Internal", result: { ok: false, error: toWireError(internal) } }
          }
        }
        const wire = toWireError(Errors.fromCause(exit.cause, internal))
        return { outcome: wire._tag, result: { ok: false, error: wire } }
      }
      let requestId: string | undefined
      const program = Effect.gen(function*() {
        const request = yield* decode(data)
        return yield* run(request as RequestOf<C>).pipe(
          LateOutcomes.withLateOutcome(channel, budget(request as RequestOf<C>), (late) => {
            requestId = late.requestId
            late.onSettled((exit) => {
              const { outcome, result } = answer(exit)
              log({ channel, outcome: `late ${outcome}`, millis: Math.round((performance.now() - started) * 100) / 100 })
              options.onLateOutcome?.({ requestId: late.requestId, channel, result })
            })
          })
        )
      })
      const { outcome, result } = answer(await runtime.runPromiseExit(program))
      const late = requestId
      if (late !== undefined && typeof result === "object" && result !== null && "error" in result) {
        const error = (result as { readonly error: IpcContract.IpcError }).error
        if (error._tag === "Timeout") return finish(outcome, { ok: false, error: { ...error, requestId: late } })
      }
      return finish(outcome, result)
    }
  }

  const storage = () => limits.storageMillis
  // The network timeout is the check's own bound; storage and key reads around it get theirs.
  const check = () => ProviderCheck.PROVIDER_CHECK_TIMEOUT_MILLIS + 2 * limits.storageMillis + limits.keyRetrievalMillis
  const prompting = () => limits.authorizeMillis
  const files = <A, E>(use: (actions: StorageActions.StorageActions) => Effect.Effect<A, E>): Effect.Effect<A, E | Errors.Unsupported> =>
    options.storage === undefined
      ? Effect.fail(
        new Errors.Unsupported({
          reason: "not-available-here",
          message: "Backups are not available here",
          hint: "Open Fishbowl's settings in the app."
        })
      )
      : use(options.storage)
  const handlers: RouteHandlers = {
    list: { budget: storage, run: () => LlmConfigStore.LlmConfigStore.use((store) => store.list) },
    get: { budget: storage, run: ({ id }) => LlmConfigStore.LlmConfigStore.use((store) => store.get(id)) },
    create: { budget: storage, run: (input) => LlmConfigStore.LlmConfigStore.use((store) => store.create(input)) },
    update: { budget: storage, run: ({ id, patch }) => LlmConfigStore.LlmConfigStore.use((store) => store.update(id, patch)) },
    remove: { budget: storage, run: ({ id }) => LlmConfigStore.LlmConfigStore.use((store) => store.remove(id)).pipe(Effect.as({ id })) },
    status: { budget: storage, run: () => LlmConfigStore.LlmConfigStore.use((store) => store.status) },
    diagnose: {
      budget: ({ probe }) => (probe === true ? limits.authorizeMillis : limits.storageMillis),
      run: ({ probe }) => Diagnostics.Diagnostics.use((diagnostics) => diagnostics.diagnose({ probe: probe === true }))
    },
    authorize: {
      budget: prompting,
      run: () =>
        Effect.gen(function*() {
          yield* (yield* SecretStore.SecretStore).authorize
          return yield* (yield* LlmConfigStore.LlmConfigStore).status
        })
    },
    check: { budget: check, run: ({ id }) => withProviderCheck(ConfigCheck.checkStoredConfig(id)) },
    // Only ProviderCheck is provided to the draft check: it has no way to reach either store.
    checkDraft: { budget: check, run: (draft) => withProviderCheck(ConfigCheck.checkDraft(draft)) },
    dismissNotice: {
      budget: storage,
      run: ({ id }) => LlmConfigStore.LlmConfigStore.use((store) => store.dismissNotice(id)).pipe(Effect.as({ id }))
    },
    recover: { budget: prompting, run: () => LlmConfigStore.LlmConfigStore.use((store) => store.recover()) },
    checkKeys: { budget: prompting, run: () => KeyCheck.checkKeys },
    backups: { budget: storage, run: () => files((actions) => actions.backups) },
    // Reads each left-out config's key (it may prompt), like the key check.
    bringBack: { budget: prompting, run: () => files((actions) => actions.bringBack) },
    restoreBackup: {
      budget: storage,
      run: ({ name }) =>
        files((actions) => actions.restoreBackup(name)).pipe(Effect.andThen(LlmConfigStore.LlmConfigStore.use((store) => store.status)))
    },
    openFolder: { budget: storage, run: ({ file }) => files((actions) => actions.open(file)) }
  }
  // Each channel gets the handler filed under its own route's method, so the pairing the cast
  // asserts holds by construction.
  return Object.fromEntries(
    (Object.keys(IpcContract.IpcRoutes) as Array<IpcContract.InvokeChannel>).map((channel) => [
      channel,
      route(channel, handlers[IpcContract.IpcRoutes[channel].method] as RouteHandler<typeof channel>)
    ])
  ) as IpcHandlerTable
}

/** Anything shaped like Electron's `ipcMain`. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { readonly senderFrame?: { readonly url: string } | null }, payload: unknown) => unknown): void
  removeHandler(channel: string): void
}

/** Registers the table on `ipcMain`; returns a function that removes every handler. */
export const registerIpcHandlers = (ipcMain: IpcMainLike, table: IpcHandlerTable): () => void => {
  for (const [channel, handler] of Object.entries(table)) {
    ipcMain.handle(channel, (event, payload) => handler({ frameUrl: event.senderFrame?.url }, payload))
  }
  return () => {
    for (const channel of Object.keys(table)) ipcMain.removeHandler(channel)
  }
}

/**
 * Forwards every store change, encoded, to `broadcast` (main sends it to every window on
 * `llm-config:changed`). Returns a function that stops forwarding.
 */
export const forwardChanges = (
  runtime: ManagedRuntime.ManagedRuntime<MainServices, unknown>,
  broadcast: (change: typeof LlmConfigStore.LlmConfigChange.Encoded) => void
): () => void => {
  const encode = Schema.encodeSync(LlmConfigStore.LlmConfigChange)
  const fiber = runtime.runFork(
    LlmConfigStore.LlmConfigStore.use((store) =>
      store.changes.pipe(Stream.runForEach((change) => Effect.sync(() => broadcast(encode(change)))))
    )
  )
  return () => {
    runtime.runFork(Fiber.interrupt(fiber))
  }
}
