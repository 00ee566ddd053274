/**
 * ProviderCheck over effect/http's fetch client, for the Electron main process and the CLI (never
 * the renderer: the key is read and sent here only).
 *
 * One GET to the endpoint the domain picks (`checkEndpointFor`), bounded three ways:
 *   - time: the whole exchange, connection to last byte read, within `timeoutMillis` (10 s);
 *   - redirects: fetch runs with `redirect: "manual"`; a same-origin redirect is followed (at
 *     most `maxRedirects`), one to another origin is refused, so the key never reaches a host
 *     the user did not enter;
 *   - size: a 2xx body is streamed and reading stops past `maxBodyBytes`; other statuses' bodies
 *     are never read (a 401 body can quote part of the key).
 * Every outcome message is written here. Transport errors are classified by their `code`
 * against fixed lists and never quoted: a fetch error (and effect's HttpClientError, which holds
 * the request) can carry the URL and the headers.
 */
import { JsonLimits, ProviderCheck } from "@fishbowl/domain"
import { Clock, Duration, Effect, Layer, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"

export interface HttpProviderCheckOptions {
  /** Bound for one check (default 10 s); tests lower it. */
  readonly timeoutMillis?: number
  /** Most of a 2xx body that is read (default 4 MiB). */
  readonly maxBodyBytes?: number
  /** Same-origin redirects followed (default 3). */
  readonly maxRedirects?: number
}

type Unreachable = Extract<ProviderCheck.ProviderCheckOutcome, { _tag: "Unreachable" }>

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA"])
const REFUSED_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"])
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_OSSL_)/

/** Every `code` in an error's cause chain (fetch wraps the socket error; happy-eyeballs aggregates). */
const errorCodes = (error: unknown): Array<string> => {
  const codes: Array<string> = []
  const pending: Array<unknown> = [error]
  for (let seen = 0; pending.length > 0 && seen < 20; seen++) {
    const next = pending.shift()
    if (typeof next !== "object" || next === null) continue
    const { code, cause, errors } = next as { code?: unknown; cause?: unknown; errors?: unknown }
    if (typeof code === "string") codes.push(code)
    if (cause !== undefined) pending.push(cause)
    if (Array.isArray(errors)) pending.push(...errors)
  }
  return codes
}

const unreachable = (cause: unknown, millis: number): Unreachable => {
  const codes = errorCodes(cause)
  if (codes.some((code) => DNS_CODES.has(code))) {
    return {
      _tag: "Unreachable",
      reason: "dns",
      millis,
      message: "The provider's host name could not be resolved",
      hint: "Check the base URL for typos and that this computer is online."
    }
  }
  if (codes.some((code) => REFUSED_CODES.has(code))) {
    return {
      _tag: "Unreachable",
      reason: "refused",
      millis,
      message: "Nothing accepted the connection at the base URL",
      hint: "Check the base URL's host and port; for a local server (Ollama), check that it is running."
    }
  }
  if (codes.some((code) => TLS_CODE.test(code))) {
    return {
      _tag: "Unreachable",
      reason: "tls",
      millis,
      message: "The secure (TLS) connection to the provider failed: its certificate was not accepted",
      hint: "Check the base URL's host; a proxy or antivirus that replaces certificates can cause this."
    }
  }
  return {
    _tag: "Unreachable",
    reason: "network",
    millis,
    message: "The connection to the provider failed before it answered",
    hint: "Check that this computer is online and the base URL is right, then try again."
  }
}

