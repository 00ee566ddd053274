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
import { Script } from "node:vm"

export const appRoot = fileURLToPath(new URL("..", import.meta.url))
export const cliOutDir = path.join(appRoot, "cli-dist")
const keytarWorker = path.join(appRoot, "../../packages/desktop-layer/src/keytar-worker.cjs")

/**
 * Barrels whose `import { Name } from "…"` the bundle turns into the import of the module itself
 * (see {@link namespaceImports}); `strict`: every name imported must be one of its modules.
 */
const barrels = {
  effect: { strict: false },
  "effect/cli": { strict: false },
  "effect/http": { strict: false },
  "effect/process": { strict: false },
  "@effect/platform-node-shared": { strict: true },
  "@fishbowl/domain": { strict: true },
  "@fishbowl/desktop-layer": { strict: true }
}

/**
 * `import { Effect, Schema } from "effect"` (the codebase's style, also for our own packages)
 * reaches each module through its package's barrel, and esbuild then keeps every export of a
 * namespace so imported: it cannot see which are used, so it builds the whole namespace object.
 * A third of the bundle was code no command reaches, all of it read, deserialised and run at
 * every start. So before esbuild reads one of our TypeScript files, each such import becomes the
 * import of the module the barrel's `export * as Schema from "./Schema.js"` names: the same
 * module, so what runs does not change, and esbuild keeps only what is used (a module of ours
 * that no command imports, e.g. the IPC contract, is left out). A name a barrel does not export
 * that way stays on the barrel (effect's `pipe`); on a `strict` barrel it is a build error (the
 * @effect/platform-node-shared barrel pulls `ws` and its http/tls/zlib requires into the bundle).
 */
const namespaceImports = {
  name: "namespace-imports",
  setup(build) {
    const modulesOf = new Map()
    /** The barrel's `export * as Name from "./file"` lines: name → absolute path. */
    const barrelModules = (specifier, resolveDir) => {
      if (!modulesOf.has(specifier)) {
        modulesOf.set(
          specifier,
          build.resolve(specifier, { kind: "import-statement", resolveDir }).then(async (resolved) => {
            if (resolved.errors.length > 0) throw new Error(`cannot resolve ${specifier}`)
            const text = await fs.readFile(resolved.path, "utf8")
            return new Map(
              [...text.matchAll(/^export \* as (\w+) from "(\.[^"]+)"/gm)].map((
                [, name, file]
              ) => [name, path.resolve(path.dirname(resolved.path), file)])
            )
          })
        )
      }
      return modulesOf.get(specifier)
    }
    build.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      if (file.split(path.sep).includes("node_modules")) return undefined
      const text = await fs.readFile(file, "utf8")
      const statements = [...text.matchAll(/^import \{([^}]*)\} from "([^"]+)"/gm)].filter(([, , from]) => Object.hasOwn(barrels, from))
      if (statements.length === 0) return undefined
      let contents = text
      for (const [statement, list, from] of statements) {
        const modules = await barrelModules(from, path.dirname(file))
        const imports = []
        const rest = []
        for (const specifier of list.split(",").map((part) => part.trim())) {
          // a type is erased anyway; `import { type X }` alone must not become an import of the barrel
          if (specifier === "" || specifier.startsWith("type ")) continue
          const [name, local = name] = specifier.split(/\s+as\s+/)
          if (modules.has(name)) imports.push(`import * as ${local} from ${JSON.stringify(modules.get(name))}`)
          else if (barrels[from].strict) throw new Error(`${file}: ${name} is not a module of ${from}'s barrel`)
          else rest.push(specifier)
        }
        if (rest.length > 0) imports.push(`import { ${rest.join(", ")} } from ${JSON.stringify(from)}`)
        // one line for the statement's lines, so positions after it stay where they were
        contents = contents.replace(statement, () => imports.join("; ") + "\n".repeat(statement.split("\n").length - 1))
      }
      return { contents, loader: "ts" }
    })
  }
}

/**
 * Work two dependencies do when their module loads, moved to their first use by exact edits of
 * their published text (both versions are pinned; a text not found is a build error, so an
 * upgrade is looked at again rather than silently slow). What each computes is unchanged.
 * - effect/cli's CliOutput builds an `Intl.Segmenter` (~16 ms: ICU loads its break-iterator
 *   data) to measure the width of help text; only help and usage output measure.
 * - unhomoglyph builds its 6,311-entry table and one regular expression over it (~10 ms) for
 *   Canonical.nameKey; `list` never compares names. The expression's text (its keys, escaped and
 *   joined by its own `escapeRegexp`) is computed here, once, and the table is one string of
 *   `\0key\x01value` pairs that a match is looked up in (checked here against every key): a
 *   `key <name>` no longer spends ~17 ms and ~2.5 MB building a 6,311-property object and the text.
 */
/** unhomoglyph's own escaping, which {@link unhomoglyphPattern} repeats. */
const escapeRegexpText = "function escapeRegexp(str) {\n  return str.replace(/([.?*+^$[\\]\\\\(){}|-])/g, '\\\\$1');\n}"

/** unhomoglyph's table (data.json, beside its index.js `from`). */
const unhomoglyphData = async (from) => JSON.parse(await fs.readFile(path.join(path.dirname(from), "data.json"), "utf8"))

/** unhomoglyph's `REPLACE_RE` text, as its index.js (`from`) builds it from its table. */
const unhomoglyphPattern = async (from) =>
  Object.keys(await unhomoglyphData(from)).map((key) => key.replace(/([.?*+^$[\]\\(){}|-])/g, "\\$1")).join("|")

