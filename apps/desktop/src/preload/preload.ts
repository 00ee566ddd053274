/**
 * The renderer's only door to the main process: `window.fishbowl.llmConfigs`, one method per
 * contract route, each a plain `ipcRenderer.invoke`. Nothing is decoded or validated here: main
 * does that for every call, so a compromised renderer gains nothing by bypassing this file.
 *
 * Runs sandboxed (it can only `require("electron")`), so it is bundled as CommonJS and the channel
 * names are inlined at build time from the domain contract (see scripts/build.mjs).
 */
import type { IpcContract } from "@fishbowl/domain"
import { contextBridge, ipcRenderer, type IpcRendererEvent } from "electron"

declare const __FISHBOWL_BRIDGE_CHANNELS__: typeof IpcContract.bridgeChannels
declare const __FISHBOWL_CHANGED_CHANNEL__: string
declare const __FISHBOWL_SETTLED_CHANNEL__: string

const channels = __FISHBOWL_BRIDGE_CHANNELS__

const llmConfigs: IpcContract.LlmConfigsBridge = {
  list: () => ipcRenderer.invoke(channels.list, {}),
  get: (request) => ipcRenderer.invoke(channels.get, request),
  create: (request) => ipcRenderer.invoke(channels.create, request),
  update: (request) => ipcRenderer.invoke(channels.update, request),
  remove: (request) => ipcRenderer.invoke(channels.remove, request),
  status: () => ipcRenderer.invoke(channels.status, {}),
  diagnose: (request) => ipcRenderer.invoke(channels.diagnose, request),
  authorize: () => ipcRenderer.invoke(channels.authorize, {}),
  check: (request) => ipcRenderer.invoke(channels.check, request),
  checkDraft: (request) => ipcRenderer.invoke(channels.checkDraft, request),
  dismissNotice: (request) => ipcRenderer.invoke(channels.dismissNotice, request),
  recover: () => ipcRenderer.invoke(channels.recover, {}),
  checkKeys: () => ipcRenderer.invoke(channels.checkKeys, {}),
  backups: () => ipcRenderer.invoke(channels.backups, {}),
  restoreBackup: (request) => ipcRenderer.invoke(channels.restoreBackup, request),
  openFolder: (request) => ipcRenderer.invoke(channels.openFolder, request),
  onChanged: (listener) => {
    // The event object (sender, ports) never reaches the page; only the encoded change does.
    const forward = (_event: IpcRendererEvent, change: Parameters<typeof listener>[0]) => listener(change)
    ipcRenderer.on(__FISHBOWL_CHANGED_CHANNEL__, forward)
    return () => {
      ipcRenderer.removeListener(__FISHBOWL_CHANGED_CHANNEL__, forward)
    }
  },
  onSettled: (listener) => {
    const forward = (_event: IpcRendererEvent, outcome: Parameters<typeof listener>[0]) => listener(outcome)
    ipcRenderer.on(__FISHBOWL_SETTLED_CHANNEL__, forward)
    return () => {
      ipcRenderer.removeListener(__FISHBOWL_SETTLED_CHANNEL__, forward)
    }
  }
}

contextBridge.exposeInMainWorld("fishbowl", { llmConfigs })
