/**
 * Builds the Electron app into dist/ with esbuild:
 * - main/main.mjs      ESM (Electron loads ESM mains since 28; built for 45), every workspace package bundled in,
 *                      only `electron` external; keytar-worker.cjs copied beside it.
 * - preload/preload.cjs CommonJS: a sandboxed preload can only `require("electron")`.
 * - renderer/          app.js (browser IIFE: the Preact page, JSX compiled by esbuild to plain calls of
 *                      preact/jsx-runtime, nothing evaluated at run time), index.html, styles.css.
 * - package.json       so `electron dist` runs the app as "Fishbowl" (same userData as the CLI).
 *
 * Domain constants the preload and renderer need (channel names, provider definitions) are read
 * from @fishbowl/domain at build time and inlined with `define`, so neither bundle carries effect.
 * Run with `node --import tsx scripts/build.mjs` (the domain is TypeScript); tests import `build`.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export const appRoot = fileURLToPath(new URL("..", import.meta.url))
export const defaultOutDir = path.join(appRoot, "dist")

/** The values inlined into the preload and renderer bundles, taken from the domain at build time. */
const domainDefines = async () => {
  const { IpcContract, Providers } = await import("@fishbowl/domain")
  return {
    __FISHBOWL_BRIDGE_CHANNELS__: JSON.stringify(IpcContract.bridgeChannels),
    __FISHBOWL_EVENT_CHANNELS__: JSON.stringify(IpcContract.IpcEvents),
    __FISHBOWL_PROVIDERS__: JSON.stringify(Providers.providers)
  }
}

/** The keytar worker the main bundle forks; a plain CommonJS file shipped next to main.mjs. */
const keytarWorkerSource = async () => {
  const { KeytarSecretStore } = await import("@fishbowl/desktop-layer")
  return KeytarSecretStore.keytarWorkerPath
}

/**
 * An ESM bundle of CommonJS dependencies still calls `require` for Node built-ins; give it one.
 * `__filename`/`__dirname` likewise for the odd dependency that reads them.
 */
const esmRequireBanner = [
  "import { createRequire as __fishbowlCreateRequire } from 'node:module';",
  "import { fileURLToPath as __fishbowlFileURLToPath } from 'node:url';",
  "const require = __fishbowlCreateRequire(import.meta.url);",
  "const __filename = __fishbowlFileURLToPath(import.meta.url);",
  "const __dirname = __fishbowlFileURLToPath(new URL('.', import.meta.url));"
].join("\n")

const common = { bundle: true, logLevel: "warning", legalComments: "none", absWorkingDir: appRoot }

export const buildMain = async (outDir = defaultOutDir) => {
  await esbuild.build({
    ...common,
    entryPoints: [path.join(appRoot, "src/main/main.ts")],
    outfile: path.join(outDir, "main/main.mjs"),
    platform: "node",
    format: "esm",
    target: "node22",
    external: ["electron"],
    banner: { js: esmRequireBanner }
  })
  await fs.copyFile(await keytarWorkerSource(), path.join(outDir, "main/keytar-worker.cjs"))
}

export const buildPreload = async (outDir = defaultOutDir, defines) => {
  await esbuild.build({
    ...common,
    entryPoints: [path.join(appRoot, "src/preload/preload.ts")],
    outfile: path.join(outDir, "preload/preload.cjs"),
    platform: "node",
    format: "cjs",
    target: "chrome130",
    external: ["electron"],
    define: defines ?? (await domainDefines())
  })
}

export const buildRenderer = async (outDir = defaultOutDir, defines) => {
  const rendererOut = path.join(outDir, "renderer")
  await esbuild.build({
    ...common,
    entryPoints: [path.join(appRoot, "src/renderer/app.tsx")],
    outfile: path.join(rendererOut, "app.js"),
    platform: "browser",
    format: "iife",
    target: "chrome120",
    jsx: "automatic",
    jsxImportSource: "preact",
    define: defines ?? (await domainDefines())
  })
  for (const file of ["index.html", "styles.css"]) {
    await fs.copyFile(path.join(appRoot, "src/renderer", file), path.join(rendererOut, file))
  }
  return rendererOut
}

const writeAppManifest = async (outDir) => {
  const manifest = { name: "fishbowl", productName: "Fishbowl", version: "0.1.0", private: true, type: "module", main: "main/main.mjs" }
  await fs.writeFile(path.join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)
}

/** Builds everything into `outDir` (default apps/desktop/dist), replacing what was there. */
export const build = async ({ outDir = defaultOutDir } = {}) => {
  await fs.rm(outDir, { recursive: true, force: true })
  await fs.mkdir(outDir, { recursive: true })
  const defines = await domainDefines()
  await Promise.all([buildMain(outDir), buildPreload(outDir, defines), buildRenderer(outDir, defines)])
  await writeAppManifest(outDir)
  return outDir
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = await build()
  console.log(`built ${path.relative(process.cwd(), outDir) || outDir}`)
}
