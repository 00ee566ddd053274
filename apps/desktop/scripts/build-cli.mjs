/**
 * Bundles the fishbowl-llm CLI into one CommonJS file, so a command starts in ~100 ms instead of
 * compiling TypeScript on every run (tsx took 0.6–0.9 s):
 *
 *   cli-dist/fishbowl-llm.cjs    src/cli/main.ts and everything it imports (effect, the domain,
 *                                the desktop layers); keytar stays external (a native addon).
 *   cli-dist/fishbowl-llm.cjs.v8cache
 *                                V8's code cache of that file, made by running the bin on a few
 *                                commands in a temporary data folder (see `cacheRuns`): the bin
 *                                compiles the bundle with it (vm.Script cachedData), which saves
 *                                most of what compiling 1 MB and the functions a command runs
 *                                costs. A cache from another Node/V8 is rejected by V8 and the bin
 *                                compiles as usual.
 *   cli-dist/help.json           the top-level help, for a bare `--help` (see `writeHelp`).
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
import * as os from "node:os"
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
 * Work two dependencies do when their module loads, moved to their first use by exact edits of
 * their published text (both versions are pinned; a text not found is a build error, so an
 * upgrade is looked at again rather than silently slow). What each computes is unchanged.
 * - effect/cli's CliOutput builds an `Intl.Segmenter` (~16 ms: ICU loads its break-iterator
 *   data) to measure the width of help text; only help and usage output measure.
 * - unhomoglyph builds its 6,311-entry table and one regular expression over it (~10 ms) for
 *   Canonical.nameKey; `list` never compares names. Its table is read with JSON.parse, which V8
 *   reads several times faster than the same data as an object literal.
 */
const deferredAtLoad = {
  name: "deferred-at-load",
  setup(build) {
    const edits = [
      {
        file: /[\\/]node_modules[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/,
        replace: [[
          "const graphemeSegmenter = /*#__PURE__*/new Intl.Segmenter(undefined, {\n  granularity: \"grapheme\"\n});",
          "let segmenter;\nconst graphemeSegmenter = {\n  segment: text => (segmenter ??= new Intl.Segmenter(undefined, {\n    granularity: \"grapheme\"\n  })).segment(text)\n};"
        ]]
      },
      {
        file: /[\\/]node_modules[\\/]unhomoglyph[\\/]index\.js$/,
        replace: [
          ["var data = require('./data.json');", "var data;"],
          ["var REPLACE_RE = RegExp(Object.keys(data).map(escapeRegexp).join('|'), 'g');", "var REPLACE_RE;"],
          [
            "function unhomoglyph(str) {\n",
            "function unhomoglyph(str) {\n  if (REPLACE_RE === undefined) {\n    data = require('./data.json');\n    REPLACE_RE = RegExp(Object.keys(data).map(escapeRegexp).join('|'), 'g');\n  }\n"
          ]
        ]
      }
    ]
    for (const { file, replace } of edits) {
      build.onLoad({ filter: file }, async ({ path: from }) => {
        let contents = await fs.readFile(from, "utf8")
        for (const [text, by] of replace) {
          if (contents.split(text).length !== 2) throw new Error(`${from}: expected text not found once: ${text.split("\n")[0]}`)
          contents = contents.replace(text, () => by)
        }
        return { contents, loader: "js" }
      })
    }
    build.onLoad({ filter: /[\\/]node_modules[\\/]unhomoglyph[\\/]data\.json$/ }, async ({ path: from }) => ({
      contents: `module.exports = JSON.parse(${JSON.stringify(JSON.stringify(JSON.parse(await fs.readFile(from, "utf8"))))})`,
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
 * The commands the code cache is made from, in order, each with the exit code it ends with: each
 * run starts from the cache the previous one wrote and adds the functions it compiled, so the
 * cache holds what `--help`, `list` and `key` run (about 10 ms fewer to compile lazily than a
 * cache of `--help` alone). They run on an empty temporary data folder and a configuration
 * without a key, so no run touches a keychain, the user's data or the network.
 */
const cacheRuns = [
  { args: ["--help"], code: 0 },
  { args: ["add", "--provider", "ollama", "--name", "Cache"], code: 0 },
  { args: ["list"], code: 0 },
  { args: ["key", "Cache"], code: 3 }
]

/**
 * Runs the bin that loads `outDir` (`<outDir>/../bin/fishbowl-llm.cjs`) on {@link cacheRuns} with
 * FISHBOWL_CLI_WRITE_CODE_CACHE=1, which makes it write the cache after each run. The caller's
 * FISHBOWL_* settings are left out (a data folder or backend of the user's must not shape it).
 */
const writeCodeCache = async (outDir) => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-cli-cache-"))
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FISHBOWL_")))
  try {
    for (const { args, code: expected } of cacheRuns) {
      const run = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(outDir, "..", "bin", "fishbowl-llm.cjs"), "--data-dir", dataDir, ...args], {
          env: { ...env, FISHBOWL_CLI_WRITE_CODE_CACHE: "1", FISHBOWL_CLI_PRERENDERED_HELP: "0" },
          stdio: ["ignore", "ignore", "pipe"]
        })
        let stderr = ""
        child.stderr.on("data", (chunk) => (stderr += chunk))
        child.on("error", reject)
        child.on("exit", (code) => resolve({ code, stderr }))
      })
      if (run.code !== expected) {
        throw new Error(`writing the code cache failed: \`${args.join(" ")}\` exited ${run.code}, not ${expected}\n${run.stderr}`)
      }
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true })
  }
}

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
    plugins: [platformBarrel, deferredAtLoad],
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
