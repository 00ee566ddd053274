/**
 * Bundles the fishbowl-llm CLI into one ESM file, so a command starts in ~100 ms instead of
 * compiling TypeScript on every run (tsx took 0.6–0.9 s):
 *
 *   cli-dist/fishbowl-llm.cjs    src/cli/main.ts and everything it imports (effect, the domain,
 *                                the desktop layers); keytar stays external (a native addon).
 *   cli-dist/fishbowl-llm.cjs.v8cache
 *                                V8's code cache of that file, made by running `--help` once: the
 *                                bin compiles the bundle with it (vm.Script cachedData), which
 *                                saves ~40 ms of the ~45 ms a cold compile of 1 MB costs. A cache
 *                                from another Node/V8 is rejected by V8 and the bin compiles as usual.
 *   cli-dist/keytar-worker.cjs   the keytar worker module, loaded in-process by the CLI (see
 *                                src/cli/InProcessKeytar.ts); it `require`s keytar from node_modules.
 *
 * Outside dist/ on purpose: the app's build empties dist/. Run by `npm ci` (root `prepare`), by
 * `npm run build:cli`, and by CI. Plain ESM JavaScript: needs only esbuild, no loader.
 */
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export const appRoot = fileURLToPath(new URL("..", import.meta.url))
export const cliOutDir = path.join(appRoot, "cli-dist")
const keytarWorker = path.join(appRoot, "../../packages/desktop-layer/src/keytar-worker.cjs")

/**
 * `import { NodeFileSystem } from "@effect/platform-node-shared"` (the desktop layers' style) pulls
 * the whole barrel into a bundle — `ws` and its http/tls/zlib requires included, ~40 KB that run
 * at start-up. The barrel is replaced by the one module that is used; a name not listed here is
 * a build error, not a silent gap.
 */
const platformBarrel = {
  name: "platform-node-shared-barrel",
  setup(build) {
    build.onResolve({ filter: /^@effect\/platform-node-shared$/ }, () => ({ path: "platform-node-shared", namespace: "fishbowl-cli" }))
    build.onLoad({ filter: /.*/, namespace: "fishbowl-cli" }, () => ({
      contents:
        "export * as NodeFileSystem from \"@effect/platform-node-shared/NodeFileSystem\"\nexport * as NodePath from \"@effect/platform-node-shared/NodePath\"\n",
      resolveDir: appRoot,
      loader: "js"
    }))
  }
}

/**
 * CommonJS, so the bin can hand V8 a code cache; `import.meta.url` becomes the bundle's own URL.
 * The first line names the build: V8 checks a cache against the source's length only, so the bin
 * uses a cache only when it carries the same build id (see bin/fishbowl-llm.cjs).
 */
const bannerFor = (buildId) =>
  `// fishbowl-llm build ${buildId}\nconst __fishbowlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;`

/**
 * Runs the bin that loads `outDir` (`<outDir>/../bin/fishbowl-llm.cjs`) once with
 * FISHBOWL_CLI_WRITE_CODE_CACHE=1, which makes it write the cache.
 */
const writeCodeCache = (outDir) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(outDir, "..", "bin", "fishbowl-llm.cjs"), "--help"], {
      env: { ...process.env, FISHBOWL_CLI_WRITE_CODE_CACHE: "1", FISHBOWL_CLI_PRERENDERED_HELP: "0" },
      stdio: ["ignore", "ignore", "inherit"]
    })
    child.on("error", reject)
    child.on("exit", (code) => (code === 0 ? resolve(undefined) : reject(new Error(`writing the code cache failed (exit ${code})`))))
  })

/**
 * `cli-dist/help.json`: the top-level help rendered by this build (plain and coloured), with the
 * build's first line, so the bin prints it for `fishbowl-llm --help` without loading the bundle
 * (about half of that command's start-up) and never prints another build's help.
 */
const writeHelp = async (outDir, bundle) => {
  const require = createRequire(import.meta.url)
  const cli = require(bundle)
  const source = await fs.readFile(bundle, "utf8")
  const help = { build: source.slice(0, source.indexOf("\n")), plain: await cli.renderHelp(false), colored: await cli.renderHelp(true) }
  const target = path.join(outDir, "help.json")
  await fs.writeFile(`${target}.tmp-${process.pid}`, JSON.stringify(help))
  await fs.rename(`${target}.tmp-${process.pid}`, target)
}

/**
 * Builds into `outDir` (a `cli-dist` folder beside the `bin` folder of the bin that loads it).
 * Concurrent builds are safe: each file is written beside its target and renamed over it, so a test
 * or a user running the CLI during a rebuild sees the old bundle or the new one, never half of one.
 */
export const buildCli = async ({ outDir = cliOutDir } = {}) => {
  await fs.mkdir(outDir, { recursive: true })
  const suffix = `.tmp-${process.pid}-${Date.now()}`
  const bundle = path.join(outDir, "fishbowl-llm.cjs")
  const worker = path.join(outDir, "keytar-worker.cjs")
  await esbuild.build({
    entryPoints: [path.join(appRoot, "src/cli/main.ts")],
    outfile: bundle + suffix,
    absWorkingDir: appRoot,
    bundle: true,
    platform: "node",
    format: "cjs",
    define: { "import.meta.url": "__fishbowlImportMetaUrl" },
    target: "node20",
    external: ["keytar"],
    plugins: [platformBarrel],
    banner: { js: bannerFor(randomUUID()) },
    minify: true,
    legalComments: "none",
    logLevel: "warning"
  })
  await fs.copyFile(keytarWorker, worker + suffix)
  await fs.rename(worker + suffix, worker)
  await fs.rename(bundle + suffix, bundle)
  await writeHelp(outDir, bundle)
  await writeCodeCache(outDir)
  return outDir
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = await buildCli()
  console.log(`built ${path.relative(process.cwd(), outDir) || outDir}`)
}
