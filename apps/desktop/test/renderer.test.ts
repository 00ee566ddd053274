/**
 * The settings page, built, in Chromium, over the real handler table, the real DesktopLayer and a
 * real Secret Service (private gnome-keyring). Scenarios run in order on one page, like a user
 * would; the last test proves no key ever reached the page, its DOM or its console.
 */
import { DesktopLayer } from "@fishbowl/desktop-layer"
import { IpcChannel, LlmConfigStore } from "@fishbowl/domain"
import { makeCanaryKey } from "@fishbowl/domain/testing"
import { ManagedRuntime, Redacted } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Locator } from "playwright-core"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { childEnv, INSTALL_HINT, type SecretServiceHandle, startSecretService } from "../../../packages/desktop-layer/test-support/SecretServiceHarness.ts"
import { buildRenderer } from "../scripts/build.mjs"
import { type IpcHandlerTable, makeIpcHandlers } from "../src/main/IpcHandlers.ts"
import { bundledOriginPolicy } from "../src/main/SenderPolicy.ts"
import { CONTENT_SECURITY_POLICY } from "../src/renderer/contentSecurityPolicy.ts"
import { RENDERER_ROOT, type RendererHarness, type SettingsPage, startRendererHarness } from "./support/RendererHarness.ts"

const screenshotPath = fileURLToPath(new URL("../test-output/settings.png", import.meta.url))

type Runtime = ReturnType<typeof makeRuntime>
const makeRuntime = (dataDir: string, backend: "keychain" | "session", env?: Record<string, string>) =>
  ManagedRuntime.make(
    DesktopLayer.layer({ dataDir, secretBackend: backend, ...(env !== undefined ? { keytar: { workerEnv: env } } : {}) })
  )

let secretService: SecretServiceHandle
let tempDir: string
let harness: RendererHarness
let runtime: Runtime
let handlers: IpcHandlerTable
let settings: SettingsPage
const pages: Array<SettingsPage> = []
const canaries: Array<string> = []
const canary = (label: string) => {
  const key = makeCanaryKey(label)
  canaries.push(key)
  return key
}

/** A call as the bundled page would make it, for checking outcomes behind the UI's back. */
const call = async (channel: keyof IpcHandlerTable, payload: unknown = {}) =>
  (await handlers[channel]({ frameUrl: `${RENDERER_ROOT}index.html` }, payload)) as any
const storedKey = (id: string) =>
  runtime.runPromise(LlmConfigStore.use((store) => store.getApiKey(id as never))).then(Redacted.value)
const configNamed = async (name: string) =>
  ((await call(IpcChannel.list)).value as Array<{ id: string; name: string; hasKey: boolean; baseUrl?: string }>)
    .find((config) => config.name === name)

