/**
 * Child processes of the canary suite: the "main process" (with its keychain-fault protocol), the
 * fishbowl-llm CLI and the kill -9 store child. Keys only ever go to a child's stdin. Every line a
 * child prints is kept, so the suite can search it.
 */
import { ChildProcesses, type SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Protocol from "./Protocol.ts"

const MAIN_PROCESS = fileURLToPath(new URL("./main-process.ts", import.meta.url))
const CLI = fileURLToPath(new URL("../../../bin/fishbowl-llm.mjs", import.meta.url))

export const runCli = (dataDir: string, args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string) =>
  ChildProcesses.runChild(process.execPath, [CLI, "--data-dir", dataDir, ...args], { env, ...(stdin !== undefined ? { stdin } : {}) })

export const runStoreChild = (dataDir: string, args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string) =>
  ChildProcesses.runChild(process.execPath, ["--import", "tsx", ChildProcesses.STORE_CHILD, dataDir, ...args], {
    env,
    ...(stdin !== undefined ? { stdin } : {})
  })

/** The main-process child's kill timer: far above its run (~10 s here, quiet), so only a hang trips it. */
export const MAIN_PROCESS_HANG_MILLIS = 300_000

export interface MainProcessRun {
  readonly outputs: Protocol.ChildOutputs
  readonly consoleLines: ReadonlyArray<string>
  readonly actions: ReadonlyArray<Protocol.KeychainAction>
  readonly millis: number
}

/**
 * Runs main-process.ts with `--expose-gc`, hands it the keys on stdin and carries out its
 * keychain requests on the harness.
 */
export const runMainProcess = (options: {
  readonly dataDir: string
  readonly outDir: string
  readonly env: Record<string, string>
  readonly keys: { readonly canary: string; readonly canary2: string }
  readonly secretService: SecretServiceHarness.SecretServiceHandle
  readonly timeoutMillis?: number
}) =>
  new Promise<MainProcessRun>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", MAIN_PROCESS, options.dataDir, options.outDir], {
      cwd: ChildProcesses.REPO_ROOT,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"]
    })
    const consoleLines: Array<string> = []
    const actions: Array<Protocol.KeychainAction> = []
    let outputs: Protocol.ChildOutputs | undefined
    let failure: Error | undefined
    const act = async (n: string, action: Protocol.KeychainAction) => {
      try {
        if (action === "lock") await options.secretService.lock()
        else if (action === "unlock") await options.secretService.unlock()
        else if (action === "kill-daemon") await options.secretService.killDaemon()
        else await options.secretService.restartDaemon()
        actions.push(action)
        child.stdin.write(`ACK ${n}\n`)
      } catch (error) {
        failure = error as Error
        child.kill("SIGKILL")
      }
    }
    let buffered = ""
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8")
      for (let index = buffered.indexOf("\n"); index >= 0; index = buffered.indexOf("\n")) {
        const line = buffered.slice(0, index)
        buffered = buffered.slice(index + 1)
        if (!line.startsWith(Protocol.PROTOCOL_PREFIX)) {
          consoleLines.push(line)
          continue
        }
        const [kind, n, action] = line.slice(Protocol.PROTOCOL_PREFIX.length).split(" ")
        if (kind === "REQ") void act(n!, action as Protocol.KeychainAction)
        else if (kind === "DONE") outputs = JSON.parse(line.slice(Protocol.PROTOCOL_PREFIX.length + "DONE ".length))
      }
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    // Only catches a hang: the run takes seconds on a quiet machine (its own steps wait for
    // events, not for time), and a loaded one must never be mistaken for a hung child.
    const hangMillis = options.timeoutMillis ?? MAIN_PROCESS_HANG_MILLIS
    const timer = setTimeout(() => {
      failure = new Error(`main-process did not finish within ${hangMillis} ms`)
      child.kill("SIGKILL")
    }, hangMillis)
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      if (buffered !== "") consoleLines.push(buffered)
      consoleLines.push(...stderr.split("\n").filter((line) => line !== ""))
      if (failure !== undefined || outputs === undefined || code !== 0) {
        reject(new Error(`main-process failed (code ${code}, signal ${signal}): ${failure?.message ?? ""}\n${stderr}`))
        return
      }
      resolve({ outputs, consoleLines, actions, millis: performance.now() - started })
    })
    child.stdin.on("error", () => {})
    child.stdin.write(`${JSON.stringify(options.keys)}\n`)
  })
