/**
 * The CLI's words for failures. Domain and adapter errors are written for the GUI ("Correct the
 * highlighted field", "choose Replace key"); here they get hints that name the command that fixes
 * the problem, chosen by error tag and reason in this one place instead of in every adapter.
 * Messages are shown as written: they never name keychain entries (SecretRef.spokenName), and
 * anything echoed from the command line is made printable first.
 */
import { type Errors, Hints } from "@fishbowl/domain"
import * as Text from "./Text.ts"

/** What the CLI prints for a failure: `error: message` / `hint: hint`, or the JSON form (with `reason` when the error has one). */
export interface CliProblem {
  readonly _tag: string
  readonly reason?: string
  readonly message: string
  readonly hint: string
}

/** Context for a hint: which command ran and which configuration the user named. */
export interface HintContext {
  readonly command: string
  readonly reference?: string | undefined
}

/** The configuration the user named, as one shell word of a printed command (Hints.shellWord). */
const quoted = (reference: string | undefined) => reference === undefined ? "<name>" : Hints.shellWord(Text.printable(reference, 40))

const baseUrlHint = "Pass an https URL with --base-url; plain http only to this machine (localhost, 127.0.0.1, ::1) or a private network."

/**
 * The terminal's words for each reason an input was refused: commands and flags that work as
 * printed. The compiler demands one per reason.
 */
const invalidInputHints: Record<Errors.InvalidInputReason, (context: HintContext, field: string) => string> = {
  "malformed": (context, field) => fieldHint(field) ?? `Run \`fishbowl-llm ${context.command} --help\` to see what it accepts.`,
  "base-url-refused": () => baseUrlHint,
  "base-url-missing": () => "Pass your server's endpoint with --base-url, e.g. --base-url https://llm.example.com/v1.",
  "insecure-http-needs-consent": (context) =>
    `Use an https URL, or add --allow-insecure-http to ${context.command} if you accept that the key crosses your network unencrypted.`,
  "key-required": () => "Pipe the key in with --api-key-stdin, or run the command in a terminal to be prompted for it.",
  "key-required-for-new-destination": () =>
    "Add --api-key-stdin to enter the key again; it is never sent to a new host without your say-so."
}

/** The terminal's words for each reason of a Conflict (the compiler demands one per reason). */
const conflictHints: Record<Errors.ConflictReason, string> = {
  "name-taken": "Choose another --name; `fishbowl-llm list` shows the names in use (compared without regard to case).",
  "busy": "Try again in a moment. If it persists, run `fishbowl-llm doctor --fix` to finish the interrupted change.",
  "settings-replaced": "Nothing was changed. Run `fishbowl-llm list` to see the configurations as they are now, then try again.",
  "unfinished-changes": "Run `fishbowl-llm doctor --fix` to finish the interrupted changes, then try again."
}

/** The terminal's words for each reason of a NotFound. */
const notFoundHints: Record<Errors.NotFoundReason, (reenter: string) => string> = {
  "config": () => "Run `fishbowl-llm list` to see the configurations.",
  "no-key": (reenter) => `Add one with \`${reenter}\`.`,
  "key-missing": (reenter) => `Enter the key again with \`${reenter}\`.`,
  "key-elsewhere": (reenter) => `Enter the key again for this base URL with \`${reenter}\`, or change the base URL back.`,
  "key-lost-with-session": (reenter) => `Start your keyring, then enter the key again with \`${reenter}\`.`,
  "file": () => "Run `fishbowl-llm doctor` to see the files in the data folder.",
  "folder": () => "Run `fishbowl-llm doctor` to see where the data folder is."
}

/**
 * The terminal's words for each reason of an Unsupported; none: the adapter's own words (how to
 * get a keychain on this platform), which are the terminal's too.
 */
const unsupportedHints: Record<Errors.UnsupportedReason, (reenter: string) => string | undefined> = {
  "no-secure-storage": () => undefined,
  "key-undecryptable": (reenter) => `Enter the key again with \`${reenter}\`.`,
  "keys-not-kept": () => undefined,
  "needs-migration": () => "Run `fishbowl-llm migrate`: the configurations and keys are kept until they are safely in the keychain.",
  "newer-version": () => "Update fishbowl-llm to the version that wrote these settings; nothing was changed.",
  "not-available-here": () => undefined
}

/** The terminal's words for each reason of a KeychainLocked. */
const lockedHints: Record<Errors.KeychainLockedReason, (reenter: string) => string | undefined> = {
  "locked": () => undefined,
  "locked-or-missing": (reenter) =>
    `Unlock your keychain and try again; if the entry was deleted, enter the key again with \`${reenter}\`.`,
  "lock-state-unknown": () => undefined
}

/** Hints by field for refusals that carry no reason. */
const fieldHint = (field: string): string | undefined => {
  switch (field.split(".")[0]) {
    case "provider":
      return "Run `fishbowl-llm providers` to see the provider ids."
    case "baseUrl":
      return baseUrlHint
    case "name":
      return "Pass a name of 1 to 100 characters, without control characters, with --name."
    default:
      return undefined
  }
}

const cliHint = (error: Errors.FishbowlError, context: HintContext): string | undefined => {
  const name = quoted(context.reference)
  const reenter = `fishbowl-llm update ${name} --api-key-stdin`
  switch (error._tag) {
    case "InvalidInput":
      return error.reason !== undefined ? invalidInputHints[error.reason](context, error.field) : fieldHint(error.field)
    case "Conflict":
      return conflictHints[error.reason]
    case "NotFound":
      return notFoundHints[error.reason](reenter)
    case "KeychainLocked":
      return lockedHints[error.reason](reenter)
    case "Unsupported":
      return unsupportedHints[error.reason](reenter)
    case "Timeout":
      return "The keychain or disk is slow to answer. Try again; if it persists, run `fishbowl-llm doctor`."
    case "KeychainDenied":
      return "Allow fishbowl-llm to use the keychain when asked, or check the entry's access settings in your keychain app."
    default:
      return undefined
  }
}

/** The failure as the CLI shows it; GUI wording replaced, internal names removed. */
export const problemOf = (error: Errors.FishbowlError, context: HintContext): CliProblem => ({
  _tag: error._tag,
  ...("reason" in error && error.reason !== undefined ? { reason: error.reason } : {}),
  message: error.message,
  hint: cliHint(error, context) ?? (error.hint !== "" ? error.hint : `Run \`fishbowl-llm ${context.command} --help\`.`)
})
