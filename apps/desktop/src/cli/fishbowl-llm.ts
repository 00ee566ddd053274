/**
 * fishbowl-llm: the headless face of the same store the desktop app uses (same keychain entries,
 * same preferences.json). Keys enter only through stdin or a no-echo prompt and leave only through
 * `key`, which refuses to print to a terminal unless asked.
 */
import {
  ConfigId,
  CrashPoints,
  decodeInput,
  type FishbowlError,
  Internal,
  InvalidInput,
  isFishbowlError,
  type LlmConfig,
  LlmConfigInput,
  LlmConfigPatch,
  LlmConfigStore,
  NotFound,
  nameKey,
  providers,
  withBudget,
  Diagnostics
} from "@fishbowl/domain"
import {
  currentDataDir,
  DesktopLayer,
  Migration,
  secretBackendFromEnv,
  type DesktopServices
} from "@fishbowl/desktop-layer"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Redacted, Schema } from "effect"
import type { Readable, Writable } from "node:stream"
import { parseArgs } from "node:util"
import { ExitCode, exitCodeFor } from "./ExitCodes.ts"
import { renderMigrateReport } from "./MigrateReport.ts"
import { promptHidden, readSecretFromStdin } from "./Prompt.ts"

export interface CliIo {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown }
  readonly stdout: Writable & { isTTY?: boolean }
  readonly stderr: Writable
  readonly env: Readonly<Record<string, string | undefined>>
}

const usage = `Usage: fishbowl-llm <command> [options]

Commands:
  providers [--json]                       List the providers you can configure
  list [--json]                            List configurations (never shows keys)
  show <id|name> [--json]                  Show one configuration
  add --provider <id> --name <name> [--base-url <url>] [--no-auth-header] [--api-key-stdin] [--json]
  update <id|name> [--name <name>] [--base-url <url>] [--api-key-stdin] [--json]
  remove <id|name>
  key <id|name> [--reveal]                 Print the key for piping: export OPENAI_API_KEY=$(fishbowl-llm key Work)
  doctor [--probe] [--json]                Diagnose keychain and storage (--probe writes a test entry)
  migrate [--from <dir>] [--json]          Import older Fishbowl configurations

Global options:
  --data-dir <dir>                         Data folder (else FISHBOWL_DATA_DIR, else the OS default)
  FISHBOWL_SECRET_BACKEND=keychain|safe-storage|session forces where keys are kept.
`

class UsageError extends Error {}

const options = {
  json: { type: "boolean" },
  "data-dir": { type: "string" },
  provider: { type: "string" },
  name: { type: "string" },
  "base-url": { type: "string" },
  "no-auth-header": { type: "boolean" },
  "api-key-stdin": { type: "boolean" },
  reveal: { type: "boolean" },
  probe: { type: "boolean" },
  from: { type: "string" },
  help: { type: "boolean", short: "h" }
} as const

/** Budget of one CLI operation: generous (it includes starting the keychain worker), configurable. */
const cliBudgetMillis = (env: CliIo["env"]) => {
  const parsed = Number(env["FISHBOWL_CLI_TIMEOUT_MS"])
  return Number.isFinite(parsed) && parsed > 0 ? parsed : 15_000
}

const isConfigId = Schema.is(ConfigId)

/** Finds a configuration by id or (case-insensitive) name. */
const resolveConfig = (reference: string) =>
  Effect.gen(function*() {
    const store = yield* LlmConfigStore
    const configs = yield* store.list
    const found = isConfigId(reference)
      ? configs.find((config) => config.id === reference)
      : configs.find((config) => nameKey(config.name) === nameKey(reference))
    if (found === undefined) {
      return yield* new NotFound({
        id: reference,
        message: `No configuration named or with id "${reference}"`,
        hint: "Run `fishbowl-llm list` to see the configurations."
      })
    }
    return found
  })

const formatTable = (configs: ReadonlyArray<LlmConfig>) => {
  const rows = [["NAME", "PROVIDER", "BASE URL", "KEY", "ID"], ...configs.map((config) => [
    config.name,
    config.provider,
    config.baseUrl ?? "(default)",
    config.hasKey ? "stored" : "none",
    config.id
  ])]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n") + "\n"
}

const formatConfig = (config: LlmConfig) =>
  [
    `id:          ${config.id}`,
    `name:        ${config.name}`,
    `provider:    ${config.provider}`,
    `base URL:    ${config.baseUrl ?? "(provider default)"}`,
    `auth header: ${config.useAuthHeader ? "yes" : "no"}`,
    `key:         ${config.hasKey ? "stored in the keychain" : "none"}`,
    `created:     ${config.createdAt}`,
    `updated:     ${config.updatedAt}`
  ].join("\n") + "\n"

