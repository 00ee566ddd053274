/**
 * The fishbowl-llm command tree on effect/cli: each command declares only its own flags and
 * arguments, so the parser itself refuses what does not belong (`list --reveal`,
 * `update --provider`, a pasted key as an extra argument).
 *
 * Handlers write results to stdout through {@link CliIo.out} and fail with a FishbowlError or a
 * {@link CliExit}; runCli (Cli.ts) turns failures into `error:`/`hint:` lines and exit codes.
 */
import { DataDir, DesktopLayer, Migration, SecretBackend } from "@fishbowl/desktop-layer"
import {
  BaseUrlRule,
  Budget,
  Canonical,
  ConfigCheck,
  Errors,
  Hints,
  Ids,
  LlmConfig,
  LlmConfigStore,
  PreferencesStore,
  Providers,
  Suggestions,
  UntrustedInput
} from "@fishbowl/domain"
import { Console, Effect, Layer, Option, Redacted, Schema } from "effect"
import { Argument, Command, Flag, GlobalFlag } from "effect/cli"
import * as CliIo from "./CliIo.ts"
import * as Completions from "./Completions.ts"
import * as ConfigNames from "./ConfigNames.ts"
import * as Doctor from "./Doctor.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as InProcessKeytar from "./InProcessKeytar.ts"
import * as MigrateReport from "./MigrateReport.ts"
import * as Notices from "./Notices.ts"
import * as Prompt from "./Prompt.ts"
import * as TestCommand from "./TestCommand.ts"
import * as Text from "./Text.ts"

export const VERSION = "0.1.0"

// ---------------------------------------------------------------------------------------------
// global flag and shared flags

/**
 * Flags that take a value, by the command that has them ("" for the global `--data-dir`): how
 * Cli finds the configuration a command line names (for its hints) without a second parser.
 * Filled by `valueFlag`, the one way this file makes a flag with a value.
 */
const flagsWithValues = new Map<string, Set<string>>()

const valueFlag = (command: string, name: string) => {
  const names = flagsWithValues.get(command) ?? new Set<string>()
  flagsWithValues.set(command, names.add(`--${name}`))
  return Flag.String(name)
}

/** Whether `flag` (as typed, e.g. `--name`) takes the next word as its value in `command` ("" before any). */
export const takesValue = (command: string, flag: string): boolean =>
  flagsWithValues.get("")?.has(flag) === true || flagsWithValues.get(command)?.has(flag) === true

/** `--data-dir` is accepted before or after the command name. */
export const DataDirFlag = GlobalFlag.Setting("data-dir")({
  flag: valueFlag("", "data-dir").pipe(
    Flag.withMetavar("dir"),
    Flag.withDescription("Data folder (else FISHBOWL_DATA_DIR, else the OS default, e.g. ~/.config/Fishbowl)"),
    Flag.optional
  )
})

const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of text"), Flag.withDefault(false))
const configArgument = Argument.String("config").pipe(
  Argument.withMetavar("name|id"),
  Argument.withDescription("Name (any case) or id of the configuration")
)
const allowInsecureHttp = Flag.Boolean("allow-insecure-http").pipe(
  Flag.withoutNegation,
  Flag.withDescription("Accept that the key goes over plain http to a private-network host (LAN, VPN); never to a public one"),
  Flag.withDefault(false)
)
const apiKeyStdin = Flag.Boolean("api-key-stdin").pipe(
  Flag.withoutNegation,
  Flag.withDescription("Read the key from standard input (a pipe); at a terminal, ask for it without echo"),
  Flag.withDefault(false)
)

// ---------------------------------------------------------------------------------------------
// running against the store

/** Budget of one CLI operation: generous (it includes the first keychain call), configurable. */
const budgetMillis = (env: Readonly<Record<string, string | undefined>>) => {
  const parsed = Number(env["FISHBOWL_CLI_TIMEOUT_MS"])
  return Number.isFinite(parsed) && parsed > 0 ? parsed : 15_000
}

/**
 * The desktop layers for this process: never a silent fallback, keytar in-process. Imported
 * statically: in the bundle a dynamic import() made esbuild wrap every module in a lazy
 * initialiser (and keep what tree-shaking drops), which cost `list` and `key` more than it saved
 * the commands that do not open the store.
 */
