/**
 * The renderer's only door to the main process: `window.fishbowl.llmConfigs`, one method per
 * contract route, each a plain `ipcRenderer.invoke` of its own channel, plus the two event
 * subscriptions. Only these functions cross the context bridge, never `ipcRenderer` itself.
 * Nothing is decoded or validated here: main does that for every call, so a compromised renderer
 * gains nothing by bypassing this file.
 *
 * Runs sandboxed (it can only `require("electron")`), so it is bundled as CommonJS and the
 * method → channel table (derived from IpcContract.IpcRoutes) and the event channels are inlined
 * at build time from the domain contract (see scripts/build.mjs).
 */
import type { IpcContract } from "@fishbowl/domain"
import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron"

declare const __FISHBOWL_BRIDGE_CHANNELS__: typeof IpcContract.bridgeChannels
declare const __FISHBOWL_EVENT_CHANNELS__: typeof IpcContract.IpcEvents

/** A route without request fields is called with no argument; main receives `{}` for it. */
const methods = Object.fromEntries(
  Object.entries(__FISHBOWL_BRIDGE_CHANNELS__).map(([method, channel]) => [
    method,
    (request?: unknown) => ipcRenderer.invoke(channel, request ?? {})
  ])
) as unknown as IpcContract.BridgeMethods

/** Forwards one event's payload; the event object (sender, ports) never reaches the page. */
const subscribe = <A>(channel: string, listener: (payload: A) => void) => {
  const forward = (_event: IpcRendererEvent, payload: A) => listener(payload)
  ipcRenderer.on(channel, forward)
  return () => {
    ipcRenderer.removeListener(channel, forward)
  }
}

const llmConfigs: IpcContract.LlmConfigsBridge = {
  ...methods,
  onChanged: (listener) => subscribe(__FISHBOWL_EVENT_CHANNELS__.changed, listener),
  onSettled: (listener) => subscribe(__FISHBOWL_EVENT_CHANNELS__.settled, listener)
}

contextBridge.exposeInMainWorld("fishbowl", { llmConfigs })
