import { Errors, IpcContract } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Schema } from "effect"
import * as fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import * as IpcHandlers from "../src/main/IpcHandlers.ts"
import * as SenderPolicy from "../src/main/SenderPolicy.ts"
import * as MemoryRuntime from "../src/testing/MemoryRuntime.ts"

const PAYLOADS = Number(process.env["FISHBOWL_FUZZ_PAYLOADS"] ?? 10_000)
const channels = Object.keys(IpcContract.IpcRoutes) as Array<IpcContract.InvokeChannel>
const canary = Fixtures.makeCanaryKey("fuzz")
const uuid = "0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"

/** Near-valid payloads reach deeper into decoding than random JSON does. */
const nearValid = fc.oneof(
  fc.record({
    provider: fc.oneof(fc.constantFrom("openai", "anthropic", "ollama", "openai-compatible"), fc.string()),
    name: fc.oneof(fc.string({ maxLength: 120 }), fc.integer()),
    apiKey: fc.oneof(fc.constant(canary), fc.string(), fc.constant(`${canary}\u0000`), fc.constant(null)),
    baseUrl: fc.oneof(fc.webUrl(), fc.string(), fc.constant("http://localhost:11434"))
  }, { requiredKeys: [] }),
  fc.record({
    id: fc.oneof(fc.constant(uuid), fc.uuid(), fc.string()),
    patch: fc.oneof(
      fc.record({
        name: fc.string(),
        apiKey: fc.oneof(fc.constant(canary), fc.string()),
        baseUrl: fc.oneof(fc.constant(null), fc.webUrl())
      }, { requiredKeys: [] }),
      fc.anything()
    )
  }, { requiredKeys: [] }),
  fc.record({ probe: fc.oneof(fc.boolean(), fc.anything()) }, { requiredKeys: [] })
)

const isValidResponse = Object.fromEntries(
  channels.map((channel) => [channel, Schema.is(IpcContract.IpcResult(IpcContract.IpcRoutes[channel].response as any))])
) as unknown as Record<IpcContract.InvokeChannel, (u: unknown) => boolean>

/**
 * Requests just over the 64 KiB limit, built by repeating a short random string: fast-check's
 * own `fc.string({ minLength: 65 * 1024 })` draws every character one by one (~40 ms a payload),
 * which made generation, not the handlers, the cost of this test.
 */
const oversized = fc.tuple(fc.string({ minLength: 1, maxLength: 16 }), fc.integer({ min: 65 * 1024, max: 66 * 1024 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length))

const payloadArbitrary = fc.tuple(
  fc.constantFrom(...channels),
  fc.oneof(
    { arbitrary: nearValid, weight: 5 },
    { arbitrary: fc.anything({ maxDepth: 3 }), weight: 3 },
    { arbitrary: fc.constantFrom(undefined, null, 0, "", [], {}, canary), weight: 1 },
    { arbitrary: oversized, weight: 1 }
  )
)

describe("IPC fuzz", () => {
  const runtime = MemoryRuntime.make()
  afterAll(() => runtime.dispose())
  const handlers = IpcHandlers.make(runtime, { senderPolicy: SenderPolicy.bundledOriginPolicy("file:///app/renderer/") })
  const sender = { frameUrl: "file:///app/renderer/index.html" }

  it(`answers ${PAYLOADS} generated payloads with a valid response or a typed error`, async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on("unhandledRejection", onUnhandled)
    const samples = fc.sample(payloadArbitrary, { numRuns: PAYLOADS, seed: 20261128 })
    const tags = new Map<string, number>()
    let handlerMillis = 0
    try {
      for (const [channel, payload] of samples) {
        const started = performance.now()
        const result = await handlers[channel](sender, payload) as { ok: boolean; error?: { _tag: string } }
        handlerMillis += performance.now() - started
        expect(isValidResponse[channel](result), channel).toBe(true)
        const tag = result.ok ? "ok" : result.error!._tag
        if (!result.ok) expect(Errors.errorTags).toContain(tag)
        expect(tag).not.toBe("Internal")
        tags.set(tag, (tags.get(tag) ?? 0) + 1)
        expect(JSON.stringify(result)).not.toContain(canary)
      }
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
    console.log(`IPC fuzz: ${samples.length} payloads in ${Math.round(handlerMillis)} ms of handler time →`, Object.fromEntries(tags))
    expect(samples.length).toBe(PAYLOADS)
    expect(unhandled).toEqual([])
    expect(tags.get("ok") ?? 0).toBeGreaterThan(0)
    expect(tags.get("InvalidInput") ?? 0).toBeGreaterThan(0)
    const after = await handlers["llm-config:list"](sender, {}) as { ok: boolean }
    expect(after.ok).toBe(true)
  })
})
