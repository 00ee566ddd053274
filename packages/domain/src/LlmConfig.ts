/**
 * Configuration metadata and the inputs that create or change it. Metadata is what may be
 * written to disk and sent to the renderer; the key exists only as `Redacted` inside inputs.
 */
import { Clock, Effect, Option, Schema, SchemaAST, SchemaTransformation } from "effect"
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

// ---------------------------------------------------------------------------------------------
// Stored configurations read without the schema's per-value machinery

/** A field value the fast reader leaves to the schema. */
const NOT_CANONICAL: unique symbol = Symbol("NOT_CANONICAL")

/** Verdicts on the values many configurations share (providers, base URLs), per reader. */
interface Memo {
  readonly provider: (text: string) => boolean
  readonly baseUrl: (text: string) => boolean
}

type FieldRule = (value: unknown, memo: Memo) => unknown

const memoized = (test: (text: string) => boolean) => {
  const seen = new Map<string, boolean>()
  return (text: string): boolean => {
    let verdict = seen.get(text)
    if (verdict === undefined) {
      verdict = test(text)
      seen.set(text, verdict)
    }
    return verdict
  }
}

/**
 * `Schema.is(schema)` for a string schema whose checks are all patterns, as plain tests of the
 * schema's own patterns (Schema.is costs several times a test); Schema.is itself for any other.
 * A schema that transforms what it decodes accepts nothing here: the reader's rules return the
 * value as it is, so such a field is left to the schema.
 */
const stringTest = (schema: Schema.Top): (value: unknown) => boolean => {
  if (schema.ast.encoding !== undefined) return () => false
  const patterns = schema.ast._tag === "String"
    ? (schema.ast.checks ?? []).map((check) => {
      const representation = check._tag === "Filter" ? check.annotations?.["representation"] : undefined
      const { id, payload } = (representation ?? {}) as {
        readonly id?: unknown
        readonly payload?: { readonly source: string; readonly flags: string }
      }
      return id === "effect/schema/isPattern" && payload !== undefined ? new RegExp(payload.source, payload.flags) : undefined
    })
    : [undefined]
  if (patterns.some((pattern) => pattern === undefined || pattern.global || pattern.sticky)) return Schema.is(schema)
  return (value) => typeof value === "string" && patterns.every((pattern) => pattern!.test(value))
}

const isConfigId = stringTest(Ids.ConfigId)
const isProviderId = stringTest(Ids.ProviderId)
const isTimestamp = stringTest(Timestamp)
const isSecretStoreTier = stringTest(SecretStoreTier)
const decodeCheckRecord = Schema.decodeUnknownOption(ProviderCheckRecord)

/** A base URL the schema would decode to itself: trimmed, acceptable, already its canonical `href`. */
const isCanonicalBaseUrl = (text: string): boolean => {
  if (text !== text.trim() || baseUrlProblem(text) !== undefined) return false
  const check = Canonical.checkBaseUrl(text)
  return check._tag === "Ok" && check.url.href === text
}

const string = (value: unknown) => typeof value === "string" ? value : NOT_CANONICAL
const boolean = (value: unknown) => typeof value === "boolean" ? value : NOT_CANONICAL
const timestamp = (value: unknown) => typeof value === "string" && isTimestamp(value) ? value : NOT_CANONICAL

/**
 * Per field of `LlmConfig`: the value the schema decodes it to when that value is already in its
 * stored (canonical) form — every check the schema makes, by the schema's own predicates and the
 * same rule functions — else NOT_CANONICAL. A field added to the schema fails to compile here
 * until it has a rule.
 */
const FIELD_RULES = {
  id: (value) => typeof value === "string" && isConfigId(value) ? value : NOT_CANONICAL,
  provider: (value, memo) => typeof value === "string" && memo.provider(value) ? value : NOT_CANONICAL,
  name: (value) =>
    typeof value === "string" && value === value.trim() && Canonical.nameProblem(value) === undefined ? value : NOT_CANONICAL,
  baseUrl: (value, memo) => typeof value === "string" && memo.baseUrl(value) ? value : NOT_CANONICAL,
  useAuthHeader: boolean,
  allowInsecureHttp: boolean,
  createdAt: timestamp,
  updatedAt: timestamp,
  hasKey: boolean,
  keyStorage: (value) => isSecretStoreTier(value) ? value : NOT_CANONICAL,
  keySession: string,
  // nested and rare: the schema's own decoder, whose result is exactly what the struct would hold
  lastCheck: (value) => Option.getOrElse(decodeCheckRecord(value), (): unknown => NOT_CANONICAL)
} satisfies { readonly [K in keyof typeof LlmConfig.fields]: FieldRule }

