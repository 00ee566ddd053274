/**
 * The settings page, built, in Chromium, over the real handler table, the real DesktopLayer and a
 * real Secret Service (private gnome-keyring). Every test opens its own page over its own data
 * folder and sets up the configurations it needs, so tests run in any order. After each test,
 * every page it opened is checked: no key it used ever reached the page, its DOM, its inputs, its
 * console or what it received; the last test runs a whole scenario for that check alone.
 *
 * Every state is screenshotted into apps/desktop/test-output/settings-<state>.png with axe-core's
 * results beside it (settings-<state>.axe.json), and must have 0 violations.
 */
import { DesktopLayer } from "@fishbowl/desktop-layer"
import { SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { IpcContract, LlmConfigStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { ManagedRuntime, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Locator, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { buildRenderer } from "../scripts/build.mjs"
import * as IpcHandlers from "../src/main/IpcHandlers.ts"
import * as SenderPolicy from "../src/main/SenderPolicy.ts"
import * as StorageActions from "../src/main/StorageActions.ts"
import * as ContentSecurityPolicy from "../src/renderer/ContentSecurityPolicy.ts"
import * as Axe from "../src/testing/Axe.ts"
import * as RendererHarness from "../src/testing/RendererHarness.ts"

const screenshotPath = fileURLToPath(new URL("../test-output/settings.png", import.meta.url))

type Runtime = ReturnType<typeof makeRuntime>
const makeRuntime = (dataDir: string, backend: "keychain" | "session", env?: Record<string, string>) =>
  ManagedRuntime.make(
    DesktopLayer.layer({ dataDir, secretBackend: backend, ...(env !== undefined ? { keytar: { workerEnv: env } } : {}) })
  )

let secretService: SecretServiceHarness.SecretServiceHandle
let tempDir: string
let harness: RendererHarness.RendererHarness
const shown: Array<string> = []
const shell: StorageActions.ShellLike = {
  showItemInFolder: (file) => void shown.push(file),
  openPath: async (folder) => {
    shown.push(folder)
    return ""
  }
}
/**
 * Budgets a loaded machine never misses: these tests are about what the page shows, and a
 * storage call that took 201 ms on a busy CI core must not turn a refusal into a Timeout. The
 * production budgets are tested where they are the point (the late-outcome test below passes
 * `storageMillis: 1`; IpcHandlers.test.ts).
 */
const relaxedBudgets = { storageMillis: 10_000, keyRetrievalMillis: 10_000 }

/** Handlers as main builds them: file actions of the health panel and late outcomes wired. */
const mainHandlers = async (forRuntime: Runtime, budgets?: { readonly storageMillis: number }) => {
  const lateOutcomes = RendererHarness.makeLateOutcomeHub()
  const table = IpcHandlers.make(forRuntime, {
    senderPolicy: SenderPolicy.bundledOriginPolicy(RendererHarness.RENDERER_ROOT),
    storage: await forRuntime.runPromise(StorageActions.make({ shell })),
    onLateOutcome: lateOutcomes.onLateOutcome,
    budgets: { ...relaxedBudgets, ...budgets }
  })
  return { table, lateOutcomes }
}
/** Screenshot + axe for one state; 0 violations. */
const checkState = async (page: Page, state: string) => {
  const summary = await Axe.captureState(page, state)
  expect(summary.violations).toEqual([])
  expect(summary.rulesRun).toBeGreaterThan(20)
}
/** Text of the page as a user sees it (hidden parts excluded). */
const visibleText = (page: Page) => page.locator("body").innerText()
/**
 * The page's own messages: everything but the Storage health panel, which is the report of
 * findings (it may list the same problem as a finding, with its precise details).
 */
const messagesText = (page: Page) =>
  page.evaluate(
    `Array.from(document.querySelectorAll("#app > *:not(section:has(#health-body))")).map((e) => e.innerText).join("\\n")`
  ) as Promise<string>

/** The keys this test used: none may reach a page (checked after each test, on every page it opened). */
const canaries: Array<string> = []
const canary = (label: string) => {
  const key = Fixtures.makeCanaryKey(label)
  canaries.push(key)
  return key
}

/**
 * Records every text the live region announces on `page`, with its tone, however briefly: the
 * page shows an announcement for 6 s only, and a loaded machine can take longer than that to get
 * from the action to reading the region.
 */
const recordAnnouncements = (page: Page) =>
  page.evaluate(`(() => {
    window.__announced = [];
    const region = document.getElementById("announcer");
    new MutationObserver(() => {
      if (region.textContent) window.__announced.push({ text: region.textContent, tone: region.dataset.tone ?? "" });
    }).observe(region, { subtree: true, childList: true, characterData: true });
  })()`)
const announced = (page: Page) => page.evaluate("window.__announced") as Promise<Array<{ readonly text: string; readonly tone: string }>>
const announcement = (text: string | RegExp, tone?: string) =>
  expect.objectContaining({ text: typeof text === "string" ? text : expect.stringMatching(text), ...(tone !== undefined ? { tone } : {}) })

/** No key of this test in what `settings` received, its DOM, its inputs or its console; no error logged, no request refused. */
const expectNoKeyReached = async (settings: RendererHarness.SettingsPage) => {
  const { console: consoleLines, page, received, refusedRequests } = settings
  const dom = await page.content()
  const values = await page.locator("input").evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value))
  const texts = [dom, JSON.stringify(values), JSON.stringify(received), consoleLines.join("\n")]
  for (const key of canaries) {
    for (const text of texts) expect(text.includes(key)).toBe(false)
    // not even a recognisable part of it
    for (const text of texts) expect(text.includes(key.slice(-12))).toBe(false)
  }
  expect(consoleLines.filter((line) => /^(error|pageerror)/.test(line))).toEqual([])
  expect(refusedRequests).toEqual([])
}

interface SeedConfig {
  readonly provider: string
  readonly name: string
  readonly apiKey?: string
  readonly baseUrl?: string
}

/** Adds a configuration behind the page's back, as another window or the CLI would. */
const seed = (runtime: Runtime, config: SeedConfig) =>
  runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.create(Fixtures.configInput(config))))