const storeLayer = Effect.gen(function*() {
  const io = yield* CliIo.CliIo
  const explicit = yield* DataDirFlag
  const preference = yield* Effect.try({
    try: () => SecretBackend.secretBackendFromEnv(io.env),
    catch: (error) =>
      ExitCodes.CliExit.usage(
        error instanceof Error ? error.message : "FISHBOWL_SECRET_BACKEND is not valid",
        "Unset FISHBOWL_SECRET_BACKEND, or set it to keychain or session."
      )
  })
  const dataDir = yield* DataDir.currentDataDir({ explicit: Option.getOrUndefined(explicit) })
  return {
    dataDir,
    layer: DesktopLayer.layer({
      dataDir,
      secretBackend: preference === "auto" ? "keychain" : preference,
      keytar: { spawn: InProcessKeytar.inProcessKeytar },
      // a command writes a few times at most: a write thread would cost it more than it saves
      writeThread: false
    }) as Layer.Layer<DesktopLayer.DesktopServices>
  }
})

/**
 * Runs `program` on the desktop layers. Unless `recover` is false, unfinished changes of
 * crashed processes are finished first, as the app does at start-up. `budget` bounds the store
 * work only: time spent at a prompt is the user's.
 */
const withStore = <A, E, R>(
  command: string,
  program: (
    tools: {
      readonly budget: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y | Errors.FishbowlError, Z>
      readonly dataDir: string
    }
  ) => Effect.Effect<A, E, R>,
  options?: { readonly recover?: boolean }
) =>
  Effect.gen(function*() {
    const io = yield* CliIo.CliIo
    const { dataDir, layer } = yield* storeLayer
    const millis = budgetMillis(io.env)
    const budget = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) =>
      effect.pipe(Budget.withBudget(command, millis)) as Effect.Effect<X, Y | Errors.FishbowlError, Z>
    return yield* Effect.gen(function*() {
      if (options?.recover !== false) yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.recover()))
      return yield* program({ budget, dataDir }).pipe(Effect.ensuring(printNotices))
    }).pipe(Effect.provide(layer))
  })

/**
 * What the store had to tell during this command (preferences.json restored from a backup, where
 * the damaged file went) as `warning:`/`hint:` lines on stderr: news, not a failure, so the exit
 * code stays the command's own.
 */
const printNotices = Effect.gen(function*() {
  const notices = (yield* PreferencesStore.PreferencesStore).notices
  if (notices === undefined) return
  const lines = Notices.noticeLines({ notices: yield* notices.current })
  if (lines.length > 0) yield* CliIo.note(lines.map((line) => `${line}\n`).join(""))
})

const isConfigId = Schema.is(Ids.ConfigId)

/** Finds a configuration by id or (case-insensitive) name. */
const resolveConfig = (reference: string) =>
  Effect.gen(function*() {
    const configs = yield* LlmConfigStore.LlmConfigStore.use((store) => store.list)
    const found = isConfigId(reference)
      ? configs.find((config) => config.id === reference)
      : configs.find((config) => Canonical.sameName(config.name, reference))
    if (found === undefined) {
      const suggestion = Suggestions.closest(reference, configs.map((config) => config.name), Canonical.nameKey)
      return yield* new Errors.NotFound({
        id: reference,
        reason: "config",
        message: `No configuration named "${Text.printable(reference)}"${Suggestions.didYouMean(suggestion && Text.printable(suggestion))}`,
        hint: "Run `fishbowl-llm list` to see the configurations."
      })
    }
    return found
  })

// ---------------------------------------------------------------------------------------------
// reading a key

/** Where a key comes from: the flag, and whether stdin is a terminal. */
const readKey = (options: { readonly fromStdin: boolean; readonly prompt: boolean }) =>
  Effect.gen(function*() {
    const io = yield* CliIo.CliIo
    const onTty = io.stdin.isTTY === true
    if (!onTty && !options.fromStdin) return Option.none<string>()
    if (onTty && !options.prompt && !options.fromStdin) return Option.none<string>()
    // Interruptible: a SIGINT from outside aborts the read, and the prompt restores the terminal.
    const input: Prompt.KeyInput = yield* Effect.promise((signal) =>
      onTty ? Prompt.readKeyHidden("API key (input hidden): ", io.stdin, io.stderr, signal) : Prompt.readKeyFromPipe(io.stdin, signal)
    )
    switch (input._tag) {
      case "Entered":
        return Option.some(input.value)
      case "Cancelled":
        return yield* new ExitCodes.CliExit({
          code: ExitCodes.ExitCode.cancelled,
          problem: { _tag: "Cancelled", message: "cancelled", hint: "Nothing was changed." }
        })
      case "HangUp":
        return yield* new ExitCodes.CliExit({ code: ExitCodes.ExitCode.hangUp })
      case "TooLong":
        return yield* ExitCodes.CliExit.usage(
          `The API key is longer than ${LlmConfig.MAX_API_KEY_BYTES} bytes; reading stopped there`,
          Hints.pasteOnlyTheKey
        )
      case "EndOfInput":
        return yield* ExitCodes.CliExit.usage(
          onTty ? "No API key was entered" : "No API key on standard input",
          onTty
            ? "Type or paste the key, then press Enter; Ctrl-C cancels."
            : "Pipe the key in, e.g. `printenv OPENAI_API_KEY | fishbowl-llm add … --api-key-stdin`."
        )
    }
  })

