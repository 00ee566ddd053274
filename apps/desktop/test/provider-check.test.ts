/**
 * "Test connection" where a user is: the IPC channels (a stored config by id, an unsaved form)
 * over the real HttpProviderCheck against a fake provider on 127.0.0.1, and the CLI's output and
 * exit codes for every outcome (apps/desktop/src/cli/TestCommand.ts).
 */
import { HttpProviderCheck } from "@fishbowl/desktop-layer"
import {
  type ConfigCheck,
  Diagnostics,
  IpcContract,
  Liveness,
  LlmConfigStore,
  PreferencesStore,
  ProviderCheck,
  SecretStore
} from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Context, Effect, Layer, ManagedRuntime, Schema } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as ExitCodes from "../src/cli/ExitCodes.ts"
import * as TestCommand from "../src/cli/TestCommand.ts"
import * as IpcHandlers from "../src/main/IpcHandlers.ts"
import * as SenderPolicy from "../src/main/SenderPolicy.ts"
import * as MemoryRuntime from "../src/testing/MemoryRuntime.ts"

/** Counts every write to either store, so "persists nothing" is a number, not a hope. */
const writes = { secretSet: 0, secretDelete: 0, preferencesUpdate: 0 }
const countingPorts = Layer.effectContext(
  Effect.gen(function*() {
    const secrets = yield* SecretStore.SecretStore
    const preferences = yield* PreferencesStore.PreferencesStore
    return Context.make(
      SecretStore.SecretStore,
      SecretStore.SecretStore.of({
        ...secrets,
        set: (ref, value) => Effect.suspend(() => (writes.secretSet++, secrets.set(ref, value))),
        delete: (ref) => Effect.suspend(() => (writes.secretDelete++, secrets.delete(ref)))
      })
    ).pipe(
      Context.add(
        PreferencesStore.PreferencesStore,
        PreferencesStore.PreferencesStore.of({
          ...preferences,
          update: (f) => Effect.suspend(() => (writes.preferencesUpdate++, preferences.update(f)))
        })
      )
    )
  })
).pipe(Layer.provide(Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory)), Layer.merge(Liveness.layerMemory))

const runtimeWithCheckBound = (timeoutMillis: number) =>
  ManagedRuntime.make(
    Layer.mergeAll(LlmConfigStore.layer, Diagnostics.layerFromPorts, HttpProviderCheck.layer({ timeoutMillis })).pipe(
      Layer.provideMerge(countingPorts)
    )
  )
/**
 * The fake provider answers in milliseconds: the check's bound and the storage budgets here are
 * ones no loaded machine reaches, so every outcome below is the provider's own. The Timeout
 * outcome is tested on purpose with `hurriedRuntime`, whose bound the stalled provider misses.
 */
const runtime = runtimeWithCheckBound(60_000)
const hurriedRuntime = runtimeWithCheckBound(500)
const relaxedBudgets = { storageMillis: 60_000, keyRetrievalMillis: 60_000 }
const logLines: Array<unknown> = []
const log: IpcHandlers.IpcLogger = (entry) => logLines.push(entry)
const senderPolicy = SenderPolicy.bundledOriginPolicy("file:///opt/fishbowl/renderer/")
const handlers = IpcHandlers.make(runtime, { senderPolicy, log, budgets: relaxedBudgets })
const hurried = IpcHandlers.make(hurriedRuntime, { senderPolicy, log, budgets: relaxedBudgets })
const trusted = { frameUrl: "file:///opt/fishbowl/renderer/index.html" }
const responses: Array<unknown> = []

const call = async (channel: IpcContract.InvokeChannel, payload: unknown, sender = trusted, table = handlers) => {
  const result = await table[channel](sender, payload) as any
  expect(Schema.is(IpcContract.IpcResult(IpcContract.IpcRoutes[channel].response as any))(result)).toBe(true)
  responses.push(result)
  return result
}

