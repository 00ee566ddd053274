/**
 * `npm run package`: builds dist/ and runs electron-builder with electron-builder.json. Refuses,
 * with the reason, when what packaging needs is missing — on this development machine Electron's
 * binary cannot be downloaded (installs use ELECTRON_SKIP_BINARY_DOWNLOAD=1) and electron-builder
 * cannot be installed (its @electron/rebuild fetches node-gyp from GitHub), so it always stops here.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { appRoot, build } from "./build.mjs"

const require = createRequire(import.meta.url)

/** Electron's binary without triggering electron's download-on-require (index.js downloads when missing). */
export const electronBinaryPath = () => {
  const electronDir = path.dirname(require.resolve("electron/package.json"))
  const pathFile = path.join(electronDir, "path.txt")
  if (!fs.existsSync(pathFile)) return undefined
  const binary = path.join(electronDir, "dist", fs.readFileSync(pathFile, "utf8").trim())
  return fs.existsSync(binary) ? binary : undefined
}

/** Why packaging cannot run here, or undefined when it can. */
export const packagingBlocker = () => {
  if (electronBinaryPath() === undefined) {
    return "Electron's binary is missing (node_modules/electron was installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or its download failed). " +
      "Packaging needs it: reinstall with network access to Electron's releases (`npm rebuild electron` or `npm ci` without ELECTRON_SKIP_BINARY_DOWNLOAD)."
  }
  try {
    require.resolve("electron-builder/package.json")
  } catch {
    return "electron-builder is not installed. Install it (`npm install -w @fishbowl/desktop --save-dev --save-exact electron-builder`) where GitHub is reachable (its @electron/rebuild fetches node-gyp from GitHub)."
  }
  return undefined
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const blocker = packagingBlocker()
  if (blocker !== undefined) {
    console.error(`error: cannot package the desktop app: ${blocker}`)
    process.exit(1)
  }
  const outDir = await build()
  // electron-builder installs (and rebuilds for Electron) the app's own dependencies: keytar only.
  const manifestPath = path.join(outDir, "package.json")
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"))
  const keytarVersion = JSON.parse(fs.readFileSync(require.resolve("keytar/package.json"), "utf8")).version
  fs.writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, dependencies: { keytar: keytarVersion } }, null, 2)}\n`)
  const cli = path.join(path.dirname(require.resolve("electron-builder/package.json")), "cli.js")
  const result = spawnSync(process.execPath, [cli, "--config", path.join(appRoot, "electron-builder.json"), ...process.argv.slice(2)], {
    cwd: appRoot,
    stdio: "inherit"
  })
  process.exit(result.status ?? 1)
}
