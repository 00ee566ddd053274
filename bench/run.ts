/**
 * `npm run bench`: latency of the LLM configuration store on the REAL Secret Service (the same
 * private D-Bus + gnome-keyring harness as the tests), side by side with raw keytar.
 *
 *   npm run bench                     # N = 200 per operation
 *   npm run bench -- --n 500          # more samples
 *   npm run bench -- --quick          # smoke run (N = 20, small fixtures)
 *   npm run bench -- --out /tmp/x.json
 *
 * Prints one table (median, p95, p99, max in ms; aim and PASS/MISS where an aim applies), the
 * store/raw ratios, the aims with their arithmetic, and writes the same figures as JSON
 * (default bench/results.json). See bench/README.md for what each row means. The groups are in
 * bench/Measurements.ts, the aims and both outputs in bench/Report.ts.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { DesktopLayer } from "@fishbowl/desktop-layer"
import { SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { ManagedRuntime } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Measurements from "./Measurements.ts"
import * as RawKeychain from "./RawKeychain.ts"
import * as Report from "./Report.ts"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({
  options: {
    n: { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false }
  },
  strict: true
})
if (args.help) {
  console.log("usage: npm run bench -- [--n <count>] [--quick] [--out <path>]")
  process.exit(0)
}
const quick = args.quick === true
const N = args.n !== undefined ? Number(args.n) : quick ? 20 : 200
if (!Number.isInteger(N) || N < 1) {
  console.error(`error: --n must be a positive integer (got ${JSON.stringify(args.n)})`)
  process.exit(2)
}
const OUT = path.resolve(args.out ?? path.join(HERE, "results.json"))

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`)

/** The private Secret Service, or undefined (and exit code 1) with the install hint. */
const startSecretService = async (): Promise<SecretServiceHarness.SecretServiceHandle | undefined> => {
  try {
    return await SecretServiceHarness.startSecretService()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    console.error(`error: the private Secret Service could not start: ${message}`)
    if (!message.includes(SecretServiceHarness.INSTALL_HINT)) console.error(`hint: ${SecretServiceHarness.INSTALL_HINT}`)
    process.exitCode = 1
    return undefined
  }
}

const main = async () => {
  const loadStart = os.loadavg()
  const startedAt = performance.now()
  const settings = Measurements.settings(N, quick)
  const context = Measurements.makeContext(settings, progress)
  progress(`N=${N}${quick ? " (quick)" : ""}, warm-up ${settings.warmup}/op, load average ${loadStart.map((x) => x.toFixed(2)).join(" ")}`)

  const handle = await startSecretService()
  if (handle === undefined) return
  // libsecret in THIS process holds a shared D-Bus connection with exit-on-close: when the
  // harness stops the bus at the end, GLib raises SIGTERM. Ignore it while shutting down.
  let shuttingDown = false
  process.on("SIGTERM", () => {
    if (!shuttingDown) process.exit(143)
  })

  const workerEnv = SecretServiceHarness.childEnv(handle.env)
  const keytar = RawKeychain.loadInProcessKeytar(handle.env)
  const worker = RawKeychain.startWorkerClient(workerEnv)
  const dataDir = path.join(context.tempDir("store"), "Fishbowl")
  const runtime: Measurements.Runtime = ManagedRuntime.make(
    DesktopLayer.layer({ dataDir, secretBackend: "keychain", keytar: { workerEnv } })
  )
  const fsRuntime = ManagedRuntime.make(NodeFileSystem.layer)
  try {
    const raw = await Measurements.raw(context, keytar, worker)
    worker.close()
    const store = await Measurements.store(context, runtime, fsRuntime)
    const ipc = await Measurements.ipc(context, runtime)
    const listLarge = await Measurements.listLarge(context, runtime)
    const loop = await Measurements.loopDelay(context, runtime)
    const cold = await Measurements.coldStart(context)
    const cli = await Measurements.cli(context, { ...workerEnv, PATH: process.env["PATH"] ?? "" })

    const report = Report.make({
      settings,
      rows: context.rows,
      raw,
      store,
      ipc,
      listLarge,
      loop,
      cold,
      cli,
      machine: Report.machine(loadStart),
      elapsedSeconds: (performance.now() - startedAt) / 1000
    })
    console.log(report.text)
    fs.mkdirSync(path.dirname(OUT), { recursive: true })
    fs.writeFileSync(OUT, `${JSON.stringify(report.document, null, 2)}\n`)
    console.log(`wrote ${path.relative(process.cwd(), OUT) || OUT}`)
  } finally {
    shuttingDown = true
    worker.close()
    await runtime.dispose()
    await fsRuntime.dispose()
    await handle.stop()
    context.removeTempDirs()
  }
}

main().catch((error) => {
  console.error(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  process.exitCode = 1
})