/** Pages the running test opened and has not closed: each is checked and closed after it. */
const openApps: Array<{ readonly close: () => Promise<void> }> = []

/** One settings page over its own data folder (or `dataDir`), its runtime and handler table. */
const openApp = async (options: {
  readonly backend?: "keychain" | "session"
  readonly dataDir?: string
  readonly budgets?: { readonly storageMillis: number }
  readonly configs?: ReadonlyArray<SeedConfig>
} = {}) => {
  const backend = options.backend ?? "keychain"
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(tempDir, "data-")))
  const runtime = makeRuntime(dataDir, backend, backend === "keychain" ? SecretServiceHarness.childEnv(secretService.env) : undefined)
  for (const config of options.configs ?? []) await seed(runtime, config)
  const { lateOutcomes, table } = await mainHandlers(runtime, options.budgets)
  const settings = await harness.openSettings(table, runtime, { lateOutcomes })
  const page = settings.page
  await recordAnnouncements(page)
  // Checks behind the page's back use budgets a loaded machine never misses, whatever the page's.
  const checkTable = options.budgets === undefined ? table : (await mainHandlers(runtime)).table
  /** A call as the bundled page would make it, for checking outcomes behind the UI's back. */
  const call = async (channel: keyof IpcHandlers.IpcHandlerTable, payload: unknown = {}) =>
    (await checkTable[channel]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, payload)) as any
  let closed = false
  const app = {
    settings,
    page,
    runtime,
    dataDir,
    call,
    storedKey: (id: string) =>
      runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.getApiKey(id as never))).then(Redacted.value),
    configNamed: async (name: string) =>
      ((await call(IpcContract.IpcChannel.list)).value as Array<
        { id: string; name: string; hasKey: boolean; baseUrl?: string; allowInsecureHttp?: boolean; lastCheck?: { outcome: any } }
      >).find((config) => config.name === name),
    row: (name: string): Locator => page.getByRole("listitem").filter({ has: page.getByText(name, { exact: true }) }),
    addForm: () => page.getByRole("form", { name: /^Add / }),
    /** Change events forwarded to this page so far. */
    changesSeen: () =>
      settings.received.filter((entry) => (entry as { channel?: string }).channel === IpcContract.IpcChannel.changed).length,
    /** Checks the page (no key reached it) and closes it and its runtime; after each test for every page left open. */
    close: async () => {
      if (closed) return
      closed = true
      try {
        await expectNoKeyReached(settings)
      } finally {
        await settings.close()
        await runtime.dispose()
      }
    }
  }
  openApps.push(app)
  return app
}
type App = Awaited<ReturnType<typeof openApp>>

/** Fills the add form and submits it. */
const addConfig = async (app: App, options: { provider?: string; name: string; apiKey?: string; baseUrl?: string }) => {
  if (options.provider !== undefined) await app.page.getByLabel("Provider", { exact: true }).selectOption({ label: options.provider })
  await app.addForm().getByLabel("Name", { exact: true }).fill(options.name)
  if (options.baseUrl !== undefined) await app.addForm().getByLabel("Base URL").fill(options.baseUrl)
  if (options.apiKey !== undefined) await app.addForm().getByLabel("API key", { exact: true }).fill(options.apiKey)
  await app.addForm().getByRole("button", { name: "Add provider" }).click()
}

beforeAll(async () => {
  try {
    secretService = await SecretServiceHarness.startSecretService()
  } catch (error) {
    throw new Error(
      `A real Secret Service is required for the renderer test and could not start: ${
        (error as Error).message
      }\n${SecretServiceHarness.INSTALL_HINT}`
    )
  }
  await fs.mkdir(path.dirname(screenshotPath), { recursive: true })
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-renderer-"))
  const rendererDir = await buildRenderer(path.join(tempDir, "dist"))
  harness = await RendererHarness.startRendererHarness(rendererDir)
})

beforeEach(() => secretService?.ready())

afterEach(async () => {
  try {
    for (const app of openApps.splice(0)) await app.close()
  } finally {
    canaries.length = 0
  }
})

afterAll(async () => {
  await harness?.close()
  await secretService?.stop()
  if (tempDir !== undefined) await fs.rm(tempDir, { recursive: true, force: true })
})

