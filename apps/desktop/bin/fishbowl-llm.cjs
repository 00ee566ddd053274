#!/usr/bin/env node
"use strict"
// fishbowl-llm: runs the prebuilt bundle (built by `npm ci` through the root `prepare` script, or
// by `npm run build:cli`); nothing is compiled from TypeScript at run time. CommonJS on purpose:
// an ESM entry would load Node's ESM loader (~10 internal modules) on every start. The bundle is
// compiled with V8's code cache written at build time (see scripts/build-cli.mjs).
const { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, writeFileSync } = require("node:fs")
const { Module } = require("node:module")
const path = require("node:path")
const { Script } = require("node:vm")

const dir = path.join(__dirname, "..", "cli-dist")
const bundle = path.join(dir, "fishbowl-llm.cjs")
const cacheFile = `${bundle}.v8cache`
// The cache file starts with a 64-byte header: the bundle's first line (its build id). V8 itself
// checks only the source's length, so a cache of another build must never reach it.
const HEADER = 64

/**
 * Whether the arguments ask for the top-level help only: `--help`, alone or beside the one global
 * option that does not change it (`--data-dir DIR` / `--data-dir=DIR`, as a script that always
 * passes its folder runs it).
 */
const asksTopLevelHelp = (args) => {
  if (args.length === 1) return args[0] === "--help"
  if (args.length === 2) return args.some((arg) => arg.startsWith("--data-dir=")) && args.includes("--help")
  const at = args.indexOf("--data-dir")
  return args.length === 3 && (at === 0 || at === 1) && args[at + 1] !== "--help" && args.includes("--help")
}

/**
 * A bare `fishbowl-llm --help` prints the help this build rendered (scripts/build-cli.mjs,
 * help.json: the same text, plain or coloured as the bundle would choose), without loading the
 * bundle. Anything unexpected (no file, another build's) falls through to the bundle.
 */
const prerenderedHelp = () => {
  if (!asksTopLevelHelp(process.argv.slice(2)) || process.env.FISHBOWL_CLI_PRERENDERED_HELP === "0") return false
  try {
    const help = JSON.parse(readFileSync(path.join(dir, "help.json"), "utf8"))
    const head = Buffer.alloc(HEADER)
    const fd = openSync(bundle, "r")
    try {
      readSync(fd, head, 0, HEADER, 0)
    } finally {
      closeSync(fd)
    }
    const build = head.toString("utf8").split("\n")[0]
    if (typeof help.build !== "string" || help.build !== build) return false
    const colors = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
    process.stdout.on("error", () => undefined)
    process.stdout.write(colors ? help.colored : help.plain)
    return true
  } catch {
    return false
  }
}
if (prerenderedHelp()) return
/** Reads `size` bytes of `fd` into the start of `buffer`. */
const readInto = (fd, buffer, size) => {
  for (let at = 0; at < size;) {
    const read = readSync(fd, buffer, at, size - at, at)
    if (read === 0) throw new Error("file ended early")
    at += read
  }
}

/**
 * The bundle's source and, when it belongs to the same build, its code cache. Both go through one
 * buffer (the source is copied out as a string before the cache is read over it): every fresh page
 * of memory a start touches costs a page fault, and one buffer instead of two (and no UTF-8 copy
 * of the whole file) is ~400 fewer of them, several ms on a VM.
 */
const readBundle = () => {
  const sourceFd = openSync(bundle, "r")
  let cacheFd
  try {
    cacheFd = openSync(cacheFile, "r")
  } catch {
    cacheFd = undefined
  }
  try {
    const sourceSize = fstatSync(sourceFd).size
    const cacheSize = cacheFd === undefined ? 0 : fstatSync(cacheFd).size
    const buffer = Buffer.allocUnsafe(Math.max(sourceSize, cacheSize))
    readInto(sourceFd, buffer, sourceSize)
    const source = buffer.toString("utf8", 0, sourceSize)
    const buildLine = source.slice(0, source.indexOf("\n"))
    if (cacheFd === undefined || cacheSize <= HEADER) return { source, buildLine, cachedData: undefined }
    try {
      readInto(cacheFd, buffer, cacheSize)
    } catch {
      return { source, buildLine, cachedData: undefined }
    }
    const cachedData = buffer.toString("utf8", 0, HEADER).trimEnd() === buildLine ? buffer.subarray(HEADER, cacheSize) : undefined
    return { source, buildLine, cachedData }
  } finally {
    closeSync(sourceFd)
    if (cacheFd !== undefined) closeSync(cacheFd)
  }
}

let read
try {
  read = readBundle()
} catch {
  process.stderr.write(
    "error: fishbowl-llm is not built\nhint: Run `npm run build:cli --workspace @fishbowl/desktop` (npm ci does it too).\n"
  )
  process.exit(1)
}
const { source, buildLine, cachedData } = read
// The bundle is already a function expression of CommonJS's parameters (see scripts/build-cli.mjs):
// wrapping it here would make V8 copy the whole source once more.
const script = new Script(source, { filename: bundle, cachedData })
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
