/**
 * HttpProviderCheck against fake provider servers on 127.0.0.1 (node:http, a random port each),
 * one per API shape, asserting the exact path and headers sent and every outcome. The request
 * shapes follow the providers' public API references:
 *   OpenAI `GET /v1/models` (Authorization: Bearer), OpenRouter `GET /api/v1/models`,
 *   Anthropic `GET /v1/models` (x-api-key, anthropic-version), Google `GET /v1beta/models`
 *   (x-goog-api-key), Ollama `GET /api/tags` (no key).
 */
import { Ids, ProviderCheck } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Effect, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import * as HttpProviderCheck from "../src/HttpProviderCheck.ts"

interface Seen {
  readonly method: string | undefined
  readonly path: string | undefined
  readonly headers: http.IncomingHttpHeaders
}

interface FakeServer {
  readonly base: string
  readonly port: number
  readonly seen: Array<Seen>
  readonly closedEarly: Array<boolean>
  readonly close: () => Promise<void>
}

const servers: Array<FakeServer> = []

const startServer = async (
  handler: (request: http.IncomingMessage, response: http.ServerResponse) => void
): Promise<FakeServer> => {
  const seen: Array<Seen> = []
  const closedEarly: Array<boolean> = []
  const server = http.createServer((request, response) => {
    seen.push({ method: request.method, path: request.url, headers: request.headers })
    response.on("close", () => closedEarly.push(!response.writableFinished))
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  const fake: FakeServer = {
    base: `http://127.0.0.1:${port}`,
    port,
    seen,
    closedEarly,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
  servers.push(fake)
  return fake
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

const json = (status: number, body: unknown) => (_request: http.IncomingMessage, response: http.ServerResponse) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

const key = Fixtures.makeCanaryKey("check")

/**
 * Runs one check; every outcome is also checked for the key, in any form. The fake servers answer
 * in milliseconds: unless a test sets its own bound (to miss it on purpose), the check's bound is
 * one no loaded machine reaches, so every outcome is the server's own.
 */
const check = async (
  target: Omit<ProviderCheck.ProviderCheckTarget, "provider"> & { readonly provider: string },
  options?: HttpProviderCheck.HttpProviderCheckOptions,
  fetch: typeof globalThis.fetch = globalThis.fetch
) => {
  const outcome = await Effect.runPromise(
    ProviderCheck.ProviderCheck.use((checker) => checker.check({ ...target, provider: Ids.ProviderId.make(target.provider) })).pipe(
      Effect.provide(HttpProviderCheck.layer({ timeoutMillis: 60_000, ...options })),
      Effect.provideService(FetchHttpClient.Fetch, fetch)
    )
  )
  expect(JSON.stringify(outcome)).not.toContain(key)
  expect(JSON.stringify(outcome)).not.toContain(key.slice(-8))
  return outcome
}

const withKey = { apiKey: Redacted.make(key), useAuthHeader: true }

const keyHeaders = ["authorization", "x-api-key", "x-goog-api-key"]
const keyHeadersIn = (headers: http.IncomingHttpHeaders) => keyHeaders.filter((name) => headers[name] !== undefined)

describe("HttpProviderCheck: the request each provider shape sends", () => {
  it("OpenAI: GET {base}/models with a bearer token; ok with the model count", async () => {
    const server = await startServer(json(200, { object: "list", data: [{ id: "a" }, { id: "b" }, { id: "c" }] }))
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Ok", status: 200, models: 3 })
    expect(server.seen).toHaveLength(1)
    expect(server.seen[0]!.method).toBe("GET")
    expect(server.seen[0]!.path).toBe("/v1/models")
    expect(server.seen[0]!.headers["authorization"]).toBe(`Bearer ${key}`)
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual(["authorization"])
    // no trace context or other extra headers leak to the provider
    expect(server.seen[0]!.headers["traceparent"]).toBeUndefined()
    expect(server.seen[0]!.headers["b3"]).toBeUndefined()
  })

  it("OpenRouter: GET {base}/models under its /api/v1 base, trailing slash not doubled", async () => {
    const server = await startServer(json(200, { data: [{ id: "x" }] }))
    const outcome = await check({ provider: "openrouter", baseUrl: `${server.base}/api/v1/`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 1 })
    expect(server.seen[0]!.path).toBe("/api/v1/models")
    expect(server.seen[0]!.headers["authorization"]).toBe(`Bearer ${key}`)
  })

  it("OpenAI-compatible with useAuthHeader off: no Authorization header (and the key nowhere else)", async () => {
    const server = await startServer(json(200, { data: [] }))
    const outcome = await check({
      provider: "openai-compatible",
      baseUrl: `${server.base}/v1`,
      apiKey: Redacted.make(key),
      useAuthHeader: false
    })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 0 })
    expect(server.seen[0]!.path).toBe("/v1/models")
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual([])
    expect(JSON.stringify(server.seen[0])).not.toContain(key)
  })

  it("OpenAI-compatible without a key: no Authorization header", async () => {
    const server = await startServer(json(200, { data: [{ id: "local" }] }))
    const outcome = await check({ provider: "openai-compatible", baseUrl: `${server.base}/v1`, useAuthHeader: true })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 1 })
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual([])
  })

  it("Anthropic: GET {base}/v1/models with x-api-key and anthropic-version, no Authorization", async () => {
    const server = await startServer(json(200, { data: [{ id: "claude" }, { id: "claude-2" }], has_more: false }))
    const outcome = await check({ provider: "anthropic", baseUrl: server.base, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 2 })
    expect(server.seen[0]!.path).toBe("/v1/models")
    expect(server.seen[0]!.headers["x-api-key"]).toBe(key)
    expect(server.seen[0]!.headers["anthropic-version"]).toBe("2023-06-01")
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual(["x-api-key"])
  })

  it("Google: GET {base}/v1beta/models with x-goog-api-key; a base already ending in /v1beta is not doubled", async () => {
    const server = await startServer(json(200, { models: [{ name: "models/gemini" }] }))
    // the bundled default base URL ends in /v1beta
    expect(await check({ provider: "google", baseUrl: `${server.base}/v1beta`, ...withKey })).toMatchObject({ _tag: "Ok", models: 1 })
    expect(await check({ provider: "google", baseUrl: server.base, ...withKey })).toMatchObject({ _tag: "Ok", models: 1 })
    expect(server.seen.map((seen) => seen.path)).toEqual(["/v1beta/models", "/v1beta/models"])
    expect(server.seen[0]!.headers["x-goog-api-key"]).toBe(key)
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual(["x-goog-api-key"])
    // never in the query string either
    expect(server.seen[0]!.path).not.toContain(key)
  })

  it("Ollama: GET {base}/api/tags with no key header; ok with the local model count", async () => {
    const server = await startServer(json(200, { models: [{ name: "llama3:8b" }, { name: "qwen" }] }))
    const outcome = await check({ provider: "ollama", baseUrl: server.base, useAuthHeader: true })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 2 })
    expect(server.seen[0]!.path).toBe("/api/tags")
    expect(keyHeadersIn(server.seen[0]!.headers)).toEqual([])
  })

  it("a provider that needs a key, checked without one, fails before anything is sent", async () => {
    const server = await startServer(json(200, { data: [] }))
    const failure = await Effect.runPromise(
      ProviderCheck.ProviderCheck.use((checker) =>
        checker.check({ provider: Ids.ProviderId.make("openai"), baseUrl: `${server.base}/v1`, useAuthHeader: true })
      ).pipe(
        Effect.flip,
        Effect.provide(HttpProviderCheck.layer())
      )
    )
    expect(failure).toMatchObject({ _tag: "InvalidInput", field: "apiKey" })
    expect(server.seen).toHaveLength(0)
  })
})