// ---------------------------------------------------------------------------------------------
// formatting

/** A URL in the form a stored one has (canonical href), to compare typed and default URLs. */
const canonicalUrl = (url: string) => {
  const check = BaseUrlRule.checkBaseUrl(url)
  return check._tag === "Ok" ? check.url.href : url
}

/** Where requests go, marked "(default)" when that is the provider's default, typed or not. */
const showUrl = (config: LlmConfig.LlmConfig) => {
  const fallback = Providers.findProvider(config.provider)?.defaultBaseUrl
  const url = config.baseUrl ?? fallback ?? "-"
  const isDefault = fallback !== undefined && canonicalUrl(url) === canonicalUrl(fallback)
  return url + (isDefault ? " (default)" : "") +
    (config.allowInsecureHttp === true && config.baseUrl?.startsWith("http:") ? " (plain http allowed)" : "")
}

/** Whether the key goes in the Authorization header: nothing is sent without a key. */
const authHeaderState = (config: LlmConfig.LlmConfig) => !config.hasKey ? "none (no key to send)" : config.useAuthHeader ? "yes" : "no"

/** Where the key is, truthfully: a session-only key is not saved, and one from an ended session is gone. */
const keyState = (config: LlmConfig.LlmConfig, long: boolean) => {
  if (config.hasKey) {
    if (config.keyStorage === "session") return long ? "in memory only, not saved: lost when this process ends" : "not saved"
    if (config.keyStorage === "encrypted-file") return long ? "stored in the encrypted key file" : "stored (file)"
    return long ? "stored in the keychain" : "stored"
  }
  if (config.keyStorage === "session") return long ? "not saved: it was kept only in memory by a session that has ended" : "not saved"
  return "none"
}

const configTable = (configs: ReadonlyArray<LlmConfig.LlmConfig>) =>
  Text.table(
    ["NAME", "PROVIDER", "BASE URL", "KEY", "ID"],
    configs.map((config) => [config.name, config.provider, showUrl(config), keyState(config, false), config.id])
  )

const configDetails = (config: LlmConfig.LlmConfig) =>
  [
    `id:          ${config.id}`,
    `name:        ${config.name}`,
    `provider:    ${config.provider}`,
    `base URL:    ${showUrl(config)}`,
    `auth header: ${authHeaderState(config)}`,
    `key:         ${keyState(config, true)}`,
    ...(config.lastCheck !== undefined
      ? [`last test:   ${config.lastCheck.checkedAt}: ${config.lastCheck.outcome._tag === "Ok" ? "ok" : config.lastCheck.outcome.message}`]
      : []),
    `created:     ${config.createdAt}`,
    `updated:     ${config.updatedAt}`
  ].join("\n") + "\n"

// ---------------------------------------------------------------------------------------------
// commands

const providersCommand = Command.make("providers", { json }, ({ json }) =>
  json
    ? CliIo.json(Providers.providers)
    : CliIo.out(Text.table(
      ["ID", "NAME", "KEY", "DEFAULT BASE URL"],
      Providers.providers.map((provider) => [
        provider.id,
        provider.displayName,
        provider.requiresApiKey ? "required" : "not needed",
        provider.defaultBaseUrl ?? (Providers.requiresBaseUrl(provider) ? "(none: --base-url required)" : "-")
      ])
    ))).pipe(
    Command.withDescription("List the providers you can configure, with their default base URLs"),
    Command.withExamples([{ command: "fishbowl-llm providers", description: "Show provider ids for `add --provider`" }])
  )