/** The lookup that replaces `data[match]`: `table` holds each `\0key\x01value` of the table. */
const unhomoglyphLookup = "function replace_fn(match) {\n  var at = table.indexOf('\\u0000' + match + '\\u0001') + match.length + 2;\n" +
  "  return table.slice(at, table.indexOf('\\u0000', at));\n}"

/**
 * data.json as the one string {@link unhomoglyphLookup} searches; throws unless the lookup gives
 * every key its own value (no key or value holds a separator).
 */
const unhomoglyphTable = async (from) => {
  const data = await unhomoglyphData(from)
  const table = Object.entries(data).map(([key, value]) => `\u0000${key}\u0001${value}`).join("") + "\u0000"
  const lookup = new Function("table", `${unhomoglyphLookup}\nreturn replace_fn`)(table)
  for (const [key, value] of Object.entries(data)) {
    if (/[\u0000\u0001]/.test(key + value) || lookup(key) !== value) {
      throw new Error(`unhomoglyph: the table lookup fails for ${JSON.stringify(key)}`)
    }
  }
  return table
}

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
          ["var data = require('./data.json');", "var table;"],
          ["var REPLACE_RE = RegExp(Object.keys(data).map(escapeRegexp).join('|'), 'g');", "var REPLACE_RE;"],
          [
            "function unhomoglyph(str) {\n",
            async (from) =>
              "function unhomoglyph(str) {\n  if (REPLACE_RE === undefined) {\n    table = require('./data.json');\n" +
              `    REPLACE_RE = RegExp(${JSON.stringify(await unhomoglyphPattern(from))}, 'g');\n  }\n`
          ],
          ["function replace_fn(match) {\n  return data[match];\n}", unhomoglyphLookup],
          // kept as it is: the escaping the pattern above is made with
          [escapeRegexpText, escapeRegexpText]
        ]
      }
    ]
    for (const { file, replace } of edits) {
      build.onLoad({ filter: file }, async ({ path: from }) => {
        let contents = await fs.readFile(from, "utf8")
        for (const [text, by] of replace) {
          if (contents.split(text).length !== 2) throw new Error(`${from}: expected text not found once: ${text.split("\n")[0]}`)
          const replacement = typeof by === "string" ? by : await by(from)
          contents = contents.replace(text, () => replacement)
        }
        return { contents, loader: "js" }
      })
    }
    build.onLoad({ filter: /[\\/]node_modules[\\/]unhomoglyph[\\/]data\.json$/ }, async ({ path: from }) => ({
      contents: `module.exports = ${JSON.stringify(await unhomoglyphTable(path.join(path.dirname(from), "index.js")))}`,
      loader: "js"
    }))
  }
}

/**
 * CommonJS, so the bin can hand V8 a code cache; `import.meta.url` becomes the bundle's own URL.
 * The file is one function expression of CommonJS's parameters, as Node's `Module.wrap` would make
 * it, so the bin compiles the text it read as it is (wrapping 1 MB at run time is a copy of it).
 * The first line names the build: V8 checks a cache against the source's length only, so the bin
 * uses a cache only when it carries the same build id (see bin/fishbowl-llm.cjs).
 */
const wrapperFor = (buildId) => ({
  banner: `// fishbowl-llm build ${buildId}\n(function (exports, require, module, __filename, __dirname) {\n` +
    "const __fishbowlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  footer: "\n})"
})

/** Runs a bundle made by {@link buildCli} (its path and text) in this process, as the bin does; returns its exports. */
const loadBundle = (bundle, source) => {
  const module = { exports: {} }
  const run = new Script(source, { filename: bundle }).runInThisContext()
  run(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle))
  return module.exports
}

/**
 * The runs the code cache is made from, in order, each with the exit code it ends with. A run
 * that `caches` starts from the cache the previous one wrote and adds the functions it compiled,
 * so the cache holds what `list` and `key` run, and nothing else: every function in it is
 * deserialised by every start, used or not (`--help` prints a stored text; `add` only makes the
 * configuration `key` reads). They run on an empty temporary data folder and a configuration
 * without a key, so no run touches a keychain, the user's data or the network.
 */
const cacheRuns = [
  { args: ["add", "--provider", "ollama", "--name", "Cache"], code: 0, caches: false },
  { args: ["list"], code: 0, caches: true },
  { args: ["key", "Cache"], code: 3, caches: true }
]

/**
 * Runs the bin that loads `outDir` (`<outDir>/../bin/fishbowl-llm.cjs`) on {@link cacheRuns};
 * FISHBOWL_CLI_WRITE_CODE_CACHE=1 makes it write the cache after the run. The caller's
 * FISHBOWL_* settings are left out (a data folder or backend of the user's must not shape it).
 */
const writeCodeCache = async (outDir) => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-cli-cache-"))
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FISHBOWL_")))
  try {
    for (const { args, code: expected, caches } of cacheRuns) {
      const run = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(outDir, "..", "bin", "fishbowl-llm.cjs"), "--data-dir", dataDir, ...args], {
          env: { ...env, FISHBOWL_CLI_WRITE_CODE_CACHE: caches ? "1" : "0" },
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
  const source = await fs.readFile(bundle, "utf8")
  const cli = loadBundle(bundle, source)
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
  const wrapper = wrapperFor(randomUUID())
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
    plugins: [namespaceImports, deferredAtLoad],
    banner: { js: wrapper.banner },
    footer: { js: wrapper.footer },
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
