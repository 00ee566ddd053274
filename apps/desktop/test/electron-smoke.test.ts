/**
 * The real Electron app, end to end: main builds the runtime, the sandboxed preload exposes the
 * bridge, the page lists and adds a configuration. Needs Electron's binary, which this machine
 * cannot download (installs use ELECTRON_SKIP_BINARY_DOWNLOAD=1), so it reports itself skipped
 * with the reason instead of passing vacuously.
 */
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { _electron } from "playwright-core"
import { describe, expect, it } from "vitest"
import { build } from "../scripts/build.mjs"

/** `require("electron")` is the binary's path, or throws when the binary was never downloaded. */
const electronBinary = ((): string | undefined => {
  try {
    const binary: unknown = createRequire(import.meta.url)("electron")
    return typeof binary === "string" && existsSync(binary) ? binary : undefined
  } catch {
    return undefined
  }
})()
const hasElectron = electronBinary !== undefined

describe("electron app", () => {
  it.skipIf(!hasElectron)(
    hasElectron
      ? "electron smoke: the locked-down window lists and adds configurations through the preload"
      : "electron smoke (skipped: no Electron binary; install without ELECTRON_SKIP_BINARY_DOWNLOAD)",
    async () => {
      const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-electron-"))
      const outDir = await build({ outDir: path.join(tempDir, "dist") })
      const runningAsRoot = process.getuid?.() === 0
      const app = await _electron.launch({
        executablePath: electronBinary!,
        args: [...(runningAsRoot ? ["--no-sandbox"] : []), outDir],
        env: { ...process.env, FISHBOWL_DATA_DIR: path.join(tempDir, "data"), FISHBOWL_SECRET_BACKEND: "session" } as Record<
          string,
          string
        >,
        timeout: 60_000
      })
      // Every wait below ends when its element appears: the bound only catches a hang.
      app.context().setDefaultTimeout(60_000)
      try {
        const window = await app.firstWindow({ timeout: 60_000 })
        await window.getByRole("heading", { name: "LLM providers" }).waitFor()
        // No Node in the page; the bridge is the only way out.
        expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe("undefined")
        expect(await window.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe("undefined")
        const listed = await window.evaluate(() => (window as any).fishbowl.llmConfigs.list())
        expect(listed).toEqual({ ok: true, value: [] })
        await window.locator("#status-banner[data-tier=session]").waitFor()

        const form = window.getByRole("form", { name: /^Add / })
        await form.getByLabel("Name", { exact: true }).fill("Smoke")
        await form.getByLabel("API key", { exact: true }).fill("sk-smoke-test-key")
        await form.getByRole("button", { name: "Add provider" }).click()
        await window.getByRole("listitem").filter({ hasText: "Smoke" }).getByText("Key stored").waitFor()
        expect(await window.content()).not.toContain("sk-smoke-test-key")
      } finally {
        await app.close()
        await fs.rm(tempDir, { recursive: true, force: true })
      }
    }
  )
})