/**
 * Fishbowl's own configurations in the data folder that are not imported yet, as a note for
 * stderr (empty when there are none): otherwise an empty list reads as "my providers are gone".
 */
const unmigratedNote = (dataDir: string) =>
  Effect.gen(function*() {
    const files = yield* Migration.unmigratedFishbowlFiles(dataDir)
    if (files.length === 0) return ""
    return `note: Fishbowl's configurations in ${Text.escapeControls(dataDir)} (${files.join(", ")}) are not imported yet.\n` +
      `hint: Run \`${Text.escapeControls(Migration.rerunCommandOf(dataDir))}\` (or restart Fishbowl) to import them with their keys.\n`
  })

const listCommand = Command.make("list", { json }, ({ json }) =>
  withStore("list", ({ budget, dataDir }) =>
    Effect.gen(function*() {
      const configs = yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.list))
      const note = yield* unmigratedNote(dataDir)
      if (json) yield* CliIo.json(configs)
      else if (configs.length > 0) yield* CliIo.out(configTable(configs))
      else if (note === "") yield* CliIo.out("No configurations yet. Add one with `fishbowl-llm add --provider <id> --name <name>`.\n")
      else yield* CliIo.out("No configurations imported yet.\n")
      if (note !== "") yield* CliIo.note(note)
    }))).pipe(
    Command.withDescription("List the configurations (never shows keys)"),
    Command.withExamples([
      { command: "fishbowl-llm list" },
      { command: "fishbowl-llm list --json | jq -r '.[].name'", description: "Names only" }
    ])
  )

const showCommand = Command.make(
  "show",
  { config: configArgument, json },
  ({ config, json }) =>
    withStore(
      "show",
      ({ budget }) =>
        budget(resolveConfig(config)).pipe(Effect.flatMap((found) => json ? CliIo.json(found) : CliIo.out(configDetails(found))))
    )
).pipe(
  Command.withDescription("Show one configuration (never the key)"),
  Command.withExamples([{ command: "fishbowl-llm show Work" }, { command: "fishbowl-llm show Work --json" }])
)

const addCommand = Command.make("add", {
  provider: valueFlag("add", "provider").pipe(Flag.withMetavar("id"), Flag.withDescription("Provider id (see `fishbowl-llm providers`)")),
  name: valueFlag("add", "name").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription("A name for this configuration, unique regardless of case")
  ),
  baseUrl: valueFlag("add", "base-url").pipe(
    Flag.withMetavar("url"),
    Flag.withDescription(
      "Endpoint, if not the provider's default (https; plain http to this machine, or to a private network without a key or with --allow-insecure-http)"
    ),
    Flag.optional
  ),
  authHeader: Flag.Boolean("auth-header").pipe(
    Flag.withDescription("Send the key in the Authorization header (default; --no-auth-header to turn off)"),
    Flag.withDefault(true)
  ),
  allowInsecureHttp,
  apiKeyStdin,
  json
}, (flags) =>
  withStore("add", ({ budget }) =>
    Effect.gen(function*() {
      // Everything that does not need the key is checked before asking for it.
      const provider = Providers.findProvider(flags.provider)
      const candidate = {
        provider: flags.provider,
        name: flags.name,
        ...(Option.isSome(flags.baseUrl) ? { baseUrl: flags.baseUrl.value } : {}),
        ...(flags.authHeader ? {} : { useAuthHeader: false }),
        ...(flags.allowInsecureHttp ? { allowInsecureHttp: true } : {})
      }
      if (provider === undefined) {
        return yield* Providers.unknownProvider(Text.printable(flags.provider, 40))
      }
      yield* UntrustedInput.decodeInput(LlmConfig.LlmConfigInput, "configuration")(candidate)
      // Before the key prompt: the store refuses it too, but only after the user typed a key.
      if (Providers.requiresBaseUrl(provider) && Option.isNone(flags.baseUrl)) return yield* Providers.missingBaseUrl(provider)
      const existing = yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.list))
      const name = Schema.decodeSync(LlmConfig.ConfigName)(flags.name)
      if (existing.some((config) => Canonical.sameName(config.name, name))) {
        return yield* new Errors.Conflict({
          hint: "",
          message: `A configuration named "${Text.printable(name)}" already exists`,
          reason: "name-taken"
        })
      }
      // Keyless providers (ollama) are not asked; a piped key is still taken.
      const key = yield* readKey({ fromStdin: flags.apiKeyStdin, prompt: provider.requiresApiKey })
      if (provider.requiresApiKey && Option.isNone(key)) {
        return yield* new Errors.InvalidInput({
          field: "apiKey",
          hint: "",
          reason: "key-required",
          message: `${provider.displayName} needs an API key`
        })
      }
      const input = yield* UntrustedInput.decodeInput(LlmConfig.LlmConfigInput, "configuration")({
        ...candidate,
        ...(Option.isSome(key) ? { apiKey: key.value } : {})
      })
      const created = yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.create(input)))
      yield* flags.json ? CliIo.json(created) : CliIo.out(`Added "${created.name}" (${created.id})\n`)
    }))).pipe(
    Command.withDescription("Add a configuration; the key goes to the OS keychain, never to a file"),
    Command.withExamples([
      { command: "fishbowl-llm add --provider anthropic --name Personal", description: "Asks for the key without echo" },
      {
        command: "printenv OPENAI_API_KEY | fishbowl-llm add --provider openai --name Work --api-key-stdin",
        description: "Key from a pipe"
      },
      { command: "fishbowl-llm add --provider ollama --name Local", description: "Keyless provider: no key asked" },
      { command: "fishbowl-llm add --provider openai-compatible --name Proxy --base-url https://llm.example.com/v1" }
    ])
  )

