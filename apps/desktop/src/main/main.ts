/**
 * Electron main process: one locked-down settings window over the same DesktopLayer runtime the
 * CLI uses. Deliberately thin: the logic lives in IpcHandlers (tested in Node) and the layers;
 * this file only wires Electron to them and hardens the window.
 */
import { DataDir, DesktopLayer, KeytarSecretStore, Migration, SecretBackend } from "@fishbowl/desktop-layer"
import { IpcContract, LlmConfigStore, Plural } from "@fishbowl/domain"
import { ManagedRuntime } from "effect"
import { app, ipcMain, safeStorage, shell } from "electron"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as IpcHandlers from "./IpcHandlers.ts"
import * as MainWindow from "./MainWindow.ts"
import * as PackagedPaths from "./PackagedPaths.ts"
import * as SenderPolicy from "./SenderPolicy.ts"
import * as StorageActions from "./StorageActions.ts"

/** dist/main/, where the bundle, and the keytar worker copied next to it, live. */
const mainDir = path.dirname(fileURLToPath(import.meta.url))
const distDir = path.resolve(mainDir, "..")
const rendererDir = path.join(distDir, "renderer")
const preloadPath = path.join(distDir, "preload", "preload.cjs")
const keytarPaths = PackagedPaths.resolveKeytarPaths(mainDir)
const keytarWorkerPath = keytarPaths.workerPath

/**
 * Which Node runs the keytar worker. keytar is a native module built for the Node that ran
 * `npm install`; Electron's own Node has another ABI. So: an explicit FISHBOWL_KEYTAR_NODE, else
 * the Node npm runs under (`npm start`), else Electron itself as Node (a packaged app, where keytar
 * is rebuilt for Electron). If keytar cannot load, the worker reports "unavailable" and the
 * backend falls through to safeStorage, never silently to plaintext.
 */
const keytarNode = (): string | undefined => process.env["FISHBOWL_KEYTAR_NODE"] || process.env["npm_node_execpath"] || undefined

const workerEnv = (): Readonly<Record<string, string>> => {
  const env = KeytarSecretStore.definedEnv(process.env)
  if (keytarNode() === undefined) env["ELECTRON_RUN_AS_NODE"] = "1"
  else delete env["ELECTRON_RUN_AS_NODE"]
  if (keytarPaths.keytarModule !== undefined) env["FISHBOWL_KEYTAR_MODULE"] = keytarPaths.keytarModule
  return env
}

/** forkKeytarWorker with an explicit Node binary when one is known. */
const spawnKeytarWorker: KeytarSecretStore.KeytarWorkerSpawner = (options) =>
  KeytarSecretStore.forkKeytarWorker({ ...options, execPath: keytarNode() })

/** One line per IPC call: channel, outcome, duration (IpcHandlers never passes payloads here). */
const log: IpcHandlers.IpcLogger = ({ channel, millis, origin, outcome }) =>
  console.info(`[ipc] ${channel} ${outcome} ${millis}ms${origin !== undefined ? ` from ${origin}` : ""}`)

const start = async () => {
  // Same folder as the CLI: FISHBOWL_DATA_DIR wins (tests, portable installs), else userData.
  const dataDir = process.env[DataDir.DATA_DIR_ENV] || app.getPath("userData")
  const runtime = ManagedRuntime.make(
    DesktopLayer.layer({
      dataDir,
      safeStorage,
      secretBackend: SecretBackend.secretBackendFromEnv(process.env),
      keytar: { workerPath: keytarWorkerPath, workerEnv, spawn: spawnKeytarWorker }
    })
  )

  // Import configurations of older Fishbowl versions (keys into the keychain, plaintext removed)
  // before the store is used: until then preferences.json holding legacy entries is refused.
  await runtime.runPromise(
    Migration.migrateNode({ decrypt: (ciphertext) => safeStorage.decryptStringAsync(ciphertext).then(({ result }) => result) })
  ).then((report) => {
    if (!report.nothingToDo) {
      console.info(`[fishbowl] migrated ${Plural.count(report.migrated.length, "configuration")}, skipped ${report.skipped.length}`)
    }
  }).catch((error: unknown) => {
    console.error(`[fishbowl] migration failed: ${error instanceof Error ? error.message : String(error)}`)
  })

  // Finish or undo whatever a crash left half-done before the UI can see the store.
  await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.recover())).catch((error: unknown) => {
    console.error(`[fishbowl] recovery failed: ${error instanceof Error ? error.message : String(error)}`)
  })

  // Start the keychain helper (and pick the tier) now, outside any budget, so the page's first
  // status call does not pay for a cold process start.
  void runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.status)).catch(() => {})

  const storage = await runtime.runPromise(StorageActions.make({ shell }))
  const unregister = IpcHandlers.registerIpcHandlers(
    ipcMain,
    IpcHandlers.make(runtime, {
      senderPolicy: SenderPolicy.bundledOriginPolicy(pathToFileURL(`${rendererDir}${path.sep}`).href),
      log,
      storage,
      onLateOutcome: (outcome) => MainWindow.broadcastToAllWindows(IpcContract.IpcChannel.settled, outcome)
    })
  )
  const stopForwarding = IpcHandlers.forwardChanges(
    runtime,
    (change) => MainWindow.broadcastToAllWindows(IpcContract.IpcChannel.changed, change)
  )

  MainWindow.restrictSession()
  app.on("web-contents-created", (_event, contents) => MainWindow.hardenWebContents(contents))
  MainWindow.openSettingsWindow({ rendererDir, preloadPath })
  app.on("activate", () => MainWindow.openSettingsWindow({ rendererDir, preloadPath }, { onlyIfNone: true }))

  // Dispose the runtime (kills the keytar worker, releases file locks) before the process exits.
  let disposed = false
  app.on("will-quit", (event) => {
    if (disposed) return
    event.preventDefault()
    stopForwarding()
    unregister()
    void runtime.dispose().finally(() => {
      disposed = true
      app.quit()
    })
  })
}

app.setName("Fishbowl")
// Every renderer sandboxed, even one a bug might create without the window's webPreferences.
app.enableSandbox()
app.on("window-all-closed", () => {
  if (process.platform !== "darwin") app.quit()
})
app.whenReady().then(start).catch((error: unknown) => {
  console.error(`[fishbowl] failed to start: ${error instanceof Error ? error.message : String(error)}`)
  app.exit(1)
})
