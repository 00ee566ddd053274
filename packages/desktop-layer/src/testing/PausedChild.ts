/**
 * A store operation paused inside one of its steps, in its own process (store-child.ts `pause`):
 * the test waits for the child to say where it stopped, lets other processes act, then tells it to
 * go on and reads its outcome. Nothing is timed: each step waits for the event that ends it.
 */
import { spawn } from "node:child_process"
import * as readline from "node:readline"
import * as ChildProcesses from "./ChildProcesses.ts"

export interface PausedChild {
  /** Resolves with the point once the child has stopped there (rejects if it ended first). */
  readonly paused: Promise<string>
  /** Lets the child go on. */
  readonly resume: () => void
  /** The child's last JSON line and how it ended. */
  readonly done: Promise<
    { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly outcome: any; readonly stderr: string }
  >
}

/** Starts `store-child.ts <dataDir> pause <op> <point> [arg]`. */
export const start = (
  options: {
    readonly dataDir: string
    readonly op: string
    readonly point: string
    readonly arg?: string
    readonly env: Record<string, string>
  }
): PausedChild => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      ChildProcesses.STORE_CHILD,
      options.dataDir,
      "pause",
      options.op,
      options.point,
      ...(options.arg !== undefined ? [options.arg] : [])
    ],
    { cwd: ChildProcesses.REPO_ROOT, env: options.env, stdio: ["pipe", "pipe", "pipe"] }
  )
  let stderr = ""
  child.stderr.on("data", (chunk) => (stderr += chunk))
  child.stdin.on("error", () => {})
  const lines: Array<any> = []
  let onPaused: { resolve: (point: string) => void; reject: (error: Error) => void } | undefined
  const paused = new Promise<string>((resolve, reject) => (onPaused = { resolve, reject }))
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    const parsed = JSON.parse(line)
    lines.push(parsed)
    if (typeof parsed.paused === "string") onPaused?.resolve(parsed.paused)
  })
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; outcome: any; stderr: string }>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => {
      onPaused?.reject(
        new Error(`the child ended before pausing (code ${code}, signal ${signal}): ${JSON.stringify(lines.at(-1))} ${stderr}`)
      )
      resolve({ code, signal, outcome: lines.at(-1), stderr })
    })
  })
  return { paused, resume: () => child.stdin.end("go\n"), done }
}