const updateCommand = Command.make("update", {
  config: configArgument,
  name: valueFlag("update", "name").pipe(Flag.withMetavar("name"), Flag.withDescription("New name"), Flag.optional),
  baseUrl: valueFlag("update", "base-url").pipe(
    Flag.withMetavar("url"),
    Flag.withDescription("New endpoint; \"\" goes back to the provider's default. Changing it needs the key again"),
    Flag.optional
  ),
  authHeader: Flag.Boolean("auth-header").pipe(
    Flag.withDescription("Send the key in the Authorization header, or not (--no-auth-header)"),
    Flag.optional
  ),
  allowInsecureHttp: Flag.Boolean("allow-insecure-http").pipe(
    Flag.withDescription("Accept, or withdraw (--no-allow-insecure-http), sending the key over plain http to a private-network host"),
    Flag.optional
  ),
  apiKeyStdin: apiKeyStdin.pipe(
    Flag.withDescription("Replace the key: read it from standard input (a pipe); at a terminal, ask without echo")
  ),
  json
}, (flags) =>
  withStore("update", ({ budget }) =>
    Effect.gen(function*() {
      if (
        Option.isNone(flags.name) && Option.isNone(flags.baseUrl) && Option.isNone(flags.authHeader) &&
        Option.isNone(flags.allowInsecureHttp) && !flags.apiKeyStdin
      ) {
        return yield* ExitCodes.CliExit.usage(
          "Nothing to change",
          "Pass --name, --base-url, --auth-header/--no-auth-header, --allow-insecure-http or --api-key-stdin; see `fishbowl-llm update --help`."
        )
      }
      const config = yield* budget(resolveConfig(flags.config))
      const newBaseUrl = Option.map(flags.baseUrl, (url) => url === "" ? null : url)
      const patchWithoutKey = {
        ...(Option.isSome(flags.name) ? { name: flags.name.value } : {}),
        ...(Option.isSome(newBaseUrl) ? { baseUrl: newBaseUrl.value } : {}),
        ...(Option.isSome(flags.authHeader) ? { useAuthHeader: flags.authHeader.value } : {}),
        ...(Option.isSome(flags.allowInsecureHttp) ? { allowInsecureHttp: flags.allowInsecureHttp.value } : {})
      }
      yield* UntrustedInput.decodeInput(LlmConfig.LlmConfigPatch, "update")(patchWithoutKey)
      if (Option.isSome(newBaseUrl) && newBaseUrl.value !== null && LlmConfig.baseUrlProblem(newBaseUrl.value) !== undefined) {
        return yield* new Errors.InvalidInput({
          field: "baseUrl",
          hint: "",
          reason: "base-url-refused",
          message: LlmConfig.baseUrlProblem(newBaseUrl.value)!
        })
      }
      const urlChanges = Option.isSome(newBaseUrl) && (newBaseUrl.value ?? undefined) !== config.baseUrl
      const io = yield* CliIo.CliIo
      if (config.hasKey && urlChanges && !flags.apiKeyStdin && io.stdin.isTTY !== true) {
        return yield* new Errors.InvalidInput({
          field: "apiKey",
          hint: "",
          reason: "key-required-for-new-destination",
          message: "Changing the base URL requires entering the API key again"
        })
      }
      if (config.hasKey && urlChanges && !flags.apiKeyStdin) {
        yield* CliIo.note(
          "The base URL changes, so the key is asked again: a stored key never goes to a new host unless you enter it for that host.\n"
        )
      }
      const key = yield* readKey({ fromStdin: flags.apiKeyStdin, prompt: flags.apiKeyStdin || (config.hasKey && urlChanges) })
      const patch = yield* UntrustedInput.decodeInput(LlmConfig.LlmConfigPatch, "update")({
        ...patchWithoutKey,
        ...(Option.isSome(key) ? { apiKey: key.value } : {})
      })
      const updated = yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.update(config.id, patch)))
      yield* flags.json ? CliIo.json(updated) : CliIo.out(`Updated "${updated.name}"\n`)
    }))).pipe(
    Command.withDescription("Change a configuration's name, base URL, auth header or key (the provider cannot change)"),
    Command.withExamples([
      { command: "fishbowl-llm update Work --name Office" },
      { command: "fishbowl-llm update Work --api-key-stdin", description: "Replace the key (asks without echo at a terminal)" },
      { command: "fishbowl-llm update Work --base-url https://proxy.example.com/v1 --api-key-stdin < key.txt" },
      { command: "fishbowl-llm update Work --auth-header", description: "Turn the Authorization header back on" }
    ])
  )