describe("HttpProviderCheck: outcomes", () => {
  it.each(
    [
      [401, "Unauthorized"],
      [403, "Unauthorized"],
      [404, "NotFound"],
      [429, "RateLimited"],
      [500, "Unexpected"],
      [418, "Unexpected"]
    ] as const
  )("HTTP %i → %s, with a hint; the error body (which quotes the key) is never read", async (status, tag) => {
    const server = await startServer(json(status, { error: { message: `Incorrect API key provided: ${key}` } }))
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey })
    expect(outcome._tag).toBe(tag)
    expect((outcome as { status?: number }).status).toBe(status)
    expect(outcome.hint.length).toBeGreaterThan(10)
    expect(outcome.message).toContain(String(status))
  })

  it("connection refused on a closed port → Unreachable (refused)", async () => {
    const server = await startServer(json(200, {}))
    const base = server.base
    await server.close()
    servers.splice(servers.indexOf(server), 1)
    const outcome = await check({ provider: "openai", baseUrl: `${base}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unreachable", reason: "refused" })
    expect(outcome.message).not.toContain("127.0.0.1")
  })

  it("a host name that does not resolve → Unreachable (dns)", async () => {
    const outcome = await check({ provider: "openai", baseUrl: "https://no-such-host.invalid/v1", ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unreachable", reason: "dns" })
  })

  it("TLS to a server that does not speak it → Unreachable (tls)", async () => {
    const server = await startServer(json(200, { data: [] }))
    const outcome = await check({ provider: "openai", baseUrl: `https://127.0.0.1:${server.port}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unreachable", reason: "tls" })
  })

  it("a server that never answers → Timeout at the configured bound, and the connection is dropped", async () => {
    const server = await startServer(() => {})
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, { timeoutMillis: 300 })
    // The server never answers, so only the bound can have ended the check: the outcome names it,
    // and the server sees the request's connection closed unanswered (nothing left open).
    expect(outcome).toMatchObject({ _tag: "Timeout", timeoutMillis: 300 })
    await expect.poll(() => server.seen).toHaveLength(1)
    await expect.poll(() => server.closedEarly).toEqual([true])
  })

  it("a server that sends headers, then stalls the body → Timeout (the bound covers the last byte)", async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" })
      response.write("{\"data\": [")
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, { timeoutMillis: 300 })
    expect(outcome).toMatchObject({ _tag: "Timeout" })
  })

  it("a redirect to another host is not followed: the key never reaches it", async () => {
    const elsewhere = await startServer(json(200, { data: [{ id: "stolen" }] }))
    // 127.0.0.1 → localhost: another origin, even on this machine
    const server = await startServer((_request, response) => {
      response.writeHead(302, { location: `http://localhost:${elsewhere.port}/v1/models` })
      response.end()
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unexpected", reason: "redirect", status: 302 })
    expect(server.seen).toHaveLength(1)
    expect(elsewhere.seen).toHaveLength(0)
  })

  it("a same-origin redirect is followed, with the same headers; a loop ends as Unexpected", async () => {
    const server = await startServer((request, response) => {
      if (request.url === "/old/models") {
        response.writeHead(308, { location: "/v1/models" })
        response.end()
      } else if (request.url === "/loop/models") {
        response.writeHead(302, { location: "/loop/models" })
        response.end()
      } else json(200, { data: [{ id: "a" }] })(request, response)
    })
    expect(await check({ provider: "openai", baseUrl: `${server.base}/old`, ...withKey })).toMatchObject({ _tag: "Ok", models: 1 })
    expect(server.seen.map((seen) => seen.path)).toEqual(["/old/models", "/v1/models"])
    expect(server.seen[1]!.headers["authorization"]).toBe(`Bearer ${key}`)
    const loop = await check({ provider: "openai", baseUrl: `${server.base}/loop`, ...withKey }, { maxRedirects: 2 })
    expect(loop).toMatchObject({ _tag: "Unexpected", reason: "redirect" })
    expect(server.seen.filter((seen) => seen.path === "/loop/models")).toHaveLength(3)
  })

  it("an oversized body is cut at the bound: reading stops and the connection is dropped", async () => {
    let written = 0
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" })
      const chunk = Buffer.alloc(16 * 1024, 0x20)
      // an endless body: only a reader that stops can end this exchange
      const pump = () => {
        while (response.write(chunk)) {
          written += chunk.length
          if (written > 64 * 1024 * 1024) return
        }
        response.once("drain", pump)
      }
      pump()
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, { maxBodyBytes: 64 * 1024 })
    expect(outcome).toMatchObject({ _tag: "Unexpected", reason: "too-large", status: 200 })
    await expect.poll(() => server.closedEarly).toEqual([true])
    expect(written).toBeLessThan(32 * 1024 * 1024)
  })

  it("a body just under the bound is read whole", async () => {
    const models = Array.from({ length: 500 }, (_, index) => ({ id: `model-${index}` }))
    const body = JSON.stringify({ data: models })
    const server = await startServer(json(200, { data: models }))
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, { maxBodyBytes: body.length })
    expect(outcome).toMatchObject({ _tag: "Ok", models: 500 })
  })

  it.each([
    ["not JSON", "<html>login</html>"],
    ["JSON without the list", JSON.stringify({ object: "list" })],
    ["a list of the wrong field", JSON.stringify({ models: [] })]
  ])("a 2xx body that is %s → Unexpected (body)", async (_label, body) => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" })
      response.end(body)
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unexpected", reason: "body", status: 200 })
  })

  it("nothing is cached: the same target is asked again on every check", async () => {
    let status = 401
    const server = await startServer((request, response) => json(status, { data: [] })(request, response))
    const layer = HttpProviderCheck.layer()
    const target = { provider: Ids.ProviderId.make("openai"), baseUrl: `${server.base}/v1`, ...withKey }
    const [first, second] = await Effect.runPromise(
      ProviderCheck.ProviderCheck.use((checker) =>
        Effect.gen(function*() {
          const first: ProviderCheck.ProviderCheckOutcome = yield* checker.check(target)
          status = 200
          const second: ProviderCheck.ProviderCheckOutcome = yield* checker.check(target)
          return [first, second] as const
        })
      ).pipe(Effect.provide(layer))
    )
    expect(first._tag).toBe("Unauthorized")
    expect(second._tag).toBe("Ok")
    expect(server.seen).toHaveLength(2)
  })
})

