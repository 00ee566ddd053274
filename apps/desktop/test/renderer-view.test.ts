/**
 * The settings page's store and actions in Node, against a fake bridge: no Chromium, no keychain.
 * Each test drives the page's actions as its components do and checks the store's states, and a
 * subscriber checks EVERY state the store ever holds: no API key is in any of them.
 *
 * The renderer's modules read `window.fishbowl.llmConfigs` and the provider list the build
 * inlines, so both are set on globalThis before the modules load.
 */
import { Errors, IpcContract, Providers } from "@fishbowl/domain"
import * as BaseUrlRule from "@fishbowl/domain/BaseUrlRule"
import { Fixtures } from "@fishbowl/domain/testing"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import type * as ActionsModule from "../src/renderer/Actions.ts"
import type * as StoreModule from "../src/renderer/Store.ts"
import type * as ViewModelModule from "../src/renderer/ViewModel.ts"

let Store: typeof StoreModule
let Actions: typeof ActionsModule
let ViewModel: typeof ViewModelModule

beforeAll(async () => {
  vi.stubGlobal("__FISHBOWL_PROVIDERS__", Providers.providers)
  vi.stubGlobal("window", { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout })
  Store = await import("../src/renderer/Store.ts")
  Actions = await import("../src/renderer/Actions.ts")
  ViewModel = await import("../src/renderer/ViewModel.ts")
})

type Result = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: IpcContract.IpcError }
type Config = Record<string, unknown> & { id: string; name: string }

const isoNow = () => new Date().toISOString()
/** A wire error as the main process sends it: decoded, so a test cannot build one the wire never carries. */
const wireError = (tag: IpcContract.IpcError["_tag"], extra?: Record<string, unknown>): IpcContract.IpcError =>
  Schema.decodeUnknownSync(IpcContract.IpcError)({ _tag: tag, message: `${tag} happened`, hint: `Fix the ${tag}.`, ...extra })
const status = (notices: ReadonlyArray<unknown> = []) => ({
  secretStore: {
    backend: "fake",
    tier: "keychain",
    persistent: true,
    secure: true,
    distinguishesLockedFromAbsent: true,
    detail: "A fake keychain"
  },
  preferencesLocation: "/data/preferences.json",
  configCount: 0,
  pendingIntents: 0,
  health: "ok",
  notes: [],
  notices
})
const report = (findings: ReadonlyArray<unknown> = [{ id: "keychain.reachable", severity: "ok", message: "The keychain answers" }]) => ({
  tier: "keychain",
  backend: "fake",
  secure: true,
  persistent: true,
  dataDir: "/data",
  probed: false,
  findings
})

/**
 * A bridge with main's shape over an in-memory list. `answer(method, result)` queues the next
 * answer of one method (a failure, a Timeout); `settle` delivers a late outcome; every request
 * is recorded.
 */