describe("settings page (Chromium, real handlers, real Secret Service)", () => {
  it("loads under the app's CSP, shows the keychain tier and an add form built from the provider data", async () => {
    const app = await openApp()
    const page = app.page
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("OS keychain")
    const meta = await page.locator("meta[http-equiv=Content-Security-Policy]").getAttribute("content")
    expect(`${meta}; frame-ancestors 'none'`).toBe(ContentSecurityPolicy.CONTENT_SECURITY_POLICY)
    // OpenAI is first: key (masked, with a toggle) and base URL; no auth-header checkbox.
    const key = app.addForm().getByLabel("API key", { exact: true })
    expect(await key.getAttribute("type")).toBe("password")
    await expect.poll(() => app.addForm().getByLabel("Base URL").count()).toBe(1)
    expect(await app.addForm().getByRole("checkbox").count()).toBe(0)
    // OpenAI-compatible has the checkbox; Ollama has no key at all.
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
    await expect.poll(() => app.addForm().getByRole("checkbox", { name: /Authorization header/ }).isChecked()).toBe(true)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Ollama (local)" })
    await expect.poll(() => app.addForm().getByLabel("API key", { exact: true }).count()).toBe(0)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI" })
    await expect.poll(() => page.locator("#health-body .health-headline").textContent()).not.toContain("Checking")
    expect(await page.locator("#empty-state").isVisible()).toBe(true)
    await checkState(page, "add")
  })

  it("adds a config: listed with 'Key stored', key field emptied, key in the keychain", async () => {
    const app = await openApp()
    const page = app.page
    const key = canary("add")
    const keyInput = app.addForm().getByLabel("API key", { exact: true })
    await keyInput.fill(key)
    await app.addForm().getByRole("button", { name: "Show API key" }).click()
    await expect.poll(() => keyInput.getAttribute("type")).toBe("text")
    await app.addForm().getByRole("button", { name: "Hide API key" }).click()
    await expect.poll(() => keyInput.getAttribute("type")).toBe("password")
    await app.addForm().getByLabel("Name", { exact: true }).fill("Work")
    await app.addForm().getByRole("button", { name: "Add provider" }).click()

    await expect.poll(() => app.row("Work").count()).toBe(1)
    await expect.poll(() => app.row("Work").textContent()).toContain("Key stored")
    expect(await app.row("Work").textContent()).toContain("OpenAI")
    await expect.poll(() => app.addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
    await expect.poll(() => app.addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("")
    const stored = await app.configNamed("Work")
    expect(stored?.hasKey).toBe(true)
    expect(await app.storedKey(stored!.id)).toBe(key)
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("OS keychain")
    await expect.poll(() => announced(page)).toContainEqual(announcement("Added Work"))
    // Focus is back on the provider picker, ready for the next one.
    await expect.poll(() => page.evaluate("document.activeElement?.id")).toBe("add-provider")
    await app.settings.settled()
    await checkState(page, "list")
  })

  it("edits the name", async () => {
    const app = await openApp({ configs: [{ provider: "openai", name: "Work", apiKey: canary("edit") }] })
    const id = (await app.configNamed("Work"))!.id
    await app.row("Work").getByRole("button", { name: "Edit Work" }).click()
    const form = app.page.getByRole("form", { name: "Edit Work" })
    await expect.poll(() => app.page.evaluate("document.activeElement?.id")).toBe(`edit-${id}-name`)
    await checkState(app.page, "edit")
    await form.getByLabel("Name", { exact: true }).fill("Work (renamed)")
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => app.row("Work (renamed)").count()).toBe(1)
    await expect.poll(() => app.row("Work").count()).toBe(0)
    expect((await app.configNamed("Work (renamed)"))?.hasKey).toBe(true)
    // Focus is back on the row's Edit button.
    await expect.poll(() => app.page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe("Edit Work (renamed)")
  })

  it("replaces the key behind 'Replace key'; the new key is what the store returns", async () => {
    const app = await openApp({ configs: [{ provider: "openai", name: "Work", apiKey: canary("before-replace") }] })
    const key = canary("replace")
    const id = (await app.configNamed("Work"))!.id
    await app.row("Work").getByRole("button", { name: "Edit Work" }).click()
    const form = app.page.getByRole("form", { name: "Edit Work" })
    await form.waitFor()
    expect(await form.getByLabel("New API key", { exact: true }).isVisible()).toBe(false)
    await form.getByRole("button", { name: "Replace key" }).click()
    await expect.poll(() => app.page.evaluate("document.activeElement?.id")).toBe(`edit-${id}-apiKey`)
    await form.getByLabel("New API key", { exact: true }).fill(key)
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => app.page.getByRole("form", { name: "Edit Work" }).count()).toBe(0)
    await expect.poll(() => app.row("Work").textContent()).toContain("Key stored")
    expect(await app.storedKey(id)).toBe(key)
  })

  it("changing the base URL without the key shows the error at the key field and changes nothing", async () => {
    const key = canary("kept")
    const app = await openApp({ configs: [{ provider: "openai", name: "Work", apiKey: key }] })
    const before = (await app.configNamed("Work"))!
    await app.row("Work").getByRole("button", { name: "Edit Work" }).click()
    const form = app.page.getByRole("form", { name: "Edit Work" })
    await form.getByLabel("Base URL").fill("https://proxy.example.com/v1")
    await form.getByRole("button", { name: "Save changes" }).click()
    const keyInput = form.getByLabel("New API key", { exact: true })
    await expect.poll(() => keyInput.getAttribute("aria-invalid")).toBe("true")
    await expect.poll(() => keyInput.isVisible()).toBe(true)
    const errorId = (await keyInput.getAttribute("aria-describedby"))!.split(" ").find((id) => id.endsWith("-error"))!
    const error = app.page.locator(`#${errorId}`)
    await expect.poll(() => error.textContent()).toContain("Changing the base URL requires entering the API key again")
    expect(await error.textContent()).toContain("Re-enter the key")
    expect(await form.locator(".form-error").textContent()).toBe("")
    // The error says the key must be entered again: no offer to keep the stored one beside it.
    expect(await form.getByRole("button", { name: "Keep stored key" }).isVisible()).toBe(false)
    // Focus moved to the field in error.
    await expect.poll(() => app.page.evaluate("document.activeElement?.getAttribute('aria-invalid')")).toBe("true")
    await checkState(app.page, "key-required")
    await form.getByRole("button", { name: "Cancel" }).click()
    await expect.poll(() => app.page.getByRole("form", { name: "Edit Work" }).count()).toBe(0)
    const after = (await app.configNamed("Work"))!
    expect(after.baseUrl).toBe(before.baseUrl)
    expect(await app.storedKey(after.id)).toBe(key)
  })

  it("shows other typed errors next to their field (empty name)", async () => {
    const app = await openApp()
    await addConfig(app, { name: "   ", apiKey: canary("invalid") })
    const nameInput = app.addForm().getByLabel("Name", { exact: true })
    await expect.poll(() => nameInput.getAttribute("aria-invalid")).toBe("true")
    await expect.poll(() => app.page.locator("#add-name-error").textContent()).toMatch(/name must not be empty/)
    await expect.poll(() => app.addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
    await expect.poll(() => app.page.evaluate("document.activeElement?.id")).toBe("add-name")
  })

  it("deletes only after an in-page confirmation", async () => {
    const app = await openApp({ configs: [{ provider: "ollama", name: "Scratch" }] })
    await expect.poll(() => app.row("Scratch").textContent()).toContain("No key")
    await app.row("Scratch").getByRole("button", { name: "Delete Scratch" }).click()
    const confirm = app.page.getByRole("group", { name: "Confirm deleting Scratch" })
    await expect.poll(() => confirm.isVisible()).toBe(true)
    expect(await app.configNamed("Scratch")).toBeDefined()
    await confirm.getByRole("button", { name: "Cancel" }).click()
    await expect.poll(() => app.row("Scratch").getByRole("button", { name: "Delete Scratch" }).isVisible()).toBe(true)
    await app.row("Scratch").getByRole("button", { name: "Delete Scratch" }).click()
    await app.page.getByRole("group", { name: "Confirm deleting Scratch" }).getByRole("button", { name: "Delete permanently" }).click()
    await expect.poll(() => app.row("Scratch").count()).toBe(0)
    expect(await app.configNamed("Scratch")).toBeUndefined()
    await expect.poll(() => app.page.locator("#empty-state").isVisible()).toBe(true)
  })

  it("a locked keychain: add fails, 'Unlock keychain' appears, and after unlocking it works", async () => {
    const app = await openApp()
    const page = app.page
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Anthropic" })
    await secretService.lock()
    try {
      const firstTry = canary("locked")
      await addConfig(app, { name: "Personal", apiKey: firstTry })
      const banner = page.getByRole("alert").filter({ hasText: "The keychain is locked" })
      await banner.waitFor()
      // the page's own words name its button; the platform's hint stays under Technical details
      expect(await banner.textContent()).toMatch(/Choose "Unlock keychain"/)
      expect(await app.addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
      expect(await app.configNamed("Personal")).toBeUndefined()
      // One message for the one problem, in plain words; no keychain entry names on the page.
      const text = await messagesText(page)
      expect(text.split("The keychain is locked").length - 1).toBe(1)
      expect(await visibleText(page)).not.toMatch(/fishbowl\.[a-z-]+\.[0-9a-f-]{8,}/)
      // The health panel does not say "everything looks right" beside it.
      await expect.poll(() => page.locator("[data-finding='keychain.locked']").count()).toBe(1)
      // One state: the key-storage banner above the red one says the keychain is locked now, not
      // "available only to you"; internal names (backends, files, paths) only under Technical details.
      const status = await page.locator("#status-banner").innerText()
      expect(status).toContain("locked now")
      expect(status).not.toContain("available only to you")
      const outsideDetails = (await page.evaluate(
        `Array.from(document.querySelectorAll("body *:not(details *)")).filter((e) => e.children.length === 0).map((e) => e.textContent).join("\\n")`
      )) as string
      expect(outsideDetails).not.toMatch(/Secret Service|libsecret|preferences\.json|backup generation|fishbowl-test-run/)
      expect(await app.addForm().locator(".form-error").textContent()).toBe("")
      // Focus went to the fix.
      await expect.poll(() => page.evaluate("document.activeElement?.textContent")).toBe("Unlock keychain")
      await checkState(page, "locked")

      await secretService.unlock()
      await banner.getByRole("button", { name: "Unlock keychain" }).click()
      await expect.poll(() => page.locator("#locked-banner").isHidden()).toBe(true)
    } finally {
      await secretService.unlock()
    }

    // What a user does: the name is still in the field; type the key again and add.
    const secondTry = canary("unlocked")
    await expect.poll(() => app.addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("Personal")
    await app.addForm().getByLabel("API key", { exact: true }).fill(secondTry)
    await app.addForm().getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => app.row("Personal").count()).toBe(1)
    await expect.poll(() => app.row("Personal").textContent()).toContain("Key stored")
    expect(await app.storedKey((await app.configNamed("Personal"))!.id)).toBe(secondTry)
    await expect.poll(async () => (await app.call(IpcContract.IpcChannel.status)).value.pendingIntents).toBe(0)
    await page.screenshot({ path: screenshotPath, fullPage: true })
  })

  it("the session tier shows its warning and the fix", async () => {
    const app = await openApp({ backend: "session" })
    const status = await app.call(IpcContract.IpcChannel.status)
    const warning: string = status.value.secretStore.warning
    expect(warning).toMatch(/Keys are not saved/)
    const banner = app.page.locator("#status-banner")
    await expect.poll(() => banner.getAttribute("data-tier")).toBe("session")
    expect(await banner.textContent()).toContain("Session only")
    // The banner says it once, in plain words, and names no environment variable; the
    // precise warning (with the variable) is in the health panel's technical details only.
    const bannerText = (await banner.textContent())!
    expect(bannerText).toContain("kept only until Fishbowl quits")
    expect(bannerText.split("until Fishbowl quits").length - 1).toBe(1)
    expect(bannerText).not.toContain("FISHBOWL_")
    const details = app.page.locator("#health-body details")
    await expect.poll(() => details.textContent()).toContain(warning)
    // Outside the health panel (whose findings give the precise fix), no environment variable.
    const outsideHealth = await messagesText(app.page)
    expect(outsideHealth).toContain("Session only")
    expect(outsideHealth.includes("FISHBOWL_")).toBe(false)
    await checkState(app.page, "session")
  })

  it("a key held only in memory says so: 'Not saved (kept in memory…)', and after a restart 'Not saved: enter the key again'", async () => {
    const dataDir = path.join(tempDir, "session-key-data")
    const first = await openApp({ backend: "session", dataDir })
    await first.addForm().getByLabel("Name", { exact: true }).fill("In memory")
    await first.addForm().getByLabel("API key", { exact: true }).fill(canary("session-key"))
    await first.addForm().getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => first.row("In memory").locator(".pill").textContent()).toBe("Not saved (kept in memory until Fishbowl quits)")
    await checkState(first.page, "key-in-memory")
    await first.close()
    // A new process (runtime) on the same data folder: the key went with the old session.
    const restarted = await openApp({ backend: "session", dataDir })
    expect((await restarted.call(IpcContract.IpcChannel.list)).value).toMatchObject([{
      name: "In memory",
      hasKey: false,
      keyStorage: "session"
    }])
    await expect.poll(() => restarted.row("In memory").locator(".pill").textContent()).toBe("Not saved: enter the key again")
    await checkState(restarted.page, "key-lost")
  })

  it("the Storage health panel: findings with their fix, stored keys checked on demand, backups, the data folder", async () => {
    const app = await openApp({
      configs: [{ provider: "openai", name: "Work", apiKey: canary("health-1") }, {
        provider: "anthropic",
        name: "Personal",
        apiKey: canary("health-2")
      }]
    })
    const page = app.page
    const body = page.locator("#health-body")
    await page.locator("#health-heading").scrollIntoViewIfNeeded()
    await expect.poll(() => body.locator(".findings-ok .finding").count()).toBeGreaterThan(2)
    // Rendered generically: every finding diagnose returns is on the panel, by its id.
    const report = (await app.call(IpcContract.IpcChannel.diagnose, {})).value as { findings: Array<{ id: string }> }
    for (const finding of report.findings) await expect.poll(() => body.locator(`[data-finding="${finding.id}"]`).count()).toBe(1)
    await body.getByRole("button", { name: "Check stored keys" }).click()
    await expect.poll(() => body.getByRole("list", { name: "Stored keys" }).locator("li").count()).toBe(2)
    await expect.poll(() => body.locator("[data-key-check=present]").count()).toBe(2)
    expect(await body.getByRole("list", { name: "Stored keys" }).textContent()).toContain("Key is in the keychain")
    await expect.poll(() => body.locator("[data-backup]").count()).toBeGreaterThan(0)
    expect(await body.getByRole("button", { name: /^Restore this backup, saved/ }).count()).toBeGreaterThan(0)
    await body.getByRole("button", { name: "Open data folder" }).last().click()
    await expect.poll(() => shown.at(-1)).toBe(app.dataDir)
    // Internal names only under Technical details.
    const details = body.locator("details")
    expect(await details.textContent()).toContain("preferences.json")
    await details.locator("summary").click()
    await checkState(page, "health")
    // A refresh keeps the details open (the panel is not rebuilt).
    await body.getByRole("button", { name: "Check again" }).click()
    await app.settings.settled()
    expect(await details.getAttribute("open")).not.toBeNull()
  })

  it("a slow keychain: 'Waiting for your keychain', then the real outcome; success never shows an error, a failure shows once", async () => {
    const app = await openApp({ budgets: { storageMillis: 1 } })
    const page = app.page
    const form = app.addForm()
    // Record every waiting note the page shows, however briefly.
    await page.evaluate(`(() => {
      window.__seenNotes = [];
      new MutationObserver(() => {
        for (const note of document.querySelectorAll(".busy-note")) if (note.textContent) window.__seenNotes.push(note.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`)
    await form.getByLabel("Name", { exact: true }).fill("Slow")
    await form.getByLabel("API key", { exact: true }).fill(canary("slow"))
    await form.getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => app.row("Slow").count()).toBe(1)
    // The row can appear through the change event's refresh before the add itself ends: the
    // add's own end (its announcement, after the late outcome) is what the checks below follow.
    await expect.poll(() => announced(page)).toContainEqual(announcement("Added Slow"))
    const seen = (await page.evaluate("window.__seenNotes")) as Array<string>
    expect(seen).toContain("Waiting for your keychain — it may be asking for permission or a password")
    const timedOut = app.settings.received.filter((entry) => (entry as any)?.error?._tag === "Timeout")
    expect(timedOut.length).toBeGreaterThan(0)
    expect(app.settings.received.some((entry) => (entry as any)?.channel === IpcContract.IpcChannel.settled)).toBe(true)
    for (const text of await page.locator(".form-error, .row-error, .field-error").allTextContents()) expect(text).toBe("")
    expect(await page.locator("#locked-banner").isHidden()).toBe(true)
    expect(await visibleText(page)).not.toMatch(/did not answer|Timeout/)

    // A real failure after the wait is shown once, as itself.
    await secretService.lock()
    try {
      await form.getByLabel("Name", { exact: true }).fill("Slow and locked")
      await form.getByLabel("API key", { exact: true }).fill(canary("slow-locked"))
      await form.getByRole("button", { name: "Add provider" }).click()
      await page.getByRole("alert").filter({ hasText: "The keychain is locked" }).waitFor()
      expect((await messagesText(page)).split("The keychain is locked").length - 1).toBe(1)
      expect(await visibleText(page)).not.toMatch(/did not answer/)
      await secretService.unlock()
      await page.getByRole("button", { name: "Unlock keychain" }).first().click()
      await expect.poll(() => page.locator("#locked-banner").isHidden()).toBe(true)
    } finally {
      await secretService.unlock()
    }
    expect(await app.configNamed("Slow and locked")).toBeUndefined()
  })

  it("keyboard only: adds, edits (Escape cancels) and deletes a config", async () => {
    const app = await openApp()
    const page = app.page
    const focused = () =>
      page.evaluate(
        `(() => { const e = document.activeElement; if (!e) return ""; return (e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || "").trim() })()`
      ) as Promise<string>
    const tabTo = async (name: string, options?: { readonly backwards?: boolean }) => {
      for (let presses = 0; presses < 120; presses++) {
        if ((await focused()) === name) return
        await page.keyboard.press(options?.backwards === true ? "Shift+Tab" : "Tab")
      }
      throw new Error(`Tab never reached "${name}" (last: "${await focused()}")`)
    }
    await app.settings.settled()
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Anthropic" }) // the provider picker is tested elsewhere
    await page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    await tabTo("Name")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("add-name")
    await page.keyboard.type("Typed")
    await page.keyboard.press("Tab")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("add-apiKey")
    await page.keyboard.type(canary("keyboard"))
    await page.keyboard.press("Enter")
    await expect.poll(() => app.row("Typed").count()).toBe(1)
    expect((await app.configNamed("Typed"))?.hasKey).toBe(true)
    await app.settings.settled()

    await tabTo("Edit Typed")
    await page.keyboard.press("Enter")
    const id = (await app.configNamed("Typed"))!.id
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe(`edit-${id}-name`)
    await page.keyboard.type(" never saved")
    await page.keyboard.press("Escape")
    await expect.poll(() => page.getByRole("form", { name: "Edit Typed" }).count()).toBe(0)
    expect((await app.configNamed("Typed"))?.name).toBe("Typed")
    // Escape puts focus back on the button that opened the form.
    await expect.poll(() => focused()).toBe("Edit Typed")

    await page.keyboard.press("Enter")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe(`edit-${id}-name`)
    await page.keyboard.press("End")
    await page.keyboard.type(" (typed)")
    await page.keyboard.press("Enter")
    await expect.poll(() => app.row("Typed (typed)").count()).toBe(1)
    expect((await app.configNamed("Typed (typed)"))?.id).toBe(id)
    await app.settings.settled()

    await tabTo("Delete Typed (typed)")
    await page.keyboard.press("Enter")
    await expect.poll(() => focused()).toBe("Cancel")
    await page.keyboard.press("Shift+Tab")
    await expect.poll(() => focused()).toBe("Delete permanently")
    await page.keyboard.press("Enter")
    await expect.poll(() => app.row("Typed (typed)").count()).toBe(0)
    expect(await app.configNamed("Typed (typed)")).toBeUndefined()
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("add-heading")
  })

  it("a damaged settings file restored from a backup: the page works and says so once, until dismissed", async () => {
    const dataDir = path.join(tempDir, "restored-data")
    const writer = makeRuntime(dataDir, "keychain", SecretServiceHarness.childEnv(secretService.env))
    try {
      await seed(writer, { provider: "ollama", name: "Alpha" })
      await seed(writer, { provider: "ollama", name: "Beta" })
    } finally {
      await writer.dispose()
    }
    // truncated, as after a crash mid-write by another tool
    await fs.writeFile(path.join(dataDir, "preferences.json"), "{\"llm\": {\"version\": 1, \"configs\": [")
    const app = await openApp({ dataDir })
    const page = app.page
    const notice = page.locator("[data-notice]")
    await notice.waitFor()
    expect(await notice.count()).toBe(1)
    const text = (await notice.textContent())!
    expect(text).toContain("Your settings were restored from a backup")
    expect(text).toContain("preferences.json.bak.1")
    const status = (await app.call(IpcContract.IpcChannel.status)).value
    expect(status.notices).toHaveLength(1)
    expect(text).toContain(status.notices[0].quarantinedAs)
    // The operation succeeded: the list is there, and no error is shown.
    await expect.poll(() => app.row("Alpha").count()).toBe(1)
    expect(await page.locator("#locked-banner").isHidden()).toBe(true)
    expect((await page.locator("#list-error").textContent()) ?? "").toBe("")
    await checkState(page, "restored")

    await notice.getByRole("button", { name: "Show the damaged file" }).click()
    await expect.poll(() => shown.at(-1)).toBe(status.notices[0].quarantinedAs)
    await expect.poll(() => app.settings.received.some((entry) => (entry as any)?.change?._tag === "Notice")).toBe(true)
    await app.settings.settled()
    await notice.getByRole("button", { name: "Choose another backup" }).click()
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("health-backups-heading")
    await notice.getByRole("button", { name: "Keep the restored settings" }).click()
    await expect.poll(() => page.locator("[data-notice]").count()).toBe(0)
    await expect.poll(async () => (await app.call(IpcContract.IpcChannel.status)).value.notices).toEqual([])

    // Backups hold only states with no half-done change (Restore): the restored copy brings back
    // none (Beta's create had begun when the copy before it was made), and a backup can be
    // restored at once.
    const body = page.locator("#health-body")
    expect((await app.call(IpcContract.IpcChannel.status)).value.pendingIntents).toBe(0)
    expect(await body.getByRole("button", { name: "Finish interrupted changes" }).count()).toBe(0)
    const backup = body.locator("[data-backup]").first()
    await backup.waitFor()
    expect(await backup.textContent()).toMatch(/provider/)
    const name = (await backup.getAttribute("data-backup"))!
    await backup.getByRole("button", { name: /^Restore this backup, saved/ }).click()
    const confirm = body.locator(`[data-backup="${name}"]`)
    await expect.poll(() => page.evaluate("document.activeElement?.textContent")).toBe("Cancel")
    await confirm.getByRole("button", { name: "Restore", exact: true }).click()
    await expect.poll(() => announced(page)).toContainEqual(announcement("Backup restored"))
    expect(await page.locator("#health-error").count()).toBe(0)
  })

  describe("test connection and plain http (fake OpenAI-compatible server on 127.0.0.1)", () => {
    /**
     * Answers like an OpenAI-compatible server: `GET {base}/models` (HttpProviderCheck via
     * ProviderCheck.checkEndpointFor: OpenAI-compatible is `{base}/models` with `Authorization:
     * Bearer <key>`) lists two models for an accepted key and refuses any other with 401.
     */
    let server: http.Server
    let base: string
    const acceptedKeys = new Set<string>()
    const requests: Array<string> = []
    /** Answers wait for this while a test holds them (to see a busy state). */
    let hold: Promise<void> = Promise.resolve()
    beforeAll(async () => {
      server = http.createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`)
        void hold.then(() => {
          if (request.method !== "GET" || request.url !== "/v1/models") {
            response.writeHead(404, { "content-type": "application/json" }).end(`{"error":"no route"}`)
            return
          }
          const key = request.headers.authorization?.replace(/^Bearer /, "") ?? ""
          if (!acceptedKeys.has(key)) {
            response.writeHead(401, { "content-type": "application/json" }).end(`{"error":{"message":"Incorrect API key"}}`)
            return
          }
          response.writeHead(200, { "content-type": "application/json" }).end(`{"data":[{"id":"a"},{"id":"b"}]}`)
        })
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
    })
    afterAll(() => new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve()))

    const acceptedKey = (label: string) => {
      const key = canary(label)
      acceptedKeys.add(key)
      return key
    }
    /** Every keychain item path, and whether any holds `secret`; read with secret-tool (libsecret-tools). */
    const keychainItems = (secret: string) => {
      const out = execFileSync("secret-tool", ["search", "--all", "account", "apiKey"], {
        env: { ...process.env, ...SecretServiceHarness.childEnv(secretService.env) },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"]
      })
      return { paths: out.split("\n").filter((line) => line.startsWith("[/")).sort(), holds: out.includes(secret) }
    }
    /** Every file of a data folder with its bytes, to prove a draft check wrote nothing. */
    const dataFiles = async (dir: string) => {
      const names = (await fs.readdir(dir, { recursive: true })).sort()
      const entries: Array<[string, string]> = []
      for (const name of names) {
        const full = path.join(dir, name)
        if ((await fs.stat(full)).isFile()) entries.push([name, (await fs.readFile(full)).toString("base64")])
      }
      return entries
    }

    it("a stored config: 'Test connection' is busy while it runs, then says '2 models' next to it and records the last test", async () => {
      const app = await openApp()
      const page = app.page
      await addConfig(app, { provider: "OpenAI-compatible", name: "Local", baseUrl: base, apiKey: acceptedKey("check-ok") })
      await expect.poll(() => app.row("Local").count()).toBe(1)
      await expect.poll(() => app.row("Local").textContent()).toContain("Not tested yet")
      const test = app.row("Local").getByRole("button", { name: "Test connection to Local" })
      // Busy state: hold the server's answer until the button has been seen disabled.
      let release: () => void = () => {}
      hold = new Promise<void>((resolve) => (release = resolve))
      try {
        await test.click()
        await expect.poll(() => test.isDisabled()).toBe(true)
        await expect.poll(() => test.getAttribute("aria-busy")).toBe("true")
        await expect.poll(() => app.row("Local").getByRole("button", { name: "Edit Local" }).isDisabled()).toBe(true)
        await expect.poll(() => app.row("Local").textContent()).toContain("this can take up to 10 seconds")
        await checkState(page, "check-busy")
      } finally {
        release()
        hold = Promise.resolve()
      }

      await expect.poll(() => app.row("Local").locator(".check-result").textContent()).toContain("2 models")
      const result = await app.row("Local").locator(".check-result").textContent()
      expect(result).toMatch(/^Last test, .+: Connected: the key works \(2 models available\)$/)
      await expect.poll(() => test.isDisabled()).toBe(false)
      expect(await test.getAttribute("aria-busy")).toBeNull()
      await expect.poll(async () => (await app.configNamed("Local"))?.lastCheck?.outcome).toMatchObject({ _tag: "Ok", models: 2 })
      expect(requests.at(-1)).toBe("GET /v1/models")
      await expect.poll(() => announced(page)).toContainEqual(announcement(/Local: Connected/))
      // Focus is back on the button that started the test.
      await expect.poll(() => page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe("Test connection to Local")
      await checkState(page, "check-ok")
    })

    it("a refused key (401): says the provider refused it, with the next step, and records it", async () => {
      const app = await openApp({
        configs: [
          { provider: "openai-compatible", name: "Local", baseUrl: base, apiKey: acceptedKey("check-ok-2") },
          { provider: "openai-compatible", name: "Local refused", baseUrl: base, apiKey: canary("check-refused") }
        ]
      })
      const page = app.page
      await app.row("Local").getByRole("button", { name: "Test connection to Local" }).click()
      await expect.poll(() => app.row("Local").locator(".check-result").textContent()).toContain("2 models")
      await app.row("Local refused").getByRole("button", { name: "Test connection to Local refused" }).click()
      const line = app.row("Local refused").locator(".check-result")
      await expect.poll(() => line.textContent()).toContain("The provider refused the key (HTTP 401)")
      await expect.poll(() => line.getAttribute("class")).toContain("check-failed")
      // The other row keeps its own outcome.
      expect(await app.row("Local").locator(".check-result").textContent()).toContain("2 models")
      await expect.poll(async () => (await app.configNamed("Local refused"))?.lastCheck?.outcome).toMatchObject({
        _tag: "Unauthorized",
        status: 401
      })
      // A failed test is announced as a problem, not with the confirmation's check mark.
      await expect.poll(() => announced(page)).toContainEqual(announcement(/Local refused: The provider refused the key/, "problem"))
      await checkState(page, "check-refused")
    })

    it("the add form tests the typed values and key before saving, and persists nothing", async () => {
      const app = await openApp({ configs: [{ provider: "ollama", name: "Existing" }] })
      const page = app.page
      const draftKey = canary("check-draft")
      const listBefore = ((await app.call(IpcContract.IpcChannel.list)).value as Array<{ id: string }>).map((config) => config.id)
      const keychainBefore = keychainItems(draftKey)
      const filesBefore = await dataFiles(app.dataDir)

      await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
      await app.addForm().getByLabel("Name", { exact: true }).fill("Draft")
      await app.addForm().getByLabel("Base URL").fill(base)
      const keyInput = app.addForm().getByLabel("API key", { exact: true })
      await keyInput.fill(draftKey)
      await app.addForm().getByRole("button", { name: "Test connection" }).click()
      const result = app.addForm().locator(".check-result")
      await expect.poll(() => result.textContent()).toContain("refused the key (HTTP 401)")
      await expect.poll(() => result.textContent()).toContain("Nothing was saved.")
      // The key is still there to add with (or to correct), and it was sent as typed.
      expect(await keyInput.inputValue()).toBe(draftKey)
      await checkState(page, "check-draft-refused")

      // Now the server accepts that key.
      acceptedKeys.add(draftKey)
      await app.addForm().getByRole("button", { name: "Test connection" }).click()
      await expect.poll(() => result.textContent()).toContain("Connected: the key works (2 models available)")
      await checkState(page, "check-draft-ok")

      expect(((await app.call(IpcContract.IpcChannel.list)).value as Array<{ id: string }>).map((config) => config.id)).toEqual(listBefore)
      expect(await app.row("Draft").count()).toBe(0)
      expect(await page.getByRole("listitem").filter({ has: page.locator(".config-summary") }).count()).toBe(1)
      const keychainAfter = keychainItems(draftKey)
      expect(keychainAfter.paths).toEqual(keychainBefore.paths)
      expect(keychainAfter.holds).toBe(false)
      expect(await dataFiles(app.dataDir)).toEqual(filesBefore)
      await keyInput.fill("")
    })

    it("plain http to a private-network host: the consent checkbox appears only then; refused without it, stored with it", async () => {
      const app = await openApp({ configs: [{ provider: "openai-compatible", name: "Local", baseUrl: base, apiKey: canary("loopback") }] })
      const page = app.page
      const consent = () => app.addForm().getByRole("checkbox", { name: /Allow plain http to this private-network address/ })
      await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
      const baseInput = app.addForm().getByLabel("Base URL")
      await baseInput.fill(base)
      await expect.poll(() => consent().isVisible()).toBe(false)
      await baseInput.fill("https://llm.example.com/v1")
      await expect.poll(() => consent().isVisible()).toBe(false)
      await baseInput.fill("http://192.168.1.50:8080/v1")
      await expect.poll(() => consent().isVisible()).toBe(true)
      expect(await consent().isChecked()).toBe(false)

      await app.addForm().getByLabel("Name", { exact: true }).fill("LAN box")
      // Testing before consent: main refuses it by the same rule as saving; the key goes nowhere.
      const lanKey = canary("lan-refused")
      await app.addForm().getByLabel("API key", { exact: true }).fill(lanKey)
      const requestsBefore = requests.length
      const receivedBefore = app.settings.received.length
      await app.addForm().getByRole("button", { name: "Test connection" }).click()
      await expect.poll(() => page.locator("#add-baseUrl-error").textContent()).toContain("unencrypted")
      await expect.poll(() => baseInput.getAttribute("aria-invalid")).toBe("true")
      // Main refused it (the page's answer says InvalidInput) and no request reached the server.
      expect(requests.length).toBe(requestsBefore)
      expect(app.settings.received.slice(receivedBefore).some((entry) => JSON.stringify(entry).includes("InvalidInput"))).toBe(true)
      expect(await app.addForm().getByLabel("API key", { exact: true }).inputValue()).toBe(lanKey)
      await app.addForm().getByRole("button", { name: "Add provider" }).click()
      // The field was already marked by the test above: wait for the add's own answer first.
      await app.settings.settled()
      await expect.poll(() => baseInput.getAttribute("aria-invalid")).toBe("true")
      expect(await page.locator("#add-baseUrl-error").textContent()).toContain("unencrypted")
      expect(await app.configNamed("LAN box")).toBeUndefined()
      await checkState(page, "insecure-refused")

      const key = canary("lan-accepted")
      await consent().check()
      await app.addForm().getByLabel("API key", { exact: true }).fill(key)
      await app.addForm().getByRole("button", { name: "Add provider" }).click()
      await expect.poll(() => app.row("LAN box").count()).toBe(1)
      await expect.poll(() => app.row("LAN box").textContent()).toContain("Plain http allowed to this private-network address")
      expect(await app.row("Local").textContent()).not.toContain("Plain http allowed")
      const stored = (await app.configNamed("LAN box"))!
      expect(stored.allowInsecureHttp).toBe(true)
      expect(await app.storedKey(stored.id)).toBe(key)

      // The edit form starts from the stored consent; withdrawing it is refused while the key is there.
      await app.row("LAN box").getByRole("button", { name: "Edit LAN box" }).click()
      const form = page.getByRole("form", { name: "Edit LAN box" })
      const editConsent = form.getByRole("checkbox", { name: /Allow plain http/ })
      await expect.poll(() => editConsent.isChecked()).toBe(true)
      await checkState(page, "insecure-edit")
      await editConsent.uncheck()
      await form.getByRole("button", { name: "Save changes" }).click()
      await expect.poll(() => form.locator(".field-error").allTextContents()).toContainEqual(expect.stringContaining("unencrypted"))
      expect((await app.configNamed("LAN box"))?.allowInsecureHttp).toBe(true)
      await form.getByRole("button", { name: "Cancel" }).click()
      await checkState(page, "insecure-stored")
    })
  })

  it("no key ever reached the page: not the DOM, input values, responses, change events or console", async () => {
    const app = await openApp()
    const page = app.page
    // Every way a key is typed: added, shown and hidden, replaced, refused with the form's error.
    const added = canary("scenario-add")
    await app.addForm().getByLabel("API key", { exact: true }).fill(added)
    await app.addForm().getByRole("button", { name: "Show API key" }).click()
    await app.addForm().getByRole("button", { name: "Hide API key" }).click()
    await addConfig(app, { name: "Scenario" })
    await expect.poll(() => app.row("Scenario").textContent()).toContain("Key stored")
    await addConfig(app, { name: "   ", apiKey: canary("scenario-invalid") })
    await expect.poll(() => page.locator("#add-name-error").textContent()).toMatch(/name must not be empty/)
    await app.row("Scenario").getByRole("button", { name: "Edit Scenario" }).click()
    const form = page.getByRole("form", { name: "Edit Scenario" })
    await form.getByRole("button", { name: "Replace key" }).click()
    await form.getByLabel("New API key", { exact: true }).fill(canary("scenario-replace"))
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => form.count()).toBe(0)
    await app.settings.settled()
    expect(canaries.length).toBeGreaterThanOrEqual(3)
    expect(app.settings.received.length).toBeGreaterThan(0)
    // change events were delivered to the page too
    expect(app.settings.received.some((entry) => (entry as { channel?: string }).channel === IpcContract.IpcChannel.changed)).toBe(true)
    await expectNoKeyReached(app.settings)
  })
})
