import { Ids, LlmConfigStore } from "@fishbowl/domain"
import { FaultInjection, Fixtures } from "@fishbowl/domain/testing"
import { Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as KeyAccess from "../src/main/KeyAccess.ts"
import * as MemoryRuntime from "../src/testing/MemoryRuntime.ts"

describe("main-side key access", () => {
  const runtime = MemoryRuntime.make()
  afterAll(() => runtime.dispose())
  /** A budget no loaded machine misses, where the budget is not the point. */
  const keys = KeyAccess.make(runtime, { keyRetrievalMillis: 60_000 })
  /** The production budget (100 ms), missed on purpose below. */
  const budgeted = KeyAccess.make(runtime)

  it("returns the key, and a typed Timeout at the budget while the keychain has not answered", async () => {
    const canary = Fixtures.makeCanaryKey("main")
    const config = await runtime.runPromise(
      LlmConfigStore.LlmConfigStore.use((store) => store.create(Fixtures.configInput({ provider: "openai", name: "Main", apiKey: canary })))
    )
    expect(Redacted.value(await keys.getApiKey(config.id))).toBe(canary)
    // Every keychain call is held until the answer is in: the read cannot have ended, so the
    // Timeout was given at the budget, not when the read ended (however slow the machine).
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.set({ holdUntil: held })))
    try {
      const error = await budgeted.getApiKey(config.id).then(() => undefined, (failure) => failure)
      expect(error).toMatchObject({ _tag: "Timeout", operation: "getApiKey", budgetMillis: 100 })
      expect(String(error)).not.toContain(canary)
    } finally {
      release()
      await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    }
    expect(Redacted.value(await keys.getApiKey(config.id))).toBe(canary)
  })

  it("rejects with NotFound for an unknown id", async () => {
    const error = await keys.getApiKey(Ids.ConfigId.make("0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")).then(
      () => undefined,
      (failure) => failure
    )
    expect(error).toMatchObject({ _tag: "NotFound" })
  })
})
