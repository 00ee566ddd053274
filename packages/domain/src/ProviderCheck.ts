/**
 * Port: "does this key work?" One cheap, read-only request (the provider's model list) against
 * the config's own base URL, answered as a typed outcome a user can act on. Platform layers
 * implement the transport (desktop: effect/http over fetch, in the main process only); the rules
 * of which URL and which headers live here, so every implementation sends exactly the same thing.
 *
 * No outcome has a field that can carry a key or raw server/transport text: implementations
 * build every message themselves (a fetch error can quote the URL or headers; a 401 body can
 * quote part of the key).
 */
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import * as Errors from "./Errors.ts"
import type * as Ids from "./Ids.ts"
import * as Providers from "./Providers.ts"

/** Production bound for one check, connection to last byte. */
export const PROVIDER_CHECK_TIMEOUT_MILLIS = 10_000

/**
 * Most of a model list that is read. OpenRouter's list (hundreds of models with descriptions and
 * pricing) is the largest and stays well under this; anything bigger is not a model list.
 */
export const PROVIDER_CHECK_MAX_BODY_BYTES = 4 * 1024 * 1024

const described = { message: Schema.String, hint: Schema.String, millis: Schema.Number }

/** The provider accepted the request and listed `models` models. */
export const CheckOk = Schema.TaggedStruct("Ok", { ...described, status: Schema.Number, models: Schema.Number })
/** 401/403: the key was refused (wrong, revoked, or without access to the model list). */
export const CheckUnauthorized = Schema.TaggedStruct("Unauthorized", { ...described, status: Schema.Literals([401, 403]) })
/** 404: the server answered but has no such endpoint, so the base URL is wrong. */
export const CheckNotFound = Schema.TaggedStruct("NotFound", { ...described, status: Schema.Literal(404) })
/** 429: the key may be fine; the account is over its rate or quota. */
export const CheckRateLimited = Schema.TaggedStruct("RateLimited", { ...described, status: Schema.Literal(429) })
/** No HTTP answer at all: name resolution, connection or TLS failed. */
export const CheckUnreachable = Schema.TaggedStruct("Unreachable", {
  ...described,
  reason: Schema.Literals(["dns", "refused", "tls", "network"])
})
/** No complete answer within `timeoutMillis`. */
export const CheckTimeout = Schema.TaggedStruct("Timeout", { ...described, timeoutMillis: Schema.Number })
/** An answer that is none of the above: another status, a body that is not a model list, a redirect elsewhere. */
export const CheckUnexpected = Schema.TaggedStruct("Unexpected", {
  ...described,
  reason: Schema.Literals(["status", "body", "too-large", "redirect"]),
  status: Schema.optional(Schema.Number)
})

export const ProviderCheckOutcome = Schema.Union([
  CheckOk,
  CheckUnauthorized,
  CheckNotFound,
  CheckRateLimited,
  CheckUnreachable,
  CheckTimeout,
  CheckUnexpected
])
export type ProviderCheckOutcome = typeof ProviderCheckOutcome.Type

/** What to check: a stored config's settings, or an unsaved form's, with its key (if any). */
export interface ProviderCheckTarget {
  readonly provider: Ids.ProviderId
  readonly baseUrl?: string | undefined
  readonly useAuthHeader: boolean
  readonly apiKey?: Redacted.Redacted<string> | undefined
}

/** How a provider lists its models; every bundled provider is one of these. */
export type ProviderApiShape = "openai" | "anthropic" | "google" | "ollama"

const shapes: Readonly<Record<string, ProviderApiShape>> = {
  openai: "openai",
  openrouter: "openai",
  "openai-compatible": "openai",
  anthropic: "anthropic",
  google: "google",
  ollama: "ollama"
}

/** The API version header Anthropic requires on every request. */
export const ANTHROPIC_VERSION = "2023-06-01"

/**
 * The one request a check sends. `headers` is built from the key only when called, so the
 * plain key exists only for the moment a transport hands it to the network.
 */
export interface CheckEndpoint {
  readonly shape: ProviderApiShape
  readonly url: string
  readonly headers: () => Readonly<Record<string, string>>
  /** Whether `headers` carries a key: a refusal of a request without one is not a refused key. */
  readonly sendsKey: boolean
  /** How many models a parsed 2xx body lists; undefined when it is not a model list. */
  readonly countModels: (body: unknown) => number | undefined
}

/** Joins `path` to a base URL without doubling a version segment the base already ends with. */
const join = (base: string, version: string | undefined, path: string): string => {
  const trimmed = base.replace(/\/+$/, "")
  if (version === undefined || trimmed.endsWith(`/${version}`)) return `${trimmed}/${path}`
  return `${trimmed}/${version}/${path}`
}

