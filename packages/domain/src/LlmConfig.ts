/**
 * Configuration metadata and the inputs that create or change it. Metadata is what may be
 * written to disk and sent to the renderer; the key exists only as `Redacted` inside inputs.
 */
import { Clock, Effect, Schema, SchemaTransformation } from "effect"
import * as BaseUrlRule from "./BaseUrlRule.ts"
import * as Canonical from "./Canonical.ts"
import * as Ids from "./Ids.ts"
import * as ProviderCheck from "./ProviderCheck.ts"

/** Upper bound for a key, in UTF-8 bytes: larger than any provider's key, small enough for every keychain. */
export const MAX_API_KEY_BYTES = 16 * 1024

/** One encoder for every call: building one costs more than encoding a whole settings file. */
const utf8Encoder = new TextEncoder()

/** Size of `text` in UTF-8, the unit every keychain limit is stated in. */
export const utf8Length = (text: string): number => utf8Encoder.encode(text).length

/**
 * A display name: trimmed, 1-100 characters, no control, invisible or text-direction characters;
 * unique per store by `nameKey` (Canonical.ts), so lookalikes are one name.
 */
export const ConfigName = Schema.Trim.check(Schema.makeFilter((name: string) => Canonical.nameProblem(name) ?? true))

/**
 * Why a base URL is unacceptable whatever the config holds, or undefined. Never echoes the URL.
 * Plain http to a private network is acceptable here; whether a config with a key may use it is
 * `insecureHttpProblem`'s call.
 */
export const baseUrlProblem = (text: string): string | undefined => {
  const check = Canonical.checkBaseUrl(text)
  if (check._tag === "Refused") return check.problem
  return check.url.secure || check.url.reach !== "public" ? undefined : BaseUrlRule.PUBLIC_HTTP_REFUSED
}

/**
 * An endpoint a config may name, decoded to its canonical form (the parsed URL's `href`, host in
 * punycode) so that what is stored and shown is what requests go to.
 */
export const BaseUrl = Schema.Trim.check(Schema.makeFilter((text: string) => baseUrlProblem(text) ?? true)).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({
      decode: (text: string) => {
        const check = Canonical.checkBaseUrl(text)
        return check._tag === "Ok" ? check.url.href : text
      },
      encode: (href: string) => href
    })
  )
)

/** How safe and durable a key's storage is; shown to users so a tier is never a silent downgrade. */
export const SecretStoreTier = Schema.Literals(["keychain", "encrypted-file", "session"])
export type SecretStoreTier = typeof SecretStoreTier.Type

/** ISO-8601 UTC timestamp as stored on disk and shown in the UI. */
export const Timestamp = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/, { message: "must be an ISO-8601 UTC time" })
)

/** Rules for key text (Canonical.ts); messages name the rule, never the value. */
export const ApiKeyText = Schema.String.check(
  Schema.makeFilter((key: string) => Canonical.apiKeyProblem(key, MAX_API_KEY_BYTES, utf8Length) ?? true)
)

/** A key arriving as plain text (IPC, CLI) and held as `Redacted` from then on. */
export const ApiKey = Schema.RedactedFromValue(ApiKeyText, { label: "apiKey" })
export type ApiKey = typeof ApiKey.Type

/** The last "check this key" of a stored config: when, and what the provider answered (never the key). */
/** Now, as a Timestamp (ISO 8601 UTC with milliseconds), from Effect's Clock (tests can move it). */
export const isoNow: Effect.Effect<string> = Clock.currentTimeMillis.pipe(Effect.map((millis) => new Date(millis).toISOString()))

export const ProviderCheckRecord = Schema.Struct({ checkedAt: Timestamp, outcome: ProviderCheck.ProviderCheckOutcome })
export type ProviderCheckRecord = typeof ProviderCheckRecord.Type

/** Metadata of one configuration: everything but the key, safe for disk, logs and the renderer. */
export const LlmConfig = Schema.Struct({
  id: Ids.ConfigId,
  provider: Ids.ProviderId,
  name: ConfigName,
  baseUrl: Schema.optional(BaseUrl),
  useAuthHeader: Schema.Boolean,
  /** The user accepted that the key goes over plain http to a private-network host. */
  allowInsecureHttp: Schema.optional(Schema.Boolean),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  hasKey: Schema.Boolean,
  /** Where the key was written (absent: written before this was recorded, i.e. the keychain). */
  keyStorage: Schema.optional(SecretStoreTier),
  /**
   * For a key held only in session memory: the session that holds it. Another session (a new
   * process) reports such a key as not saved, which is the truth.
   */
  keySession: Schema.optional(Schema.String),
  /** Written only by `LlmConfigStore.recordCheck`; any update drops it, as it describes the settings before. */
  lastCheck: Schema.optional(ProviderCheckRecord)
})
export type LlmConfig = typeof LlmConfig.Type

/** What a user submits to add a configuration. */
export const LlmConfigInput = Schema.Struct({
  provider: Ids.ProviderId,
  name: ConfigName,
  baseUrl: Schema.optional(BaseUrl),
  useAuthHeader: Schema.optional(Schema.Boolean),
  allowInsecureHttp: Schema.optional(Schema.Boolean),
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
  allowInsecureHttp: Schema.optional(Schema.Boolean),
  apiKey: Schema.optional(ApiKey)
})
export type LlmConfigPatch = typeof LlmConfigPatch.Type