const testCommand = Command.make(
  "test",
  { config: configArgument, json },
  ({ config, json }) =>
    withStore("test", ({ budget }) =>
      Effect.gen(function*() {
        const found = yield* budget(resolveConfig(config))
        // No store budget around the request itself: the check has its own 10 s bound.
        const result = yield* ConfigCheck.checkStoredConfig(found.id)
        yield* CliIo.emit(TestCommand.renderTestResult({ config: found, result, json }))
      }))
).pipe(
  Command.withDescription(
    "Check that a configuration's key works: lists the provider's models at its own base URL (the key is sent only there)"
  ),
  Command.withExamples([
    { command: "fishbowl-llm test Work" },
    {
      command: "fishbowl-llm test Work --json",
      description: "Exit 0 ok, 7 timeout, 10 key refused, 11 unreachable, 12 rate-limited, 13 unexpected answer"
    }
  ])
)

/**
 * At a terminal, asks before removing (a key removed is gone); `--yes` or an input that is not a
 * terminal (a script) never asks. Anything but yes cancels with nothing removed (exit 130).
 */
const confirmRemoval = (config: LlmConfig.LlmConfig, yes: boolean) =>
  Effect.gen(function*() {
    const io = yield* CliIo.CliIo
    if (yes || io.stdin.isTTY !== true) return
    const provider = Providers.findProvider(config.provider)?.displayName ?? config.provider
    const what = config.hasKey ? " and its key from the keychain" : ""
    const question = `Remove "${Text.printable(config.name)}" (${provider})${what}? [y/N] `
    const answer = yield* Effect.promise((signal) => Prompt.readConfirmation(question, io.stdin, io.stderr, signal))
    if (answer === "yes") return
    if (answer === "HangUp") return yield* new ExitCodes.CliExit({ code: ExitCodes.ExitCode.hangUp })
    return yield* new ExitCodes.CliExit({
      code: ExitCodes.ExitCode.cancelled,
      problem: {
        _tag: "Cancelled",
        message: `cancelled: "${Text.printable(config.name)}" was not removed`,
        hint: "Nothing was changed. Add --yes to remove without being asked."
      }
    })
  })

const yesFlag = Flag.Boolean("yes").pipe(
  Flag.withDescription("Remove without asking (a terminal is asked first; a script's input never is)"),
  Flag.withDefault(false)
)

const removeCommand = Command.make(
  "remove",
  { config: configArgument, json, yes: yesFlag },
  ({ config, json, yes }) =>
    withStore("remove", ({ budget }) =>
      Effect.gen(function*() {
        const found = yield* budget(resolveConfig(config))
        yield* confirmRemoval(found, yes)
        yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.remove(found.id)))
        yield* json ? CliIo.out(JSON.stringify({ removed: found.id }) + "\n") : CliIo.out(`Removed "${found.name}"\n`)
      }))
).pipe(
  Command.withDescription("Remove a configuration and its key from the keychain"),
  Command.withExamples([
    { command: "fishbowl-llm remove Work", description: "At a terminal it asks first" },
    { command: "fishbowl-llm remove Work --yes", description: "Without asking" }
  ])
)