const arrayLength = (body: unknown, field: string): number | undefined => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined
  const list = (body as Record<string, unknown>)[field]
  return Array.isArray(list) ? list.length : undefined
}

/**
 * The endpoint for `target`:
 *   - OpenAI, OpenRouter, OpenAI-compatible: `GET {base}/models`, `Authorization: Bearer` (none when
 *     `useAuthHeader` is off or there is no key);
 *   - Anthropic: `GET {base}/v1/models` with `x-api-key` and `anthropic-version`;
 *   - Google: `GET {base}/v1beta/models` with `x-goog-api-key` (the default base already ends in `/v1beta`);
 *   - Ollama: `GET {base}/api/tags`, no key.
 * The base is the config's own, else the provider's default; nothing else is ever contacted.
 */
export const checkEndpointFor = (target: ProviderCheckTarget): Effect.Effect<CheckEndpoint, Errors.InvalidInput> => {
  const provider = Providers.findProvider(target.provider)
  const shape = shapes[target.provider]
  if (provider === undefined || shape === undefined) {
    return Effect.fail(Providers.unknownProvider(target.provider))
  }
  const base = target.baseUrl ?? provider.defaultBaseUrl
  if (base === undefined) {
    return Effect.fail(
      new Errors.InvalidInput({
        field: "baseUrl",
        reason: "base-url-missing",
        message: `${provider.displayName} needs a base URL to check`,
        hint: "Enter the endpoint of your server, then check again."
      })
    )
  }
  if (provider.requiresApiKey && target.apiKey === undefined) {
    return Effect.fail(
      new Errors.InvalidInput({
        field: "apiKey",
        reason: "key-required",
        message: `${provider.displayName} needs an API key to check`,
        hint: "Paste the API key from your provider's dashboard, then check again."
      })
    )
  }
  const key = target.apiKey
  const accept = { accept: "application/json" }
  switch (shape) {
    case "openai":
      return Effect.succeed({
        shape,
        url: join(base, undefined, "models"),
        sendsKey: key !== undefined && target.useAuthHeader,
        headers: () =>
          key !== undefined && target.useAuthHeader
            ? { ...accept, authorization: `Bearer ${Redacted.value(key)}` }
            : accept,
        countModels: (body) => arrayLength(body, "data")
      })
    case "anthropic":
      return Effect.succeed({
        shape,
        url: join(base, "v1", "models"),
        sendsKey: true,
        headers: () => ({ ...accept, "anthropic-version": ANTHROPIC_VERSION, "x-api-key": Redacted.value(key!) }),
        countModels: (body) => arrayLength(body, "data")
      })
    case "google":
      return Effect.succeed({
        shape,
        url: join(base, "v1beta", "models"),
        sendsKey: true,
        headers: () => ({ ...accept, "x-goog-api-key": Redacted.value(key!) }),
        countModels: (body) => arrayLength(body, "models")
      })
    case "ollama":
      return Effect.succeed({
        shape,
        url: join(base, undefined, "api/tags"),
        sendsKey: false,
        headers: () => accept,
        countModels: (body) => arrayLength(body, "models")
      })
  }
}

export interface ProviderCheckService {
  /**
   * Sends the one check request for `target` and classifies the answer. Every network failure is
   * an outcome, not an error; only an impossible target (unknown provider, missing key or URL) fails.
   * Nothing is cached: the same target is checked afresh each time.
   */
  readonly check: (target: ProviderCheckTarget) => Effect.Effect<ProviderCheckOutcome, Errors.InvalidInput>
}

/** Outcome for a 2xx model list; shared so every implementation words it the same way. */
export const okOutcome = (status: number, models: number, millis: number): typeof CheckOk.Type => ({
  _tag: "Ok",
  status,
  models,
  millis,
  message: `The provider accepted the request and listed ${models} model${models === 1 ? "" : "s"}`,
  hint: "Nothing to do: this configuration works."
})

/** The port for checking a provider endpoint with a key. */
export class ProviderCheck extends Context.Service<ProviderCheck, ProviderCheckService>()(
  "@fishbowl/domain/ProviderCheck"
) {}

/**
 * Answers every check with `answer`, after the same target validation as production, so code
 * built on the port (IPC, CLI) is tested without a network.
 */
export const layerTest = (answer: (target: ProviderCheckTarget) => Effect.Effect<ProviderCheckOutcome>) =>
  Layer.succeed(
    ProviderCheck,
    ProviderCheck.of({
      check: Effect.fn("ProviderCheck.check")(function*(target: ProviderCheckTarget) {
        yield* checkEndpointFor(target)
        return yield* answer(target)
      })
    })
  )

/** Every valid target is "ok, 0 models". */
export const layerMemory = layerTest(() => Effect.succeed(okOutcome(200, 0, 0)))
