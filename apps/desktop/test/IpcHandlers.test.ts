import { Errors, IpcContract } from "@fishbowl/domain"
import { FaultInjection, Fixtures } from "@fishbowl/domain/testing"
import { Effect, Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as IpcHandlers from "../src/main/IpcHandlers.ts"
import * as SenderPolicy from "../src/main/SenderPolicy.ts"
import * as MemoryRuntime from "../src/testing/MemoryRuntime.ts"

const trusted = { frameUrl: "file:///opt/fishbowl/renderer/index.html" }
const runtime = MemoryRuntime.make()
const logLines: Array<unknown> = []
const log: IpcHandlers.IpcLogger = (entry) => logLines.push(entry)
const senderPolicy = SenderPolicy.bundledOriginPolicy("file:///opt/fishbowl/renderer/")
/** Budgets no loaded machine misses: most tests here are not about time. */
const handlers = IpcHandlers.make(runtime, { senderPolicy, log, budgets: { storageMillis: 60_000, keyRetrievalMillis: 60_000 } })
afterAll(() => runtime.dispose())

/**
 * Holds every store call until `release()`: an operation answered while held was answered at its
 * budget, not when it ended, however slow the machine (no elapsed-time bound needed).
 */
const holdStores = async (extra: FaultInjection.FaultPlan = {}) => {
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.set({ ...extra, holdUntil: held })))
  return release
}

const call = async (channel: IpcContract.InvokeChannel, payload: unknown, sender: IpcHandlers.IpcSender = trusted, table = handlers) => {
  const result = await table[channel](sender, payload) as any
  // Every response, success or failure, must match the channel's response schema.
  expect(Schema.is(IpcContract.IpcResult(IpcContract.IpcRoutes[channel].response as any))(result)).toBe(true)
  return result
}