export const runCli = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const write = (text: string) => io.stdout.write(text)
  let json = argv.includes("--json")
  const fail = (error: FishbowlError | { _tag: string; message: string; hint: string }, code: number) => {
    if (json) io.stderr.write(JSON.stringify({ error: { _tag: error._tag, message: error.message, hint: error.hint } }) + "\n")
    else io.stderr.write(`error: ${error.message}\nhint: ${error.hint}\n`)
    return code
  }

  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; args: Array<string> }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (error) {
    return fail({ _tag: "InvalidInput", message: (error as Error).message, hint: "Run `fishbowl-llm --help`." }, ExitCode.usage)
  }
  const { values, positionals } = parsed
  json = values.json === true
  const [command, ...rest] = positionals
  if (values.help === true || command === undefined || command === "help") {
    write(usage)
    return command === undefined && values.help !== true ? ExitCode.usage : ExitCode.ok
  }

  const needsReference = () => {
    if (rest[0] === undefined) throw new UsageError(`${command} needs a configuration id or name`)
    return rest[0]
  }

  const readKey = async (required: boolean): Promise<string | undefined> => {
    if (values["api-key-stdin"] === true) return readSecretFromStdin(io.stdin)
    if (io.stdin.isTTY === true) {
      const key = await promptHidden("API key (input hidden): ", io.stdin, io.stderr)
      return key === "" && !required ? undefined : key
    }
    if (required) throw new UsageError("No API key given: pipe it in with --api-key-stdin, or run in a terminal to be prompted")
    return undefined
  }

  if (command === "providers") {
    if (json) write(JSON.stringify(providers, null, 2) + "\n")
    else {
      for (const provider of providers) {
        write(`${provider.id.padEnd(18)} ${provider.displayName.padEnd(20)} ${provider.requiresApiKey ? "key required" : "no key needed"}  ${provider.defaultBaseUrl ?? ""}\n`)
      }
    }
    return ExitCode.ok
  }

  // The CLI never falls back silently: without a keychain it fails unless a tier is forced.
  let backend
  try {
    const preference = secretBackendFromEnv(io.env)
    backend = preference === "auto" ? "keychain" as const : preference
  } catch (error) {
    return fail({ _tag: "InvalidInput", message: (error as Error).message, hint: "Unset FISHBOWL_SECRET_BACKEND or fix its value." }, ExitCode.usage)
  }
  const dataDir = await Effect.runPromise(currentDataDir({ explicit: values["data-dir"] }))
  const runtime = ManagedRuntime.make(DesktopLayer.layer({ dataDir, secretBackend: backend }) as Layer.Layer<DesktopServices>)
  const budget = cliBudgetMillis(io.env)

  const run = async <A>(program: Effect.Effect<A, FishbowlError, DesktopServices>): Promise<Exit.Exit<A, FishbowlError>> =>
    runtime.runPromiseExit(
      Effect.gen(function*() {
        const store = yield* LlmConfigStore
        yield* store.recover()
        return yield* program
      }).pipe(withBudget(command, budget))
    )

  const report = <A>(exit: Exit.Exit<A, FishbowlError>, onSuccess: (value: A) => void): number => {
    if (Exit.isSuccess(exit)) {
      onSuccess(exit.value)
      return ExitCode.ok
    }
    const failure = Cause.findErrorOption(exit.cause)
    if (Option.isSome(failure) && isFishbowlError(failure.value)) return fail(failure.value, exitCodeFor(failure.value._tag))
    return fail(new Internal({ message: "Unexpected failure", hint: "Run `fishbowl-llm doctor` and try again." }), ExitCode.unexpected)
  }

  try {
    switch (command) {
      case "list":
        return report(await run(LlmConfigStore.use((store) => store.list)), (configs) =>
          write(json ? JSON.stringify(configs, null, 2) + "\n" : configs.length === 0 ? "No configurations yet. Add one with `fishbowl-llm add`.\n" : formatTable(configs)))
      case "show": {
        const reference = needsReference()
        return report(await run(resolveConfig(reference)), (config) =>
          write(json ? JSON.stringify(config, null, 2) + "\n" : formatConfig(config)))
      }
      case "add": {
        if (values.provider === undefined || values.name === undefined) throw new UsageError("add needs --provider and --name")
        const provider = providers.find((candidate) => candidate.id === values.provider)
        const keyText = await readKey(provider?.requiresApiKey ?? true)
        const exit = await run(Effect.gen(function*() {
          const input = yield* decodeInput(LlmConfigInput, "configuration")({
            provider: values.provider,
            name: values.name,
            ...(values["base-url"] !== undefined ? { baseUrl: values["base-url"] } : {}),
            ...(values["no-auth-header"] === true ? { useAuthHeader: false } : {}),
            ...(keyText !== undefined ? { apiKey: keyText } : {})
          })
          return yield* (yield* LlmConfigStore).create(input)
        }))
        return report(exit, (config) => write(json ? JSON.stringify(config, null, 2) + "\n" : `Added "${config.name}" (${config.id})\n`))
      }
      case "update": {
        const reference = needsReference()
        const keyText = values["api-key-stdin"] === true ? await readKey(true) : undefined
        const exit = await run(Effect.gen(function*() {
          const config = yield* resolveConfig(reference)
          const patch = yield* decodeInput(LlmConfigPatch, "update")({
            ...(values.name !== undefined ? { name: values.name } : {}),
            ...(values["base-url"] !== undefined ? { baseUrl: values["base-url"] === "" ? null : values["base-url"] } : {}),
            ...(keyText !== undefined ? { apiKey: keyText } : {})
          })
          return yield* (yield* LlmConfigStore).update(config.id, patch)
        }))
        return report(exit, (config) => write(json ? JSON.stringify(config, null, 2) + "\n" : `Updated "${config.name}"\n`))
      }
      case "remove": {
        const reference = needsReference()
        const exit = await run(Effect.gen(function*() {
          const config = yield* resolveConfig(reference)
          yield* (yield* LlmConfigStore).remove(config.id)
          return config
        }))
        return report(exit, (config) => write(json ? JSON.stringify({ removed: config.id }) + "\n" : `Removed "${config.name}"\n`))
      }
      case "key": {
        const reference = needsReference()
        if (io.stdout.isTTY === true && values.reveal !== true) {
          throw new UsageError("Refusing to print a key to a terminal; pipe it (e.g. $(fishbowl-llm key Work)) or add --reveal")
        }
        const exit = await run(Effect.gen(function*() {
          const config = yield* resolveConfig(reference)
          return yield* (yield* LlmConfigStore).getApiKey(config.id)
        }))
        return report(exit, (key) => write(`${Redacted.value(key)}\n`))
      }
      case "doctor": {
        const exit = await run(Diagnostics.use((diagnostics) => diagnostics.diagnose({ probe: values.probe === true })))
        let code: number = ExitCode.ok
        const result = report(exit, (report) => {
          if (json) write(JSON.stringify(report, null, 2) + "\n")
          else {
            write(`tier:       ${report.tier} (${report.backend})\nsecure:     ${report.secure ? "yes" : "no"}\npersistent: ${report.persistent ? "yes" : "no"}\ndata dir:   ${report.dataDir}\n\n`)
            for (const finding of report.findings) {
              write(`[${finding.severity.padEnd(7)}] ${finding.message}\n${finding.hint !== undefined ? `          fix: ${finding.hint}\n` : ""}`)
            }
          }
          if (report.findings.some((finding) => finding.severity === "error")) code = ExitCode.unavailable
        })
        return result === ExitCode.ok ? code : result
      }
      case "migrate": {
        // No recover first: a legacy preferences.json makes the store refuse every call until it
        // is migrated. The CLI has no safeStorage, so secure_keys.json entries are reported as
        // skipped unless test_secure_keys.json holds them in plain text.
        const exit = await runtime.runPromiseExit(
          Migration.migrateNode(values.from !== undefined ? { from: values.from } : {}).pipe(
            Effect.provide(CrashPoints.layer),
            withBudget(command, Math.max(budget, 60_000))
          )
        )
        let code: number = ExitCode.ok
        const result = report(exit, (migration) => {
          const rendered = renderMigrateReport(migration, { json })
          write(rendered.stdout)
          io.stderr.write(rendered.stderr)
          code = rendered.exitCode
        })
        return result === ExitCode.ok ? code : result
      }
      default:
        throw new UsageError(`Unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      return fail(new InvalidInput({ field: "arguments", message: error.message, hint: "Run `fishbowl-llm --help`." }), ExitCode.usage)
    }
    return fail(new Internal({ message: "Unexpected failure", hint: "Run `fishbowl-llm doctor` and try again." }), ExitCode.unexpected)
  } finally {
    await runtime.dispose()
  }
}