const makeFakeBridge = () => {
  let configs: Array<Config> = []
  let serial = 0
  const queued = new Map<string, Array<Result>>()
  const requests: Array<{ readonly method: string; readonly request: unknown }> = []
  const changed = new Set<(change: unknown) => void>()
  const settled = new Set<(outcome: { requestId: string; result: unknown }) => void>()
  const ok = (value: unknown): Result => ({ ok: true, value })
  const defaults: Record<string, (request: any) => Result> = {
    list: () => ok(configs),
    status: () => ok(status()),
    diagnose: () => ok(report()),
    backups: () => ok([]),
    authorize: () => ok(status()),
    create: (request) => {
      const { apiKey, ...settings } = request as { apiKey?: string }
      const config: Config = {
        id: `00000000-0000-4000-8000-${String(++serial).padStart(12, "0")}`,
        useAuthHeader: false,
        createdAt: isoNow(),
        updatedAt: isoNow(),
        ...settings,
        name: (settings as { name: string }).name,
        hasKey: apiKey !== undefined,
        keyStorage: "keychain"
      }
      configs = [...configs, config]
      return ok(config)
    },
    update: ({ id, patch }) => {
      const { apiKey, ...rest } = patch as { apiKey?: string }
      configs = configs.map((config) =>
        config.id === id ? { ...config, ...rest, ...(apiKey !== undefined ? { hasKey: true } : {}), updatedAt: isoNow() } : config
      )
      return ok(configs.find((config) => config.id === id))
    },
    remove: ({ id }) => {
      configs = configs.filter((config) => config.id !== id)
      return ok({ id })
    },
    check: () =>
      ok({
        check: { checkedAt: isoNow(), outcome: { _tag: "Ok", message: "", hint: "", millis: 3, status: 200, models: 2 } },
        recorded: false
      }),
    checkDraft: () =>
      ok({
        check: { checkedAt: isoNow(), outcome: { _tag: "Ok", message: "", hint: "", millis: 3, status: 200, models: 1 } },
        recorded: false
      }),
    dismissNotice: () => ok(status()),
    checkKeys: () => ok([])
  }
  const method = (name: string) => async (request?: unknown) => {
    requests.push({ method: name, request })
    await Promise.resolve()
    const next = queued.get(name)?.shift()
    return next ?? defaults[name]!(request)
  }
  const llmConfigs: Record<string, unknown> = {}
  for (const name of Object.keys(IpcContract.bridgeChannels)) llmConfigs[name] = method(name)
  Object.assign(llmConfigs, {
    onChanged: (listener: (change: unknown) => void) => {
      changed.add(listener)
      return () => changed.delete(listener)
    },
    onSettled: (listener: (outcome: { requestId: string; result: unknown }) => void) => {
      settled.add(listener)
      return () => settled.delete(listener)
    }
  })
  return {
    llmConfigs: llmConfigs as unknown as IpcContract.LlmConfigsBridge,
    requests,
    configs: () => configs,
    seed: (config: Partial<Config> & { name: string }) => defaults["create"]!({ provider: "openai", ...config }),
    answer: (name: string, result: Result) => queued.set(name, [...(queued.get(name) ?? []), result]),
    settle: (requestId: string, result: Result) => {
      for (const listener of settled) listener({ requestId, result })
    },
    change: () => {
      for (const listener of changed) listener({ _tag: "Changed" })
    },
    calls: (name: string) => requests.filter((entry) => entry.method === name)
  }
}

/** The keys a test typed and the states of its pages: no state may ever contain one of the keys. */
const keysTyped: Array<string> = []
const statesSeen: Array<ReadonlyArray<unknown>> = []
const typedKey = (label: string) => {
  const key = Fixtures.makeCanaryKey(label)
  keysTyped.push(key)
  return key
}

/** A page over a fresh fake bridge, started; every state the store takes is kept. */
const openPage = async (setup?: (bridge: ReturnType<typeof makeFakeBridge>) => void) => {
  const bridge = makeFakeBridge()
  setup?.(bridge)
  ;(globalThis.window as unknown as { fishbowl?: unknown }).fishbowl = { llmConfigs: bridge.llmConfigs }
  const store = Store.make(Store.initialState("openai"))
  const states: Array<StoreModule.PageState> = []
  statesSeen.push(states)
  store.subscribe((state) => states.push(state))
  const actions = Actions.make(store)
  await actions.start()
  // The health panel loads in the background: wait for it so each test starts from a quiet page.
  await vi.waitFor(() => expect(store.get().health.report).toBeDefined())
  return { bridge, store, actions, states, state: store.get }
}

afterEach(() => {
  // Not one state of the test's pages held a key it typed.
  for (const states of statesSeen) expectNoKeyIn(states)
  expect(keysTyped.length === 0 || statesSeen.length > 0).toBe(true)
  keysTyped.length = 0
  statesSeen.length = 0
})

const expectNoKeyIn = (states: ReadonlyArray<unknown>) => {
  const all = JSON.stringify(states)
  for (const key of keysTyped) expect(all.includes(key)).toBe(false)
}

const openai = () => Providers.providers.find((provider) => provider.id === "openai")!
const settings = (name: string, extra?: Partial<ActionsModule.FormSettings>): ActionsModule.FormSettings => ({
  name,
  baseUrl: "",
  useAuthHeader: undefined,
  allowInsecureHttp: undefined,
  ...extra
})

