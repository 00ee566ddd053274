/**
 * fishbowl-llm: the headless face of the same store the desktop app uses (same keychain entries,
 * same preferences.json). Keys enter only through stdin or a no-echo prompt and leave only through
 * `key`, which refuses to print to a terminal unless asked.
 *
 * This file runs the effect/cli command tree and owns the streams: stdout carries only a
 * command's result (or the help/version/completion text asked for); usage errors, failures,
 * prompts and every log line go to stderr.
 */
import { Errors } from "@fishbowl/domain"
import { Cause, Console, Effect, Exit, FileSystem, Layer, Logger, Option, Path, References, Terminal } from "effect"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import { ChildProcessSpawner } from "effect/process"
import * as CliIo from "./CliIo.ts"
import * as Commands from "./Commands.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as Messages from "./Messages.ts"
import * as Text from "./Text.ts"

export type CliStreams = CliIo.CliIo["Service"]

/** The subcommand and its first positional argument, for hints ("… update Work --api-key-stdin"). */
const invocation = (argv: ReadonlyArray<string>) => {
  const positionals: Array<string> = []
  let command: string | undefined
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!
    if (arg === "--") {
      positionals.push(...argv.slice(index + 1))
      break
    }
    if (arg.startsWith("-")) {
      if (Commands.takesValue(command ?? "", arg)) index++
      continue
    }
    positionals.push(arg)
    if (command === undefined && Commands.subcommandNames.has(arg)) command = arg
  }
  const reference = command !== undefined ? positionals[positionals.indexOf(command) + 1] : undefined
  return { command: command ?? "", reference }
}

const helpOf = (path: ReadonlyArray<string>) => `fishbowl-llm ${[...path.slice(1), "--help"].join(" ")}`

const option = (name: string) => Text.printable(name.startsWith("-") ? name : `--${name}`, 40)

/**
 * `--api-key VALUE`: refused (nothing ran, the value is never echoed), with the flag that works
 * and a warning: the shell has already written the key into its history.
 */
const keyOnCommandLine = (command: string): Messages.CliProblem => ({
  _tag: "InvalidInput",
  message: "a key never goes on the command line: there is no --api-key, nothing was changed",
  hint: `Run it again with --api-key-stdin in place of --api-key and its value, and pipe the key in (e.g. \`${
    command === "update"
      ? "printenv OPENAI_API_KEY | fishbowl-llm update Work --api-key-stdin"
      : "printenv OPENAI_API_KEY | fishbowl-llm add --provider openai --name Work --api-key-stdin"
  }\`), or leave it out to be prompted. `
    + "The key you typed is now in your shell history: delete that line (bash: `history -d <number>`) and, if others can read your history, revoke the key at the provider."
})

/** One parse error in words for a terminal. Never echoes an extra argument: it may be a pasted key. */
const describeParseError = (error: CliError.CliError, path: ReadonlyArray<string>): Messages.CliProblem => {
  const command = path.length > 1 ? path.slice(1).join(" ") : "fishbowl-llm"
  const help = `Run \`${helpOf(path)}\` to see what it accepts.`
  const problem = (message: string, hint = help): Messages.CliProblem => ({ _tag: "InvalidInput", message, hint })
  switch (error._tag) {
    case "UnrecognizedOption": {
      if (command === "update" && /^--provider(=|$)/.test(error.option)) {
        return problem(
          "update cannot change a configuration's provider",
          "Add a new configuration with `fishbowl-llm add --provider <id> --name <name>`, then remove the old one."
        )
      }
      if (/^--api-key(=|$)/.test(error.option)) return keyOnCommandLine(command)
      const suggestions = error.suggestions.map(option)
      return problem(
        `unknown option ${option(error.option.split("=")[0]!)} for ${command}`,
        suggestions.length > 0 ? `Did you mean ${suggestions.join(" or ")}? ${help}` : help
      )
    }
    case "UnexpectedArgument":
      return problem(
        `${command} got ${
          error.arguments.length === 1 ? "an unexpected extra argument" : `${error.arguments.length} unexpected extra arguments`
        }`,
        `Quote names that contain spaces. A key never goes on the command line: use --api-key-stdin or the prompt. ${help}`
      )
    case "MissingOption":
      return problem(`${command} needs ${option(error.option)}`)
    case "MissingArgument":
      return problem(
        `${command} needs <${Text.printable(error.argument, 40)}>${error.argument === "config" ? " (a configuration's name or id)" : ""}`
      )
    case "InvalidValue":
      return problem(
        `invalid value ${JSON.stringify(Text.printable(error.value, 40))} for ${
          error.kind === "flag" ? option(error.option) : `<${Text.printable(error.option, 40)}>`
        }: expected ${error.expected}`
      )
    case "UnknownSubcommand": {
      const suggestions = error.suggestions.map((name) => Text.printable(name, 40))
      return problem(
        `unknown command ${JSON.stringify(Text.printable(error.subcommand, 40))}`,
        suggestions.length > 0
          ? `Did you mean ${suggestions.join(" or ")}? Run \`fishbowl-llm --help\` for the commands.`
          : "Run `fishbowl-llm --help` for the commands."
      )
    }
    case "ValidationError":
      return problem(error.message)
    default:
      return problem(`invalid command line (${error._tag})`)
  }
}

