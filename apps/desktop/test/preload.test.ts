/**
 * The BUILT preload bundle, run against a stand-in for `electron`: it exposes exactly one method
 * per IpcContract route (plus the two event subscriptions), only functions, and each method
 * invokes its own route's channel and nothing else. The methods are built from a table derived
 * from IpcRoutes at build time, so this is where a drift between the two would show.
 */
import { IpcContract } from "@fishbowl/domain"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as vm from "node:vm"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildPreload } from "../scripts/build.mjs"

interface Loaded {
  readonly exposed: Map<string, unknown>
  readonly invoked: Array<{ readonly channel: string; readonly payload: unknown }>
  readonly listeners: Map<string, Set<(...args: Array<unknown>) => void>>
}

let tempDir: string
let source: string

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-preload-"))
  await buildPreload(tempDir)
  source = await fs.readFile(path.join(tempDir, "preload/preload.cjs"), "utf8")
})
afterAll(() => fs.rm(tempDir, { recursive: true, force: true }))

/** Runs the bundle as Electron would, with `require("electron")` as the only module there is. */
const load = (): Loaded => {
  const exposed = new Map<string, unknown>()
  const invoked: Array<{ channel: string; payload: unknown }> = []
  const listeners = new Map<string, Set<(...args: Array<unknown>) => void>>()
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: (channel: string, ...args: Array<unknown>) => {
        expect(args).toHaveLength(1)
        invoked.push({ channel, payload: args[0] })
        return Promise.resolve({ ok: true, value: channel })
      },
      on: (channel: string, listener: (...args: Array<unknown>) => void) => {
        listeners.set(channel, (listeners.get(channel) ?? new Set()).add(listener))
      },
      removeListener: (channel: string, listener: (...args: Array<unknown>) => void) => {
        listeners.get(channel)?.delete(listener)
      }
    }
  }
  const require = (name: string) => {
    if (name !== "electron") throw new Error(`the preload required ${name}`)
    return electron
  }
  const module = { exports: {} }
  vm.runInNewContext(source, { require, module, exports: module.exports })
  return { exposed, invoked, listeners }
}

describe("preload", () => {
  it("gives every route its own method name", () => {
    const methods = Object.values(IpcContract.IpcRoutes).map((route) => route.method)
    expect(new Set(methods).size).toBe(methods.length)
    expect(Object.keys(IpcContract.bridgeChannels).sort()).toEqual([...methods].sort())
  })

  it("exposes only `fishbowl.llmConfigs`: one function per route and the two subscriptions", () => {
    const { exposed } = load()
    expect([...exposed.keys()]).toEqual(["fishbowl"])
    const fishbowl = exposed.get("fishbowl") as Record<string, unknown>
    expect(Object.keys(fishbowl)).toEqual(["llmConfigs"])
    const llmConfigs = fishbowl["llmConfigs"] as Record<string, unknown>
    const expected = [...Object.values(IpcContract.IpcRoutes).map((route) => route.method), "onChanged", "onSettled"]
    expect(Object.keys(llmConfigs).sort()).toEqual(expected.sort())
    for (const [name, value] of Object.entries(llmConfigs)) expect(typeof value, name).toBe("function")
  })

  it("has each method invoke exactly its own route's channel, passing the request as given", async () => {
    const { exposed, invoked } = load()
    const llmConfigs = (exposed.get("fishbowl") as { llmConfigs: Record<string, (request?: unknown) => Promise<unknown>> }).llmConfigs
    for (const [channel, route] of Object.entries(IpcContract.IpcRoutes)) {
      const request = { probe: channel }
      invoked.length = 0
      expect(await llmConfigs[route.method]!(request)).toEqual({ ok: true, value: channel })
      expect(invoked).toEqual([{ channel, payload: request }])
      // a method called without a request (routes with no fields) sends `{}`
      invoked.length = 0
      await llmConfigs[route.method]!()
      expect(invoked).toEqual([{ channel, payload: {} }])
    }
  })

  it("forwards event payloads only, on the event channels, until unsubscribed", () => {
    const { exposed, listeners, invoked } = load()
    const llmConfigs = (exposed.get("fishbowl") as { llmConfigs: IpcContract.LlmConfigsBridge }).llmConfigs
    for (
      const [subscribe, channel] of [["onChanged", IpcContract.IpcEvents.changed], ["onSettled", IpcContract.IpcEvents.settled]] as const
    ) {
      const received: Array<unknown> = []
      const stop = llmConfigs[subscribe]((payload: unknown) => received.push(payload))
      expect(listeners.get(channel)?.size).toBe(1)
      for (const listener of listeners.get(channel)!) listener({ sender: "the event object" }, { _tag: "Payload" })
      expect(received).toEqual([{ _tag: "Payload" }])
      stop()
      expect(listeners.get(channel)?.size).toBe(0)
    }
    expect(invoked).toEqual([])
    expect([...listeners.keys()].sort()).toEqual(Object.values(IpcContract.IpcEvents).sort())
  })
})