describe("renderer store and actions (Node, fake bridge)", () => {
  it("loads: list, status and health; ready only after the first list and status", async () => {
    const page = await openPage((bridge) => void bridge.seed({ name: "Work" }))
    expect(page.states[0]?.phase).toBe("loading")
    expect(page.state().phase).toBe("ready")
    expect(page.state().configs.map((config) => config.name)).toEqual(["Work"])
    expect(page.state().status?.secretStore.tier).toBe("keychain")
    expect(ViewModel.healthHeadline(page.state().health.report)).toBe("Everything looks right.")
  })

  it("outside the app (no bridge): says so, and is not busy", async () => {
    ;(globalThis.window as unknown as { fishbowl?: unknown }).fishbowl = undefined
    const store = Store.make(Store.initialState("openai"))
    await Actions.make(store).start()
    expect(store.get().phase).toBe("outside-app")
    expect(store.get().statusError?._tag).toBe("Unsupported")
  })

  it("adds: the key goes in the create request only; the list has the row, the form starts over, focus goes to the picker", async () => {
    const page = await openPage()
    const key = typedKey("add")
    await page.actions.configs.addConfig(openai(), settings("Work"), key)
    expect(page.bridge.calls("create").at(-1)?.request).toEqual({ provider: "openai", name: "Work", apiKey: key })
    expect(page.state().configs.map((config) => config.name)).toEqual(["Work"])
    expect(page.state().announcement?.text).toBe("Added Work")
    expect(page.state().addFormGeneration).toBe(1)
    expect(page.state().forms[Store.addFormId]).toBeUndefined()
    expect(page.state().focus?.target).toBe(Store.FocusTargets.addProvider)
    // "Adding…" was shown while the call ran.
    expect(page.states.some((state) => state.forms[Store.addFormId]?.busyLabel === "Adding…")).toBe(true)
    expectNoKeyIn(page.states)
  })

  it("a field error is shown at its field and focus goes there; the busy state ends", async () => {
    const page = await openPage()
    page.bridge.answer("create", { ok: false, error: wireError("InvalidInput", { field: "name", message: "The name must not be empty" }) })
    await page.actions.configs.addConfig(openai(), settings(""), typedKey("invalid"))
    const form = page.state().forms[Store.addFormId]!
    expect(form.fieldErrors.name?.message).toBe("The name must not be empty")
    expect(form.formError).toBeUndefined()
    expect(form.busyLabel).toBeUndefined()
    expect(page.state().focus?.target).toBe(Store.FocusTargets.field(Store.addFormId, "name"))
    // An error naming a field the form does not have is shown by the buttons.
    page.bridge.answer("create", { ok: false, error: wireError("InvalidInput", { field: "provider" }) })
    await page.actions.configs.addConfig(openai(), settings("X"), undefined)
    expect(page.state().forms[Store.addFormId]?.formError).toMatchObject({ field: "provider" })
    expect(page.state().focus?.target).toBe(Store.FocusTargets.formError(Store.addFormId))
    expectNoKeyIn(page.states)
  })

  it("a locked keychain: one banner, no form error, health reloaded, focus on the fix; unlocking clears it", async () => {
    const page = await openPage()
    const diagnosesBefore = page.bridge.calls("diagnose").length
    page.bridge.answer("create", { ok: false, error: wireError("KeychainLocked", { reason: "locked" }) })
    await page.actions.configs.addConfig(openai(), settings("Personal"), typedKey("locked"))
    expect(page.state().problem?._tag).toBe("KeychainLocked")
    expect(page.state().forms[Store.addFormId]?.formError).toBeUndefined()
    expect(page.state().forms[Store.addFormId]?.fieldErrors).toEqual({})
    expect(page.state().focus?.target).toBe(Store.FocusTargets.problemBanner)
    await vi.waitFor(() => expect(page.bridge.calls("diagnose").length).toBeGreaterThan(diagnosesBefore))

    page.bridge.answer("authorize", { ok: false, error: wireError("KeychainLocked", { reason: "locked" }) })
    await page.actions.health.unlockFromBanner()
    expect(page.state().problemDetail).toEqual({ _tag: "StillLocked" })
    await page.actions.health.unlockFromBanner()
    expect(page.state().problem).toBeUndefined()
    expect(page.state().announcement?.text).toBe("Keychain unlocked")
    expectNoKeyIn(page.states)
  })

  it("a call that misses its budget: waiting, then the real outcome — never an error for a slow success", async () => {
    const page = await openPage()
    page.bridge.answer("create", { ok: false, error: wireError("Timeout", { requestId: "late-1" }) })
    const adding = page.actions.configs.addConfig(openai(), settings("Slow"), typedKey("slow"))
    await vi.waitFor(() => expect(page.state().forms[Store.addFormId]?.waiting).toBe(true))
    page.bridge.settle("late-1", page.bridge.seed({ name: "Slow" }))
    await adding
    expect(page.state().announcement?.text).toBe("Added Slow")
    expect(page.state().forms[Store.addFormId]).toBeUndefined()
    expect(page.states.some((state) => state.problem !== undefined || state.forms[Store.addFormId]?.formError !== undefined)).toBe(false)

    // A real failure after the wait is shown as itself.
    page.bridge.answer("create", { ok: false, error: wireError("Timeout", { requestId: "late-2" }) })
    const failing = page.actions.configs.addConfig(openai(), settings("Slow and locked"), typedKey("slow-locked"))
    await vi.waitFor(() => expect(page.state().forms[Store.addFormId]?.waiting).toBe(true))
    page.bridge.settle("late-2", { ok: false, error: wireError("KeychainLocked", { reason: "locked" }) })
    await failing
    expect(page.state().problem?._tag).toBe("KeychainLocked")
    expect(page.state().forms[Store.addFormId]?.waiting).toBe(false)
    expectNoKeyIn(page.states)
  })

  it("edits: opens with focus on the name, saves only what changed, closes with focus on Edit; nothing changed closes without a call", async () => {
    const page = await openPage((bridge) => void bridge.seed({ name: "Work", apiKey: "stored" }))
    const config = page.state().configs[0]!
    page.actions.configs.openEdit(config.id)
    expect(page.state().rows[config.id]?.mode).toBe("edit")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.field(Store.editFormId(config.id), "name"))

    await page.actions.configs.saveEdit(config, openai(), settings("Work"), undefined)
    expect(page.bridge.calls("update")).toEqual([])
    expect(page.state().rows[config.id]?.mode).toBe("view")

    page.actions.configs.openEdit(config.id)
    const key = typedKey("replace")
    await page.actions.configs.saveEdit(config, openai(), settings("Work (renamed)"), key)
    expect(page.bridge.calls("update").at(-1)?.request).toEqual({ id: config.id, patch: { name: "Work (renamed)", apiKey: key } })
    expect(page.state().configs[0]?.name).toBe("Work (renamed)")
    expect(page.state().rows[config.id]?.mode).toBe("view")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.rowButton(config.id, "edit"))
    expect(page.state().announcement?.text).toBe("Saved Work (renamed)")
    expectNoKeyIn(page.states)
  })

  it("an edit refused for its key opens the key input with the error there (no 'keep stored key' beside it)", async () => {
    const page = await openPage((bridge) => void bridge.seed({ name: "Work", apiKey: "stored" }))
    const config = page.state().configs[0]!
    page.actions.configs.openEdit(config.id)
    page.bridge.answer("update", { ok: false, error: wireError("InvalidInput", { field: "patch.apiKey" }) })
    await page.actions.configs.saveEdit(config, openai(), settings("Work", { baseUrl: "https://proxy.example.com/v1" }), undefined)
    const form = page.state().forms[Store.editFormId(config.id)]!
    expect(form.keyOpen).toBe(true)
    expect(form.fieldErrors.apiKey).toMatchObject({ field: "patch.apiKey" })
    expect(page.state().focus?.target).toBe(Store.FocusTargets.field(Store.editFormId(config.id), "apiKey"))
    // "Keep stored key" drops the key error and goes back to "Replace key".
    page.actions.forms.keepStoredKey(Store.editFormId(config.id))
    expect(page.state().forms[Store.editFormId(config.id)]?.keyOpen).toBe(false)
    expect(page.state().forms[Store.editFormId(config.id)]?.fieldErrors.apiKey).toBeUndefined()
  })

  it("deletes after a confirmation; a failure of the row stays with the row", async () => {
    const page = await openPage((bridge) => {
      bridge.seed({ name: "Scratch" })
      bridge.seed({ name: "Keep" })
    })
    const [scratch, keep] = page.state().configs
    page.actions.configs.askDelete(scratch!.id)
    expect(page.state().rows[scratch!.id]?.mode).toBe("confirm")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.rowButton(scratch!.id, "cancel"))
    page.actions.configs.cancelDelete(scratch!.id)
    expect(page.state().rows[scratch!.id]?.mode).toBe("view")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.rowButton(scratch!.id, "delete"))

    page.actions.configs.askDelete(scratch!.id)
    await page.actions.configs.removeConfig(scratch!)
    expect(page.state().configs.map((config) => config.name)).toEqual(["Keep"])
    expect(page.state().rows[scratch!.id]).toBeUndefined()
    expect(page.state().announcement?.text).toBe("Deleted Scratch")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.addHeading)

    page.bridge.answer("remove", { ok: false, error: wireError("Conflict", { reason: "busy" }) })
    page.actions.configs.askDelete(keep!.id)
    await page.actions.configs.removeConfig(keep!)
    expect(page.state().rows[keep!.id]).toMatchObject({ mode: "confirm", deleting: false, error: { _tag: "Conflict" } })
    expect(page.state().focus?.target).toBe(Store.FocusTargets.rowError(keep!.id))
  })

  it("tests a stored config: busy while it runs, an unrecorded outcome is kept, a failure is announced as a problem", async () => {
    const page = await openPage((bridge) => void bridge.seed({ name: "Local" }))
    const config = page.state().configs[0]!
    await page.actions.configs.checkStored(config)
    expect(page.states.some((state) => state.rows[config.id]?.checking === true)).toBe(true)
    expect(page.state().rows[config.id]?.checking).toBe(false)
    expect(page.state().rows[config.id]?.unrecorded?.outcome).toMatchObject({ _tag: "Ok", models: 2 })
    expect(page.state().announcement).toMatchObject({ text: "Local: Connected: the key works (2 models available)", tone: "done" })
    expect(ViewModel.lastCheck(page.state().configs[0]!, page.state().rows[config.id]?.unrecorded)?.outcome._tag).toBe("Ok")

    page.bridge.answer("check", {
      ok: true,
      value: {
        check: {
          checkedAt: isoNow(),
          outcome: { _tag: "Unauthorized", message: "The provider refused the key (HTTP 401)", hint: "", millis: 1, status: 401 }
        },
        recorded: true
      }
    })
    await page.actions.configs.checkStored(config)
    expect(page.state().announcement).toMatchObject({ text: "Local: The provider refused the key (HTTP 401)", tone: "problem" })
    expect(page.state().focus?.target).toBe(Store.FocusTargets.rowButton(config.id, "test"))
  })

  it("tests a draft: the key goes in the check only; the outcome is shown by the form, nothing is listed", async () => {
    const page = await openPage()
    const key = typedKey("draft")
    await page.actions.configs.testDraft(openai(), settings("Draft", { baseUrl: "https://llm.example.com/v1" }), key)
    expect(page.bridge.calls("checkDraft").at(-1)?.request).toEqual({
      provider: "openai",
      baseUrl: "https://llm.example.com/v1",
      apiKey: key
    })
    expect(page.states.some((state) => state.forms[Store.addFormId]?.testing === true)).toBe(true)
    const form = page.state().forms[Store.addFormId]!
    expect(form.testing).toBe(false)
    expect(form.check !== undefined && "check" in form.check && form.check.check.outcome._tag).toBe("Ok")
    expect(page.state().configs).toEqual([])
    expectNoKeyIn(page.states)
  })

  it("change events refresh list and health; refreshes arriving during one coalesce", async () => {
    const page = await openPage()
    const listsBefore = page.bridge.calls("list").length
    page.bridge.seed({ name: "From the CLI" })
    page.bridge.change()
    page.bridge.change()
    page.bridge.change()
    await vi.waitFor(() => expect(page.state().configs.map((config) => config.name)).toEqual(["From the CLI"]))
    await page.actions.refresh()
    expect(page.bridge.calls("list").length - listsBefore).toBeLessThanOrEqual(3)
  })

  it("the health panel: a failed action is shown and focused; restoring asks first", async () => {
    const page = await openPage()
    page.bridge.answer("recover", { ok: false, error: wireError("StorageInaccessible") })
    await page.actions.health.finishChanges()
    expect(page.state().health.lastError?._tag).toBe("StorageInaccessible")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.healthError)
    page.actions.health.askRestore("preferences.json.bak.1")
    expect(page.state().health.confirming).toBe("preferences.json.bak.1")
    expect(page.state().focus?.target).toBe(Store.FocusTargets.backupButton("preferences.json.bak.1", "cancel"))
    page.actions.health.cancelRestore("preferences.json.bak.1")
    expect(page.state().health.confirming).toBeUndefined()
  })
})