describe("HttpProviderCheck: a hostile server cannot hold the process (issue 22)", () => {
  /** Headers, then part of a body that never ends: only the client can end this exchange. */
  const endlessBody =
    (status: number, headers: http.OutgoingHttpHeaders = {}) => (_request: http.IncomingMessage, response: http.ServerResponse) => {
      response.writeHead(status, { "content-type": "application/json", ...headers })
      response.write("{\"error\": {\"message\": \"")
    }

  it.each(
    [
      ["401 whose body never ends", 401, {}, { _tag: "Unauthorized", status: 401 }],
      ["500 whose body never ends", 500, {}, { _tag: "Unexpected", reason: "status", status: 500 }],
      ["redirect to another host whose body never ends", 302, { location: "http://localhost:9/v1/models" }, {
        _tag: "Unexpected",
        reason: "redirect"
      }]
    ] as const
  )("a %s: the answer is given and the unread body's connection is closed by us", async (_label, status, headers, expected) => {
    const server = await startServer(endlessBody(status, headers))
    // The real fetch, watched: the signal each request was sent with.
    const signals: Array<AbortSignal> = []
    const watchedFetch: typeof globalThis.fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal)
      return globalThis.fetch(input, init)
    }
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, {}, watchedFetch)
    expect(outcome).toMatchObject(expected)
    // Aborted by the time the answer is given: before the fix the request lived on until a
    // garbage collection (or effect's 5 s fallback timer) found the response, holding `test` open.
    expect(signals.map((signal) => signal.aborted)).toEqual([true])
    // The server never ends the body, so only that abort closes the connection.
    await expect.poll(() => server.closedEarly).toEqual([true])
  })

  it("a same-origin redirect whose body never ends is followed, and its connection closed", async () => {
    const server = await startServer((request, response) => {
      if (request.url === "/old/models") endlessBody(308, { location: "/v1/models" })(request, response)
      else json(200, { data: [{ id: "a" }] })(request, response)
    })
    expect(await check({ provider: "openai", baseUrl: `${server.base}/old`, ...withKey })).toMatchObject({ _tag: "Ok", models: 1 })
    await expect.poll(() => server.closedEarly).toEqual([true, false])
  })

  it("a 401 to a request that carried no key says no key was sent, not that the key was refused", async () => {
    const server = await startServer(json(401, { error: "auth required" }))
    const keyless = await check({ provider: "openai-compatible", baseUrl: `${server.base}/v1`, useAuthHeader: true })
    expect(keyless).toMatchObject({ _tag: "Unauthorized", status: 401 })
    expect(keyless.message).toContain("none was sent")
    expect(server.seen[0]!.headers["authorization"]).toBeUndefined()
    const withHeaderOff = await check({
      provider: "openai-compatible",
      baseUrl: `${server.base}/v1`,
      apiKey: Redacted.make(key),
      useAuthHeader: false
    })
    expect(withHeaderOff.message).toContain("none was sent")
    const refused = await check({ provider: "openai-compatible", baseUrl: `${server.base}/v1`, ...withKey })
    expect(refused.message).toBe("The provider refused the key (HTTP 401)")
  })

  it("a reset in the middle of the body → Unreachable (network), nothing left open", async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" })
      response.write("{\"data\": [", () => response.socket?.resetAndDestroy())
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey })
    expect(outcome).toMatchObject({ _tag: "Unreachable", reason: "network" })
  })

  it("headers that trickle in one byte at a time → Timeout at the bound; the connection is closed", async () => {
    const server = await startServer((_request, response) => {
      const socket = response.socket!
      const head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-slow: " + "a".repeat(10_000)
      let index = 0
      const drip = () => {
        if (socket.destroyed || index >= head.length) return
        socket.write(head[index++]!)
        setTimeout(drip, 20)
      }
      drip()
    })
    const outcome = await check({ provider: "openai", baseUrl: `${server.base}/v1`, ...withKey }, { timeoutMillis: 300 })
    expect(outcome).toMatchObject({ _tag: "Timeout", timeoutMillis: 300 })
    await expect.poll(() => server.closedEarly).toEqual([true])
  })
})
