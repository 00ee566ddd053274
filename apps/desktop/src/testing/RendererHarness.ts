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
import type { ManagedRuntime } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import * as IpcHandlers from "../main/IpcHandlers.ts"
import * as ContentSecurityPolicy from "../renderer/ContentSecurityPolicy.ts"

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
  /**
   * Resolves once the page has nothing in flight: every change event and late outcome handed to
   * it has been delivered, and every call it made through the bridge has been answered (and the
   * synchronous work after the answer, such as re-rendering the list, is done). Timers the page
   * sets (an announcement's 6 s display, a retry's pause) are not waited for. Use it before steps
   * that depend on focus: a refresh after a change re-renders the list and moves focus to the body.
   */
  readonly settled: () => Promise<void>
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
const bridgeShimSource = (channels: Readonly<Record<string, string>>) =>
  `(() => {
  const channels = ${JSON.stringify(channels)};
  const listeners = new Set();
  const invoke = window.__fishbowlInvoke;
  const llmConfigs = {};
  let pending = 0;
  const answered = () => { pending--; };
  for (const [method, channel] of Object.entries(channels)) {
    llmConfigs[method] = (request) => {
      pending++;
      const answer = invoke(channel, request ?? {});
      answer.then(answered, answered); // registered first: runs before the caller's continuation
      return answer;
    };
  }
  Object.defineProperty(window, "__fishbowlPending", { value: () => pending });
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

/**
 * How long any single wait on the page may take before it counts as a hang. Far above the work
 * (milliseconds on a quiet machine, seconds on a loaded one): a wait ends when its element or
 * state appears, so this bound only decides how long a broken page takes to fail.
 */
export const HANG_MILLIS = 60_000

export const startRendererHarness = async (rendererDir: string): Promise<RendererHarness> => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: HANG_MILLIS })
  const contexts = new Set<BrowserContext>()

  const openSettings: RendererHarness["openSettings"] = async (handlers, runtime, options) => {
    const context = await browser.newContext({ viewport: { width: 960, height: 1280 }, deviceScaleFactor: 1, colorScheme: "light" })
    contexts.add(context)
    // Every Playwright wait (actions, waitFor, navigation) ends as soon as its element or state is
    // there; the default bound only catches hangs, so a loaded machine never fails a test.
    context.setDefaultTimeout(HANG_MILLIS)
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

    /** Deliveries into the page: started ever, and not yet finished. */
    let deliveriesStarted = 0
    let deliveriesInFlight = 0
    const deliver = (source: string) => {
      deliveriesStarted++
      deliveriesInFlight++
      page.evaluate(source).catch(() => {}).finally(() => deliveriesInFlight--)
    }

    const stopForwarding = IpcHandlers.forwardChanges(runtime, (change: typeof LlmConfigStore.LlmConfigChange.Encoded) => {
      received.push({ channel: IpcContract.IpcChannel.changed, change })
      deliver(deliverChangeSource(change))
    })

    const stopLate = options?.lateOutcomes?.subscribe((outcome) => {
      received.push({ channel: IpcContract.IpcChannel.settled, outcome })
      deliver(`window.__fishbowlSettled?.(${JSON.stringify(outcome)})`)
    })

    const settled = async () => {
      const deadline = Date.now() + HANG_MILLIS
      for (;;) {
        // A delivery that started while the page was asked could have begun a call after the
        // page answered: only a round with no delivery started or in flight counts.
        const started = deliveriesStarted
        const idle = deliveriesInFlight === 0 && (await page.evaluate("window.__fishbowlPending()")) === 0
        if (idle && deliveriesInFlight === 0 && deliveriesStarted === started) return
        if (Date.now() > deadline) throw new Error(`the settings page still had calls or deliveries in flight after ${HANG_MILLIS} ms`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }

    await page.goto(`${RENDERER_ROOT}index.html`)
    await page.locator("#app:not([aria-busy])").waitFor().catch((error: Error) => {
      throw new Error(`the settings page did not finish loading: ${error.message}\npage console:\n${consoleLines.join("\n")}`)
    })

    return {
      page,
      received,
      console: consoleLines,
      refusedRequests,
      settled,
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