describe("the reducer", () => {
  it("a new list drops the rows and edit forms of configs that are gone; announcements and focus expire by serial only", () => {
    let state = Store.initialState("openai")
    const config = (id: string) => ({ id, name: id, provider: "openai", useAuthHeader: false, hasKey: false, createdAt: "", updatedAt: "" })
    state = Store.reduce(state, { _tag: "ListRead", result: { ok: true, value: [config("a"), config("b")] as never } })
    state = Store.reduce(state, { _tag: "RowChanged", id: "a", change: { mode: "edit" } })
    state = Store.reduce(state, { _tag: "FormChanged", formId: Store.editFormId("a"), change: { keyOpen: true } })
    state = Store.reduce(state, { _tag: "FormChanged", formId: Store.addFormId, change: { testing: true } })
    state = Store.reduce(state, { _tag: "ListRead", result: { ok: true, value: [config("b")] as never } })
    expect(state.rows).toEqual({})
    expect(Object.keys(state.forms)).toEqual([Store.addFormId])

    state = Store.reduce(state, { _tag: "Announced", text: "One", tone: "done" })
    const first = state.announcement!.serial
    state = Store.reduce(state, { _tag: "Announced", text: "Two", tone: "done" })
    expect(Store.reduce(state, { _tag: "AnnouncementExpired", serial: first }).announcement?.text).toBe("Two")
    expect(Store.reduce(state, { _tag: "AnnouncementExpired", serial: state.announcement!.serial }).announcement).toBeUndefined()
    // No change, no new state (subscribers are not called).
    expect(Store.reduce(state, { _tag: "FocusDone", serial: 12345 })).toBe(state)
  })

  it("a problem replaces the confirmation of an earlier action: no \"Deleted …\" beside \"The keychain is locked\"", () => {
    let state = Store.reduce(Store.initialState("openai"), { _tag: "Announced", text: "Deleted Scratch", tone: "done" })
    expect(state.announcement?.text).toBe("Deleted Scratch")
    state = Store.reduce(state, { _tag: "ProblemShown", error: wireError("KeychainLocked", { reason: "locked" }) })
    expect(state.announcement).toBeUndefined()
    expect(state.problem?._tag).toBe("KeychainLocked")
  })
})

