/**
 * The settings window and the hardening every web contents gets. The renderer is local, trusted
 * code, but it handles API keys, so it runs as if it were not: no Node, sandboxed, isolated, no
 * navigation, no popups, no permissions, and a CSP that forbids any network connection.
 */
import { BrowserWindow, session, type WebContents } from "electron"
import * as path from "node:path"
import * as ContentSecurityPolicy from "../renderer/ContentSecurityPolicy.ts"

/** Deny every permission (camera, notifications, clipboard-read, ...) and add the CSP header. */
export const restrictSession = () => {
  const defaultSession = session.defaultSession
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  defaultSession.setPermissionCheckHandler(() => false)
  // Devices (HID, serial, USB), screen capture and Bluetooth pairing: never.
  defaultSession.setDevicePermissionHandler(() => false)
  defaultSession.setDisplayMediaRequestHandler((_request, callback) => callback({}))
  defaultSession.on("select-hid-device", (event, _details, callback) => {
    event.preventDefault()
    callback()
  })
  defaultSession.on("select-serial-port", (event, _ports, _contents, callback) => {
    event.preventDefault()
    callback("")
  })
  defaultSession.on("select-usb-device", (event, _details, callback) => {
    event.preventDefault()
    callback()
  })
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, "Content-Security-Policy": [ContentSecurityPolicy.CONTENT_SECURITY_POLICY] }
    })
  })
}

/** Blocks navigation away from the loaded document, new windows and webviews. */
export const hardenWebContents = (contents: WebContents) => {
  contents.on("will-navigate", (event, url) => {
    const current = contents.getURL()
    const sameDocument = current !== "" && url.split("#")[0] === current.split("#")[0]
    if (!sameDocument) event.preventDefault()
  })
  contents.on("will-redirect", (event) => event.preventDefault())
  // Subframes too (Electron 28+): nothing may navigate anywhere inside the window.
  contents.on("will-frame-navigate", (event) => {
    if (!event.isMainFrame) event.preventDefault()
  })
  contents.on("will-attach-webview", (event) => event.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: "deny" }))
}

export interface SettingsWindowPaths {
  readonly rendererDir: string
  readonly preloadPath: string
}

export const openSettingsWindow = (paths: SettingsWindowPaths, options?: { readonly onlyIfNone?: boolean }) => {
  if (options?.onlyIfNone === true && BrowserWindow.getAllWindows().length > 0) return
  const window = new BrowserWindow({
    width: 960,
    height: 760,
    minWidth: 560,
    minHeight: 480,
    title: "Fishbowl — LLM providers",
    show: false,
    backgroundColor: "#f6f7f9",
    webPreferences: {
      preload: paths.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    }
  })
  window.once("ready-to-show", () => window.show())
  void window.loadFile(path.join(paths.rendererDir, "index.html"))
  return window
}

/** Sends `payload` on `channel` to every open window (change events keep all views in step). */
export const broadcastToAllWindows = (channel: string, payload: unknown) => {
  for (const window of BrowserWindow.getAllWindows()) {
    if (!window.isDestroyed()) window.webContents.send(channel, payload)
  }
}