const keyCommand = Command.make("key", {
  config: configArgument,
  reveal: Flag.Boolean("reveal").pipe(
    Flag.withoutNegation,
    Flag.withDescription("Print the key even when stdout is a terminal"),
    Flag.withDefault(false)
  )
}, ({ config, reveal }) =>
  Effect.gen(function*() {
    const io = yield* CliIo.CliIo
    yield* withStore("key", ({ budget }) =>
      Effect.gen(function*() {
        const found = yield* budget(resolveConfig(config))
        // A config without a key says so (getApiKey's NotFound), not that printing was refused.
        if (io.stdout.isTTY === true && !reveal && found.hasKey) {
          return yield* ExitCodes.CliExit.usage(
            "Refusing to print a key to a terminal",
            `Pipe it, e.g. \`export ${Providers.keyVariableOf(found.provider)}=$(fishbowl-llm key ${
              Hints.shellWord(found.name)
            })\`, or add --reveal.`
          )
        }
        const key = yield* budget(LlmConfigStore.LlmConfigStore.use((store) => store.getApiKey(found.id)))
        yield* CliIo.out(`${Redacted.value(key)}\n`)
      }))
  })).pipe(
    Command.withDescription("Print a configuration's key for piping into another program"),
    Command.withExamples([
      { command: "export OPENAI_API_KEY=$(fishbowl-llm key Work)" },
      { command: "fishbowl-llm key Work | some-tool --api-key-stdin" }
    ])
  )

const doctorCommand = Command.make(
  "doctor",
  {
    probe: Flag.Boolean("probe").pipe(
      Flag.withoutNegation,
      Flag.withDescription("Also write, read and delete a test entry, and check every stored key is in the keychain"),
      Flag.withDefault(false)
    ),
    fix: Flag.Boolean("fix").pipe(
      Flag.withoutNegation,
      Flag.withDescription(
        "Finish or undo interrupted changes whose process has ended (never one still running), and bring back configurations a restore left out"
      ),
      Flag.withDefault(false)
    ),
    assumeGone: Flag.Boolean("assume-gone").pipe(
      Flag.withoutNegation,
      Flag.withDescription(
        "With --fix: also changes left by a process on another machine or in another container, which cannot be checked from here (only if none runs there now)"
      ),
      Flag.withDefault(false)
    ),
    json
  },
  (flags) =>
    withStore(
      "doctor",
      ({ budget, dataDir }) => Doctor.doctor({ ...flags, budget, dataDir }),
      {
        recover: false
      }
    )
).pipe(
  Command.withDescription(`Diagnose the keychain and the data folder. ${ExitCodes.doctorExitSentence()}`),
  Command.withExamples([{ command: "fishbowl-llm doctor" }, { command: "fishbowl-llm doctor --probe" }, {
    command: "fishbowl-llm doctor --fix"
  }])
)

const migrateCommand = Command.make("migrate", {
  from: valueFlag("migrate", "from").pipe(
    Flag.withMetavar("dir"),
    Flag.withDescription("Folder of the older Fishbowl install (default: the data folder)"),
    Flag.optional
  ),
  allowInsecureHttp: valueFlag("migrate", "allow-insecure-http").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription("Import this entry although its key would travel over plain http to a private-network host (repeat per entry)"),
    Flag.atLeast(0)
  ),
  json
}, ({ from, allowInsecureHttp, json }) =>
  // No recover first: a legacy preferences.json makes the store refuse every call until it is
  // migrated. The CLI has no safeStorage, so secure_keys.json entries are reported as skipped
  // unless test_secure_keys.json holds them in plain text.
  withStore("migrate", () =>
    Effect.gen(function*() {
      const io = yield* CliIo.CliIo
      const report = yield* Migration.migrateNode({ ...(Option.isSome(from) ? { from: from.value } : {}), allowInsecureHttp }).pipe(
        Budget.withBudget("migrate", Math.max(budgetMillis(io.env), 60_000))
      )
      yield* CliIo.emit(MigrateReport.renderMigrateReport(report, { json }))
    }), { recover: false })).pipe(
    Command.withDescription("Import configurations and keys from an older Fishbowl install"),
    Command.withExamples([{ command: "fishbowl-llm migrate" }, { command: "fishbowl-llm migrate --from ~/old-fishbowl --json" }])
  )

