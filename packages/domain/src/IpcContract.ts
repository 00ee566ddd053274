/**
 * The typed contract between the renderer and the main process. Requests are decoded with these
 * schemas in main (untrusted input); responses are encoded with them. No response schema has a
 * field that can carry a key: keys travel renderer → main only, inside create/update requests.
 */
import { Schema } from "effect"
import * as ConfigCheck from "./ConfigCheck.ts"
import * as Diagnostics from "./Diagnostics.ts"
import * as Errors from "./Errors.ts"
import * as HealthContract from "./HealthContract.ts"
import * as Ids from "./Ids.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as LlmConfigStore from "./LlmConfigStore.ts"

/** Channels main pushes to every window on (not invoke routes; the preload's `on…` methods). */
export const IpcEvents = {
  changed: "llm-config:changed",
  /** Late outcomes of operations answered with Timeout (see HealthContract.LateOutcome). */
  settled: "llm-config:settled"
} as const

/** A request without fields; unlike `Struct({})` it rejects any key it is given. */
const Empty = Schema.Struct({}).check(
  Schema.makeFilter((request: object) => {
    const extra = Object.keys(request)[0]
    return extra === undefined || { path: [extra], issue: "Expected no excess property" }
  })
)

/**
 * THE list of invokable channels: per channel, the bridge method that invokes it and the request
 * and response schemas. The bridge type, the preload's methods and main's handler table are all
 * derived from it, so a route is added here and nowhere else (main must then give it a handler).
 */
export const IpcRoutes = {
  "llm-config:list": { method: "list", request: Empty, response: Schema.Array(LlmConfig.LlmConfig) },
  "llm-config:get": { method: "get", request: Schema.Struct({ id: Ids.ConfigId }), response: LlmConfig.LlmConfig },
  "llm-config:create": { method: "create", request: LlmConfig.LlmConfigInput, response: LlmConfig.LlmConfig },
  "llm-config:update": {
    method: "update",
    request: Schema.Struct({ id: Ids.ConfigId, patch: LlmConfig.LlmConfigPatch }),
    response: LlmConfig.LlmConfig
  },
  "llm-config:remove": { method: "remove", request: Schema.Struct({ id: Ids.ConfigId }), response: Schema.Struct({ id: Ids.ConfigId }) },
  "llm-config:status": { method: "status", request: Empty, response: LlmConfigStore.StoreStatus },
  "llm-config:diagnose": {
    method: "diagnose",
    request: Schema.Struct({ probe: Schema.optional(Schema.Boolean) }),
    response: Diagnostics.DiagnosticsReport
  },
  "llm-config:authorize": { method: "authorize", request: Empty, response: LlmConfigStore.StoreStatus },
  /**
   * "Test connection" on a stored config; the outcome is also recorded as its `lastCheck`. Main
   * reads the key; it never crosses IPC back.
   */
  "llm-config:check": { method: "check", request: Schema.Struct({ id: Ids.ConfigId }), response: ConfigCheck.ConfigCheckResult },
  /** "Test connection" in the add form, with the key typed there; persists nothing. */
  "llm-config:check-draft": { method: "checkDraft", request: ConfigCheck.ProviderCheckDraft, response: ConfigCheck.ConfigCheckResult },
  "llm-config:dismiss-notice": {
    method: "dismissNotice",
    request: Schema.Struct({ id: Schema.String.check(Schema.isMaxLength(200)) }),
    response: Schema.Struct({ id: Schema.String })
  },
  /** Finishes interrupted changes whose process has ended; those still running are reported as `left`. */
  "llm-config:recover": { method: "recover", request: Empty, response: LlmConfigStore.RecoveryReport },
  /** Brings back configurations a restore left out whose keys are still in the keychain. */
  "llm-config:bring-back": { method: "bringBack", request: Empty, response: Schema.Array(HealthContract.BroughtBack) },
  "llm-config:check-keys": { method: "checkKeys", request: Empty, response: Schema.Array(HealthContract.KeyCheck) },
  "llm-config:backups": { method: "backups", request: Empty, response: Schema.Array(HealthContract.BackupInfo) },
  "llm-config:restore-backup": {
    method: "restoreBackup",
    request: Schema.Struct({ name: HealthContract.StorageFileName }),
    response: LlmConfigStore.StoreStatus
  },
  /** Shows the data folder, or one backup / damaged copy in it, in the system's file manager. */
  "llm-config:open-folder": {
    method: "openFolder",
    request: Schema.Struct({ file: Schema.optional(HealthContract.StorageFileName) }),
    response: Schema.Struct({ shown: Schema.String })
  }
} as const