const statusOutcome = (status: number, millis: number, sendsKey: boolean): ProviderCheck.ProviderCheckOutcome => {
  switch (status) {
    case 401:
    case 403:
      if (!sendsKey) {
        // Nothing was sent to refuse: the configuration has no key (or its auth header is off).
        return {
          _tag: "Unauthorized",
          status,
          millis,
          message:
            `The provider asks for a key (HTTP ${status}), and none was sent: this configuration has no key stored, or its auth header is off`,
          hint: "Add the provider's API key to this configuration (or turn its auth header on), then test again."
        }
      }
      return {
        _tag: "Unauthorized",
        status,
        millis,
        message: `The provider refused the key (HTTP ${status})`,
        hint: status === 401
          ? "Paste the key again from your provider's dashboard; it may be mistyped, revoked or for another provider."
          : "The key was recognised but has no access to this API; check its permissions or project in your provider's dashboard."
      }
    case 404:
      return {
        _tag: "NotFound",
        status,
        millis,
        message: "The server answered, but has no model list at this base URL (HTTP 404)",
        hint: "Check the base URL: most OpenAI-compatible servers end in /v1."
      }
    case 429:
      return {
        _tag: "RateLimited",
        status,
        millis,
        message: "The provider is limiting requests for this key (HTTP 429)",
        hint: "The key is probably fine: wait a minute, or check the account's quota and billing."
      }
    default:
      return {
        _tag: "Unexpected",
        reason: "status",
        status,
        millis,
        message: `The provider answered with HTTP ${status}`,
        hint: status >= 500
          ? "The provider has a problem right now; try again later."
          : "Check the base URL and the provider; this is not how its model list answers."
      }
  }
}

const isRedirect = (status: number) => status === 301 || status === 302 || status === 303 || status === 307 || status === 308

/** Resolves a Location against the current URL; undefined when it is missing or not a URL. */
const resolveLocation = (location: string | undefined, current: string): URL | undefined => {
  if (location === undefined) return undefined
  try {
    return new URL(location, current)
  } catch {
    return undefined
  }
}

/** Reads at most `maxBytes` of the body, then stops (the stream's finalizer cancels the rest). */
const readBounded = (response: HttpClientResponse.HttpClientResponse, maxBytes: number) =>
  Effect.gen(function*() {
    const chunks: Array<Uint8Array> = []
    let total = 0
    let tooLarge = false
    yield* response.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          total += chunk.byteLength
          if (total > maxBytes) {
            tooLarge = true
            return false
          }
          chunks.push(chunk)
          return true
        })
      )
    )
    if (tooLarge) return { _tag: "TooLarge" as const }
    const bytes = new Uint8Array(total)
    let offset = 0
    for (const chunk of chunks) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    return { _tag: "Body" as const, bytes }
  })

/** What a 2xx answer means: a model list (counted), too large, or another kind of body. */
const answerOf = (
  endpoint: ProviderCheck.CheckEndpoint,
  status: number,
  body: { readonly _tag: "TooLarge" } | { readonly _tag: "Body"; readonly bytes: Uint8Array },
  millis: number,
  maxBodyBytes: number
): ProviderCheck.ProviderCheckOutcome => {
  if (body._tag === "TooLarge") {
    return {
      _tag: "Unexpected",
      reason: "too-large",
      status,
      millis,
      message: `The provider's answer is larger than ${Math.round(maxBodyBytes / 1024)} KiB, so it was not read to the end`,
      hint: "This is not how a model list looks; check the base URL."
    }
  }
  const parsed = JsonLimits.parseBoundedJson(new TextDecoder().decode(body.bytes), { bytes: body.bytes.byteLength, maxBytes: maxBodyBytes })
  const models = parsed._tag === "Parsed" ? endpoint.countModels(parsed.value) : undefined
  if (models === undefined) {
    return {
      _tag: "Unexpected",
      reason: "body",
      status,
      millis,
      message: `The server answered HTTP ${status}, but not with a model list`,
      hint: "Check the base URL and the provider: another kind of server (or a login page) may be answering there."
    }
  }
  return ProviderCheck.okOutcome(status, models, millis)
}

