/**
 * Where the keytar worker and keytar's native module are, in development (`electron dist`) and in
 * a packaged app. electron-builder puts the app in `resources/app.asar`, and a native module or a
 * file forked as its own process cannot run from inside an asar archive, so electron-builder.yml
 * unpacks both (`asarUnpack`) to `resources/app.asar.unpacked/` with the same relative paths. The
 * worker is then run by Electron itself as plain Node (ELECTRON_RUN_AS_NODE=1), and told where
 * keytar is (FISHBOWL_KEYTAR_MODULE) instead of trusting module resolution from a moved file.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface KeytarPaths {
  /** The worker file to fork. */
  readonly workerPath: string
  /** keytar's package folder when it is unpacked beside the app, else undefined (resolve normally). */
  readonly keytarModule: string | undefined
  /** True when running from an asar archive (a packaged app). */
  readonly packaged: boolean
}

const ASAR_SEGMENT = /([\\/])app\.asar(?=[\\/]|$)/

/** `…/app.asar/x` → `…/app.asar.unpacked/x`; other paths unchanged. */
export const toUnpacked = (file: string): string => file.replace(ASAR_SEGMENT, "$1app.asar.unpacked")

/**
 * Resolves the worker and keytar for a main bundle in `mainDir` (dist/main, or
 * resources/app.asar/main). `exists` is injectable for tests of layouts that are not on disk.
 */
export const resolveKeytarPaths = (mainDir: string, exists: (file: string) => boolean = fs.existsSync): KeytarPaths => {
  const bundled = path.join(mainDir, "keytar-worker.cjs")
  const packaged = ASAR_SEGMENT.test(mainDir)
  if (!packaged) return { workerPath: bundled, keytarModule: undefined, packaged }
  const workerPath = toUnpacked(bundled)
  const keytar = path.join(toUnpacked(path.dirname(mainDir)), "node_modules", "keytar")
  return {
    workerPath: exists(workerPath) ? workerPath : bundled,
    keytarModule: exists(path.join(keytar, "package.json")) ? keytar : undefined,
    packaged
  }
}
