/**
 * Configuration metadata and the inputs that create or change it. Metadata is what may be
 * written to disk and sent to the renderer; the key exists only as `Redacted` inside inputs.
 */
import { Schema } from "effect"
import { ConfigId, ProviderId } from "./Ids.ts"
import { ProviderCheckOutcome } from "./ProviderCheck.ts"

/** C0 and C1 control characters (NUL included): never valid in a key or a name. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

/** Upper bound for a key, in UTF-8 bytes: larger than any provider's key, small enough for every keychain. */
export const MAX_API_KEY_BYTES = 16 * 1024

/** Size of `text` in UTF-8, the unit every keychain limit is stated in. */
export const utf8Length = (text: string): number => new TextEncoder().encode(text).length

/** A display name: trimmed, 1-100 characters, no control characters; unique case-insensitively per store. */
export const ConfigName = Schema.Trim.check(
  Schema.isMinLength(1, { message: "name must not be empty" }),
  Schema.isMaxLength(100, { message: "name must be at most 100 characters" }),
  Schema.makeFilter((name: string) => !CONTROL_CHARACTERS.test(name) || "name must not contain control characters")
)

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"])

/** Why a base URL is unacceptable, or undefined when it is fine. Never echoes the URL itself. */
export const baseUrlProblem = (text: string): string | undefined => {
  if (text.length > 2048) return "base URL must be at most 2048 characters"
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return "base URL must be an absolute URL"
  }
  if (url.username !== "" || url.password !== "") return "base URL must not contain credentials"
  if (url.protocol === "https:") return undefined
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined
  return "base URL must use https (http is allowed only for localhost, 127.0.0.1 and ::1)"
}

/** An endpoint keys may be sent to: https anywhere, plain http only to this machine. */
export const BaseUrl = Schema.Trim.check(Schema.makeFilter((text: string) => baseUrlProblem(text) ?? true))

/** ISO-8601 UTC timestamp as stored on disk and shown in the UI. */
export const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/, { message: "must be an ISO-8601 UTC time" })
)

/** Rules for key text; messages name the rule, never the value. */
export const ApiKeyText = Schema.String.check(
  Schema.makeFilter((key: string) => key.trim().length > 0 || "API key must not be empty"),
  Schema.makeFilter((key: string) => !CONTROL_CHARACTERS.test(key) || "API key must not contain NUL or control characters"),
  Schema.makeFilter((key: string) =>
    utf8Length(key) <= MAX_API_KEY_BYTES || `API key must be at most ${MAX_API_KEY_BYTES} bytes`
  )
)

/** A key arriving as plain text (IPC, CLI) and held as `Redacted` from then on. */
export const ApiKey = Schema.RedactedFromValue(ApiKeyText, { label: "apiKey" })
export type ApiKey = typeof ApiKey.Type

/** The last "check this key" of a stored config: when, and what the provider answered (never the key). */
export const ProviderCheckRecord = Schema.Struct({ checkedAt: Timestamp, outcome: ProviderCheckOutcome })
export type ProviderCheckRecord = typeof ProviderCheckRecord.Type

/** Metadata of one configuration: everything but the key, safe for disk, logs and the renderer. */
export const LlmConfig = Schema.Struct({
  id: ConfigId,
  provider: ProviderId,
  name: ConfigName,
  baseUrl: Schema.optional(BaseUrl),
  useAuthHeader: Schema.Boolean,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  hasKey: Schema.Boolean,
  /** Written only by `LlmConfigStore.recordCheck`; any update drops it, as it describes the settings before. */
  lastCheck: Schema.optional(ProviderCheckRecord)
})
export type LlmConfig = typeof LlmConfig.Type

/** What a user submits to add a configuration. */
export const LlmConfigInput = Schema.Struct({
  provider: ProviderId,
  name: ConfigName,
  baseUrl: Schema.optional(BaseUrl),
  useAuthHeader: Schema.optional(Schema.Boolean),
  apiKey: Schema.optional(ApiKey)
})
export type LlmConfigInput = typeof LlmConfigInput.Type

/**
 * A change to a configuration. Absent fields stay as they are; `baseUrl: null` clears it.
 * A key is required again whenever the base URL changes on a config that has one.
 */
export const LlmConfigPatch = Schema.Struct({
  name: Schema.optional(ConfigName),
  baseUrl: Schema.optional(Schema.NullOr(BaseUrl)),
  useAuthHeader: Schema.optional(Schema.Boolean),
  apiKey: Schema.optional(ApiKey)
})
export type LlmConfigPatch = typeof LlmConfigPatch.Type

/** Case-insensitive identity of a name, for uniqueness checks. */
export const nameKey = (name: string): string => name.trim().normalize("NFC").toLocaleLowerCase("en-US")