/** The schema's fields in its order (decoding builds its output in this order), with their rules. */
const FIELDS = (LlmConfig.ast as SchemaAST.Objects).propertySignatures.map((property) => ({
  name: property.name as keyof typeof FIELD_RULES,
  optional: SchemaAST.isOptional(property.type),
  rule: FIELD_RULES[property.name as keyof typeof FIELD_RULES]
}))

/**
 * A reader of stored configurations: for an input already in the form the store writes (every
 * value canonical: trimmed name, base URL equal to its `href`), exactly what decoding (and
 * encoding) it with `LlmConfig` gives — a new object with the schema's fields in the schema's
 * order, other keys dropped — at a fraction of the cost; `undefined` for anything else, which
 * the caller decodes with the schema (for its result or its error). A reader remembers verdicts
 * on repeated providers and base URLs: one per document, so a large file parses each URL once.
 */
export const makeStoredConfigReader = (): (input: unknown) => LlmConfig | undefined => {
  const memo: Memo = { provider: memoized(isProviderId), baseUrl: memoized(isCanonicalBaseUrl) }
  return (input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined
    const known = readBefore.get(input)
    if (known !== undefined) return known
    const record = input as { readonly [key: string]: unknown }
    let present = 0
    let decoded: Array<readonly [string, unknown]> | undefined
    for (const field of FIELDS) {
      // `in`, as the schema looks for a key (a JSON object's keys are its own)
      if (!(field.name in record)) {
        if (field.optional) continue
        return undefined
      }
      const original = record[field.name]
      const value = field.rule(original, memo)
      if (value === NOT_CANONICAL) return undefined
      present++
      if (value !== original) (decoded ??= []).push([field.name, value])
    }
    // The input itself when it already is that object (the usual stored configuration): no copy.
    if (decoded === undefined && holdsExactly(record, present)) return remember(record, record, true)
    const out: Record<string, unknown> = {}
    for (const field of FIELDS) if (field.name in record) out[field.name] = record[field.name]
    for (const [name, value] of decoded ?? []) out[name] = value
    return remember(record, remember(out, out, true), false)
  }
}

/**
 * What a reader gave for an input (the input itself, or its copy in the schema's form), both
 * frozen (nested values too) so that the verdict stays true for as long as they live: the store's
 * configurations pass through a reader at every load and every write, and a write after one
 * change re-checks (and re-serializes, PreferencesText) only the changed configuration. Every rule
 * is a pure function of the values, so one verdict holds for every reader.
 *
 * Only data that freezing holds still is remembered: plain objects and arrays, every schema field
 * the input's own (a field found on a polluted `Object.prototype` could go away), nested at most
 * MAX_REMEMBERED_DEPTH levels (so no cycle); anything else (a class instance, a typed array) is
 * read afresh each time (`freezeDeep`). What JSON.parse and the store's own spreads build always qualifies. Not
 * covered: an accessor property on a configuration handed in by code in this process (freezing
 * keeps a getter working; telling one apart costs a property descriptor per field on every first
 * read, several times the whole cache's gain on a large file).
 */
const readBefore = new WeakMap<object, LlmConfig>()
const MAX_REMEMBERED_DEPTH = 8

/** `ownFields`: every schema field `input` has is its own (known on the reader's no-copy path). */
const remember = (input: object, result: object, ownFields: boolean): LlmConfig => {
  if (
    (ownFields || fieldsAreOwn(input)) && freezeDeep(input, MAX_REMEMBERED_DEPTH) &&
    (result === input || readBefore.get(result) === result || freezeDeep(result, MAX_REMEMBERED_DEPTH))
  ) {
    readBefore.set(input, result as LlmConfig)
  }
  return result as LlmConfig
}

const fieldsAreOwn = (input: object): boolean => FIELDS.every((field) => !(field.name in input) || Object.hasOwn(input, field.name))

/**
 * Freezes `value` and everything in it, also under an object someone else froze; false (and the
 * verdict is not remembered) at anything freezing cannot hold still: not a plain object or array,
 * or nested deeper than `depth` (so a cycle ends). Each object is frozen before its contents are
 * visited, so what is found wrong deep inside may leave plain objects above it frozen.
 */
const freezeDeep = (value: object, depth: number): boolean => {
  const prototype = Object.getPrototypeOf(value)
  if (depth === 0 || (prototype !== Object.prototype && prototype !== Array.prototype)) return false
  Object.freeze(value)
  for (const inner of Object.values(value)) {
    if (typeof inner === "object" ? inner !== null && !freezeDeep(inner, depth - 1) : typeof inner === "function") return false
  }
  return true
}

/** Whether `record`'s enumerable keys are its own and exactly `present` of the schema's fields, in the schema's order. */
const holdsExactly = (record: object, present: number): boolean => {
  let field = 0
  let count = 0
  for (const key in record) {
    while (field < FIELDS.length && FIELDS[field]!.name !== key) field++
    if (field === FIELDS.length || !Object.hasOwn(record, key)) return false
    field++
    count++
  }
  return count === present
}

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
