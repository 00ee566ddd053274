/**
 * The main-process side of the IPC contract as a plain table of handlers, one per channel, built
 * over one ManagedRuntime. Electron registers it on `ipcMain.handle`; tests call it directly.
 *
 * Every call: sender check → decode the request with its schema → run the effect under its time
 * budget → encode `{ ok, value | error }` with the response schema. Payloads are never logged.
 */
import { Budget, ConfigCheck, Diagnostics, Errors, type HealthContract, IpcContract, LlmConfigStore, ProviderCheck, SecretStore, UntrustedInput } from "@fishbowl/domain"
import * as KeyCheck from "./KeyCheck.ts"
import * as LateOutcomes from "./LateOutcomes.ts"
import type * as SenderPolicy from "./SenderPolicy.ts"
import type * as StorageActions from "./StorageActions.ts"
import { Cause, Effect, Exit, Fiber, ManagedRuntime, Option, Schema, Stream } from "effect"

/** What the main process needs from its runtime. */
export type MainServices = LlmConfigStore.LlmConfigStore | Diagnostics.Diagnostics | SecretStore.SecretStore

/** The caller of a request, as far as the handler needs to know. */
export interface IpcSender {
  readonly frameUrl: string | undefined
}

export type IpcHandler = (sender: IpcSender, payload: unknown) => Promise<unknown>

export type IpcHandlerTable = { readonly [C in IpcContract.InvokeChannel]: IpcHandler }

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
  Effect.flatMap(Effect.serviceOption(ProviderCheck.ProviderCheck), (checker): Effect.Effect<A, E | Errors.Unsupported, Exclude<R, ProviderCheck.ProviderCheck>> =>
    Option.isSome(checker)
      ? Effect.provideService(effect, ProviderCheck.ProviderCheck, checker.value)
      : Effect.fail(
        new Errors.Unsupported({
          message: "Checking a key is not available in this build",
          hint: "Update Fishbowl; the check needs the main process's network access."
        })
      ))

/** Requests larger than this are refused before decoding (the largest legal one is ~18 KiB). */
export const MAX_REQUEST_BYTES = 64 * 1024

const toWireError = (error: unknown): IpcContract.IpcError => {
  if (Errors.isFishbowlError(error)) {
    return {
      _tag: error._tag,
      message: error.message,
      hint: error.hint,
      ...(error._tag === "InvalidInput" ? { field: error.field } : {})
    }
  }
  return { _tag: "Internal", message: "Something went wrong inside Fishbowl", hint: "Try again; if it keeps happening, run diagnostics." }
}

const refusal = new Errors.KeychainDenied({
  message: "This window is not allowed to access stored configurations",
  hint: "Only Fishbowl's own settings page can manage API keys."
})

