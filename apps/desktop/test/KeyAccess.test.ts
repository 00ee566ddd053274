import { Ids, LlmConfigStore } from "@fishbowl/domain"
import { FaultInjection, Fixtures } from "@fishbowl/domain/testing"
import * as KeyAccess from "../src/main/KeyAccess.ts"
import * as MemoryRuntime from "../src/testing/MemoryRuntime.ts"
import { Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"

describe("main-side key access", () => {
  const runtime = MemoryRuntime.make()
  afterAll(() => runtime.dispose())
  const keys = KeyAccess.make(runtime)

  it("returns the key within the budget and a typed Timeout when the keychain is slow", async () => {
    const canary = Fixtures.makeCanaryKey("main")
    const config = await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.create(Fixtures.configInput({ provider: "openai", name: "Main", apiKey: canary }))))
    expect(Redacted.value(await keys.getApiKey(config.id))).toBe(canary)
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.set({ latencyMillis: 600 })))
    const started = performance.now()
    const error = await keys.getApiKey(config.id).then(() => undefined, (failure) => failure)
    expect(performance.now() - started, "answered at the 100 ms budget").toBeLessThan(450)
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    expect(error).toMatchObject({ _tag: "Timeout", operation: "getApiKey", budgetMillis: 100 })
    expect(String(error)).not.toContain(canary)
  })

  it("rejects with NotFound for an unknown id", async () => {
    const error = await keys.getApiKey(Ids.ConfigId.make("0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")).then(() => undefined, (failure) => failure)
    expect(error).toMatchObject({ _tag: "NotFound" })
  })
})
