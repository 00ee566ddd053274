#!/usr/bin/env node
"use strict"
// fishbowl-llm: runs the prebuilt bundle (built by `npm ci` through the root `prepare` script, or
// by `npm run build:cli`); nothing is compiled from TypeScript at run time. CommonJS on purpose:
// an ESM entry would load Node's ESM loader (~10 internal modules) on every start. The bundle is
// compiled with V8's code cache written at build time (see scripts/build-cli.mjs).
const { readFileSync, renameSync, writeFileSync } = require("node:fs")
const { Module } = require("node:module")
const path = require("node:path")
const { Script } = require("node:vm")

const dir = path.join(__dirname, "..", "cli-dist")
const bundle = path.join(dir, "fishbowl-llm.cjs")
const cacheFile = `${bundle}.v8cache`
let source
try {
  source = readFileSync(bundle, "utf8")
} catch {
  process.stderr.write(
    "error: fishbowl-llm is not built\nhint: Run `npm run build:cli --workspace @fishbowl/desktop` (npm ci does it too).\n"
  )
  process.exit(1)
}
// The cache file starts with a 64-byte header: the bundle's first line (its build id). V8 itself
// checks only the source's length, so a cache of another build must never reach it.
const HEADER = 64
const buildLine = source.slice(0, source.indexOf("\n"))
let cachedData
try {
  const file = readFileSync(cacheFile)
  if (file.subarray(0, HEADER).toString("utf8").trimEnd() === buildLine) cachedData = file.subarray(HEADER)
} catch {
  cachedData = undefined
}
const script = new Script(Module.wrap(source), { filename: bundle, cachedData })
if (process.env.FISHBOWL_CLI_DEBUG_CACHE === "1") {
  process.stderr.write(`code cache ${cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "used"}\n`)
}
const bundleModule = { exports: {} }
script.runInThisContext()(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, dir)
bundleModule.exports.main().then(() => {
  if (process.env.FISHBOWL_CLI_WRITE_CODE_CACHE === "1") {
    // after a run, so the functions that ran at start-up are in the cache too
    const temporary = `${cacheFile}.tmp-${process.pid}`
    const header = Buffer.alloc(HEADER, " ")
    header.write(buildLine, "utf8")
    writeFileSync(temporary, Buffer.concat([header, script.createCachedData()]))
    renameSync(temporary, cacheFile)
  }
})
