/**
 * Accessibility in the real browser: axe-core (pinned in apps/desktop/package.json) evaluated in
 * the page, and its results written beside the state's screenshot in apps/desktop/test-output/.
 * Injected with `page.evaluate` (DevTools protocol), not a <script> tag, so the page's CSP
 * (script-src 'self') stays exactly as the app sends it.
 */
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Page } from "playwright-core"

export const OUTPUT_DIR = fileURLToPath(new URL("../../test-output/", import.meta.url))

const axeSource = fs.readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

export interface AxeSummary {
  readonly state: string
  readonly url: string
  readonly violations: ReadonlyArray<
    { readonly id: string; readonly impact: string | null; readonly help: string; readonly nodes: ReadonlyArray<string> }
  >
  readonly passes: number
  readonly incomplete: ReadonlyArray<string>
  readonly rulesRun: number
}

/** Screenshots `state` (settings-<state>.png), runs axe on it and writes settings-<state>.axe.json. */
export const captureState = async (page: Page, state: string, options?: { readonly fullPage?: boolean }): Promise<AxeSummary> => {
  await fs.mkdir(OUTPUT_DIR, { recursive: true })
  await page.screenshot({ path: path.join(OUTPUT_DIR, `settings-${state}.png`), fullPage: options?.fullPage ?? true })
  const injected = await page.evaluate(`typeof window.axe === "object"`)
  if (injected !== true) await page.evaluate(`${await axeSource};\ntrue`)
  const raw = await page.evaluate(`axe.run(document, { resultTypes: ["violations", "incomplete"] }).then((r) => JSON.stringify({
    violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary) })),
    passes: r.passes.length,
    incomplete: r.incomplete.map((v) => v.id),
    rulesRun: r.passes.length + r.violations.length + r.incomplete.length + r.inapplicable.length
  }))`) as string
  const summary: AxeSummary = { state, url: page.url(), ...(JSON.parse(raw) as Omit<AxeSummary, "state" | "url">) }
  await fs.writeFile(path.join(OUTPUT_DIR, `settings-${state}.axe.json`), `${JSON.stringify(summary, null, 2)}\n`)
  return summary
}
