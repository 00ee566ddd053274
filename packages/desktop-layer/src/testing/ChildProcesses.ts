/**
 * Running a test's child process to completion: the CLI, a store child that kills itself at a
 * crash point, the canary "main process". Input goes only through stdin (keys never in argv or
 * env), every byte of output is kept, and a hang fails the test instead of the CI run.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url))

/** `store-child.ts <dataDir> <command>`: one LlmConfigStore operation in its own process (kill -9 tests). */
export const STORE_CHILD = fileURLToPath(new URL("./store-child.ts", import.meta.url))

/** `preferences-child.ts <dataDir> <command>`: preferences.json writers in their own process (lock tests). */
export const PREFERENCES_CHILD = fileURLToPath(new URL("./preferences-child.ts", import.meta.url))

export interface ProcessResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * How long a child may run before it counts as hung. Children here run for a second or two on a
 * quiet machine; the bound is far above that so a loaded machine is never mistaken for a hang.
 */
export const CHILD_HANG_MILLIS = 120_000

/**
 * Runs `command` with `stdin` as its whole input (or, with `stdinOpen`, with stdin left open, so a
 * child that waits for input hangs); rejects if it runs longer than the timeout (a hang catcher,
 * `CHILD_HANG_MILLIS` by default).
 */
export const runChild = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly stdin?: string; readonly stdinOpen?: boolean; readonly timeoutMillis?: number }
) =>
  new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: options.env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${args.join(" ")} hung; stderr: ${stderr}`))
    }, options.timeoutMillis ?? CHILD_HANG_MILLIS)
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin.on("error", () => {}) // a crash child may die before reading it all
    if (options.stdinOpen !== true) child.stdin.end(options.stdin ?? "")
  })