/** Effect's services the command runner needs; nothing here is used by our commands. */
const environment = (io: CliStreams) =>
  Layer.mergeAll(
    FileSystem.layerNoop({}),
    Path.layer,
    Layer.succeed(
      Terminal.Terminal,
      Terminal.make({
        columns: Effect.sync(() => (io.stdout as { columns?: number }).columns ?? 100),
        rows: Effect.succeed(24),
        readInput: Effect.die("fishbowl-llm reads keys with its own prompt"),
        readLine: Effect.die("fishbowl-llm reads keys with its own prompt"),
        display: (text) => Effect.sync(() => void io.stderr.write(text))
      })
    ),
    Layer.succeed(
      ChildProcessSpawner.ChildProcessSpawner,
      ChildProcessSpawner.make(() => Effect.die("fishbowl-llm starts no processes through effect/cli"))
    )
  )

/** Log lines (store warnings) go to stderr as `warning: …`; below Warn, nowhere. */
const stderrLogger = (io: CliStreams) =>
  Logger.make(({ logLevel, message }) => {
    const parts = (Array.isArray(message) ? message : [message]).map((part) => typeof part === "string" ? part : String(part))
    const label = logLevel === "Warn" ? "warning" : logLevel === "Fatal" ? "error" : logLevel.toLowerCase()
    io.stderr.write(`${label}: ${parts.join(" ")}\n`)
  })

/** What the CLI reports for a failure that is not a domain error (a defect, a bug): exit 1. */
const unexpected = new Errors.Internal({ message: "Unexpected failure", hint: "Run `fishbowl-llm doctor` and try again." })

/** Runs one command line; `signal` (Ctrl-C) interrupts it, which reads as "cancelled" (130). */
export const runCli = async (
  argv: ReadonlyArray<string>,
  io: CliStreams,
  options?: { readonly signal?: AbortSignal }
): Promise<number> => {
  const json = argv.includes("--json")
  // The last line of defence: whatever a message quotes (a path from the environment, say), a
  // terminal never receives an escape sequence from it.
  const fail = (problem: Messages.CliProblem, code: number) => {
    const message = Text.escapeControls(problem.message)
    const hint = Text.escapeControls(problem.hint)
    io.stderr.write(
      json
        ? JSON.stringify({
          error: { _tag: problem._tag, ...(problem.reason !== undefined ? { reason: problem.reason } : {}), message, hint }
        }) + "\n"
        : `error: ${message}\nhint: ${hint}\n`
    )
    return code
  }
  // What effect/cli prints itself (help, version, completion scripts): stdout on success only.
  const printed: Array<string> = []
  const console: Console.Console = Object.assign(Object.create(globalThis.console) as Console.Console, {
    log: (...parts: ReadonlyArray<unknown>) => void printed.push(parts.map(String).join(" ")),
    info: (...parts: ReadonlyArray<unknown>) => void io.stderr.write(parts.map(String).join(" ") + "\n"),
    warn: (...parts: ReadonlyArray<unknown>) => void io.stderr.write(parts.map(String).join(" ") + "\n"),
    error: (...parts: ReadonlyArray<unknown>) => void io.stderr.write(parts.map(String).join(" ") + "\n"),
    debug: () => undefined
  })
  const colors = io.stdout.isTTY === true && io.env["NO_COLOR"] === undefined

  const program = Command.runWith(Commands.root, { version: Commands.VERSION, renderErrors: false })(argv).pipe(
    Effect.provideService(CliIo.CliIo, io),
    Effect.provideService(CliConfig.CliConfig, CliConfig.make({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })),
    Effect.provide(Layer.mergeAll(
      CliOutput.layer(CliOutput.defaultFormatter({ colors })),
      environment(io),
      Logger.layer([stderrLogger(io)])
    )),
    Effect.provideService(References.MinimumLogLevel, "Warn"),
    Effect.provideService(Logger.LogToStderr, true),
    Effect.provideService(Console.Console, console)
  )
  const exit = await Effect.runPromiseExit(
    program as Effect.Effect<void, unknown>,
    options?.signal !== undefined ? { signal: options.signal } : undefined
  )
  if (Exit.isSuccess(exit)) {
    if (printed.length > 0) io.stdout.write(printed.join("\n") + "\n")
    return ExitCodes.ExitCode.ok
  }
  if (Cause.hasInterruptsOnly(exit.cause)) {
    return fail({ _tag: "Cancelled", message: "cancelled", hint: "Nothing was changed." }, ExitCodes.ExitCode.cancelled)
  }
  const failure = Option.getOrUndefined(Cause.findErrorOption(exit.cause))
  if (CliError.isCliError(failure)) {
    if (failure._tag === "ShowHelp") {
      if (failure.errors.length === 0) {
        // `fishbowl-llm` alone: the usage, on stderr, as a usage error.
        io.stderr.write(printed.join("\n") + "\n")
        return ExitCodes.ExitCode.usage
      }
      return fail(describeParseError(failure.errors[0]!, failure.commandPath), ExitCodes.ExitCode.usage)
    }
    return fail(describeParseError(failure, ["fishbowl-llm"]), ExitCodes.ExitCode.usage)
  }
  if (failure instanceof ExitCodes.CliExit) {
    if (printed.length > 0) io.stdout.write(printed.join("\n") + "\n")
    return failure.problem !== undefined ? fail(failure.problem, failure.code) : failure.code
  }
  const error = Errors.fromCause(exit.cause, unexpected)
  return fail(Messages.problemOf(error, invocation(argv)), ExitCodes.exitCodeFor(error._tag))
}
