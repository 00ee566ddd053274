/**
 * Drives the BUILT renderer in Debian's Chromium against the REAL main-process handler table.
 *
 * The bundle is served from a fake origin (`http://fishbowl.invalid/renderer/`) by request
 * interception, with the same CSP the app sends; every other request is refused and recorded.
 * `window.fishbowl.llmConfigs` is a shim with the preload's shape whose methods cross to this
 * process through `page.exposeBinding`, where they call the handler table with the calling
 * frame's URL as the sender, exactly as `ipcMain.handle` would. Change events from
 * `forwardChanges` are pushed into the page. Everything the page receives is recorded, so tests
 * can prove that no key material ever reached it.
 */
import { type HealthContract, IpcContract, type LlmConfigStore } from "@fishbowl/domain"
import * as IpcHandlers from "../main/IpcHandlers.ts"
import * as ContentSecurityPolicy from "../renderer/ContentSecurityPolicy.ts"
import type { ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"

export const RENDERER_ORIGIN = "http://fishbowl.invalid"
export const RENDERER_ROOT = `${RENDERER_ORIGIN}/renderer/`

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic"
]

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8"
}

export interface SettingsPage {
  readonly page: Page
  /** Every value handed to the page: handler results and change events. */
  readonly received: Array<unknown>
  /** Every console message, as text. */
  readonly console: Array<string>
  /** Requests the page made that are not part of the bundle (refused). */
  readonly refusedRequests: Array<string>
  readonly close: () => Promise<void>
}

/**
 * Late outcomes (main/LateOutcomes.ts) from a handler table to the pages opened over it: pass
 * `onLateOutcome` to IpcHandlers.make and the hub to openSettings, as main broadcasts them.
 */
export const makeLateOutcomeHub = () => {
  const listeners = new Set<(outcome: HealthContract.LateOutcome) => void>()
  return {
    onLateOutcome: (outcome: HealthContract.LateOutcome) => {
      for (const listener of listeners) listener(outcome)
    },
    subscribe: (listener: (outcome: HealthContract.LateOutcome) => void) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}
export type LateOutcomeHub = ReturnType<typeof makeLateOutcomeHub>

export interface RendererHarness {
  readonly browser: Browser
  /** Opens the settings page over `handlers` (built on `runtime`, whose changes are forwarded). */
  readonly openSettings: (
    handlers: IpcHandlers.IpcHandlerTable,
    runtime: ManagedRuntime.ManagedRuntime<IpcHandlers.MainServices, unknown>,
    options?: { readonly lateOutcomes?: LateOutcomeHub }
  ) => Promise<SettingsPage>
  readonly close: () => Promise<void>
}

/**
 * The preload's API, rebuilt in the page on top of the binding. A source string, not a function:
 * a transpiled function would carry the test transpiler's helpers (`__name`) into the page.
 */
const bridgeShimSource = (channels: Readonly<Record<string, string>>) => `(() => {
  const channels = ${JSON.stringify(channels)};
  const listeners = new Set();
  const invoke = window.__fishbowlInvoke;
  const llmConfigs = {};
  for (const [method, channel] of Object.entries(channels)) {
    llmConfigs[method] = (request) => invoke(channel, request ?? {});
  }
  llmConfigs.onChanged = (listener) => {
    listeners.add(listener);
    return () => { listeners.delete(listener); };
  };
  const settledListeners = new Set();
  llmConfigs.onSettled = (listener) => {
    settledListeners.add(listener);
    return () => { settledListeners.delete(listener); };
  };
  Object.defineProperty(window, "__fishbowlSettled", {
    value: (outcome) => { for (const listener of settledListeners) listener(outcome); }
  });
  Object.defineProperty(window, "fishbowl", { value: Object.freeze({ llmConfigs: Object.freeze(llmConfigs) }) });
  Object.defineProperty(window, "__fishbowlChanged", {
    value: (change) => { for (const listener of listeners) listener(change); }
  });
})();`

/** Delivers one change event to the page's onChanged listeners. */
const deliverChangeSource = (change: unknown) => `window.__fishbowlChanged?.(${JSON.stringify(change)})`

export const startRendererHarness = async (rendererDir: string): Promise<RendererHarness> => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS })
  const contexts = new Set<BrowserContext>()

  const openSettings: RendererHarness["openSettings"] = async (handlers, runtime, options) => {
    const context = await browser.newContext({ viewport: { width: 960, height: 1280 }, deviceScaleFactor: 1, colorScheme: "light" })
    contexts.add(context)
    // The page answers in milliseconds; a missing element should fail fast, not after 30 s.
    context.setDefaultTimeout(5_000)
    const received: Array<unknown> = []
    const consoleLines: Array<string> = []
    const refusedRequests: Array<string> = []

    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url())
      const relative = url.origin === RENDERER_ORIGIN && url.pathname.startsWith("/renderer/")
        ? url.pathname.slice("/renderer/".length)
        : undefined
      const file = relative !== undefined && /^[\w.-]+$/.test(relative) ? path.join(rendererDir, relative) : undefined
      const body = file !== undefined ? await fs.readFile(file).catch(() => undefined) : undefined
      if (file === undefined || body === undefined) {
        refusedRequests.push(route.request().url())
        return route.fulfill({ status: 404, body: "" })
      }
      return route.fulfill({
        status: 200,
        body,
        headers: {
          "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream",
          "content-security-policy": ContentSecurityPolicy.CONTENT_SECURITY_POLICY
        }
      })
    })

    await context.exposeBinding("__fishbowlInvoke", async (source, channel: unknown, payload: unknown) => {
      const handler = typeof channel === "string" && Object.hasOwn(handlers, channel)
        ? handlers[channel as IpcContract.InvokeChannel]
        : undefined
      if (handler === undefined) throw new Error("unknown channel")
      const result = await handler({ frameUrl: source.frame.url() }, payload)
      received.push(result)
      return result
    })
    await context.addInitScript({ content: bridgeShimSource(IpcContract.bridgeChannels) })

    const page = await context.newPage()
    page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`))
    page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`))

    const stopForwarding = IpcHandlers.forwardChanges(runtime, (change: typeof LlmConfigStore.LlmConfigChange.Encoded) => {
      received.push({ channel: IpcContract.IpcChannel.changed, change })
      page.evaluate(deliverChangeSource(change)).catch(() => {})
    })

    const stopLate = options?.lateOutcomes?.subscribe((outcome) => {
      received.push({ channel: IpcContract.IpcChannel.settled, outcome })
      page.evaluate(`window.__fishbowlSettled?.(${JSON.stringify(outcome)})`).catch(() => {})
    })

    await page.goto(`${RENDERER_ROOT}index.html`)
    await page.locator("#app:not([aria-busy])").waitFor().catch((error: Error) => {
      throw new Error(`the settings page did not finish loading: ${error.message}\npage console:\n${consoleLines.join("\n")}`)
    })

    return {
      page,
      received,
      console: consoleLines,
      refusedRequests,
      close: async () => {
        stopForwarding()
        stopLate?.()
        contexts.delete(context)
        await context.close()
      }
    }
  }

  return {
    browser,
    openSettings,
    close: async () => {
      for (const context of contexts) await context.close().catch(() => {})
      await browser.close()
    }
  }
}