export const make = (options: HttpProviderCheckOptions = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const scopedClient = HttpClient.withScope(client)
    const timeoutMillis = options.timeoutMillis ?? ProviderCheck.PROVIDER_CHECK_TIMEOUT_MILLIS
    const maxBodyBytes = options.maxBodyBytes ?? ProviderCheck.PROVIDER_CHECK_MAX_BODY_BYTES
    const maxRedirects = options.maxRedirects ?? 3

    /** One request and what its answer means: a same-origin hop to follow, or the outcome. */
    const hop = (
      endpoint: ProviderCheck.CheckEndpoint,
      url: string,
      redirectsLeft: boolean,
      elapsed: Effect.Effect<number>
    ) =>
      Effect.gen(function*() {
        const request = HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(endpoint.headers()))
        const response = yield* scopedClient.execute(request)
        if (isRedirect(response.status)) {
          const next = resolveLocation(response.headers["location"], url)
          if (next !== undefined && next.origin === new URL(endpoint.url).origin && redirectsLeft) {
            return { _tag: "Follow", url: next.href } as const
          }
          return {
            _tag: "Unexpected",
            reason: "redirect",
            status: response.status,
            millis: yield* elapsed,
            message: next !== undefined && next.origin !== new URL(endpoint.url).origin
              ? "The provider redirected the request to another host; it was not followed, so the key was not sent there"
              : "The provider kept redirecting the request",
            hint: "Enter the final URL as the base URL yourself if you trust it (check it for typos first)."
          } satisfies ProviderCheck.ProviderCheckOutcome
        }
        if (response.status < 200 || response.status > 299) {
          return statusOutcome(response.status, yield* elapsed, endpoint.sendsKey)
        }
        return answerOf(endpoint, response.status, yield* readBounded(response, maxBodyBytes), yield* elapsed, maxBodyBytes)
      }).pipe(
        // The request lives in this scope: when the hop ends (a body left unread on a redirect or
        // an error status, or a read cut short) or is interrupted (the timeout), it is aborted and
        // its socket closed at once, not when a garbage collection finds the response.
        Effect.scoped
      )

    const exchange = (target: ProviderCheck.ProviderCheckTarget, started: number) =>
      Effect.gen(function*() {
        const endpoint = yield* ProviderCheck.checkEndpointFor(target)
        const elapsed = Clock.currentTimeMillis.pipe(Effect.map((now) => now - started))
        let url = endpoint.url
        for (let hops = 0;; hops++) {
          const step = yield* hop(endpoint, url, hops < maxRedirects, elapsed)
          if (step._tag !== "Follow") return step
          url = step.url
        }
      }).pipe(
        // Only typed transport/response failures remain here; each becomes an outcome built above.
        Effect.catchTag("HttpClientError", (error) =>
          Effect.map(Clock.currentTimeMillis, (now): ProviderCheck.ProviderCheckOutcome =>
            error.reason._tag === "InvalidUrlError"
              ? {
                _tag: "Unexpected",
                reason: "status",
                millis: now - started,
                message: "The base URL could not be used for a request",
                hint: "Check the base URL for typos."
              }
              : unreachable(error.reason._tag === "TransportError" ? error.reason.cause : undefined, now - started))),
        Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
        Effect.provideService(HttpClient.TracerPropagationEnabled, false)
      )

    const check = Effect.fn("ProviderCheck.check")(function*(target: ProviderCheck.ProviderCheckTarget) {
      const started = yield* Clock.currentTimeMillis
      return yield* exchange(target, started).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () =>
            Effect.map(Clock.currentTimeMillis, (now): ProviderCheck.ProviderCheckOutcome => ({
              _tag: "Timeout",
              timeoutMillis,
              millis: now - started,
              message: `The provider did not answer within ${timeoutMillis / 1000} s`,
              hint: "Check the base URL and your network (a firewall or proxy may be holding the connection); try again."
            }))
        })
      )
    })

    return ProviderCheck.ProviderCheck.of({ check })
  })

/** The production checker over the platform's fetch. */
export const layer = (options?: HttpProviderCheckOptions): Layer.Layer<ProviderCheck.ProviderCheck> =>
  Layer.effect(ProviderCheck.ProviderCheck, make(options)).pipe(Layer.provide(FetchHttpClient.layer))
