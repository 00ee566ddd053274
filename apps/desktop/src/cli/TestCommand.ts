/**
 * `fishbowl-llm test <id|name> [--json]`: what to print and which exit code, for the outcome of
 * checking a stored config's key (`checkStoredConfig` from @fishbowl/domain). Pure, so the
 * command wiring (the CLI is being rebuilt on effect/cli) only runs the check and writes these.
 *
 * Wiring, for the command: resolve NAME to an id as `show` does, then
 *   runtime.runPromiseExit(checkStoredConfig(id)) — DesktopLayer provides ProviderCheck;
 *   success → renderTestResult({ config, result, json }); write `stdout`/`stderr`, exit `exitCode`;
 *   failure (NotFound, KeychainLocked, …) → the usual error output and `exitCodeFor(tag)`.
 *
 * Exit codes extend ExitCodes.ts (0-8) with one per action a script would take. 7 (timeout) is
 * reused: it already means "did not answer in time". The rest are new rather than reused because
 * reusing would mislead scripts: 3 means "no such configuration" and 4 "unlock the keychain",
 * while a refused key means "replace the key". Not-found endpoints and unreachable hosts share 10:
 * both mean "fix the base URL or the network". (ExitCodes.ts should list 9-12 when this is wired.)
 *
 * `--json` prints one object to stdout whatever the outcome (the exit code tells success):
 *   { "id", "name", "provider", "checkedAt", "recorded", "outcome": { "_tag", "message", "hint",
 *     "millis", ...tag fields: "status" | "models" | "reason" | "timeoutMillis" } }
 * Without `--json`: success → one line on stdout; any other outcome → `error: …` / `hint: …` on
 * stderr, the same shape as every other command's errors.
 */
import type { ConfigCheckResult, LlmConfig, ProviderCheckOutcome } from "@fishbowl/domain"
import { ExitCode } from "./ExitCodes.ts"

export const TestExitCode = {
  ok: ExitCode.ok,
  timeout: ExitCode.timeout,
  /** 401/403: the provider refused the key; replace it. */
  keyRefused: 9,
  /** 404, DNS, refused connection, TLS: the base URL or the network is wrong. */
  unreachable: 10,
  /** 429: the key is probably fine; try later or check the quota. */
  rateLimited: 11,
  /** Another status, a body that is not a model list, a redirect to another host. */
  unexpectedAnswer: 12
} as const

export const testExitCodeFor = (outcome: ProviderCheckOutcome): number => {
  switch (outcome._tag) {
    case "Ok":
      return TestExitCode.ok
    case "Timeout":
      return TestExitCode.timeout
    case "Unauthorized":
      return TestExitCode.keyRefused
    case "NotFound":
    case "Unreachable":
      return TestExitCode.unreachable
    case "RateLimited":
      return TestExitCode.rateLimited
    case "Unexpected":
      return TestExitCode.unexpectedAnswer
  }
}

export interface TestOutput {
  readonly stdout: string
  readonly stderr: string
  readonly exitCode: number
}

/** Control characters (a name is validated, but output to a terminal is never trusted). */
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?")

/** Output for one check; built only from metadata and the outcome, which hold no key by construction. */
export const renderTestResult = (input: {
  readonly config: Pick<LlmConfig, "id" | "name" | "provider">
  readonly result: ConfigCheckResult
  readonly json: boolean
}): TestOutput => {
  const { config, result } = input
  const outcome = result.check.outcome
  const exitCode = testExitCodeFor(outcome)
  if (input.json) {
    const body = {
      id: config.id,
      name: config.name,
      provider: config.provider,
      checkedAt: result.check.checkedAt,
      recorded: result.recorded,
      outcome
    }
    return { stdout: JSON.stringify(body, null, 2) + "\n", stderr: "", exitCode }
  }
  const name = printable(config.name)
  if (outcome._tag === "Ok") {
    return {
      stdout: `ok: "${name}" (${config.provider}) answered in ${outcome.millis} ms and listed ${outcome.models} model${outcome.models === 1 ? "" : "s"}\n`,
      stderr: "",
      exitCode
    }
  }
  return {
    stdout: "",
    stderr: `error: "${name}" (${config.provider}): ${outcome.message}\nhint: ${outcome.hint}\n`,
    exitCode
  }
}
