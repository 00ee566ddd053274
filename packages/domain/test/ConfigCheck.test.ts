/**
 * Checking a key, above the transport: the stored-config flow reads the key and records the
 * outcome without touching the key; the unsaved-form flow writes nothing anywhere.
 */
import { Effect, Fiber, Layer, Option, Redacted, Schema, type Scope, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as ConfigCheck from "../src/ConfigCheck.ts"
import * as Ids from "../src/Ids.ts"
import * as Liveness from "../src/Liveness.ts"
import * as LlmConfig from "../src/LlmConfig.ts"
import * as LlmConfigStore from "../src/LlmConfigStore.ts"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as ProviderCheck from "../src/ProviderCheck.ts"
import * as FaultInjection from "../src/testing/FaultInjection.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"

const unauthorized: ProviderCheck.ProviderCheckOutcome = {
  _tag: "Unauthorized",
  status: 401,
  millis: 12,
  message: "The provider refused the key (HTTP 401)",
  hint: "Paste the key again."
}

/** A store over faultable memory ports, and a checker that records what it was asked. */
const setup = (answer: ProviderCheck.ProviderCheckOutcome = ProviderCheck.okOutcome(200, 7, 5)) => {
  const targets: Array<ProviderCheck.ProviderCheckTarget> = []
  const layer = Layer.mergeAll(
    LlmConfigStore.layer,
    ProviderCheck.layerTest((target) => Effect.sync(() => (targets.push(target), answer)))
  ).pipe(Layer.provideMerge(Layer.merge(FaultInjection.layerMemory, Liveness.layerMemory)))
  const run = <A, E>(
    effect: Effect.Effect<
      A,
      E,
      LlmConfigStore.LlmConfigStore | ProviderCheck.ProviderCheck | FaultInjection.Faults | PreferencesStore.PreferencesStore | Scope.Scope
    >
  ) => Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(layer)))
  return { targets, run }
}

describe("LlmConfigStore.recordCheck", () => {
  it("stores the check in the metadata (list and get return it) without any secret-store call", async () => {
    const { run } = setup()
    const result = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const faults = yield* FaultInjection.Faults
      const created = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: Fixtures.makeCanaryKey() }))
      yield* faults.set({})
      const check = { checkedAt: "2026-12-01T10:00:00.000Z", outcome: unauthorized }
      const recorded = yield* store.recordCheck(created.id, check)
      return {
        check,
        recorded,
        secretCalls: yield* faults.secretCalls,
        got: yield* store.get(created.id),
        listed: (yield* store.list).find((config) => config.id === created.id),
        created
      }
    }))
    expect(result.secretCalls).toBe(0)
    expect(result.recorded.lastCheck).toEqual(result.check)
    expect(result.got.lastCheck).toEqual(result.check)
    expect(result.listed?.lastCheck).toEqual(result.check)
    // everything else is as it was: same key flag, same update time
    expect({ ...result.got, lastCheck: undefined }).toEqual({ ...result.created, lastCheck: undefined })
    // and it round-trips through the metadata schema (what is written to disk)
    expect(Schema.decodeUnknownSync(LlmConfig.LlmConfig)(Schema.encodeSync(LlmConfig.LlmConfig)(result.got))).toEqual(result.got)
  })

  it("publishes an Updated change, so open windows show the new check", async () => {
    const { run } = setup()
    const change = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const created = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      const next = yield* Stream.runHead(store.changes).pipe(Effect.forkScoped)
      yield* Effect.yieldNow
      yield* store.recordCheck(created.id, { checkedAt: "2026-12-01T10:00:00.000Z", outcome: ProviderCheck.okOutcome(200, 2, 3) })
      return yield* Fiber.join(next)
    }))
    const value = change as Option.Option<{ readonly _tag: string; readonly config?: LlmConfig.LlmConfig }>
    expect(Option.getOrThrow(value)._tag).toBe("Updated")
    expect(Option.getOrThrow(value).config?.lastCheck?.outcome._tag).toBe("Ok")
  })

  it("refuses a check of settings that have changed since (Conflict) and an unknown id (NotFound)", async () => {
    const { run } = setup()
    const [stale, missing, after] = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const created = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      const check = { checkedAt: "2026-12-01T10:00:00.000Z", outcome: ProviderCheck.okOutcome(200, 2, 3) }
      const stale = yield* store.recordCheck(created.id, check, { ifUpdatedAt: "2000-01-01T00:00:00.000Z" }).pipe(Effect.flip)
      const missing = yield* store.recordCheck(Ids.ConfigId.make("00000000-0000-4000-8000-000000000000"), check).pipe(Effect.flip)
      return [stale, missing, yield* store.get(created.id)] as const
    }))
    expect(stale._tag).toBe("Conflict")
    expect(missing._tag).toBe("NotFound")
    expect(after.lastCheck).toBeUndefined()
  })

  it("any later update drops the last check: it described the settings before", async () => {
    const { run } = setup()
    const updated = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const created = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      yield* store.recordCheck(created.id, { checkedAt: "2026-12-01T10:00:00.000Z", outcome: ProviderCheck.okOutcome(200, 2, 3) })
      return yield* store.update(created.id, Fixtures.configPatch({ baseUrl: "http://localhost:11435" }))
    }))
    expect(updated.lastCheck).toBeUndefined()
  })
})

