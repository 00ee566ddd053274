/**
 * The settings page, built, in Chromium, over the real handler table, the real DesktopLayer and a
 * real Secret Service (private gnome-keyring). Scenarios run in order on one page, like a user
 * would; the last test proves no key ever reached the page, its DOM or its console.
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
import type { Locator } from "playwright-core"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
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
let runtime: Runtime
let handlers: IpcHandlers.IpcHandlerTable
let settings: RendererHarness.SettingsPage
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
const checkState = async (page: RendererHarness.SettingsPage["page"], state: string) => {
  const summary = await Axe.captureState(page, state)
  expect(summary.violations).toEqual([])
  expect(summary.rulesRun).toBeGreaterThan(20)
}
/** Text of the page as a user sees it (hidden parts excluded). */
const visibleText = (page: RendererHarness.SettingsPage["page"]) => page.locator("body").innerText()
/**
 * The page's own messages: everything but the Storage health panel, which is the report of
 * findings (it may list the same problem as a finding, with its precise details).
 */
const messagesText = (page: RendererHarness.SettingsPage["page"]) =>
  page.evaluate(
    `Array.from(document.querySelectorAll("#app > *:not(section:has(#health-body))")).map((e) => e.innerText).join("\\n")`
  ) as Promise<string>
const pages: Array<RendererHarness.SettingsPage> = []
const canaries: Array<string> = []
const canary = (label: string) => {
  const key = Fixtures.makeCanaryKey(label)
  canaries.push(key)
  return key
}

/** A call as the bundled page would make it, for checking outcomes behind the UI's back. */
const call = async (channel: keyof IpcHandlers.IpcHandlerTable, payload: unknown = {}) =>
  (await handlers[channel]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, payload)) as any
const storedKey = (id: string) =>
  runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.getApiKey(id as never))).then(Redacted.value)
const configNamed = async (name: string) =>
  ((await call(IpcContract.IpcChannel.list)).value as Array<{ id: string; name: string; hasKey: boolean; baseUrl?: string }>)
    .find((config) => config.name === name)

/**
 * Records every text the live region announces on `page`, with its tone, however briefly: the
 * page shows an announcement for 6 s only, and a loaded machine can take longer than that to get
 * from the action to reading the region.
 */
const recordAnnouncements = (page: RendererHarness.SettingsPage["page"]) =>
  page.evaluate(`(() => {
    window.__announced = [];
    const region = document.getElementById("announcer");
    new MutationObserver(() => {
      if (region.textContent) window.__announced.push({ text: region.textContent, tone: region.dataset.tone ?? "" });
    }).observe(region, { subtree: true, childList: true, characterData: true });
  })()`)
const announced = (page: RendererHarness.SettingsPage["page"]) =>
  page.evaluate("window.__announced") as Promise<Array<{ readonly text: string; readonly tone: string }>>
const announcement = (text: string | RegExp, tone?: string) =>
  expect.objectContaining({ text: typeof text === "string" ? text : expect.stringMatching(text), ...(tone !== undefined ? { tone } : {}) })

/** Change events forwarded to `on` so far. */
const changesSeen = (on: RendererHarness.SettingsPage) =>
  on.received.filter((entry) => (entry as { channel?: string }).channel === IpcContract.IpcChannel.changed).length
/**
 * Waits until `on` has been told of a change after the first `before` and has handled it. A change
 * makes the page refresh its list, and re-rendering the list moves focus to the body: steps that
 * read or move focus wait for this instead of racing the refresh.
 */
const changeHandled = async (on: RendererHarness.SettingsPage, before: number) => {
  await expect.poll(() => changesSeen(on)).toBeGreaterThan(before)
  await on.settled()
}

const row = (name: string): Locator => settings.page.getByRole("listitem").filter({ has: settings.page.getByText(name, { exact: true }) })
const addForm = () => settings.page.getByRole("form", { name: /^Add / })

const addConfig = async (options: { provider?: string; name: string; apiKey?: string }) => {
  const page = settings.page
  if (options.provider !== undefined) await page.getByLabel("Provider", { exact: true }).selectOption({ label: options.provider })
  await addForm().getByLabel("Name", { exact: true }).fill(options.name)
  if (options.apiKey !== undefined) await addForm().getByLabel("API key", { exact: true }).fill(options.apiKey)
  await addForm().getByRole("button", { name: "Add provider" }).click()
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
  runtime = makeRuntime(path.join(tempDir, "data"), "keychain", SecretServiceHarness.childEnv(secretService.env))
  const main = await mainHandlers(runtime)
  handlers = main.table
  harness = await RendererHarness.startRendererHarness(rendererDir)
  settings = await harness.openSettings(handlers, runtime, { lateOutcomes: main.lateOutcomes })
  pages.push(settings)
  await recordAnnouncements(settings.page)
})

beforeEach(() => secretService?.ready())

afterAll(async () => {
  await harness?.close()
  await runtime?.dispose()
  await secretService?.stop()
  if (tempDir !== undefined) await fs.rm(tempDir, { recursive: true, force: true })
})

