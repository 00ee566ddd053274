#!/usr/bin/env node
// fishbowl-llm: runs the prebuilt bundle (built by `npm ci` through the root `prepare` script, or
// by `npm run build:cli`); nothing is compiled from TypeScript at run time. The bundle is compiled
// with V8's code cache written at build time (see scripts/build-cli.mjs), which halves start-up.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { createRequire, Module } from "node:module"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

const bundle = fileURLToPath(new URL("../cli-dist/fishbowl-llm.cjs", import.meta.url))
const cacheFile = `${bundle}.v8cache`
if (!existsSync(bundle)) {
  process.stderr.write("error: fishbowl-llm is not built\nhint: Run `npm run build:cli --workspace @fishbowl/desktop` (npm ci does it too).\n")
  process.exit(1)
}
let cachedData
try {
  cachedData = readFileSync(cacheFile)
} catch {
  cachedData = undefined
}
const script = new Script(Module.wrap(readFileSync(bundle, "utf8")), { filename: bundle, cachedData })
const module = { exports: {} }
if (process.env.FISHBOWL_CLI_DEBUG_CACHE === "1") process.stderr.write(`code cache ${cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "used"}\n`)
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, fileURLToPath(new URL("../cli-dist/", import.meta.url)))
await module.exports.main()
if (process.env.FISHBOWL_CLI_WRITE_CODE_CACHE === "1") {
  // after a run, so the functions that run at start-up are in the cache too
  const temporary = `${cacheFile}.tmp-${process.pid}`
  writeFileSync(temporary, script.createCachedData())
  renameSync(temporary, cacheFile)
}