const row = (name: string): Locator =>
  settings.page.getByRole("listitem").filter({ has: settings.page.getByText(name, { exact: true }) })
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
    secretService = await startSecretService()
  } catch (error) {
    throw new Error(`A real Secret Service is required for the renderer test and could not start: ${(error as Error).message}\n${INSTALL_HINT}`)
  }
  await fs.mkdir(path.dirname(screenshotPath), { recursive: true })
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-renderer-"))
  const rendererDir = await buildRenderer(path.join(tempDir, "dist"))
  runtime = makeRuntime(path.join(tempDir, "data"), "keychain", childEnv(secretService.env))
  handlers = makeIpcHandlers(runtime, { senderPolicy: bundledOriginPolicy(RENDERER_ROOT) })
  harness = await startRendererHarness(rendererDir)
  settings = await harness.openSettings(handlers, runtime)
  pages.push(settings)
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
    expect(`${meta}; frame-ancestors 'none'`).toBe(CONTENT_SECURITY_POLICY)
    // OpenAI is first: key (masked, with a toggle) and base URL; no auth-header checkbox.
    const key = addForm().getByLabel("API key", { exact: true })
    expect(await key.getAttribute("type")).toBe("password")
    await expect.poll(() => addForm().getByLabel("Base URL").count()).toBe(1)
    expect(await addForm().getByRole("checkbox").count()).toBe(0)
    // OpenAI-compatible has the checkbox; Ollama has no key at all.
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI-compatible" })
    expect(await addForm().getByRole("checkbox", { name: /Authorization header/ }).isChecked()).toBe(true)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "Ollama (local)" })
    expect(await addForm().getByLabel("API key", { exact: true }).count()).toBe(0)
    await page.getByLabel("Provider", { exact: true }).selectOption({ label: "OpenAI" })
  })

  it("adds a config: listed with 'Key stored', key field emptied, key in the keychain", async () => {
    const page = settings.page
    const key = canary("add")
    const keyInput = addForm().getByLabel("API key", { exact: true })
    await keyInput.fill(key)
    await addForm().getByRole("button", { name: "Show API key" }).click()
    expect(await keyInput.getAttribute("type")).toBe("text")
    await addForm().getByRole("button", { name: "Hide API key" }).click()
    expect(await keyInput.getAttribute("type")).toBe("password")
    await addForm().getByLabel("Name", { exact: true }).fill("Work")
    await addForm().getByRole("button", { name: "Add provider" }).click()

    await expect.poll(() => row("Work").count()).toBe(1)
    expect(await row("Work").textContent()).toContain("Key stored")
    expect(await row("Work").textContent()).toContain("OpenAI")
    expect(await addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
    expect(await addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("")
    const stored = await configNamed("Work")
    expect(stored?.hasKey).toBe(true)
    expect(await storedKey(stored!.id)).toBe(key)
    expect(await page.getByRole("status").first().textContent()).toContain("OS keychain")
  })

  it("edits the name", async () => {
    await row("Work").getByRole("button", { name: "Edit Work" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work" })
    await form.getByLabel("Name", { exact: true }).fill("Work (renamed)")
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => row("Work (renamed)").count()).toBe(1)
    expect(await row("Work").count()).toBe(0)
    expect((await configNamed("Work (renamed)"))?.hasKey).toBe(true)
  })

  it("replaces the key behind 'Replace key'; the new key is what the store returns", async () => {
    const key = canary("replace")
    const id = (await configNamed("Work (renamed)"))!.id
    await row("Work (renamed)").getByRole("button", { name: "Edit Work (renamed)" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work (renamed)" })
    expect(await form.getByLabel("New API key", { exact: true }).isVisible()).toBe(false)
    await form.getByRole("button", { name: "Replace key" }).click()
    await form.getByLabel("New API key", { exact: true }).fill(key)
    await form.getByRole("button", { name: "Save changes" }).click()
    await expect.poll(() => settings.page.getByRole("form", { name: "Edit Work (renamed)" }).count()).toBe(0)
    expect(await row("Work (renamed)").textContent()).toContain("Key stored")
    expect(await storedKey(id)).toBe(key)
  })

  it("changing the base URL without the key shows the error at the key field and changes nothing", async () => {
    const before = (await configNamed("Work (renamed)"))!
    await row("Work (renamed)").getByRole("button", { name: "Edit Work (renamed)" }).click()
    const form = settings.page.getByRole("form", { name: "Edit Work (renamed)" })
    await form.getByLabel("Base URL").fill("https://proxy.example.com/v1")
    await form.getByRole("button", { name: "Save changes" }).click()
    const keyInput = form.getByLabel("New API key", { exact: true })
    await expect.poll(() => keyInput.getAttribute("aria-invalid")).toBe("true")
    expect(await keyInput.isVisible()).toBe(true)
    const errorId = (await keyInput.getAttribute("aria-describedby"))!.split(" ").find((id) => id.endsWith("-error"))!
    const error = settings.page.locator(`#${errorId}`)
    expect(await error.textContent()).toContain("Changing the base URL requires entering the API key again")
    expect(await error.textContent()).toContain("Re-enter the key")
    expect(await form.locator(".form-error").textContent()).toBe("")
    await settings.page.screenshot({ path: screenshotPath.replace(/\.png$/, "-key-required.png"), fullPage: true })
    await form.getByRole("button", { name: "Cancel" }).click()
    const after = (await configNamed("Work (renamed)"))!
    expect(after.baseUrl).toBe(before.baseUrl)
    expect(await storedKey(after.id)).toBe(canaries.at(-1))
  })

  it("shows other typed errors next to their field (empty name)", async () => {
    await addConfig({ name: "   ", apiKey: canary("invalid") })
    const nameInput = addForm().getByLabel("Name", { exact: true })
    await expect.poll(() => nameInput.getAttribute("aria-invalid")).toBe("true")
    expect(await settings.page.locator("#add-name-error").textContent()).toMatch(/name must not be empty/)
    expect(await addForm().getByLabel("API key", { exact: true }).inputValue()).toBe("")
  })

  it("deletes only after an in-page confirmation", async () => {
    await addConfig({ provider: "Ollama (local)", name: "Scratch" })
    await expect.poll(() => row("Scratch").count()).toBe(1)
    expect(await row("Scratch").textContent()).toContain("No key")
    await row("Scratch").getByRole("button", { name: "Delete Scratch" }).click()
    const confirm = settings.page.getByRole("group", { name: "Confirm deleting Scratch" })
    expect(await confirm.isVisible()).toBe(true)
    expect(await configNamed("Scratch")).toBeDefined()
    await confirm.getByRole("button", { name: "Cancel" }).click()
    expect(await row("Scratch").getByRole("button", { name: "Delete Scratch" }).isVisible()).toBe(true)
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
    await page.screenshot({ path: screenshotPath.replace(/\.png$/, "-locked.png"), fullPage: true })

    await secretService.unlock()
    await banner.getByRole("button", { name: "Unlock keychain" }).click()
    await expect.poll(() => page.locator("#locked-banner").isHidden()).toBe(true)

    // What a user does: the name is still in the field; type the key again and add.
    const secondTry = canary("unlocked")
    expect(await addForm().getByLabel("Name", { exact: true }).inputValue()).toBe("Personal")
    await addForm().getByLabel("API key", { exact: true }).fill(secondTry)
    await addForm().getByRole("button", { name: "Add provider" }).click()
    await expect.poll(() => row("Personal").count()).toBe(1)
    expect(await row("Personal").textContent()).toContain("Key stored")
    expect(await storedKey((await configNamed("Personal"))!.id)).toBe(secondTry)
    expect((await call(IpcChannel.status)).value.pendingIntents).toBe(0)
    await page.screenshot({ path: screenshotPath, fullPage: true })
  })

  it("the session tier shows its warning and the fix", async () => {
    const sessionRuntime = makeRuntime(path.join(tempDir, "session-data"), "session")
    try {
      const sessionHandlers = makeIpcHandlers(sessionRuntime, { senderPolicy: bundledOriginPolicy(RENDERER_ROOT) })
      const sessionPage = await harness.openSettings(sessionHandlers, sessionRuntime)
      pages.push(sessionPage)
      const status = (await sessionHandlers[IpcChannel.status]({ frameUrl: `${RENDERER_ROOT}index.html` }, {})) as any
      const warning: string = status.value.secretStore.warning
      expect(warning).toMatch(/Keys are not saved/)
      const banner = sessionPage.page.locator("#status-banner")
      await expect.poll(() => banner.textContent()).toContain(warning)
      expect(await banner.getAttribute("data-tier")).toBe("session")
      expect(await banner.textContent()).toContain("Session only")
      expect((await banner.textContent())!.split(warning).length - 1).toBe(1)
      await sessionPage.page.screenshot({ path: screenshotPath.replace(/\.png$/, "-session.png") })
    } finally {
      await sessionRuntime.dispose()
    }
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
    expect(settings.received.some((entry) => (entry as { channel?: string }).channel === IpcChannel.changed)).toBe(true)
  })
})