describe("checkStoredConfig", () => {
  it("checks with the stored key, base URL and header setting, and records the outcome", async () => {
    const key = Fixtures.makeCanaryKey("stored")
    const { targets, run } = setup(unauthorized)
    const { result, got } = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const created = yield* store.create(Fixtures.configInput({
        provider: "openai-compatible",
        name: "Proxy",
        baseUrl: "https://llm.example.com/v1",
        useAuthHeader: false,
        apiKey: key
      }))
      const result = yield* ConfigCheck.checkStoredConfig(created.id)
      return { result, got: yield* store.get(created.id) }
    }))
    expect(targets).toHaveLength(1)
    expect(targets[0]).toMatchObject({ provider: "openai-compatible", baseUrl: "https://llm.example.com/v1", useAuthHeader: false })
    expect(Redacted.value(targets[0]!.apiKey!)).toBe(key)
    expect(result.recorded).toBe(true)
    expect(result.check.outcome).toEqual(unauthorized)
    expect(got.lastCheck).toEqual(result.check)
    expect(JSON.stringify(result)).not.toContain(key)
  })

  it("a config without a key is checked without one (the key is not even read)", async () => {
    const { targets, run } = setup()
    const secretCalls = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const faults = yield* FaultInjection.Faults
      const created = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      yield* faults.set({})
      yield* ConfigCheck.checkStoredConfig(created.id)
      return yield* faults.secretCalls
    }))
    expect(targets[0]?.apiKey).toBeUndefined()
    expect(secretCalls).toBe(0)
  })

  it("a locked keychain fails the check with KeychainLocked and records nothing", async () => {
    const { targets, run } = setup()
    const { error, got } = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const faults = yield* FaultInjection.Faults
      const created = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Work", apiKey: Fixtures.makeCanaryKey() }))
      yield* faults.set({ secretFault: "locked" })
      const error = yield* ConfigCheck.checkStoredConfig(created.id).pipe(Effect.flip)
      return { error, got: yield* store.get(created.id) }
    }))
    expect(error._tag).toBe("KeychainLocked")
    expect(targets).toHaveLength(0)
    expect(got.lastCheck).toBeUndefined()
  })

  it("when recording fails (disk refuses), the outcome is still returned, with recorded: false", async () => {
    const { run } = setup()
    const result = await run(Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const faults = yield* FaultInjection.Faults
      const created = yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      yield* faults.set({ preferencesCorrupted: true })
      return yield* ConfigCheck.checkStoredConfig(created.id)
    }))
    expect(result.recorded).toBe(false)
    expect(result.check.outcome._tag).toBe("Ok")
  })
})

describe("checkDraft (the add form's check)", () => {
  const decodeDraft = Schema.decodeUnknownSync(ConfigCheck.ProviderCheckDraft)

  it("applies the saving rule for plain http: a typed key goes to a network host over http only with consent", async () => {
    const key = Fixtures.makeCanaryKey("lan-draft")
    const { targets, run } = setup()
    const draft = { provider: "openai-compatible", baseUrl: "http://10.0.0.5:8000/v1", apiKey: key }
    const refused = await run(ConfigCheck.checkDraft(decodeDraft(draft)).pipe(Effect.flip))
    expect(refused).toMatchObject({ _tag: "InvalidInput", field: "baseUrl" })
    expect(JSON.stringify(refused)).not.toContain(key)
    expect(targets.length).toBe(0) // nothing was sent
    await run(ConfigCheck.checkDraft(decodeDraft({ ...draft, allowInsecureHttp: true })))
    expect(targets.length).toBe(1)
    await run(ConfigCheck.checkDraft(decodeDraft({ provider: "ollama", baseUrl: "http://192.168.1.10:11434" }))) // no key: fine
    expect(targets.length).toBe(2)
  })

  it("checks the typed key and persists nothing: no secret-store call, no preferences write", async () => {
    const key = Fixtures.makeCanaryKey("draft")
    const { targets, run } = setup()
    const { before, after, result, secretCalls } = await run(Effect.gen(function*() {
      const preferences = yield* PreferencesStore.PreferencesStore
      const faults = yield* FaultInjection.Faults
      const store = yield* LlmConfigStore.LlmConfigStore
      yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Existing" }))
      yield* faults.set({})
      const before = yield* preferences.load
      const result = yield* ConfigCheck.checkDraft(decodeDraft({ provider: "openai", apiKey: key }))
      return { before, after: yield* preferences.load, result, secretCalls: yield* faults.secretCalls }
    }))
    expect(Redacted.value(targets[0]!.apiKey!)).toBe(key)
    expect(targets[0]).toMatchObject({ provider: "openai", useAuthHeader: true })
    expect(result).toMatchObject({ recorded: false, check: { outcome: { _tag: "Ok", models: 7 } } })
    expect(secretCalls).toBe(0)
    // the very same document object: no update ran at all
    expect(after).toBe(before)
    expect(JSON.stringify(result)).not.toContain(key)
  })

  it("needs only the checker: it cannot reach either store (checked by the compiler)", () => {
    const draft: ConfigCheck.ProviderCheckDraft = decodeDraft({ provider: "ollama" })
    const program: Effect.Effect<unknown, unknown, ProviderCheck.ProviderCheck> = ConfigCheck.checkDraft(draft)
    expect(Effect.isEffect(program)).toBe(true)
  })

  it("a provider that needs a key, without one, fails with InvalidInput before any request", async () => {
    const { targets, run } = setup()
    const error = await run(ConfigCheck.checkDraft(decodeDraft({ provider: "anthropic" })).pipe(Effect.flip))
    expect(error).toMatchObject({ _tag: "InvalidInput", field: "apiKey" })
    expect(targets).toHaveLength(0)
  })

  it("an unknown provider or an unsafe base URL is refused by the schema", () => {
    expect(() => decodeDraft({ provider: "openai", baseUrl: "http://evil.example.com/v1", apiKey: "k" })).toThrow()
    expect(() => decodeDraft({ provider: "openai", baseUrl: "https://user:pw@example.com/v1", apiKey: "k" })).toThrow()
  })
})