export type IpcRoutes = typeof IpcRoutes
export type InvokeChannel = keyof IpcRoutes
/** The bridge method that invokes a channel. */
export type BridgeMethod = IpcRoutes[InvokeChannel]["method"]
/** The channel a bridge method invokes. */
export type ChannelOf<M extends BridgeMethod> = {
  readonly [C in InvokeChannel]: IpcRoutes[C]["method"] extends M ? C : never
}[InvokeChannel]

/** Bridge method → channel, from IpcRoutes; the preload and the test shim build their methods from it. */
export const bridgeChannels = Object.fromEntries(
  Object.entries(IpcRoutes).map(([channel, route]) => [route.method, channel])
) as { readonly [M in BridgeMethod]: ChannelOf<M> }

/** Every channel by name: the invoke routes under their bridge method names, and the events. */
export const IpcChannel = { ...bridgeChannels, ...IpcEvents } as const

/** The wire form of an error: enough for the UI to place and explain it, nothing more. */
const wireFields = {
  message: Schema.String,
  hint: Schema.String,
  /** For Timeout: the operation goes on; its outcome arrives on `settled` under this id. */
  requestId: Schema.optional(Schema.String)
}

/** Tags whose errors carry a reason: each has its own member below. */
const reasonTags = ["KeychainLocked", "KeychainUnavailable", "NotFound", "Conflict", "InvalidInput", "Unsupported"] as const
type PlainTag = Exclude<Errors.FishbowlError["_tag"], typeof reasonTags[number]>

/** Every other tag, from the one list of errors (Errors.errorTags). */
const plainTags = Errors.errorTags.filter((tag): tag is PlainTag => !(reasonTags as ReadonlyArray<string>).includes(tag))

/**
 * One member per tag that carries a typed reason (the page words it from its own table, checked
 * exhaustive by the compiler, never from the message); the rest carry only their words.
 */
export const IpcError = Schema.Union([
  Schema.TaggedStruct("KeychainLocked", { ...wireFields, reason: Errors.KeychainLockedReason }),
  Schema.TaggedStruct("KeychainUnavailable", { ...wireFields, reason: Schema.optional(Errors.KeychainUnavailableReason) }),
  Schema.TaggedStruct("NotFound", { ...wireFields, reason: Errors.NotFoundReason }),
  Schema.TaggedStruct("Conflict", { ...wireFields, reason: Errors.ConflictReason }),
  /** `field`: the offending field, so the UI can show the error next to it. */
  Schema.TaggedStruct("InvalidInput", { ...wireFields, field: Schema.String, reason: Schema.optional(Errors.InvalidInputReason) }),
  Schema.TaggedStruct("Unsupported", { ...wireFields, reason: Errors.UnsupportedReason }),
  ...plainTags.map((tag) => Schema.TaggedStruct(tag, wireFields))
])
export type IpcError = typeof IpcError.Type

/** `{ ok: true, value } | { ok: false, error }` around a route's response. */
export const IpcResult = <S extends Schema.Top>(value: S) =>
  Schema.Union([
    Schema.Struct({ ok: Schema.Literal(true), value }),
    Schema.Struct({ ok: Schema.Literal(false), error: IpcError })
  ])

export type IpcResultOf<C extends InvokeChannel> =
  | { readonly ok: true; readonly value: IpcRoutes[C]["response"]["Encoded"] }
  | { readonly ok: false; readonly error: IpcError }

/** What the renderer sends: the request's encoded (plain JSON) form. */
export type IpcRequestOf<C extends InvokeChannel> = IpcRoutes[C]["request"]["Encoded"]

/** One bridge method: a route whose request has no fields takes no argument. */
export type BridgeCall<C extends InvokeChannel> = [keyof IpcRequestOf<C>] extends [never] ? () => Promise<IpcResultOf<C>>
  : (request: IpcRequestOf<C>) => Promise<IpcResultOf<C>>

/** One method per route, named by the route (see IpcRoutes for what each does). */
export type BridgeMethods = { readonly [C in InvokeChannel as IpcRoutes[C]["method"]]: BridgeCall<C> }

/** The renderer-facing API exposed by the preload script as `window.fishbowl.llmConfigs`. */
export interface LlmConfigsBridge extends BridgeMethods {
  /** Subscribes to change events; returns an unsubscribe function. */
  readonly onChanged: (listener: (change: typeof LlmConfigStore.LlmConfigChange.Encoded) => void) => () => void
  /** Subscribes to late outcomes of timed-out calls; returns an unsubscribe function. */
  readonly onSettled: (listener: (outcome: HealthContract.LateOutcome) => void) => () => void
}