describe("IPC handler table", () => {
  it("runs the whole lifecycle and never returns key material", async () => {
    const canary = Fixtures.makeCanaryKey("ipc")
    const responses: Array<unknown> = []
    const created = await call(IpcContract.IpcChannel.create, { provider: "openai", name: "Work", apiKey: canary })
    responses.push(created)
    expect(created.ok).toBe(true)
    expect(created.value).toMatchObject({ provider: "openai", name: "Work", hasKey: true })
    const id = created.value.id
    responses.push(await call(IpcContract.IpcChannel.list, {}))
    const got = await call(IpcContract.IpcChannel.get, { id })
    responses.push(got)
    expect(got.value.name).toBe("Work")
    const updated = await call(IpcContract.IpcChannel.update, { id, patch: { name: "Work 2", apiKey: Fixtures.makeCanaryKey("ipc2") } })
    responses.push(updated)
    expect(updated.value.name).toBe("Work 2")
    const status = await call(IpcContract.IpcChannel.status, {})
    responses.push(status)
    expect(status.value.configCount).toBeGreaterThanOrEqual(1)
    responses.push(await call(IpcContract.IpcChannel.diagnose, { probe: true }))
    responses.push(await call(IpcContract.IpcChannel.authorize, {}))
    const removed = await call(IpcContract.IpcChannel.remove, { id })
    responses.push(removed)
    expect(removed.value).toEqual({ id })
    const gone = await call(IpcContract.IpcChannel.get, { id })
    expect(gone.error._tag).toBe("NotFound")
    expect(JSON.stringify(responses)).not.toContain(canary)
    expect(JSON.stringify(logLines)).not.toContain(canary)
  })

  it("decodes own enumerable data properties only: inherited fields, a polluted prototype and getters never count", async () => {
    const canary = Fixtures.makeCanaryKey("inherited")
    const inherited = await call(IpcContract.IpcChannel.create, Object.create({ provider: "openai", name: "Inherited", apiKey: canary }))
    expect(inherited.ok).toBe(false)
    expect(inherited.error._tag).toBe("InvalidInput")
    const prototype = Object.prototype as Record<string, unknown>
    let createdId: string
    prototype["baseUrl"] = "https://attacker.example/v1"
    try {
      const created = await call(IpcContract.IpcChannel.create, { provider: "openai", name: "Polluted", apiKey: canary })
      expect(created.ok).toBe(true)
      createdId = created.value.id
    } finally {
      delete prototype["baseUrl"]
    }
    // what was stored, read back once the prototype is clean again
    const got = await call(IpcContract.IpcChannel.get, { id: createdId })
    expect(got.value.baseUrl).toBeUndefined()
    await call(IpcContract.IpcChannel.remove, { id: createdId })
    let getterRan = false
    const withGetter = {
      provider: "openai",
      name: "Getter",
      get apiKey() {
        getterRan = true
        return canary
      }
    }
    const viaGetter = await call(IpcContract.IpcChannel.create, withGetter)
    expect(getterRan).toBe(false)
    expect(viaGetter.ok).toBe(false)
    expect(JSON.stringify([inherited, viaGetter])).not.toContain(canary)
  })

  it("refuses frames that are not the bundled renderer, logging no payload", async () => {
    const canary = Fixtures.makeCanaryKey("sender")
    for (
      const frameUrl of <Array<string | undefined>> [
        "https://evil.example.com/",
        "file:///tmp/other/index.html",
        "file:///opt/fishbowl/renderer/../../../tmp/x.html",
        undefined,
        "not a url"
      ]
    ) {
      const before = logLines.length
      const result = await call(IpcContract.IpcChannel.create, { provider: "openai", name: "Evil", apiKey: canary }, { frameUrl })
      expect(result).toMatchObject({ ok: false, error: { _tag: "NotPermitted" } })
      expect(logLines.slice(before)).toEqual([expect.objectContaining({ outcome: "refused", channel: IpcContract.IpcChannel.create })])
    }
    expect(JSON.stringify(logLines)).not.toContain(canary)
    const list = await call(IpcContract.IpcChannel.list, {})
    expect(list.value.some((config: { name: string }) => config.name === "Evil")).toBe(false)
  })

  it("decodes every request strictly: extra fields, wrong types and oversized values are InvalidInput", async () => {
    const canary = Fixtures.makeCanaryKey("invalid")
    const cases: Array<[IpcContract.InvokeChannel, unknown, string]> = [
      [IpcContract.IpcChannel.create, { provider: "openai", name: "X", apiKey: canary, extra: 1 }, "extra"],
      [IpcContract.IpcChannel.create, { provider: "openai", name: 7, apiKey: canary }, "name"],
      [IpcContract.IpcChannel.create, { provider: "openai", name: "x".repeat(101), apiKey: canary }, "name"],
      [IpcContract.IpcChannel.create, { provider: "openai", name: "Big", apiKey: canary + "k".repeat(16 * 1024) }, "apiKey"],
      [IpcContract.IpcChannel.create, { provider: "openai", name: "Huge", apiKey: canary + "k".repeat(70 * 1024) }, "request"],
      [IpcContract.IpcChannel.create, { provider: "openai", name: "Nul", apiKey: `${canary}\u0000` }, "apiKey"],
      [IpcContract.IpcChannel.get, { id: "../../etc/passwd" }, "id"],
      [
        IpcContract.IpcChannel.update,
        { id: "0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", patch: { baseUrl: "http://evil.example.com" } },
        "patch.baseUrl"
      ],
      [IpcContract.IpcChannel.list, { sneaky: true }, "sneaky"],
      [IpcContract.IpcChannel.diagnose, { probe: "yes" }, "probe"]
    ]
    for (const [channel, payload, field] of cases) {
      const result = await call(channel, payload)
      expect(result.ok, `${channel} ${field}`).toBe(false)
      expect(result.error._tag).toBe("InvalidInput")
      expect(result.error.field).toBe(field)
      expect(JSON.stringify(result)).not.toContain(canary)
    }
  })

  it("answers Timeout at the storage budget and the late operation still lands consistently", async () => {
    const late: Array<{ requestId: string; result: any }> = []
    // The production budgets (storage 200 ms), missed on purpose.
    const budgeted = IpcHandlers.make(runtime, { senderPolicy, log, onLateOutcome: (outcome) => void late.push(outcome as any) })
    const release = await holdStores()
    let result: any
    try {
      // Answered while the store is still held: at the budget, not when the slow work ends.
      result = await call(
        IpcContract.IpcChannel.create,
        { provider: "anthropic", name: "Slow", apiKey: Fixtures.makeCanaryKey() },
        trusted,
        budgeted
      )
      expect(result.error).toMatchObject({ _tag: "Timeout", requestId: expect.any(String) })
    } finally {
      release()
      await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    }
    // The operation ends in the background; its late outcome says when (no guessed sleep).
    await expect.poll(() => late.map((outcome) => outcome.requestId)).toContain(result.error.requestId)
    expect(late.find((outcome) => outcome.requestId === result.error.requestId)!.result.ok).toBe(true)
    const status = await call(IpcContract.IpcChannel.status, {})
    expect(status.value.pendingIntents).toBe(0)
    const list = await call(IpcContract.IpcChannel.list, {})
    expect(list.value.filter((config: { name: string }) => config.name === "Slow")).toHaveLength(1)
  })

  it("a Timeout carries a requestId; the late operation's real outcome is sent under it, once", async () => {
    const late: Array<{ requestId: string; channel: string; result: any }> = []
    // The production budgets (storage 200 ms), missed on purpose: the store is held meanwhile.
    const table = IpcHandlers.make(runtime, { senderPolicy, onLateOutcome: (outcome) => void late.push(outcome as any) })
    const release = await holdStores()
    const canary = Fixtures.makeCanaryKey("late")
    const timedOut = await table[IpcContract.IpcChannel.create](trusted, { provider: "openai", name: "Late", apiKey: canary }) as any
    release()
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    expect(timedOut.error._tag).toBe("Timeout")
    expect(timedOut.error.requestId).toMatch(/^[0-9a-f-]{36}$/)
    expect(Schema.is(IpcContract.IpcResult(IpcContract.IpcRoutes[IpcContract.IpcChannel.create].response as any))(timedOut)).toBe(true)
    await expect.poll(() => late.length).toBe(1)
    expect(late[0]!.requestId).toBe(timedOut.error.requestId)
    expect(late[0]!.channel).toBe(IpcContract.IpcChannel.create)
    expect(late[0]!.result.ok).toBe(true)
    expect(late[0]!.result.value).toMatchObject({ name: "Late", hasKey: true })
    expect(Schema.is(IpcContract.IpcResult(IpcContract.IpcRoutes[IpcContract.IpcChannel.create].response as any))(late[0]!.result)).toBe(
      true
    )
    expect(JSON.stringify(late)).not.toContain(canary)
    // A late FAILURE is delivered as itself.
    const releaseSecond = await holdStores({ secretFault: "locked" })
    const second = await table[IpcContract.IpcChannel.create](trusted, {
      provider: "openai",
      name: "Late locked",
      apiKey: Fixtures.makeCanaryKey()
    }) as any
    releaseSecond()
    expect(second.error._tag).toBe("Timeout")
    await expect.poll(() => late.length).toBe(2)
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    expect(late[1]!.requestId).toBe(second.error.requestId)
    expect(late[1]!.result).toMatchObject({ ok: false, error: { _tag: "KeychainLocked" } })
    // An on-time answer has no requestId and sends nothing late. (On a table with a budget no
    // loaded machine misses, reporting to the same list; the short wait after it can only miss a
    // wrong late send, never fail a right answer.)
    const onTime = IpcHandlers.make(runtime, {
      senderPolicy,
      budgets: { storageMillis: 60_000 },
      onLateOutcome: (outcome) => void late.push(outcome as any)
    })
    const quick = await onTime[IpcContract.IpcChannel.list](trusted, {}) as any
    expect(quick.ok).toBe(true)
    expect(quick.error?.requestId).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(late).toHaveLength(2)
  })

  it("health routes: names, not paths; no file actions without storage; sender checks apply", async () => {
    for (
      const file of [
        "../../etc/passwd",
        "/etc/passwd",
        "preferences.json",
        "preferences.json.bak.1/../../x",
        "preferences.json.corrupt-a/b"
      ]
    ) {
      const opened = await call(IpcContract.IpcChannel.openFolder, { file })
      expect(opened.error).toMatchObject({ _tag: "InvalidInput" })
      const restored = await call(IpcContract.IpcChannel.restoreBackup, { name: file })
      expect(restored.error).toMatchObject({ _tag: "InvalidInput" })
    }
    // The memory runtime has no data folder: the file routes say so instead of guessing.
    expect((await call(IpcContract.IpcChannel.backups, {})).error).toMatchObject({ _tag: "Unsupported" })
    expect((await call(IpcContract.IpcChannel.openFolder, {})).error).toMatchObject({ _tag: "Unsupported" })
    const keys = await call(IpcContract.IpcChannel.checkKeys, {})
    expect(keys.ok).toBe(true)
    for (const check of keys.value) expect(Object.keys(check).sort()).toEqual(expect.arrayContaining(["id", "name", "state"]))
    expect((await call(IpcContract.IpcChannel.recover, {})).ok).toBe(true)
    expect((await call(IpcContract.IpcChannel.dismissNotice, { id: "nothing" })).value).toEqual({ id: "nothing" })
    for (
      const channel of [
        IpcContract.IpcChannel.recover,
        IpcContract.IpcChannel.checkKeys,
        IpcContract.IpcChannel.backups,
        IpcContract.IpcChannel.restoreBackup,
        IpcContract.IpcChannel.openFolder,
        IpcContract.IpcChannel.dismissNotice
      ]
    ) {
      const refused = await call(channel, {}, { frameUrl: "https://evil.example/index.html" })
      expect(refused.error).toMatchObject({ _tag: "NotPermitted" })
    }
  })

  it("maps keychain faults to typed errors with hints", async () => {
    const created = await call(IpcContract.IpcChannel.create, { provider: "openai", name: "Faulty", apiKey: Fixtures.makeCanaryKey() })
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.set({ secretFault: "locked" })))
    const result = await call(IpcContract.IpcChannel.update, { id: created.value.id, patch: { apiKey: Fixtures.makeCanaryKey() } })
    await runtime.runPromise(FaultInjection.Faults.use((faults) => faults.clear))
    expect(result.error._tag).toBe("KeychainLocked")
    expect(result.error.hint.length).toBeGreaterThan(0)
    expect(Errors.errorTags).toContain(result.error._tag)
  })

  it("answers a defect with Internal in its own words, never the defect's", async () => {
    const canary = Fixtures.makeCanaryKey("defect")
    const dying = IpcHandlers.make(runtime, {
      senderPolicy: SenderPolicy.bundledOriginPolicy("file:///opt/fishbowl/renderer/"),
      storage: {
        backups: Effect.die(new Error(canary)),
        restoreBackup: () => Effect.die(canary),
        bringBack: Effect.die(canary),
        open: () => Effect.die(canary)
      }
    })
    for (const [channel, payload] of [[IpcContract.IpcChannel.backups, {}], [IpcContract.IpcChannel.openFolder, {}]] as const) {
      const result = await dying[channel](trusted, payload)
      expect(result).toEqual({
        ok: false,
        error: {
          _tag: "Internal",
          message: "Something went wrong inside Fishbowl",
          hint: "Try again; if it keeps happening, run diagnostics."
        }
      })
      expect(JSON.stringify(result)).not.toContain(canary)
    }
  })

  it("forwards change events encoded, without key material", async () => {
    const canary = Fixtures.makeCanaryKey("event")
    const events: Array<{ _tag: string; config?: { id: string }; id?: string }> = []
    const stop = IpcHandlers.forwardChanges(runtime, (change) => events.push(change))
    // Forwarding starts on its own fiber: change something until an event arrives, so that it is
    // known to be listening (by event, not by a sleep that a loaded machine can outlast).
    const probe = await call(IpcContract.IpcChannel.create, { provider: "ollama", name: "Probe" })
    let renames = 0
    await expect.poll(async () => {
      if (events.length === 0) await call(IpcContract.IpcChannel.update, { id: probe.value.id, patch: { name: `Probe ${++renames}` } })
      return events.length
    }).toBeGreaterThan(0)
    const created = await call(IpcContract.IpcChannel.create, { provider: "openai", name: "Evented", apiKey: canary })
    await call(IpcContract.IpcChannel.remove, { id: created.value.id })
    const about = (id: string) => events.filter((event) => (event.config?.id ?? event.id) === id).map((event) => event._tag)
    await expect.poll(() => about(created.value.id)).toEqual(["Created", "Removed"])
    stop()
    expect(JSON.stringify(events)).not.toContain(canary)
  })

  it("registers one handler per channel on anything shaped like ipcMain", async () => {
    const registered = new Map<string, (event: any, payload: unknown) => unknown>()
    const ipcMain = {
      handle: (channel: string, listener: (event: any, payload: unknown) => unknown) => registered.set(channel, listener),
      removeHandler: (channel: string) => registered.delete(channel)
    }
    const unregister = IpcHandlers.registerIpcHandlers(ipcMain, handlers)
    expect([...registered.keys()].sort()).toEqual(Object.keys(IpcContract.IpcRoutes).sort())
    const result = await registered.get(IpcContract.IpcChannel.list)!({ senderFrame: { url: trusted.frameUrl } }, {}) as any
    expect(result.ok).toBe(true)
    const refused = await registered.get(IpcContract.IpcChannel.list)!({ senderFrame: null }, {}) as any
    expect(refused.error._tag).toBe("NotPermitted")
    unregister()
    expect(registered.size).toBe(0)
  })
})

void Effect