const oversized = (channel: string) => ({
  ok: false as const,
  error: {
    _tag: "InvalidInput" as const,
    message: `The ${channel} request is too large`,
    hint: "Check that you pasted only the API key.",
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
export const makeIpcHandlers = (
  runtime: ManagedRuntime.ManagedRuntime<MainServices, unknown>,
  options: IpcHandlerOptions
): IpcHandlerTable => {
  const limits = { ...Budget.budgets, ...options.budgets }
  const log = options.log ?? (() => {})

  const route = <C extends IpcContract.InvokeChannel, A, E>(
    channel: C,
    budgetMillis: (request: IpcContract.IpcRoutes[C]["request"]["Type"]) => number,
    run: (request: IpcContract.IpcRoutes[C]["request"]["Type"]) => Effect.Effect<A, E, MainServices>
  ): IpcHandler => {
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
            return { outcome: "Internal", result: { ok: false, error: toWireError(undefined) } }
          }
        }
        const failure = Cause.findErrorOption(exit.cause)
        const wire = toWireError(Option.isSome(failure) ? failure.value : new Errors.Internal({ message: "", hint: "" }))
        return { outcome: wire._tag, result: { ok: false, error: wire } }
      }
      let requestId: string | undefined
      const program = Effect.gen(function*() {
        const request = yield* decode(data)
        return yield* run(request as IpcContract.IpcRoutes[C]["request"]["Type"]).pipe(
          LateOutcomes.withLateOutcome(channel, budgetMillis(request as IpcContract.IpcRoutes[C]["request"]["Type"]), (late) => {
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
      ? Effect.fail(new Errors.Unsupported({ message: "Backups are not available here", hint: "Open Fishbowl's settings in the app." }))
      : use(options.storage)
  return {
    [IpcContract.IpcChannel.list]: route(IpcContract.IpcChannel.list, storage, () => LlmConfigStore.LlmConfigStore.use((store) => store.list)),
    [IpcContract.IpcChannel.get]: route(IpcContract.IpcChannel.get, storage, ({ id }) => LlmConfigStore.LlmConfigStore.use((store) => store.get(id))),
    [IpcContract.IpcChannel.create]: route(IpcContract.IpcChannel.create, storage, (input) => LlmConfigStore.LlmConfigStore.use((store) => store.create(input))),
    [IpcContract.IpcChannel.update]: route(IpcContract.IpcChannel.update, storage, ({ id, patch }) =>
      LlmConfigStore.LlmConfigStore.use((store) => store.update(id, patch))),
    [IpcContract.IpcChannel.remove]: route(IpcContract.IpcChannel.remove, storage, ({ id }) =>
      LlmConfigStore.LlmConfigStore.use((store) => store.remove(id)).pipe(Effect.as({ id }))),
    [IpcContract.IpcChannel.status]: route(IpcContract.IpcChannel.status, storage, () => LlmConfigStore.LlmConfigStore.use((store) => store.status)),
    [IpcContract.IpcChannel.diagnose]: route(
      IpcContract.IpcChannel.diagnose,
      ({ probe }) => (probe === true ? limits.authorizeMillis : limits.storageMillis),
      ({ probe }) => Diagnostics.Diagnostics.use((diagnostics) => diagnostics.diagnose({ probe: probe === true }))
    ),
    [IpcContract.IpcChannel.authorize]: route(IpcContract.IpcChannel.authorize, () => limits.authorizeMillis, () =>
      Effect.gen(function*() {
        yield* (yield* SecretStore.SecretStore).authorize
        return yield* (yield* LlmConfigStore.LlmConfigStore).status
      })),
    [IpcContract.IpcChannel.check]: route(IpcContract.IpcChannel.check, check, ({ id }) => withProviderCheck(ConfigCheck.checkStoredConfig(id))),
    // Only ProviderCheck is provided to the draft check: it has no way to reach either store.
    [IpcContract.IpcChannel.checkDraft]: route(IpcContract.IpcChannel.checkDraft, check, (draft) => withProviderCheck(ConfigCheck.checkDraft(draft))),
    [IpcContract.IpcChannel.dismissNotice]: route(IpcContract.IpcChannel.dismissNotice, storage, ({ id }) =>
      LlmConfigStore.LlmConfigStore.use((store) => store.dismissNotice(id)).pipe(Effect.as({ id }))),
    [IpcContract.IpcChannel.recover]: route(IpcContract.IpcChannel.recover, prompting, () =>
      LlmConfigStore.LlmConfigStore.use((store) => store.recover({ force: true }))),
    [IpcContract.IpcChannel.checkKeys]: route(IpcContract.IpcChannel.checkKeys, prompting, () => KeyCheck.checkKeys),
    [IpcContract.IpcChannel.backups]: route(IpcContract.IpcChannel.backups, storage, () => files((actions) => actions.backups)),
    [IpcContract.IpcChannel.restoreBackup]: route(IpcContract.IpcChannel.restoreBackup, storage, ({ name }) =>
      files((actions) => actions.restoreBackup(name)).pipe(
        Effect.andThen(LlmConfigStore.LlmConfigStore.use((store) => store.status))
      )),
    [IpcContract.IpcChannel.openFolder]: route(IpcContract.IpcChannel.openFolder, storage, ({ file }) => files((actions) => actions.open(file)))
  }
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
      store.changes.pipe(Stream.runForEach((change) => Effect.sync(() => broadcast(encode(change))))))
  )
  return () => {
    runtime.runFork(Fiber.interrupt(fiber))
  }
}
