/**
 * Bundles the fishbowl-llm CLI into one ESM file, so a command starts in ~100 ms instead of
 * compiling TypeScript on every run (tsx took 0.6–0.9 s):
 *
 *   cli-dist/fishbowl-llm.mjs    src/cli/main.ts and everything it imports (effect, the domain,
 *                                the desktop layers); keytar stays external (a native addon).
 *   cli-dist/keytar-worker.cjs   the keytar worker module, loaded in-process by the CLI (see
 *                                src/cli/InProcessKeytar.ts); it `require`s keytar from node_modules.
 *
 * Outside dist/ on purpose: the app's build empties dist/. Run by `npm ci` (root `prepare`), by
 * `npm run build:cli`, and by CI. Plain ESM JavaScript: needs only esbuild, no loader.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export const appRoot = fileURLToPath(new URL("..", import.meta.url))
export const cliOutDir = path.join(appRoot, "cli-dist")
const keytarWorker = path.join(appRoot, "../../packages/desktop-layer/src/keytar-worker.cjs")

/** An ESM bundle of CommonJS dependencies still calls `require` for Node built-ins; give it one. */
const banner = [
  "import { createRequire as __fishbowlCreateRequire } from 'node:module';",
  "const require = __fishbowlCreateRequire(import.meta.url);"
].join("\n")

/**
 * Builds into `outDir`. Each file is written beside its target and renamed over it, so a test or
 * a user running the CLI during a rebuild sees the old bundle or the new one, never half of one.
 */
export const buildCli = async ({ outDir = cliOutDir } = {}) => {
  await fs.mkdir(outDir, { recursive: true })
  const suffix = `.tmp-${process.pid}-${Date.now()}`
  const bundle = path.join(outDir, "fishbowl-llm.mjs")
  const worker = path.join(outDir, "keytar-worker.cjs")
  await esbuild.build({
    entryPoints: [path.join(appRoot, "src/cli/main.ts")],
    outfile: bundle + suffix,
    absWorkingDir: appRoot,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["keytar"],
    banner: { js: banner },
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: "none",
    logLevel: "warning"
  })
  await fs.copyFile(keytarWorker, worker + suffix)
  await fs.rename(worker + suffix, worker)
  await fs.rename(bundle + suffix, bundle)
  return outDir
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = await buildCli()
  console.log(`built ${path.relative(process.cwd(), outDir) || outDir}`)
}
