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

/** Channel names, shared by main, preload and tests. */
export const IpcChannel = {
  list: "llm-config:list",
  get: "llm-config:get",
  create: "llm-config:create",
  update: "llm-config:update",
  remove: "llm-config:remove",
  status: "llm-config:status",
  diagnose: "llm-config:diagnose",
  authorize: "llm-config:authorize",
  /** Checks a stored config's key against its provider (main reads the key; it never crosses IPC back). */
  check: "llm-config:check",
  /** Checks an unsaved form's values and key; persists nothing. */
  checkDraft: "llm-config:check-draft",
  dismissNotice: "llm-config:dismiss-notice",
  recover: "llm-config:recover",
  checkKeys: "llm-config:check-keys",
  backups: "llm-config:backups",
  restoreBackup: "llm-config:restore-backup",
  openFolder: "llm-config:open-folder",
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

/** Request and response schema per invokable channel. */
export const IpcRoutes = {
  [IpcChannel.list]: { request: Empty, response: Schema.Array(LlmConfig.LlmConfig) },
  [IpcChannel.get]: { request: Schema.Struct({ id: Ids.ConfigId }), response: LlmConfig.LlmConfig },
  [IpcChannel.create]: { request: LlmConfig.LlmConfigInput, response: LlmConfig.LlmConfig },
  [IpcChannel.update]: { request: Schema.Struct({ id: Ids.ConfigId, patch: LlmConfig.LlmConfigPatch }), response: LlmConfig.LlmConfig },
  [IpcChannel.remove]: { request: Schema.Struct({ id: Ids.ConfigId }), response: Schema.Struct({ id: Ids.ConfigId }) },
  [IpcChannel.status]: { request: Empty, response: LlmConfigStore.StoreStatus },
  [IpcChannel.diagnose]: { request: Schema.Struct({ probe: Schema.optional(Schema.Boolean) }), response: Diagnostics.DiagnosticsReport },
  [IpcChannel.authorize]: { request: Empty, response: LlmConfigStore.StoreStatus },
  [IpcChannel.check]: { request: Schema.Struct({ id: Ids.ConfigId }), response: ConfigCheck.ConfigCheckResult },
  [IpcChannel.checkDraft]: { request: ConfigCheck.ProviderCheckDraft, response: ConfigCheck.ConfigCheckResult },
  [IpcChannel.dismissNotice]: {
    request: Schema.Struct({ id: Schema.String.check(Schema.isMaxLength(200)) }),
    response: Schema.Struct({ id: Schema.String })
  },
  /** Finishes interrupted changes now, including other instances' recent ones (`force`). */
  [IpcChannel.recover]: { request: Empty, response: LlmConfigStore.RecoveryReport },
  [IpcChannel.checkKeys]: { request: Empty, response: Schema.Array(HealthContract.KeyCheck) },
  [IpcChannel.backups]: { request: Empty, response: Schema.Array(HealthContract.BackupInfo) },
  [IpcChannel.restoreBackup]: { request: Schema.Struct({ name: HealthContract.StorageFileName }), response: LlmConfigStore.StoreStatus },
  /** Shows the data folder, or one backup / damaged copy in it, in the system's file manager. */
  [IpcChannel.openFolder]: {
    request: Schema.Struct({ file: Schema.optional(HealthContract.StorageFileName) }),
    response: Schema.Struct({ shown: Schema.String })
  }
} as const

export type IpcRoutes = typeof IpcRoutes
export type InvokeChannel = keyof IpcRoutes

/** The wire form of an error: enough for the UI to place and explain it, nothing more. */
export const IpcError = Schema.Struct({
  _tag: Schema.Literals(Errors.errorTags),
  message: Schema.String,
  hint: Schema.String,
  /** For InvalidInput: the offending field, so the UI can show the error next to it. */
  field: Schema.optional(Schema.String),
  /** For Timeout: the operation goes on; its outcome arrives on `settled` under this id. */
  requestId: Schema.optional(Schema.String)
})
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

/** The renderer-facing API exposed by the preload script as `window.fishbowl.llmConfigs`. */
export interface LlmConfigsBridge {
  readonly list: () => Promise<IpcResultOf<typeof IpcChannel.list>>
  readonly get: (request: IpcRequestOf<typeof IpcChannel.get>) => Promise<IpcResultOf<typeof IpcChannel.get>>
  readonly create: (request: IpcRequestOf<typeof IpcChannel.create>) => Promise<IpcResultOf<typeof IpcChannel.create>>
  readonly update: (request: IpcRequestOf<typeof IpcChannel.update>) => Promise<IpcResultOf<typeof IpcChannel.update>>
  readonly remove: (request: IpcRequestOf<typeof IpcChannel.remove>) => Promise<IpcResultOf<typeof IpcChannel.remove>>
  readonly status: () => Promise<IpcResultOf<typeof IpcChannel.status>>
  readonly diagnose: (request: IpcRequestOf<typeof IpcChannel.diagnose>) => Promise<IpcResultOf<typeof IpcChannel.diagnose>>
  readonly authorize: () => Promise<IpcResultOf<typeof IpcChannel.authorize>>
  /** "Test connection" on a stored config; the outcome is also recorded as its `lastCheck`. */
  readonly check: (request: IpcRequestOf<typeof IpcChannel.check>) => Promise<IpcResultOf<typeof IpcChannel.check>>
  /** "Test connection" in the add form, with the key typed there; nothing is saved. */
  readonly checkDraft: (
    request: IpcRequestOf<typeof IpcChannel.checkDraft>
  ) => Promise<IpcResultOf<typeof IpcChannel.checkDraft>>
  readonly dismissNotice: (request: IpcRequestOf<typeof IpcChannel.dismissNotice>) => Promise<IpcResultOf<typeof IpcChannel.dismissNotice>>
  readonly recover: () => Promise<IpcResultOf<typeof IpcChannel.recover>>
  readonly checkKeys: () => Promise<IpcResultOf<typeof IpcChannel.checkKeys>>
  readonly backups: () => Promise<IpcResultOf<typeof IpcChannel.backups>>
  readonly restoreBackup: (request: IpcRequestOf<typeof IpcChannel.restoreBackup>) => Promise<IpcResultOf<typeof IpcChannel.restoreBackup>>
  readonly openFolder: (request: IpcRequestOf<typeof IpcChannel.openFolder>) => Promise<IpcResultOf<typeof IpcChannel.openFolder>>
  /** Subscribes to change events; returns an unsubscribe function. */
  readonly onChanged: (listener: (change: typeof LlmConfigStore.LlmConfigChange.Encoded) => void) => () => void
  /** Subscribes to late outcomes of timed-out calls; returns an unsubscribe function. */
  readonly onSettled: (listener: (outcome: HealthContract.LateOutcome) => void) => () => void
}

/** Maps each bridge method to its channel, so preload and test shims stay in step. */
export const bridgeChannels = {
  list: IpcChannel.list,
  get: IpcChannel.get,
  create: IpcChannel.create,
  update: IpcChannel.update,
  remove: IpcChannel.remove,
  status: IpcChannel.status,
  diagnose: IpcChannel.diagnose,
  authorize: IpcChannel.authorize,
  check: IpcChannel.check,
  checkDraft: IpcChannel.checkDraft,
  dismissNotice: IpcChannel.dismissNotice,
  recover: IpcChannel.recover,
  checkKeys: IpcChannel.checkKeys,
  backups: IpcChannel.backups,
  restoreBackup: IpcChannel.restoreBackup,
  openFolder: IpcChannel.openFolder
} as const satisfies { readonly [K in Exclude<keyof LlmConfigsBridge, "onChanged" | "onSettled">]: InvokeChannel }
