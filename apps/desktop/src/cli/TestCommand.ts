/**
 * `fishbowl-llm test <id|name> [--json]`: what to print and which exit code, for the outcome of
 * checking a stored config's key (`checkStoredConfig` from @fishbowl/domain). Pure: the command
 * (Commands.ts) runs the check and writes these.
 *
 * Exit codes (ExitCodes.ts) have one per action a script would take. 7 (timeout) is reused: it
 * already means "did not answer in time". The rest are their own rather than reused because
 * reusing would mislead scripts: 3 means "no such configuration" and 4 "unlock the keychain",
 * while a refused key (10) means "replace the key". Not-found endpoints and unreachable hosts
 * share 11: both mean "fix the base URL or the network"; 12 rate-limited, 13 an unexpected answer.
 *
 * `--json` prints one object to stdout whatever the outcome (the exit code tells success):
 *   { "id", "name", "provider", "checkedAt", "recorded", "outcome": { "_tag", "message", "hint",
 *     "millis", ...tag fields: "status" | "models" | "reason" | "timeoutMillis" } }
 * Without `--json`: success → one line on stdout; any other outcome → `error: …` / `hint: …` on
 * stderr, the same shape as every other command's errors.
 */
import type { ConfigCheck, LlmConfig, ProviderCheck } from "@fishbowl/domain"
import type * as CliIo from "./CliIo.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as Text from "./Text.ts"

export const TestExitCode = {
  ok: ExitCodes.ExitCode.ok,
  timeout: ExitCodes.ExitCode.timeout,
  keyRefused: ExitCodes.ExitCode.keyRefused,
  unreachable: ExitCodes.ExitCode.unreachable,
  rateLimited: ExitCodes.ExitCode.rateLimited,
  unexpectedAnswer: ExitCodes.ExitCode.unexpectedAnswer
} as const

export const testExitCodeFor = (outcome: ProviderCheck.ProviderCheckOutcome): number => {
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

/** Output for one check; built only from metadata and the outcome, which hold no key by construction. */
export const renderTestResult = (input: {
  readonly config: Pick<LlmConfig.LlmConfig, "id" | "name" | "provider">
  readonly result: ConfigCheck.ConfigCheckResult
  readonly json: boolean
}): CliIo.CommandOutput => {
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
  // A name is validated, but output to a terminal is never trusted.
  const name = Text.escapeControls(config.name)
  if (outcome._tag === "Ok") {
    return {
      stdout: `ok: "${name}" (${config.provider}) answered in ${outcome.millis} ms and listed ${outcome.models} model${
        outcome.models === 1 ? "" : "s"
      }\n`,
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
