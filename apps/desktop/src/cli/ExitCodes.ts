/**
 * Exit codes of fishbowl-llm, so scripts can tell "locked" (ask the user to unlock) from
 * "unavailable" (install a keychain) from "not found" without parsing messages.
 */
import type { Diagnostics, Errors } from "@fishbowl/domain"
import { Schema } from "effect"

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  lockedOrDenied: 4,
  unavailable: 5,
  corrupted: 6,
  timeout: 7,
  conflict: 8,
  /** migrate: keys were left behind (see MigrateReport.ts). */
  migrationIncomplete: 9,
  /** test: the provider refused the key (401/403); replace it. */
  keyRefused: 10,
  /** test: 404, DNS, refused connection, TLS: the base URL or the network is wrong. */
  unreachable: 11,
  /** test: 429, the key is probably fine; try later or check the quota. */
  rateLimited: 12,
  /** test: another status, a body that is not a model list, a redirect to another host. */
  unexpectedAnswer: 13,
  /** 128 + SIGHUP: the terminal went away at the prompt. */
  hangUp: 129,
  /** 128 + SIGINT: Ctrl-C. */
  cancelled: 130
} as const

/**
 * What each exit code means, in the order `--help` (and so the README, which a test holds to it)
 * lists them; the compiler demands a meaning for every code. The hang-up is listed as a signal.
 */
const meanings: Record<keyof typeof ExitCode, string> = {
  ok: "ok",
  unexpected: "unexpected",
  usage: "usage or invalid input",
  notFound: "not found",
  lockedOrDenied: "keychain locked or denied",
  unavailable: "keychain unavailable",
  corrupted: "storage damaged",
  timeout: "timeout",
  conflict: "conflict",
  migrationIncomplete: "migration incomplete",
  keyRefused: "key refused by the provider",
  unreachable: "provider unreachable",
  rateLimited: "rate-limited",
  unexpectedAnswer: "unexpected answer (test)",
  hangUp: "hang-up (the terminal closed at a prompt)",
  cancelled: "cancelled (Ctrl-C, or no to remove's question)"
}

/** `[code, meaning]` for every exit code, lowest first. */
export const exitCodeMeanings: ReadonlyArray<readonly [number, string]> = Object.entries(meanings)
  .map(([name, meaning]) => [ExitCode[name as keyof typeof ExitCode], meaning] as const)
  .sort(([a], [b]) => a - b)

/**
 * The exit-code paragraph of `--help`: "Exit codes: 0 ok, 1 …", wrapped before `width` columns
 * (indent included) between entries, never between a code and its meaning.
 */
export const exitCodeParagraph = (width = 104): string => {
  const entries = exitCodeMeanings.map(([code, meaning], index) => `${code} ${meaning}${index === exitCodeMeanings.length - 1 ? "." : ","}`)
  const lines: Array<string> = []
  let line = "Exit codes:"
  for (const entry of entries) {
    if (`  ${line} ${entry}`.length > width) {
      lines.push(line)
      line = entry
    } else line = `${line} ${entry}`
  }
  lines.push(line)
  return lines.join("\n  ")
}

/** doctor's exit code for the most urgent kind among its error findings, and the words `--help` gives it. */
export const doctorExitCodes: Record<Diagnostics.FindingKind, { readonly code: number; readonly words: string }> = {
  "locked": { code: ExitCode.lockedOrDenied, words: "locked" },
  "no-keychain": { code: ExitCode.unavailable, words: "no keychain" },
  "storage": { code: ExitCode.corrupted, words: "storage damaged" },
  "key-missing": { code: ExitCode.notFound, words: "a key is missing" },
  "other": { code: ExitCode.unexpected, words: "anything else" }
}

/** "Exit 0 healthy, 1 anything else, 3 a key is missing, …": doctor's description, from the table above. */
export const doctorExitSentence = (): string =>
  `Exit ${
    [{ code: ExitCode.ok, words: "healthy" }, ...Object.values(doctorExitCodes)]
      .sort((a, b) => a.code - b.code)
      .map(({ code, words }) => `${code} ${words}`)
      .join(", ")
  }`

export const exitCodeFor = (tag: Errors.FishbowlError["_tag"]): number => {
  switch (tag) {
    case "InvalidInput":
    case "WriteRefused":
      return ExitCode.usage
    case "NotFound":
      return ExitCode.notFound
    case "KeychainLocked":
    case "KeychainDenied":
    case "NotPermitted":
      return ExitCode.lockedOrDenied
    case "KeychainUnavailable":
    case "Unsupported":
      return ExitCode.unavailable
    case "Corrupted":
    case "StorageInaccessible":
      return ExitCode.corrupted
    case "Timeout":
      return ExitCode.timeout
    case "Conflict":
      return ExitCode.conflict
    case "Internal":
      return ExitCode.unexpected
  }
}

const Problem = Schema.Struct({ _tag: Schema.String, message: Schema.String, hint: Schema.String })

/** A CLI-level failure with its exit code; `problem` absent means "exit quietly" (hang-up). */
export class CliExit extends Schema.TaggedError<CliExit>()("CliExit", {
  code: Schema.Number,
  problem: Schema.optional(Problem)
}) {
  /** Usage error (exit 2), reported as InvalidInput like the store's own. */
  static usage(message: string, hint: string): CliExit {
    return new CliExit({ code: ExitCode.usage, problem: { _tag: "InvalidInput", message, hint } })
  }
}
