/**
 * Entry point of the bundled bin (dist/cli/fishbowl-llm.mjs). Sets the exit code and lets the
 * process end on its own once every keychain call is answered: gnome-keyring 42 can abort when
 * a client vanishes mid-request, so neither a result nor Ctrl-C exits while a D-Bus call is open.
 */
import { Writable } from "node:stream"
import * as Cli from "./Cli.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as KeychainCalls from "./KeychainCalls.ts"

/**
 * After a hang-up Node's own exit path aborts (SIGABRT, or SIGSEGV on Node 20) restoring the
 * modes of a terminal that no longer exists — with a core that may hold what was typed. So the
 * process ends the way a hung-up program should: killed by SIGHUP, with the default action.
 */
const dieOfHangUp = () => {
  process.removeAllListeners("SIGHUP")
  process.kill(process.pid, "SIGHUP")
}

/** Set by the first SIGINT/SIGTERM: the exit code the process ends with. */
let signalled: number | undefined
const controller = new AbortController()

/**
 * Ctrl-C or SIGTERM interrupts the command (nothing more is printed) — but the process still
 * ends only once every keychain call is answered: main awaits {@link KeychainCalls.settled} before returning.
 */
const onSignal = (code: number) => () => {
  signalled ??= code
  controller.abort()
}

/** Signal and stream handlers of the one-shot process; installed by {@link main}. */
const install = () => {
  process.on("SIGINT", onSignal(ExitCodes.ExitCode.cancelled))
  process.on("SIGTERM", onSignal(143))
  process.on("SIGHUP", () => void KeychainCalls.settled().then(dieOfHangUp))
  // A closed pipe on stdout/stderr (`fishbowl-llm list | head -1`), or a terminal gone, is not
  // an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined)
}

/**
 * The top-level `--help` exactly as it prints to a pipe (`colors` false) or to a terminal (true);
 * it depends on nothing else (not the terminal's width, not the environment). The build stores
 * both, and the bin prints them for a bare `fishbowl-llm --help` without loading this bundle.
 */
export const renderHelp = async (colors: boolean): Promise<string> => {
  let text = ""
  const sink = Object.assign(
    new Writable({
      write: (chunk, _encoding, done) => {
        text += String(chunk)
        done()
      }
    }),
    { isTTY: colors }
  )
  const code = await Cli.runCli(["--help"], {
    stdin: process.stdin,
    stdout: sink,
    stderr: process.stderr,
    env: colors ? {} : { NO_COLOR: "1" }
  })
  if (code !== ExitCodes.ExitCode.ok) throw new Error(`--help exited ${code}`)
  return text
}

/** Runs the command line; exported so the bin can run this bundle as CommonJS (with a code cache). */
export const main = async (): Promise<void> => {
  install()
  const code = await Cli.runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env
  }, { signal: controller.signal })
  await KeychainCalls.settled()
  if (code === ExitCodes.ExitCode.hangUp) dieOfHangUp()
  process.exitCode = signalled ?? code
}