/** effect/cli's script for `shell`, as its Completions action prints it (captured, not printed). */
const generatedCompletions = (shell: Completions.Shell) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const capturing: Console.Console = {
      ...globalThis.console,
      log: (...parts: ReadonlyArray<unknown>) => void lines.push(parts.join(" "))
    }
    return GlobalFlag.Completions.run(Option.some(shell), {
      command: completionRoot(),
      commandPath: ["fishbowl-llm"],
      version: VERSION,
      builtIns: []
    }).pipe(Effect.provideService(Console.Console, capturing), Effect.map(() => `${lines.join("\n")}\n`))
  })

const completionsCommand = Command.make(
  "completions",
  {
    shell: Argument.Literals("shell", ["bash", "zsh", "fish"]).pipe(Argument.withDescription("bash, zsh or fish"))
  },
  ({ shell }) => Effect.flatMap(generatedCompletions(shell), (generated) => CliIo.out(Completions.script(shell, generated)))
).pipe(
  Command.withDescription("Print a shell completion script (it completes commands, flags, configuration names and provider ids)"),
  Command.withExamples([
    { command: Completions.installLines.bash.slice(0, 2).join(" && ") },
    { command: Completions.installLines.zsh.join(" && ") },
    { command: Completions.installLines.fish.join(" && ") }
  ])
)

const namesCommand = Command.make("names", {
  kind: Argument.Literals("kind", ["configs", "providers"]).pipe(Argument.withDescription("configs or providers"))
}, ({ kind }) =>
  Effect.gen(function*() {
    if (kind === "providers") return yield* CliIo.out(Providers.providers.map((provider) => `${provider.id}\n`).join(""))
    const explicit = yield* DataDirFlag
    const dataDir = yield* DataDir.currentDataDir({ explicit: Option.getOrUndefined(explicit) })
    const names = yield* ConfigNames.read(dataDir)
    yield* CliIo.out(names.map((name) => `${Text.escapeControls(name)}\n`).join(""))
  })).pipe(
    Command.withDescription(
      "Print configuration names or provider ids, one per line, for shell completion (reads preferences.json only, never the keychain)"
    ),
    Command.withExamples([{ command: "fishbowl-llm names configs" }])
  )

const helpCommand = Command.make("help", {
  command: Argument.String("command").pipe(Argument.withDescription("Command to explain"), Argument.optional)
}, ({ command }): Effect.Effect<void> =>
  Effect.suspend(() =>
    GlobalFlag.Help.run(true, {
      command: completionRoot(),
      commandPath: ["fishbowl-llm", ...Option.toArray(command).filter((name) => subcommandNames.has(name))],
      version: VERSION,
      builtIns: [GlobalFlag.Help, GlobalFlag.Version]
    })
  )).pipe(
    Command.withDescription("Show the help of fishbowl-llm or of one command (same as --help)"),
    Command.withExamples([{ command: "fishbowl-llm help add" }])
  )

/** The commands, in the order `--help` lists them: the one list the tree and the names come from. */
const subcommands = [
  providersCommand,
  listCommand,
  showCommand,
  addCommand,
  updateCommand,
  testCommand,
  removeCommand,
  keyCommand,
  doctorCommand,
  migrateCommand,
  completionsCommand,
  namesCommand,
  helpCommand
] as const

/** Names of the commands, for the help command and for hints. */
export const subcommandNames: ReadonlySet<string> = new Set(subcommands.map((command) => command.name))

/** The tree the completion script describes: the root below, read lazily (it contains this command). */
const completionRoot = (): Command.Command.Any => root

export const root = Command.make("fishbowl-llm").pipe(
  Command.withDescription(
    "Fishbowl's LLM provider configurations; keys are kept only in the OS keychain.\n  " + ExitCodes.exitCodeParagraph()
  ),
  Command.withGlobalFlags([DataDirFlag]),
  Command.withSubcommands(subcommands),
  Command.withExamples([
    { command: "fishbowl-llm add --provider anthropic --name Personal" },
    { command: "export OPENAI_API_KEY=$(fishbowl-llm key Work)" },
    { command: "fishbowl-llm add --help", description: "Help for one command" }
  ])
)
