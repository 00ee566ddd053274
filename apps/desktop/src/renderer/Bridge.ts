/**
 * The renderer's view of the preload bridge: wire types derived from the domain contract (type
 * imports only, nothing from effect reaches the bundle) and a call wrapper that turns a rejected
 * IPC promise into the same `{ ok: false, error }` shape as every other failure.
 */
import type { HealthContract, IpcContract, Providers } from "@fishbowl/domain"

declare const __FISHBOWL_PROVIDERS__: ReadonlyArray<Providers.ProviderDefinition>

declare global {
  interface Window {
    readonly fishbowl?: { readonly llmConfigs: IpcContract.LlmConfigsBridge }
  }
}

type Success<R> = Awaited<R> extends infer Result ? Result extends { readonly ok: true; readonly value: infer A } ? A : never : never

export type LlmConfigView = Success<ReturnType<IpcContract.LlmConfigsBridge["get"]>>
export type StoreStatusView = Success<ReturnType<IpcContract.LlmConfigsBridge["status"]>>
export type DiagnosticsView = Success<ReturnType<IpcContract.LlmConfigsBridge["diagnose"]>>
export type NoticeView = StoreStatusView["notices"][number]
export type CheckResultView = Success<ReturnType<IpcContract.LlmConfigsBridge["check"]>>
export type CheckRecordView = CheckResultView["check"]
export type CheckOutcomeView = CheckRecordView["outcome"]
export type DraftRequest = Parameters<IpcContract.LlmConfigsBridge["checkDraft"]>[0]
export type CreateRequest = Parameters<IpcContract.LlmConfigsBridge["create"]>[0]
export type UpdateRequest = Parameters<IpcContract.LlmConfigsBridge["update"]>[0]
export type Patch = UpdateRequest["patch"]
export type WireError = IpcContract.IpcError
export type Outcome<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: WireError }

/** Provider definitions, inlined at build time from the domain (scripts/build.mjs). */
export const providers: ReadonlyArray<Providers.ProviderDefinition> = __FISHBOWL_PROVIDERS__

export const providerById = (id: string): Providers.ProviderDefinition | undefined => providers.find((provider) => provider.id === id)

const unreachable = (): WireError => ({
  _tag: "Internal",
  message: "Could not reach Fishbowl's main process",
  hint: "Restart Fishbowl; if it keeps happening, run diagnostics."
})

/** The bridge, or undefined when the page was opened outside the app (no preload). */
export const bridge = (): IpcContract.LlmConfigsBridge | undefined => window.fishbowl?.llmConfigs

/** Runs one bridge call; never rejects. */
export const invoke = async <A>(call: (api: IpcContract.LlmConfigsBridge) => Promise<Outcome<A>>): Promise<Outcome<A>> => {
  const api = bridge()
  if (api === undefined) return { ok: false, error: unreachable() }
  try {
    const result = await call(api)
    return result !== null && typeof result === "object" && "ok" in result ? result : { ok: false, error: unreachable() }
  } catch {
    return { ok: false, error: unreachable() }
  }
}

// ---------------------------------------------------------------------------------------------
// late outcomes (see main/LateOutcomes.ts)

const early = new Map<string, unknown>()
const waiting = new Map<string, (result: unknown) => void>()

/** Starts listening for late outcomes; call once, before the first call. */
export const listenForLateOutcomes = () => {
  bridge()?.onSettled((outcome: HealthContract.LateOutcome) => {
    const waiter = waiting.get(outcome.requestId)
    if (waiter !== undefined) {
      waiting.delete(outcome.requestId)
      waiter(outcome.result)
      return
    }
    // The event can overtake the Timeout answer it belongs to: keep it for a while.
    early.set(outcome.requestId, outcome.result)
    window.setTimeout(() => early.delete(outcome.requestId), 60_000)
  })
}

const asOutcome = <A>(result: unknown): Outcome<A> =>
  result !== null && typeof result === "object" && "ok" in result ? result as Outcome<A> : { ok: false, error: unreachable() }

/** Resolves with the late outcome of `requestId`, or with undefined after `millis`. */
const lateOutcome = (requestId: string, millis: number): Promise<unknown> => {
  if (early.has(requestId)) {
    const result = early.get(requestId)
    early.delete(requestId)
    return Promise.resolve(result)
  }
  return new Promise<unknown>((resolve) => {
    const timer = window.setTimeout(() => {
      waiting.delete(requestId)
      resolve(undefined)
    }, millis)
    waiting.set(requestId, (result) => {
      window.clearTimeout(timer)
      resolve(result)
    })
  })
}

/** How long a change waits for its late outcome before it is reported as not answered. */
const LATE_OUTCOME_MILLIS = 120_000

/**
 * Like `invoke`, but a call that missed its time budget is not reported as failed: `onWaiting`
 * is told (so the page can say why it waits) and the call resolves with the operation's real
 * outcome when main sends it. Only a real failure reaches the caller as an error.
 * Reads (`retry`) are also simply asked again meanwhile: they change nothing, and a warmed-up
 * keychain helper answers the second time.
 */
export const invokePatiently = async <A>(
  call: (api: IpcContract.LlmConfigsBridge) => Promise<Outcome<A>>,
  onWaiting: (waiting: boolean) => void,
  options?: { readonly retry?: boolean }
): Promise<Outcome<A>> => {
  let result = await invoke(call)
  if (result.ok || result.error._tag !== "Timeout") return result
  onWaiting(true)
  try {
    for (let attempt = 1;; attempt++) {
      if (result.ok || result.error._tag !== "Timeout") return result
      const requestId = result.error.requestId
      const retrying = options?.retry === true && attempt < 8
      const late = requestId === undefined
        ? undefined
        : await lateOutcome(requestId, retrying ? 400 * attempt : LATE_OUTCOME_MILLIS)
      if (late !== undefined) return asOutcome<A>(late)
      if (!retrying) return result
      if (requestId === undefined) await new Promise((resolve) => window.setTimeout(resolve, 400 * attempt))
      result = await invoke(call)
    }
  } finally {
    onWaiting(false)
  }
}
