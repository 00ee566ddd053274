/**
 * Fishbowl's `llm_config.json` (langadventurellc/fishbowl), read exactly as Fishbowl writes it.
 *
 * - Location: `path.join(app.getPath("userData"), "llm_config.json")`
 *   (apps/desktop/src/electron/services/LlmStorageService.ts); userData is `<appData>/Fishbowl`
 *   (apps/desktop/src/electron/main.ts sets it on Windows; `build.productName` elsewhere).
 * - Content: a JSON array of LlmConfigMetadata written by FileStorageService.writeJsonFile
 *   (`JSON.stringify(configs, null, 2)`, temp file `.tmp-<hex>.json` + rename, mode 0600;
 *   packages/shared/src/services/storage/FileStorageService.ts), each entry
 *   `{ id, customName, provider, baseUrl?, useAuthHeader, createdAt, updatedAt }` — no key
 *   (packages/shared/src/types/llmConfig/LlmConfigMetadata.ts,
 *   packages/shared/src/repositories/llmConfig/LlmConfigRepository.ts `create`).
 * - `id`: UUID v4 from NodeCryptoUtils.generateId (apps/desktop/src/main/utils/NodeCryptoUtils.ts).
 * - `customName`: the user's name, 1–100 characters (llmConfigInputSchema.ts).
 * - `provider`: "openai" | "anthropic"; builds of 2025-08-07 also had "google" and "custom"
 *   (packages/shared/src/types/llmConfig/Provider.ts, commit 2d0a0d0b; removed in 3ba2096a).
 * - `baseUrl`: optional; zod `.url()` accepted any absolute URL (http on any host included);
 *   "custom" required one (llmConfigInputSchema.ts at 2d0a0d0b, validateProviderRequirements.ts).
 * - `createdAt` / `updatedAt`: `new Date().toISOString()`.
 * Other spellings (name, providerId, base_url, ...) are read only as a fallback.
 */
import { type Ids, Providers } from "@fishbowl/domain"
import * as LegacyFields from "./LegacyFields.ts"
import type * as LegacyFiles from "./LegacyFiles.ts"
import type * as LegacySource from "./LegacySource.ts"

export const LLM_CONFIG_FILE = "llm_config.json"
/** What `llm_config.json` becomes (it holds no key) once every config in it is in the store. */
export const MIGRATED_CONFIG_FILE = "llm_config.json.migrated"

/** Fishbowl's provider ids → ours. "custom" was an OpenAI-compatible endpoint with a base URL. */
export const FISHBOWL_PROVIDERS: Readonly<Record<string, string>> = {
  openai: "openai",
  anthropic: "anthropic",
  google: "google",
  custom: "openai-compatible"
}

export const providerFromFishbowl = (text: string | undefined): Providers.ProviderDefinition | undefined => {
  if (text === undefined) return undefined
  const mapped = Object.prototype.hasOwnProperty.call(FISHBOWL_PROVIDERS, text) ? FISHBOWL_PROVIDERS[text] : undefined
  return mapped !== undefined ? Providers.findProvider(mapped) : LegacyFields.tolerantProvider(text)
}

/** The entries of a parsed llm_config.json, or undefined when it is not Fishbowl's array. */
export const configEntries = (json: unknown): ReadonlyArray<unknown> | undefined =>
  Array.isArray(json)
    ? json
    : typeof json === "object" && json !== null && Array.isArray((json as LegacyFiles.Raw)["configs"])
    ? (json as LegacyFiles.Raw)["configs"] as ReadonlyArray<unknown>
    : undefined

/** The legacy id under which the entry's key is stored (see SecureKeysFile). */
export const legacyIdOf = (raw: LegacyFiles.Raw): string | undefined => LegacyFields.textField(raw, ["id", "configId", "config_id"])

/** The field that holds the base URL in this entry (for the fix text). */
export const baseUrlFieldOf = (raw: LegacyFiles.Raw): string =>
  ["baseUrl", "baseURL", "base_url", "endpoint", "url"].find((name) => raw[name] !== undefined) ?? "baseUrl"

/** One entry's metadata, with the target id (the Fishbowl id when it is a UUID, else derived). */
export const fieldsOf = (raw: LegacyFiles.Raw, index: number, folder: string, now: string): LegacySource.LegacyFields => {
  const legacyId = legacyIdOf(raw)
  const providerText = LegacyFields.textField(raw, ["provider", "providerId", "provider_id", "type"])
  const name = LegacyFields.cleanName(LegacyFields.textField(raw, ["customName", "name", "displayName", "display_name", "label", "title"]))
  const configId: Ids.ConfigId = LegacyFields.reusableId(legacyId) ??
    LegacyFields.derivedId(folder, legacyId !== undefined ? `id:${legacyId}` : `name:${(name ?? `#${index}`).toLowerCase()}`)
  const useAuthHeader = LegacyFields.firstField(raw, ["useAuthHeader", "use_auth_header"])
  const createdAt = LegacyFields.timestampOf(LegacyFields.firstField(raw, ["createdAt", "created_at"]), now)
  return {
    configId,
    provider: providerFromFishbowl(providerText),
    providerText,
    name,
    baseUrl: LegacyFields.textField(raw, ["baseUrl", "baseURL", "base_url", "endpoint", "url"]),
    // Fishbowl's schema defaults it to true (llmConfigInputSchema.ts).
    useAuthHeader: typeof useAuthHeader === "boolean" ? useAuthHeader : true,
    createdAt,
    updatedAt: LegacyFields.timestampOf(LegacyFields.firstField(raw, ["updatedAt", "updated_at"]), createdAt)
  }
}