describe("settings page (Chromium, real handlers, real Secret Service)", () => {
  it("loads under the app's CSP, shows the keychain tier and an add form built from the provider data", async () => {
    const page = settings.page
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("OS keychain")
    const meta = await page.locator("meta[http-equiv=Content-Security-Policy]").getAttribute("content")
    expect(`${meta}; frame-ancestors 'none'`).toBe(ContentSecurityPolicy.CONTENT_SECURITY_POLICY)
    // OpenAI is first: key (masked, with a toggle) and base URL; no auth-header checkbox.
    const key = addForm().getByLabel("API key", { exact: true })
    expect(await key.getAttribute("type")).toBe("password")
    await expect.poll(() => addForm().getByLabel("Base URL").count()).toBe(1)
    expect(await addForm().getByRole("checkbox").count()).toBe(0)
    // OpenAI-compatible has the checkbox; Ollama has no key at all.
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
    await expect.poll(() => addForm().getByRole("checkbox", { name: /Authorization header/ }).isChecked()).toBe(true)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Ollama (local)" })
    await expect.poll(() => addForm().getByLabel("API key", { exact: true }).count()).toBe(0)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI" })
    await expect.poll(() => page.locator("#health-body .health-headline").textContent()).not.toContain("Checking")
    await checkState(page, "add")
  })

  it("adds a config: listed with 'Key stored', key field emptied, key in the keychain", async () => {
    const page = settings.page
    const key = canary("add")
    const keyInput = addForm().getByLabel("API key", { exact: true })
    await keyInput.fill(key)
    await addForm().getByRole("button", { name: "Show API key" }).click()
    await expect.poll(() => keyInput.getAttribute("type")).toBe("text")
    await addForm().getByRole("button", { name: "Hide API key" }).click()
    await expect.poll(() => keyInput.getAttribute("type")).toBe("password")
    await addForm().getByLabel("Name", { exact: true }).fill("Work")
    const changesBefore = changesSeen(settings)
    await addForm().getByRole("button", { name: "Add provider" }).click()

    await expect.poll(() => row("Work").count()).toBe(1)
    await expect.poll(() => row("Work").textContent()).toContain("Key stored")
    expect(await row("Work").textContent()).toContain("OpenAI")
    await expect.poll(() => addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
    await expect.poll(() => addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("")
    const stored = await configNamed("Work")
    expect(stored?.hasKey).toBe(true)
    expect(await storedKey(stored!.id)).toBe(key)
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("OS keychain")
    await expect.poll(() => announced(page)).toContainEqual(announcement("Added Work"))
    // The next test reads focus inside the list: the refresh this add causes must be over.
    await changeHandled(settings, changesBefore)
    await checkState(page, "list")
  })

  it("edits the name", async () => {
    await row("Work").getByRole("button", { name: "Edit Work" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work" })
    await expect.poll(() => settings.page.evaluate("document.activeElement?.id")).toBe(`edit-${(await configNamed("Work"))!.id}-name`)
    await checkState(settings.page, "edit")
    await form.getByLabel("Name", { exact: true }).fill("Work (renamed)")
    const changesBefore = changesSeen(settings)
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => row("Work (renamed)").count()).toBe(1)
    await expect.poll(() => row("Work").count()).toBe(0)
    expect((await configNamed("Work (renamed)"))?.hasKey).toBe(true)
    await changeHandled(settings, changesBefore)
  })

  it("replaces the key behind 'Replace key'; the new key is what the store returns", async () => {
    const key = canary("replace")
    const id = (await configNamed("Work (renamed)"))!.id
    await row("Work (renamed)").getByRole("button", { name: "Edit Work (renamed)" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work (renamed)" })
    await form.waitFor()
    expect(await form.getByLabel("New API key", { exact: true }).isVisible()).toBe(false)
    await form.getByRole("button", { name: "Replace key" }).click()
    await form.getByLabel("New API key", { exact: true }).fill(key)
    const changesBefore = changesSeen(settings)
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => settings.page.getByRole("form", { name: "Edit Work (renamed)" }).count()).toBe(0)
    await expect.poll(() => row("Work (renamed)").textContent()).toContain("Key stored")
    expect(await storedKey(id)).toBe(key)
    // The next test reads focus inside the list: the refresh this update causes must be over.
    await changeHandled(settings, changesBefore)
  })

  it("changing the base URL without the key shows the error at the key field and changes nothing", async () => {
    const before = (await configNamed("Work (renamed)"))!
    await row("Work (renamed)").getByRole("button", { name: "Edit Work (renamed)" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work (renamed)" })
    await form.getByLabel("Base URL").fill("https://proxy.example.com/v1")
    await form.getByRole("button", { name: "Save changes" }).click()
    const keyInput = form.getByLabel("New API key", { exact: true })
    await expect.poll(() => keyInput.getAttribute("aria-invalid")).toBe("true")
    await expect.poll(() => keyInput.isVisible()).toBe(true)
    const errorId = (await keyInput.getAttribute("aria-describedby"))!.split(" ").find((id) => id.endsWith("-error"))!
    const error = settings.page.locator(`#${errorId}`)
    await expect.poll(() => error.textContent()).toContain("Changing the base URL requires entering the API key again")
    expect(await error.textContent()).toContain("Re-enter the key")
    expect(await form.locator(".form-error").textContent()).toBe("")
    // The error says the key must be entered again: no offer to keep the stored one beside it.
    expect(await form.getByRole("button", { name: "Keep stored key" }).isVisible()).toBe(false)
    // Focus moved to the field in error.
    await expect.poll(() => settings.page.evaluate("document.activeElement?.getAttribute('aria-invalid')")).toBe("true")
    await checkState(settings.page, "key-required")
    await form.getByRole("button", { name: "Cancel" }).click()
    const after = (await configNamed("Work (renamed)"))!
    expect(after.baseUrl).toBe(before.baseUrl)
    expect(await storedKey(after.id)).toBe(canaries.at(-1))
  })

  it("shows other typed errors next to their field (empty name)", async () => {
    await addConfig({ name: "   ", apiKey: canary("invalid") })
    const nameInput = addForm().getByLabel("Name", { exact: true })
    await expect.poll(() => nameInput.getAttribute("aria-invalid")).toBe("true")
    await expect.poll(() => settings.page.locator("#add-name-error").textContent()).toMatch(/name must not be empty/)
    await expect.poll(() => addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
  })

  it("deletes only after an in-page confirmation", async () => {
    await addConfig({ provider: "Ollama (local)", name: "Scratch" })
    await expect.poll(() => row("Scratch").count()).toBe(1)
    await expect.poll(() => row("Scratch").textContent()).toContain("No key")
    await row("Scratch").getByRole("button", { name: "Delete Scratch" }).click()
    const confirm = settings.page.getByRole("group", { name: "Confirm deleting Scratch" })
    await expect.poll(() => confirm.isVisible()).toBe(true)
    expect(await configNamed("Scratch")).toBeDefined()
    await confirm.getByRole("button", { name: "Cancel" }).click()
    await expect.poll(() => row("Scratch").getByRole("button", { name: "Delete Scratch" }).isVisible()).toBe(true)
    await row("Scratch").getByRole("button", { name: "Delete Scratch" }).click()
    await settings.page.getByRole("group", { name: "Confirm deleting Scratch" }).getByRole("button", { name: "Delete permanently" }).click()
    await expect.poll(() => row("Scratch").count()).toBe(0)
    expect(await configNamed("Scratch")).toBeUndefined()
  })

  it("a locked keychain: add fails, 'Unlock keychain' appears, and after unlocking it works", async () => {
    const page = settings.page
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Anthropic" })
    await secretService.lock()
    const firstTry = canary("locked")
    await addConfig({ name: "Personal", apiKey: firstTry })
    const banner = page.getByRole("alert").filter({ hasText: "The keychain is locked" })
    await banner.waitFor()
    expect(await banner.textContent()).toMatch(/Unlock the login keyring/)
    expect(await addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
    expect(await configNamed("Personal")).toBeUndefined()
    // One message for the one problem, in plain words; no keychain entry names on the page.
    const text = await messagesText(page)
    expect(text.split("The keychain is locked").length - 1).toBe(1)
    expect(await visibleText(page)).not.toMatch(/fishbowl\.[a-z-]+\.[0-9a-f-]{8,}/)
    // The health panel does not say "everything looks right" beside it.
    await expect.poll(() => page.locator("[data-finding='keychain.locked']").count()).toBe(1)
    expect(await addForm().locator(".form-error").textContent()).toBe("")
    // Focus went to the fix.
    await expect.poll(() => page.evaluate("document.activeElement?.textContent")).toBe("Unlock keychain")
    await checkState(page, "locked")

    await secretService.unlock()
    await banner.getByRole("button", { name: "Unlock keychain" }).click()
    await expect.poll(() => page.locator("#locked-banner").isHidden()).toBe(true)

    // What a user does: the name is still in the field; type the key again and add.
    const secondTry = canary("unlocked")
    await expect.poll(() => addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("Personal")
    await addForm().getByLabel("API key", { exact: true }).fill(secondTry)
    await addForm().getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => row("Personal").count()).toBe(1)
    await expect.poll(() => row("Personal").textContent()).toContain("Key stored")
    expect(await storedKey((await configNamed("Personal"))!.id)).toBe(secondTry)
    await expect.poll(async () => (await call(IpcContract.IpcChannel.status)).value.pendingIntents).toBe(0)
    await page.screenshot({ path: screenshotPath, fullPage: true })
  })

  it("the session tier shows its warning and the fix", async () => {
    const sessionRuntime = makeRuntime(path.join(tempDir, "session-data"), "session")
    try {
      const { lateOutcomes, table: sessionHandlers } = await mainHandlers(sessionRuntime)
      const sessionPage = await harness.openSettings(sessionHandlers, sessionRuntime, { lateOutcomes })
      pages.push(sessionPage)
      const status =
        (await sessionHandlers[IpcContract.IpcChannel.status]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, {})) as any
      const warning: string = status.value.secretStore.warning
      expect(warning).toMatch(/Keys are not saved/)
      const banner = sessionPage.page.locator("#status-banner")
      await expect.poll(() => banner.getAttribute("data-tier")).toBe("session")
      expect(await banner.textContent()).toContain("Session only")
      // The banner says it once, in plain words, and names no environment variable; the
      // precise warning (with the variable) is in the health panel's technical details only.
      const bannerText = (await banner.textContent())!
      expect(bannerText).toContain("kept only until Fishbowl quits")
      expect(bannerText.split("until Fishbowl quits").length - 1).toBe(1)
      expect(bannerText).not.toContain("FISHBOWL_")
      const details = sessionPage.page.locator("#health-body details")
      await expect.poll(() => details.textContent()).toContain(warning)
      // Outside the health panel (whose findings give the precise fix), no environment variable.
      const outsideHealth = await messagesText(sessionPage.page)
      expect(outsideHealth).toContain("Session only")
      expect(outsideHealth.includes("FISHBOWL_")).toBe(false)
      await checkState(sessionPage.page, "session")
    } finally {
      await sessionRuntime.dispose()
    }
  })

  it("a key held only in memory says so: 'Not saved (kept in memory…)', and after a restart 'Not saved: enter the key again'", async () => {
    const dataDir = path.join(tempDir, "session-key-data")
    const addInMemory = async () => {
      const sessionRuntime = makeRuntime(dataDir, "session")
      try {
        const { lateOutcomes, table } = await mainHandlers(sessionRuntime)
        const sessionPage = await harness.openSettings(table, sessionRuntime, { lateOutcomes })
        pages.push(sessionPage)
        const form = sessionPage.page.getByRole("form", { name: /^Add / })
        await form.getByLabel("Name", { exact: true }).fill("In memory")
        await form.getByLabel("API key", { exact: true }).fill(canary("session-key"))
        await form.getByRole("button", { name: "Add provider" }).click()
        const entry = sessionPage.page.getByRole("listitem").filter({ has: sessionPage.page.getByText("In memory", { exact: true }) })
        await expect.poll(() => entry.locator(".pill").textContent()).toBe("Not saved (kept in memory until Fishbowl quits)")
        await checkState(sessionPage.page, "key-in-memory")
      } finally {
        await sessionRuntime.dispose()
      }
    }
    await addInMemory()
    // A new process (runtime) on the same data folder: the key went with the old session.
    const restarted = makeRuntime(dataDir, "session")
    try {
      const { lateOutcomes, table } = await mainHandlers(restarted)
      const restartedPage = await harness.openSettings(table, restarted, { lateOutcomes })
      pages.push(restartedPage)
      const listed =
        ((await table[IpcContract.IpcChannel.list]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, {})) as any).value
      expect(listed).toMatchObject([{ name: "In memory", hasKey: false, keyStorage: "session" }])
      const entry = restartedPage.page.getByRole("listitem").filter({ has: restartedPage.page.getByText("In memory", { exact: true }) })
      await expect.poll(() => entry.locator(".pill").textContent()).toBe("Not saved: enter the key again")
      await checkState(restartedPage.page, "key-lost")
    } finally {
      await restarted.dispose()
    }
  })

  it("the Storage health panel: findings with their fix, stored keys checked on demand, backups, the data folder", async () => {
    const page = settings.page
    const body = page.locator("#health-body")
    await page.locator("#health-heading").scrollIntoViewIfNeeded()
    await expect.poll(() => body.locator(".findings-ok .finding").count()).toBeGreaterThan(2)
    // Rendered generically: every finding diagnose returns is on the panel, by its id.
    const report = (await call(IpcContract.IpcChannel.diagnose, {})).value as { findings: Array<{ id: string }> }
    for (const finding of report.findings) await expect.poll(() => body.locator(`[data-finding="${finding.id}"]`).count()).toBe(1)
    await body.getByRole("button", { name: "Check stored keys" }).click()
    await expect.poll(() => body.getByRole("list", { name: "Stored keys" }).locator("li").count()).toBe(2)
    await expect.poll(() => body.locator("[data-key-check=present]").count()).toBe(2)
    expect(await body.getByRole("list", { name: "Stored keys" }).textContent()).toContain("Key is in the keychain")
    expect(await body.locator("[data-backup]").count()).toBeGreaterThan(0)
    expect(await body.getByRole("button", { name: /^Restore this backup, saved/ }).count()).toBeGreaterThan(0)
    await body.getByRole("button", { name: "Open data folder" }).last().click()
    await expect.poll(() => shown.at(-1)).toBe(path.join(tempDir, "data"))
    // Internal names only under Technical details.
    const details = body.locator("details")
    expect(await details.textContent()).toContain("preferences.json")
    await details.locator("summary").click()
    await checkState(page, "health")
    await details.locator("summary").click()
  })

  it("a slow keychain: 'Waiting for your keychain', then the real outcome; success never shows an error, a failure shows once", async () => {
    const { lateOutcomes, table } = await mainHandlers(runtime, { storageMillis: 1 })
    const slow = await harness.openSettings(table, runtime, { lateOutcomes })
    pages.push(slow)
    const page = slow.page
    const form = page.getByRole("form", { name: /^Add / })
    // Record every waiting note the page shows, however briefly.
    await page.evaluate(`(() => {
      window.__seenNotes = [];
      new MutationObserver(() => {
        for (const note of document.querySelectorAll(".busy-note")) if (note.textContent) window.__seenNotes.push(note.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`)
    await form.getByLabel("Name", { exact: true }).fill("Slow")
    await form.getByLabel("API key", { exact: true }).fill(canary("slow"))
    await recordAnnouncements(page)
    await form.getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => page.getByRole("listitem").filter({ has: page.getByText("Slow", { exact: true }) }).count()).toBe(1)
    // The row can appear through the change event's refresh before the add itself ends: the
    // add's own end (its announcement, after the late outcome) is what the checks below follow.
    await expect.poll(() => announced(page)).toContainEqual(announcement("Added Slow"))
    const seen = (await page.evaluate("window.__seenNotes")) as Array<string>
    expect(seen).toContain("Waiting for your keychain — it may be asking for permission or a password")
    const timedOut = slow.received.filter((entry) => (entry as any)?.error?._tag === "Timeout")
    expect(timedOut.length).toBeGreaterThan(0)
    expect(slow.received.some((entry) => (entry as any)?.channel === IpcContract.IpcChannel.settled)).toBe(true)
    expect(await page.locator(".form-error, .row-error, .field-error").allTextContents()).toEqual(
      expect.arrayContaining([])
    )
    for (const text of await page.locator(".form-error, .row-error, .field-error").allTextContents()) expect(text).toBe("")
    expect(await page.locator("#locked-banner").isHidden()).toBe(true)
    expect(await visibleText(page)).not.toMatch(/did not answer|Timeout/)

    // A real failure after the wait is shown once, as itself.
    await secretService.lock()
    await form.getByLabel("Name", { exact: true }).fill("Slow and locked")
    await form.getByLabel("API key", { exact: true }).fill(canary("slow-locked"))
    await form.getByRole("button", { name: "Add provider" }).click()
    await page.getByRole("alert").filter({ hasText: "The keychain is locked" }).waitFor()
    expect((await messagesText(page)).split("The keychain is locked").length - 1).toBe(1)
    expect(await visibleText(page)).not.toMatch(/did not answer/)
    await secretService.unlock()
    await page.getByRole("button", { name: "Unlock keychain" }).first().click()
    await expect.poll(() => page.locator("#locked-banner").isHidden()).toBe(true)
    expect(await configNamed("Slow and locked")).toBeUndefined()
  })

  it("keyboard only: adds, edits (Escape cancels) and deletes a config", async () => {
    const page = settings.page
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
    // Changes made by earlier tests (on other pages too) are forwarded to this page: their
    // refreshes are over before focus is moved around.
    await settings.settled()
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Anthropic" }) // the provider picker is tested elsewhere
    await page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    await tabTo("Name")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("add-name")
    await page.keyboard.type("Typed")
    await page.keyboard.press("Tab")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("add-apiKey")
    await page.keyboard.type(canary("keyboard"))
    let changesBefore = changesSeen(settings)
    await page.keyboard.press("Enter")
    await expect.poll(() => row("Typed").count()).toBe(1)
    expect((await configNamed("Typed"))?.hasKey).toBe(true)
    await changeHandled(settings, changesBefore)

    await tabTo("Edit Typed")
    await page.keyboard.press("Enter")
    const id = (await configNamed("Typed"))!.id
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe(`edit-${id}-name`)
    await page.keyboard.type(" never saved")
    await page.keyboard.press("Escape")
    await expect.poll(() => page.getByRole("form", { name: "Edit Typed" }).count()).toBe(0)
    expect((await configNamed("Typed"))?.name).toBe("Typed")

    await tabTo("Edit Typed")
    await page.keyboard.press("Enter")
    await expect.poll(() => page.evaluate("document.activeElement.id")).toBe(`edit-${id}-name`)
    await page.keyboard.press("End")
    await page.keyboard.type(" (typed)")
    changesBefore = changesSeen(settings)
    await page.keyboard.press("Enter")
    await expect.poll(() => row("Typed (typed)").count()).toBe(1)
    expect((await configNamed("Typed (typed)"))?.id).toBe(id)
    await changeHandled(settings, changesBefore)

    await tabTo("Delete Typed (typed)")
    await page.keyboard.press("Enter")
    await expect.poll(() => focused()).toBe("Cancel")
    await page.keyboard.press("Shift+Tab")
    await expect.poll(() => focused()).toBe("Delete permanently")
    await page.keyboard.press("Enter")
    await expect.poll(() => row("Typed (typed)").count()).toBe(0)
    expect(await configNamed("Typed (typed)")).toBeUndefined()
  })

  it("a damaged settings file restored from a backup: the page works and says so once, until dismissed", async () => {
    const dataDir = path.join(tempDir, "restored-data")
    const restoredRuntime = makeRuntime(dataDir, "keychain", SecretServiceHarness.childEnv(secretService.env))
    try {
      await restoredRuntime.runPromise(
        LlmConfigStore.LlmConfigStore.use((store) => store.create({ provider: "ollama", name: "Alpha" } as never))
      )
      await restoredRuntime.runPromise(
        LlmConfigStore.LlmConfigStore.use((store) => store.create({ provider: "ollama", name: "Beta" } as never))
      )
      const file = path.join(dataDir, "preferences.json")
      await fs.writeFile(file, "{\"llm\": {\"version\": 1, \"configs\": [") // truncated, as after a crash mid-write by another tool
      const { lateOutcomes, table } = await mainHandlers(restoredRuntime)
      const restored = await harness.openSettings(table, restoredRuntime, { lateOutcomes })
      pages.push(restored)
      const page = restored.page
      await recordAnnouncements(page)
      const notice = page.locator("[data-notice]")
      await notice.waitFor()
      expect(await notice.count()).toBe(1)
      const text = (await notice.textContent())!
      expect(text).toContain("Your settings were restored from a backup")
      expect(text).toContain("preferences.json.bak.1")
      const status =
        (await table[IpcContract.IpcChannel.status]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, {}) as any).value
      expect(status.notices).toHaveLength(1)
      expect(text).toContain(status.notices[0].quarantinedAs)
      // The operation succeeded: the list is there, and no error is shown.
      await expect.poll(() => page.getByRole("listitem").filter({ has: page.getByText("Alpha", { exact: true }) }).count()).toBe(1)
      expect(await page.locator("#locked-banner").isHidden()).toBe(true)
      expect((await page.locator("#list-error").textContent()) ?? "").toBe("")
      await checkState(page, "restored")

      await notice.getByRole("button", { name: "Show the damaged file" }).click()
      await expect.poll(() => shown.at(-1)).toBe(status.notices[0].quarantinedAs)
      // The restore's Notice event reloads the health panel, which would take the focus the next
      // step checks: it has arrived and been handled first.
      await expect.poll(() => restored.received.some((entry) => (entry as any)?.change?._tag === "Notice")).toBe(true)
      await restored.settled()
      await notice.getByRole("button", { name: "Choose another backup" }).click()
      await expect.poll(() => page.evaluate("document.activeElement.id")).toBe("health-backups-heading")
      await notice.getByRole("button", { name: "Keep the restored settings" }).click()
      await expect.poll(() => page.locator("[data-notice]").count()).toBe(0)
      await expect.poll(async () =>
        ((await table[IpcContract.IpcChannel.status]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, {})) as any).value.notices
      ).toEqual([])

      // Backups hold only states with no half-done change (Restore): the restored copy brings back
      // none (Beta's create had begun when the copy before it was made), and a backup can be
      // restored at once.
      const body = page.locator("#health-body")
      expect(
        ((await table[IpcContract.IpcChannel.status]({ frameUrl: `${RendererHarness.RENDERER_ROOT}index.html` }, {})) as any).value
          .pendingIntents
      ).toBe(0)
      expect(await body.getByRole("button", { name: "Finish interrupted changes" }).count()).toBe(0)
      const backup = body.locator("[data-backup]").first()
      await backup.waitFor()
      expect(await backup.textContent()).toMatch(/provider/)
      const name = (await backup.getAttribute("data-backup"))!
      await backup.getByRole("button", { name: /^Restore this backup, saved/ }).click()
      await body.locator(`[data-backup="${name}"]`).getByRole("button", { name: "Restore", exact: true }).click()
      await expect.poll(() => announced(page)).toContainEqual(announcement("Backup restored"))
      expect(await page.locator("#health-error").count()).toBe(0)
    } finally {
      await restoredRuntime.dispose()
    }
  })

  describe("test connection and plain http (fake OpenAI-compatible server on 127.0.0.1)", () => {
    /**
     * Answers like an OpenAI-compatible server: `GET {base}/models` (HttpProviderCheck via
     * ProviderCheck.checkEndpointFor: OpenAI-compatible is `{base}/models` with `Authorization:
     * Bearer <key>`) lists two models for the accepted key and refuses any other with 401.
     */
    let server: http.Server
    let base: string
    let acceptedKey: string
    const requests: Array<string> = []
    beforeAll(async () => {
      acceptedKey = canary("check-ok")
      server = http.createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`)
        if (request.method !== "GET" || request.url !== "/v1/models") {
          response.writeHead(404, { "content-type": "application/json" }).end(`{"error":"no route"}`)
          return
        }
        if (request.headers.authorization !== `Bearer ${acceptedKey}`) {
          response.writeHead(401, { "content-type": "application/json" }).end(`{"error":{"message":"Incorrect API key"}}`)
          return
        }
        response.writeHead(200, { "content-type": "application/json" }).end(`{"data":[{"id":"a"},{"id":"b"}]}`)
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
    })
    afterAll(() => new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve()))

    const addCompatible = async (name: string, baseUrl: string, apiKey: string) => {
      await settings.page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
      await addForm().getByLabel("Name", { exact: true }).fill(name)
      await addForm().getByLabel("Base URL").fill(baseUrl)
      await addForm().getByLabel("API key", { exact: true }).fill(apiKey)
      await addForm().getByRole("button", { name: "Add provider" }).click()
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
    /** Every file of the data folder with its bytes, to prove a draft check wrote nothing. */
    const dataFiles = async () => {
      const dir = path.join(tempDir, "data")
      const names = (await fs.readdir(dir, { recursive: true })).sort()
      const entries: Array<[string, string]> = []
      for (const name of names) {
        const full = path.join(dir, name)
        if ((await fs.stat(full)).isFile()) entries.push([name, (await fs.readFile(full)).toString("base64")])
      }
      return entries
    }

    it("a stored config: 'Test connection' is busy while it runs, then says '2 models' next to it and records the last test", async () => {
      const page = settings.page
      await addCompatible("Local", base, acceptedKey)
      await expect.poll(() => row("Local").count()).toBe(1)
      await expect.poll(() => row("Local").textContent()).toContain("Not tested yet")
      const test = row("Local").getByRole("button", { name: "Test connection to Local" })
      // Busy state: hold the server's answer until the button has been seen disabled.
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => (release = resolve))
      const answer = server.listeners("request")[0] as http.RequestListener
      server.removeAllListeners("request")
      server.on("request", (request, response) => void held.then(() => answer(request, response)))
      try {
        await test.click()
        const busy = row("Local").getByRole("button", { name: "Test connection to Local" })
        await expect.poll(() => busy.isDisabled()).toBe(true)
        await expect.poll(() => busy.getAttribute("aria-busy")).toBe("true")
        await expect.poll(() => row("Local").getByRole("button", { name: "Edit Local" }).isDisabled()).toBe(true)
        await expect.poll(() => row("Local").textContent()).toContain("this can take up to 10 seconds")
        await checkState(page, "check-busy")
      } finally {
        release()
        server.removeAllListeners("request")
        server.on("request", answer)
      }

      await expect.poll(() => row("Local").locator(".check-result").textContent()).toContain("2 models")
      const result = await row("Local").locator(".check-result").textContent()
      expect(result).toMatch(/^Last test, .+: Connected: the key works \(2 models available\)$/)
      await expect.poll(() => row("Local").getByRole("button", { name: "Test connection to Local" }).isDisabled()).toBe(false)
      await expect.poll(async () =>
        ((await configNamed("Local")) as unknown as { lastCheck?: { outcome: { _tag: string; models: number } } }).lastCheck?.outcome
      )
        .toMatchObject({ _tag: "Ok", models: 2 })
      expect(requests.at(-1)).toBe("GET /v1/models")
      await expect.poll(() => announced(page)).toContainEqual(announcement(/Local: Connected/))
      await checkState(page, "check-ok")
    })

    it("a refused key (401): says the provider refused it, with the next step, and records it", async () => {
      const page = settings.page
      await addCompatible("Local refused", base, canary("check-refused"))
      await expect.poll(() => row("Local refused").count()).toBe(1)
      await row("Local refused").getByRole("button", { name: "Test connection to Local refused" }).click()
      const line = row("Local refused").locator(".check-result")
      await expect.poll(() => line.textContent()).toContain("The provider refused the key (HTTP 401)")
      await expect.poll(() => line.getAttribute("class")).toContain("check-failed")
      // The other row keeps its own outcome.
      expect(await row("Local").locator(".check-result").textContent()).toContain("2 models")
      await expect.poll(async () =>
        ((await configNamed("Local refused")) as unknown as { lastCheck?: { outcome: { _tag: string; status: number } } }).lastCheck
          ?.outcome
      )
        .toMatchObject({ _tag: "Unauthorized", status: 401 })
      // A failed test is announced as a problem, not with the confirmation's check mark.
      await expect.poll(() => announced(page)).toContainEqual(announcement(/Local refused: The provider refused the key/, "problem"))
      await checkState(page, "check-refused")
    })

    it("the add form tests the typed values and key before saving, and persists nothing", async () => {
      const page = settings.page
      const draftKey = canary("check-draft")
      const listBefore = ((await call(IpcContract.IpcChannel.list)).value as Array<{ id: string }>).map((config) => config.id).sort()
      const keychainBefore = keychainItems(draftKey)
      const filesBefore = await dataFiles()
      const rowsBefore = await page.getByRole("listitem").filter({ has: page.locator(".config-summary") }).count()

      await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
      await addForm().getByLabel("Name", { exact: true }).fill("Draft")
      await addForm().getByLabel("Base URL").fill(base)
      const keyInput = addForm().getByLabel("API key", { exact: true })
      await keyInput.fill(draftKey)
      await addForm().getByRole("button", { name: "Test connection" }).click()
      const result = addForm().locator(".check-result")
      await expect.poll(() => result.textContent()).toContain("refused the key (HTTP 401)")
      await expect.poll(() => result.textContent()).toContain("Nothing was saved.")
      // The key is still there to add with (or to correct), and it was sent as typed.
      expect(await keyInput.inputValue()).toBe(draftKey)
      await checkState(page, "check-draft-refused")

      // Now with the accepted key.
      acceptedKey = draftKey
      await addForm().getByRole("button", { name: "Test connection" }).click()
      await expect.poll(() => result.textContent()).toContain("Connected: the key works (2 models available)")
      await checkState(page, "check-draft-ok")

      expect(((await call(IpcContract.IpcChannel.list)).value as Array<{ id: string }>).map((config) => config.id).sort()).toEqual(
        listBefore
      )
      expect(await row("Draft").count()).toBe(0)
      expect(await page.getByRole("listitem").filter({ has: page.locator(".config-summary") }).count()).toBe(rowsBefore)
      const keychainAfter = keychainItems(draftKey)
      expect(keychainAfter.paths).toEqual(keychainBefore.paths)
      expect(keychainAfter.holds).toBe(false)
      expect(await dataFiles()).toEqual(filesBefore)
      await keyInput.fill("")
      await addForm().getByLabel("Name", { exact: true }).fill("")
    })

    it("plain http to a private-network host: the consent checkbox appears only then; refused without it, stored with it", async () => {
      const page = settings.page
      const consent = () => addForm().getByRole("checkbox", { name: /Allow plain http to this private-network address/ })
      await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
      const baseInput = addForm().getByLabel("Base URL")
      await baseInput.fill(base)
      await expect.poll(() => consent().isVisible()).toBe(false)
      await baseInput.fill("https://llm.example.com/v1")
      await expect.poll(() => consent().isVisible()).toBe(false)
      await baseInput.fill("http://192.168.1.50:8080/v1")
      await expect.poll(() => consent().isVisible()).toBe(true)
      expect(await consent().isChecked()).toBe(false)

      await addForm().getByLabel("Name", { exact: true }).fill("LAN box")
      // Testing before consent: main refuses it by the same rule as saving; the key goes nowhere.
      const lanKey = canary("lan-refused")
      await addForm().getByLabel("API key", { exact: true }).fill(lanKey)
      const requestsBefore = requests.length
      const receivedBefore = settings.received.length
      await addForm().getByRole("button", { name: "Test connection" }).click()
      await expect.poll(() => page.locator("#add-baseUrl-error").textContent()).toContain("unencrypted")
      await expect.poll(() => baseInput.getAttribute("aria-invalid")).toBe("true")
      // Main refused it (the page's answer says InvalidInput) and no request reached the server.
      expect(requests.length).toBe(requestsBefore)
      expect(settings.received.slice(receivedBefore).some((entry) => JSON.stringify(entry).includes("InvalidInput"))).toBe(true)
      expect(await addForm().getByLabel("API key", { exact: true }).inputValue()).toBe(lanKey)
      await addForm().getByRole("button", { name: "Add provider" }).click()
      // The field was already marked by the test above: wait for the add's own answer first.
      await settings.settled()
      await expect.poll(() => baseInput.getAttribute("aria-invalid")).toBe("true")
      expect(await page.locator("#add-baseUrl-error").textContent()).toContain("unencrypted")
      expect(await configNamed("LAN box")).toBeUndefined()
      await checkState(page, "insecure-refused")

      const key = canary("lan-accepted")
      await consent().check()
      await addForm().getByLabel("API key", { exact: true }).fill(key)
      await addForm().getByRole("button", { name: "Add provider" }).click()
      await expect.poll(() => row("LAN box").count()).toBe(1)
      await expect.poll(() => row("LAN box").textContent()).toContain("Plain http allowed to this private-network address")
      expect(await row("Local").textContent()).not.toContain("Plain http allowed")
      const stored = (await configNamed("LAN box")) as unknown as { id: string; allowInsecureHttp?: boolean }
      expect(stored.allowInsecureHttp).toBe(true)
      expect(await storedKey(stored.id)).toBe(key)

      // The edit form starts from the stored consent; withdrawing it is refused while the key is there.
      await row("LAN box").getByRole("button", { name: "Edit LAN box" }).click()
      const form = page.getByRole("form", { name: "Edit LAN box" })
      const editConsent = form.getByRole("checkbox", { name: /Allow plain http/ })
      await expect.poll(() => editConsent.isChecked()).toBe(true)
      await checkState(page, "insecure-edit")
      await editConsent.uncheck()
      await form.getByRole("button", { name: "Save changes" }).click()
      await expect.poll(() => form.locator(".field-error").allTextContents()).toContainEqual(expect.stringContaining("unencrypted"))
      expect(((await configNamed("LAN box")) as unknown as { allowInsecureHttp?: boolean }).allowInsecureHttp).toBe(true)
      await form.getByRole("button", { name: "Cancel" }).click()
      await checkState(page, "insecure-stored")
    })
  })

  it("no key ever reached the page: not the DOM, input values, responses, change events or console", async () => {
    expect(canaries.length).toBeGreaterThanOrEqual(4)
    for (const { console: consoleLines, page, received, refusedRequests } of pages) {
      const dom = await page.content()
      const values = await page.locator("input").evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value))
      const texts = [dom, JSON.stringify(values), JSON.stringify(received), consoleLines.join("\n")]
      for (const key of canaries) {
        for (const text of texts) expect(text.includes(key)).toBe(false)
        // not even a recognisable part of it
        for (const text of texts) expect(text.includes(key.slice(-12))).toBe(false)
      }
      expect(received.length).toBeGreaterThan(0)
      expect(consoleLines.filter((line) => /^(error|pageerror)/.test(line))).toEqual([])
      expect(refusedRequests).toEqual([])
    }
    // change events were delivered to the page too
    expect(settings.received.some((entry) => (entry as { channel?: string }).channel === IpcContract.IpcChannel.changed)).toBe(true)
  })
})
