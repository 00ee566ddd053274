/**
 * Entry point of the bundled bin (dist/cli/fishbowl-llm.mjs). Sets the exit code and lets the
 * process end on its own once every keychain call is answered: gnome-keyring 42 can abort when
 * a client vanishes mid-request, so neither a result nor Ctrl-C exits while a D-Bus call is open.
 */
import { runCli } from "./fishbowl-llm.ts"
import { ExitCode } from "./ExitCodes.ts"
import { pendingCalls, settled } from "./InProcessKeytar.ts"

/** A signal while a keychain call is open waits for its answer, then exits 128 + signal. */
const onSignal = (code: number) => () => {
  if (pendingCalls() === 0) process.exit(code)
  void settled().then(() => process.exit(code))
}
process.on("SIGINT", onSignal(ExitCode.cancelled))
process.on("SIGTERM", onSignal(143))
// A closed pipe on stdout/stderr (`fishbowl-llm list | head -1`) is not an error worth a trace.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined)

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env
})
await settled()
if (code === ExitCode.hangUp) {
  // The terminal is gone: Node's exit path would try to restore its modes and abort (SIGABRT,
  // with a core holding whatever was typed). Die by the hang-up signal itself instead.
  process.removeAllListeners("SIGHUP")
  process.kill(process.pid, "SIGHUP")
}
process.exitCode = code