/** What the page's own words may never contain: paths, files, entries, ids, backends, shell commands. */
const INTERNAL =
  /\/|`|\.json|fishbowl\.|fishbowl-llm|chmod|FISHBOWL_|Secret Service|gnome-keyring|libsecret|keytar|KWallet|[0-9a-f]{8}-[0-9a-f]{4}-/

/** The labels of the page's buttons, read from its components: a page hint may only name these. */
const buttonLabels = (() => {
  const sources = ["HealthPanel.tsx", "Banners.tsx", "ConfigList.tsx", "ConfigForm.tsx", "AddForm.tsx"]
    .map((file) => fs.readFileSync(path.join(import.meta.dirname, "../src/renderer", file), "utf8"))
    .join("\n")
  return new Set([
    ...[...sources.matchAll(/label="([^"]+)"/g)].map((match) => match[1]!),
    ...[...sources.matchAll(/>\s*([A-Z][^<>{}\n]*?)\s*<\/button>/g)].map((match) => match[1]!)
  ])
})()

const expectPageWords = (text: string, what: string) => {
  expect(text, what).not.toMatch(INTERNAL)
  for (const [, named] of text.matchAll(/"([^"]+)"/g)) expect(buttonLabels, `${what} names "${named}"`).toContain(named)
}

/** Every error the wire can carry, each (tag, reason), with what a platform's own text may say. */
const everyWireError = (): ReadonlyArray<IpcContract.IpcError> =>
  Fixtures.everyErrorReason().map((fields) =>
    wireError(fields._tag, {
      ...fields,
      message: "Could not read fishbowl.openai.123e4567-e89b-12d3-a456-426614174000/apiKey in /home/me/.config/Fishbowl/preferences.json",
      hint: "Run: chmod 600 \"/home/me/.config/Fishbowl/preferences.json\"",
      ...(fields._tag === "InvalidInput" ? { field: "baseUrl" } : {})
    })
  )

describe("the page's words for errors", () => {
  it("words every (tag, reason) from its own tables: never the message or hint, only buttons the page has", async () => {
    const Messages = await import("../src/renderer/Messages.ts")
    const errors = everyWireError().filter((error) => error._tag !== "InvalidInput")
    expect(errors.length).toBeGreaterThan(25)
    for (const error of errors) {
      const what = `${error._tag}/${"reason" in error ? error.reason : "-"}`
      const { hint, title } = Messages.friendly(error)
      expect(title, what).not.toBe("")
      expectPageWords(`${title} ${hint}`, what)
    }
    // each reason of a tag has words of its own
    for (const reasons of [Errors.ConflictReason, Errors.NotFoundReason, Errors.KeychainLockedReason, Errors.UnsupportedReason]) {
      const titles = errors.filter((error) => "reason" in error && (reasons.literals as ReadonlyArray<string>).includes(error.reason!))
        .map((error) => Messages.friendly(error).title)
      expect(new Set(titles).size).toBe(reasons.literals.length)
    }
    expect(Messages.friendly(wireError("Conflict", { reason: "name-taken" })).title).toBe("That name is already in use")
  })

  it("a field refusal is the rule's own sentence, shown by its field", async () => {
    const Messages = await import("../src/renderer/Messages.ts")
    const error = wireError("InvalidInput", { field: "baseUrl", message: "Use https", hint: "Or allow plain http below." })
    expect(Messages.friendly(error)).toEqual({ title: "Use https", hint: "Or allow plain http below." })
  })

  it("the wire refuses a Conflict or NotFound without a reason: the page never has to guess one", () => {
    expect(() => wireError("Conflict")).toThrow()
    expect(() => wireError("NotFound")).toThrow()
  })
})

describe("the page's words for findings", () => {
  it("words every finding id at every severity and tier: no paths, files, backends or commands; ok offers no fix", async () => {
    const FindingWords = await import("../src/renderer/FindingWords.ts")
    const { Diagnostics } = await import("@fishbowl/domain")
    let worded = 0
    for (const id of Diagnostics.FindingId.literals) {
      for (const severity of ["ok", "warning", "error"] as const) {
        for (const tier of ["keychain", "encrypted-file", "session"] as const) {
          const report = { tier, backend: "keytar", secure: true, persistent: true, dataDir: "/d", probed: false, findings: [] }
          const finding = {
            id,
            severity,
            message: "Data folder /home/me/.config/Fishbowl has mode 755 (Secret Service via libsecret)",
            hint: "Run: chmod 700 \"/home/me/.config/Fishbowl\"; then `fishbowl-llm doctor`"
          }
          const words = FindingWords.findingWords(finding, report)
          expectPageWords(`${words.title} ${words.fix ?? ""}`, `${id}/${severity}/${tier}`)
          if (severity === "ok") expect(words.fix === undefined && words.action === undefined, id).toBe(true)
          worded++
        }
      }
    }
    expect(worded).toBe(Diagnostics.FindingId.literals.length * 9)
    const at = (id: string, severity: "ok" | "warning", tier = "keychain", findings: ReadonlyArray<unknown> = []) =>
      FindingWords.findingWords({ id, severity, message: "m" } as never, { tier, findings } as never)
    expect(at("secrets.tier", "warning").title).toBe("Keys are kept in your system keychain")
    expect(at("secrets.tier", "warning", "session").fix).toContain("forgotten when Fishbowl quits")
    // locked: the tier line says so and leaves the fix to the locked finding (one state, one fix)
    const lockedTier = at("secrets.tier", "warning", "keychain", [{ id: "keychain.locked", severity: "warning", message: "m" }])
    expect(lockedTier).toEqual({ title: "Keys are kept in your system keychain, which is locked now" })
    // reachable but its lock state unreadable: no "cannot be reached" beside "reachable and unlocked"
    const unreadableLock = at("secrets.tier", "warning", "keychain", [{ id: "keychain.reachable", severity: "ok", message: "m" }])
    expect(unreadableLock.fix).toContain("cannot tell whether it is locked")
    expect(unreadableLock.fix).not.toContain("cannot be reached")
    expect(at("data-dir.mode", "ok").title).toBe("Your data folder is private")
    expect(at("keychain.locked", "warning").action).toBe("unlock")
    expect(at("restore.left-out", "warning").action).toBe("bring-back")
  })
})

describe("view model", () => {
  it("says where a key is, and when plain http needs consent", () => {
    const base = { id: "a", name: "a", provider: "openai", useAuthHeader: false, createdAt: "", updatedAt: "" }
    expect(ViewModel.keyState({ ...base, hasKey: true } as never).text).toBe("Key stored")
    expect(ViewModel.keyState({ ...base, hasKey: true, keyStorage: "session" } as never).text).toBe(
      "Not saved (kept in memory until Fishbowl quits)"
    )
    expect(ViewModel.keyState({ ...base, hasKey: false, keyStorage: "session" } as never).text).toBe("Not saved: enter the key again")
    expect(ViewModel.keyState({ ...base, hasKey: false } as never).text).toBe("No key")
    expect(BaseUrlRule.needsConsent("http://192.168.1.50:8080/v1")).toBe(true)
    expect(BaseUrlRule.needsConsent("http://127.0.0.1:11434")).toBe(false)
    expect(BaseUrlRule.needsConsent("http://localhost:11434")).toBe(false)
    expect(BaseUrlRule.needsConsent("https://llm.example.com/v1")).toBe(false)
    // where the page's own copy of the rule had drifted from the store's
    expect(BaseUrlRule.needsConsent("http://[::ffff:127.0.0.1]:11434/v1"), "IPv4-mapped loopback is this machine").toBe(false)
    expect(BaseUrlRule.needsConsent("http://llm.example.com/v1"), "public http is refused: no consent makes it fine").toBe(false)
    expect(BaseUrlRule.needsConsent("http://ollama.localhost:11434"), "*.localhost may resolve through DNS").toBe(true)
  })

  it("asks for consent exactly when the store refuses the key without it and accepts it with it", async () => {
    const { Canonical } = await import("@fishbowl/domain")
    const { Effect, Exit } = await import("effect")
    const accepted = (url: string, allowInsecureHttp: boolean) =>
      Exit.isSuccess(Effect.runSyncExit(Canonical.refuseInsecureHttp(url, { hasKey: true, allowInsecureHttp })))
    const urls = [
      "http://192.168.1.50:8080/v1",
      "http://10.0.0.5:8000/v1",
      "http://100.64.1.2/v1",
      "http://[fd00::1]:8080",
      "http://nas.local:11434",
      "http://gpu-box:8000",
      "http://ollama.localhost:11434",
      "http://127.0.0.1:11434",
      "http://127.9.9.9",
      "http://localhost:11434",
      "http://[::1]:11434",
      "http://[::ffff:127.0.0.1]:11434",
      "http://llm.example.com/v1",
      "http://8.8.8.8/v1",
      "https://api.openai.com/v1",
      "https://10.0.0.5/v1"
    ]
    for (const url of urls) {
      expect(BaseUrlRule.needsConsent(url), url).toBe(!accepted(url, false) && accepted(url, true))
    }
  })

  it("the key-storage banner tells what is true now: a keychain problem on the page replaces 'available only to you'", () => {
    expect(ViewModel.keyStorageNow("keychain", undefined).explanation).toContain("available only to you")
    expect(ViewModel.keyStorageNow("keychain", undefined).className).toContain("banner-ok")
    for (const tag of ["KeychainLocked", "KeychainDenied", "KeychainUnavailable"] as const) {
      const now = ViewModel.keyStorageNow("keychain", wireError(tag, tag === "KeychainLocked" ? { reason: "locked" } : {}))
      expect(now.explanation, tag).toMatch(/neither saved nor read/)
      expect(now.className, tag).not.toContain("banner-ok")
    }
    // a problem that is not the keychain's leaves the banner as it is
    expect(ViewModel.keyStorageNow("keychain", wireError("Conflict", { reason: "busy" })).explanation).toContain("available only to you")
  })

  it("words health results", () => {
    expect(ViewModel.recoveryMessage({ rolledForward: [{ configId: "a", op: "create" }], rolledBack: [], left: [], failed: [] } as never))
      .toBe(
        "Finished 1 interrupted change"
      )
    const left = (why: "running" | "settling") => ({ configId: "b", op: "update", why, owner: "process 1 on host" })
    expect(ViewModel.recoveryMessage({ rolledForward: [], rolledBack: [], left: [left("running"), left("settling")], failed: [] }))
      .toBe(
        "Nothing was left to finish. 1 change is still in progress in another Fishbowl window or command and finishes there." +
          " 1 change waits for the keychain to finish saving a key; choose \"Finish interrupted changes\" again in a minute."
      )
    expect(ViewModel.broughtBackMessage([{ outcome: "brought-back" }, { outcome: "not-brought-back" }] as never)).toBe(
      "Brought back 1 configuration; 1 could not be (no key left in the keychain)"
    )
    expect(ViewModel.healthHeadline(report([{ id: "x", severity: "warning", message: "m" }]) as never)).toBe("1 thing needs attention.")
    const backup = { name: "preferences.json.bak.1", modifiedAt: "", usable: true, configNames: ["A"], added: [], removed: [], changed: [] }
    expect(ViewModel.backupSummary({ ...backup, olderCopies: 0 })).toBe("1 provider. Same providers as now.")
    expect(ViewModel.backupSummary({ ...backup, olderCopies: 2 })).toBe(
      "1 provider. Same providers as now. 2 older backups hold the same settings."
    )
  })
})
