/**
 * fishbowl-llm start-up, next to `node -e 0` in the same run: each sample is one whole process
 * (spawn → exit) of the bundled bin, as a user or a script runs it. The four commands are
 * interleaved sample by sample, so all see the same machine load. `list` and `key` run on the
 * private Secret Service the rest of the benchmark uses, on a data folder with one configuration.
 */
import { SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"
import { buildCli } from "../apps/desktop/scripts/build-cli.mjs"
import * as Stats from "./Stats.ts"

const BIN = fileURLToPath(new URL("../apps/desktop/bin/fishbowl-llm.cjs", import.meta.url))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly millis: number
}

const run = (args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "ignore"] })
    let stdout = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.on("error", reject)
    child.on("exit", (code) => resolve({ code, stdout, millis: performance.now() - started }))
    child.stdin.end(stdin ?? "")
  })

/** A CLI start-up row and its aim on the median (none for the `node -e 0` baseline). */
export interface CliBenchRow {
  readonly name: string
  readonly samples: ReadonlyArray<number>
  /** Aim: median ≤ this many times the baseline's median of the same run (none for the baseline). */
  readonly timesBaseline?: number
}

/** Start-up rows; `env` reaches the private Secret Service, `dataDir` is an empty temp folder. */
export const benchCli = async (options: {
  readonly env: Record<string, string>
  readonly dataDir: string
  readonly samples: number
  readonly progress: (text: string) => void
}): Promise<ReadonlyArray<CliBenchRow>> => {
  await buildCli()
  const cli = (...args: ReadonlyArray<string>) => [BIN, "--data-dir", options.dataDir, ...args]
  const added = await run(cli("add", "--provider", "openai", "--name", "Bench", "--api-key-stdin"), options.env, "sk-bench-cli-startup\n")
  if (added.code !== 0) throw new Error(`fishbowl-llm add failed with exit ${added.code}`)
  const commands = [
    { name: "node -e 0 (baseline)", args: ["-e", "0"] },
    { name: "fishbowl-llm --help", args: cli("--help"), timesBaseline: 2 },
    { name: "fishbowl-llm list", args: cli("list"), timesBaseline: 2.5 },
    { name: "fishbowl-llm key (stdout a pipe)", args: cli("key", "Bench"), timesBaseline: 3 }
  ]
  const samples = commands.map(() => [] as Array<number>)
  const warmup = 3
  for (let index = 0; index < options.samples + warmup; index++) {
    for (const [column, command] of commands.entries()) {
      const result = await run(command.args, options.env)
      if (result.code !== 0) throw new Error(`${command.name} failed with exit ${result.code}`)
      if (command.name.includes("key") && result.stdout !== "sk-bench-cli-startup\n") {
        throw new Error("fishbowl-llm key printed the wrong key")
      }
      if (index >= warmup) samples[column]!.push(result.millis)
    }
  }
  options.progress(`cli start-up: ${options.samples} samples per command`)
  return commands.map((command, column) => ({
    name: command.name,
    samples: samples[column]!,
    ...(command.timesBaseline !== undefined ? { timesBaseline: command.timesBaseline } : {})
  }))
}

/**
 * `node --import tsx bench/CliBench.ts [--n 30]`: only these rows (the full `npm run bench` includes
 * them), on their own private Secret Service.
 */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const index = process.argv.indexOf("--n")
  const samples = index > 0 ? Number(process.argv[index + 1]) : 30
  const handle = await SecretServiceHarness.startSecretService()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fishbowl-bench-cli-"))
  try {
    const loadStart = os.loadavg()
    const rows = await benchCli({
      env: { ...SecretServiceHarness.childEnv(handle.env), PATH: process.env["PATH"] ?? "" },
      dataDir,
      samples,
      progress: (text) => process.stderr.write(`[bench] ${text}\n`)
    })
    console.log(
      `node ${process.version}, ${os.cpus().length} cpus, load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} → ${
        os.loadavg().map((x) => x.toFixed(2)).join(" ")
      }`
    )
    const baseline = Stats.summarize(rows[0]!.samples).median
    console.log(Stats.renderTable([
      ["command (spawn to exit)", "n", "median", "p95", "max", "aim (median)", "verdict"],
      ...rows.map((row) => {
        const summary = Stats.summarize(row.samples)
        const limit = row.timesBaseline === undefined ? undefined : row.timesBaseline * baseline
        return [
          row.name,
          String(summary.n),
          Stats.fmt(summary.median),
          Stats.fmt(summary.p95),
          Stats.fmt(summary.max),
          limit !== undefined ? `≤ ${row.timesBaseline}× node = ${Stats.fmt(limit)}` : "",
          limit === undefined ? "" : summary.median <= limit ? "PASS" : "MISS"
        ]
      })
    ]))
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
    await handle.stop()
  }
}
