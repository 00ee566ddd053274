/**
 * The process's standard streams and environment as a service, so commands write results to
 * stdout and everything else to stderr through one place, and tests can run the CLI in-process.
 */
import { Context, Effect } from "effect"
import type { Writable } from "node:stream"
import * as ExitCodes from "./ExitCodes.ts"
import type * as Prompt from "./Prompt.ts"

export class CliIo extends Context.Service<CliIo, {
  readonly stdin: Prompt.TtyInput
  readonly stdout: Writable & { isTTY?: boolean }
  readonly stderr: Writable & { isTTY?: boolean }
  readonly env: Readonly<Record<string, string | undefined>>
}>()("@fishbowl/desktop/cli/CliIo") {}

/** Writes a result to stdout: the only thing stdout ever carries. */
export const out = (text: string) => CliIo.use((io) => Effect.sync(() => void io.stdout.write(text)))

/** Writes a note to stderr (prompts, progress, warnings). */
export const note = (text: string) => CliIo.use((io) => Effect.sync(() => void io.stderr.write(text)))

/** Writes `value` as indented JSON to stdout. */
export const json = (value: unknown) => out(JSON.stringify(value, null, 2) + "\n")

/** What a command renders before it is written: its stdout, its stderr notes and its exit code. */
export interface CommandOutput {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number
}

/** Writes a rendered command output and ends the command with its exit code. */
export const emit = (output: CommandOutput) =>
  Effect.gen(function*() {
    yield* out(output.stdout)
    if (output.stderr !== "") yield* note(output.stderr)
    if (output.exitCode !== ExitCodes.ExitCode.ok) return yield* new ExitCodes.CliExit({ code: output.exitCode })
  })