/** A fake OpenAI-shaped provider: 200 with two models for `good`, 401 otherwise; never answers on /hang. */
const good = Fixtures.makeCanaryKey("ipc-good")
const bad = Fixtures.makeCanaryKey("ipc-bad")
const seen: Array<{ path: string | undefined; authorization: string | undefined }> = []
let server: http.Server
let base = ""
beforeAll(async () => {
  server = http.createServer((request, response) => {
    seen.push({ path: request.url, authorization: request.headers.authorization })
    if (request.url?.startsWith("/hang")) return
    const ok = request.headers.authorization === `Bearer ${good}`
    response.writeHead(ok ? 200 : 401, { "content-type": "application/json" })
    response.end(
      JSON.stringify(
        ok ? { data: [{ id: "m1" }, { id: "m2" }] } : { error: { message: `Incorrect API key provided: ${request.headers.authorization}` } }
      )
    )
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
beforeEach(() => {
  seen.length = 0
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await runtime.dispose()
  await hurriedRuntime.dispose()
  // No key in any response or log line of this file.
  for (const key of [good, bad]) {
    expect(JSON.stringify(responses)).not.toContain(key)
    expect(JSON.stringify(logLines)).not.toContain(key)
  }
})

describe("IPC: check-draft (the add form, before saving)", () => {
  it("checks the typed key against the form's base URL and persists nothing", async () => {
    const before = { ...writes }
    const result = await call(IpcContract.IpcChannel.checkDraft, { provider: "openai-compatible", baseUrl: `${base}/v1`, apiKey: good })
    expect(result.ok).toBe(true)
    expect(result.value.recorded).toBe(false)
    expect(result.value.check.outcome).toMatchObject({ _tag: "Ok", models: 2 })
    expect(seen).toEqual([{ path: "/v1/models", authorization: `Bearer ${good}` }])
    expect(writes).toEqual(before)
    const list = await call(IpcContract.IpcChannel.list, {})
    expect(list.value).toEqual([])
  })

  it("a refused key is an Unauthorized outcome (not an error), and still nothing is written", async () => {
    const before = { ...writes }
    const result = await call(IpcContract.IpcChannel.checkDraft, { provider: "openai-compatible", baseUrl: `${base}/v1`, apiKey: bad })
    expect(result.value.check.outcome).toMatchObject({ _tag: "Unauthorized", status: 401 })
    expect(writes).toEqual(before)
  })

  it("a provider that answers nothing within the check's bound is a Timeout outcome", async () => {
    const result = await call(
      IpcContract.IpcChannel.checkDraft,
      { provider: "openai-compatible", baseUrl: `${base}/hang`, apiKey: good },
      trusted,
      hurried
    )
    expect(result.value.check.outcome).toMatchObject({ _tag: "Timeout", timeoutMillis: 500 })
  })

  it("invalid drafts are refused before any request: unsafe base URL, missing required key", async () => {
    const insecure = await call(IpcContract.IpcChannel.checkDraft, {
      provider: "openai",
      baseUrl: "http://evil.example.com/v1",
      apiKey: good
    })
    expect(insecure.error).toMatchObject({ _tag: "InvalidInput" })
    const keyless = await call(IpcContract.IpcChannel.checkDraft, { provider: "openai", baseUrl: `${base}/v1` })
    expect(keyless.error).toMatchObject({ _tag: "InvalidInput", field: "apiKey" })
    expect(seen).toEqual([])
  })

  it("a frame that is not the bundled renderer is refused and nothing is sent", async () => {
    const refused = await call(IpcContract.IpcChannel.checkDraft, { provider: "openai-compatible", baseUrl: `${base}/v1`, apiKey: good }, {
      frameUrl: "https://evil.example.com/"
    })
    expect(refused.error._tag).toBe("NotPermitted")
    expect(seen).toEqual([])
  })
})

describe("IPC: check (a stored config by id)", () => {
  it("checks with the stored key, records the outcome, and list/get return it", async () => {
    const created = await call(IpcContract.IpcChannel.create, {
      provider: "openai-compatible",
      name: "Proxy",
      baseUrl: `${base}/v1`,
      apiKey: good
    })
    const id = created.value.id
    const before = { ...writes }
    const result = await call(IpcContract.IpcChannel.check, { id })
    expect(result.ok).toBe(true)
    expect(result.value).toMatchObject({ recorded: true, check: { outcome: { _tag: "Ok", models: 2 } } })
    expect(seen).toEqual([{ path: "/v1/models", authorization: `Bearer ${good}` }])
    // one metadata write (the record), no keychain write
    expect(writes).toEqual({ ...before, preferencesUpdate: before.preferencesUpdate + 1 })
    const got = await call(IpcContract.IpcChannel.get, { id })
    expect(got.value.lastCheck).toEqual(result.value.check)
    const list = await call(IpcContract.IpcChannel.list, {})
    expect(list.value.find((config: { id: string }) => config.id === id).lastCheck).toEqual(result.value.check)
  })

  it("an unknown id is NotFound and nothing is sent", async () => {
    const missing = await call(IpcContract.IpcChannel.check, { id: "00000000-0000-4000-8000-000000000000" })
    expect(missing.error._tag).toBe("NotFound")
    expect(seen).toEqual([])
  })

  it("a runtime without a checker answers Unsupported (other runtimes need not provide one)", async () => {
    const bare = MemoryRuntime.make()
    try {
      const table = IpcHandlers.make(bare, { senderPolicy: SenderPolicy.bundledOriginPolicy("file:///opt/fishbowl/renderer/") })
      const result = await table[IpcContract.IpcChannel.checkDraft](trusted, { provider: "ollama", baseUrl: base }) as any
      expect(result.error._tag).toBe("Unsupported")
      expect(seen).toEqual([])
    } finally {
      await bare.dispose()
    }
  })
})

describe("CLI: fishbowl-llm test output and exit codes", () => {
  const config = { id: "0b6e7e52-8c1a-4a57-9a35-6d1f0f6f3b11", name: "Work", provider: "openai" } as any
  const outcomes: Array<ProviderCheck.ProviderCheckOutcome> = [
    ProviderCheck.okOutcome(200, 3, 120),
    { _tag: "Unauthorized", status: 401, millis: 80, message: "The provider refused the key (HTTP 401)", hint: "Paste it again." },
    { _tag: "NotFound", status: 404, millis: 80, message: "No model list here (HTTP 404)", hint: "Check the base URL." },
    { _tag: "RateLimited", status: 429, millis: 80, message: "Rate limited (HTTP 429)", hint: "Wait." },
    { _tag: "Unreachable", reason: "refused", millis: 2, message: "Nothing accepted the connection", hint: "Is it running?" },
    { _tag: "Timeout", timeoutMillis: 10_000, millis: 10_000, message: "No answer within 10 s", hint: "Check the network." },
    { _tag: "Unexpected", reason: "redirect", status: 302, millis: 9, message: "Redirected elsewhere", hint: "Enter the final URL." }
  ]
  const resultFor = (outcome: ProviderCheck.ProviderCheckOutcome): ConfigCheck.ConfigCheckResult => ({
    check: { checkedAt: "2026-12-01T10:00:00.000Z", outcome },
    recorded: true
  })

  it("exit codes: 0 ok, 7 timeout (as elsewhere), and 10-13 that collide with no code of another meaning", () => {
    expect(outcomes.map(TestCommand.testExitCodeFor)).toEqual([0, 10, 11, 12, 11, 7, 13])
    const testOnly = new Set<string>(["keyRefused", "unreachable", "rateLimited", "unexpectedAnswer"])
    const existing = new Set<number>(Object.entries(ExitCodes.ExitCode).filter(([name]) => !testOnly.has(name)).map(([, code]) => code))
    for (
      const code of [
        TestCommand.TestExitCode.keyRefused,
        TestCommand.TestExitCode.unreachable,
        TestCommand.TestExitCode.rateLimited,
        TestCommand.TestExitCode.unexpectedAnswer
      ]
    ) {
      expect(existing.has(code)).toBe(false)
    }
  })

  it("text: ok on stdout; any other outcome as error:/hint: on stderr", () => {
    const ok = TestCommand.renderTestResult({ config, result: resultFor(outcomes[0]!), json: false })
    expect(ok).toEqual({ stdout: "ok: \"Work\" (openai) answered in 120 ms and listed 3 models\n", stderr: "", exitCode: 0 })
    const refused = TestCommand.renderTestResult({ config, result: resultFor(outcomes[1]!), json: false })
    expect(refused).toEqual({
      stdout: "",
      stderr: "error: \"Work\" (openai): The provider refused the key (HTTP 401)\nhint: Paste it again.\n",
      exitCode: 10
    })
  })

  it("--json: one object on stdout for every outcome, with the outcome as the domain encodes it", () => {
    for (const outcome of outcomes) {
      const output = TestCommand.renderTestResult({ config, result: resultFor(outcome), json: true })
      expect(output.stderr).toBe("")
      expect(JSON.parse(output.stdout)).toEqual({
        id: config.id,
        name: "Work",
        provider: "openai",
        checkedAt: "2026-12-01T10:00:00.000Z",
        recorded: true,
        outcome
      })
      expect(output.exitCode).toBe(TestCommand.testExitCodeFor(outcome))
    }
  })

  it("a name with control characters cannot drive the terminal", () => {
    const output = TestCommand.renderTestResult({
      config: { ...config, name: "W\u001b[2Jork" },
      result: resultFor(outcomes[0]!),
      json: false
    })
    expect(output.stdout).not.toContain("\u001b")
  })
})
