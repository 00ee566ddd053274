/**
 * The two ways a user checks a key, written once for every face (IPC, CLI):
 *   - a stored config by id: its key is read from the secret store in this process, the outcome
 *     is recorded in its metadata (`LlmConfigStore.recordCheck`, which never touches the key);
 *   - an unsaved form's values with the key typed there: checked and forgotten. Nothing is written
 *     anywhere, neither keychain nor preferences.
 */
import { Effect, Schema } from "effect"
import * as Canonical from "./Canonical.ts"
import * as Ids from "./Ids.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as LlmConfigStore from "./LlmConfigStore.ts"
import * as ProviderCheck from "./ProviderCheck.ts"
import * as Providers from "./Providers.ts"

/** An unsaved form's values: what `create` would take, minus the name. */
export const ProviderCheckDraft = Schema.Struct({
  provider: Ids.ProviderId,
  baseUrl: Schema.optional(LlmConfig.BaseUrl),
  useAuthHeader: Schema.optional(Schema.Boolean),
  allowInsecureHttp: Schema.optional(Schema.Boolean),
  apiKey: Schema.optional(LlmConfig.ApiKey)
})
export type ProviderCheckDraft = typeof ProviderCheckDraft.Type

/** A check's answer; `recorded` says whether it was stored as the config's `lastCheck`. */
export const ConfigCheckResult = Schema.Struct({ check: LlmConfig.ProviderCheckRecord, recorded: Schema.Boolean })
export type ConfigCheckResult = typeof ConfigCheckResult.Type

const isoNow = LlmConfig.isoNow

/**
 * Checks a stored config with its stored key and records the outcome. A failed record (the
 * config changed or was removed meanwhile, the disk refused) does not hide the outcome: it is
 * returned with `recorded: false`.
 */
export const checkStoredConfig = Effect.fn("ConfigCheck.stored")(function*(id: Ids.ConfigId) {
  const store = yield* LlmConfigStore.LlmConfigStore
  const checker = yield* ProviderCheck.ProviderCheck
  const config = yield* store.get(id)
  const apiKey = config.hasKey ? yield* store.getApiKey(id) : undefined
  const outcome = yield* checker.check({
    provider: config.provider,
    baseUrl: config.baseUrl,
    useAuthHeader: config.useAuthHeader,
    apiKey
  })
  const check: LlmConfig.ProviderCheckRecord = { checkedAt: yield* isoNow, outcome }
  const recorded = yield* store.recordCheck(id, check, { ifUpdatedAt: config.updatedAt }).pipe(
    Effect.as(true),
    Effect.catch(() => Effect.succeed(false))
  )
  return { check, recorded } satisfies ConfigCheckResult
})

/** Checks an unsaved form's values. Needs only ProviderCheck: it cannot reach either store. */
export const checkDraft = Effect.fn("ConfigCheck.draft")(function*(draft: ProviderCheckDraft) {
  yield* Providers.requireProvider(draft.provider)
  // The same http rule as saving: a typed key never goes over plain http to a network host
  // without the user's consent, not even to test it.
  yield* Canonical.refuseInsecureHttp(draft.baseUrl ?? Providers.findProvider(draft.provider)?.defaultBaseUrl, {
    hasKey: draft.apiKey !== undefined,
    allowInsecureHttp: draft.allowInsecureHttp === true
  })
  const outcome = yield* (yield* ProviderCheck.ProviderCheck).check({
    provider: draft.provider,
    baseUrl: draft.baseUrl,
    useAuthHeader: draft.useAuthHeader ?? true,
    apiKey: draft.apiKey
  })
  return { check: { checkedAt: yield* isoNow, outcome }, recorded: false } satisfies ConfigCheckResult
})
