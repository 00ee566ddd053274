/**
 * The CLI's words for failures. Domain and adapter errors are written for the GUI ("Correct the
 * highlighted field", "choose Replace key"); here they get hints that name the command that fixes
 * the problem, chosen by error tag and field in this one place instead of in every adapter.
 * Messages lose internal names such as `fishbowl.openai.<uuid>/apiKey` (doctor shows those as
 * details) and anything echoed from the command line is made printable first.
 */
import { type Errors, Providers } from "@fishbowl/domain"
import * as Text from "./Text.ts"

/** What the CLI prints for a failure: `error: message` / `hint: hint`, or the JSON form. */
export interface CliProblem {
  readonly _tag: string
  readonly message: string
  readonly hint: string
}

/** Context for a hint: which command ran and which configuration the user named. */
export interface HintContext {
  readonly command: string
  readonly reference?: string | undefined
}

const SECRET_REF = /fishbowl\.[a-z0-9-]+\.[0-9a-f-]{36}\/apiKey(?:\.staged)?/gi

/** Removes keychain coordinates from a message: users never typed them and cannot act on them. */
export const withoutInternalNames = (message: string): string => message.replace(SECRET_REF, "the stored key")

const quoted = (reference: string | undefined) => {
  if (reference === undefined) return "<name>"
  const safe = Text.printable(reference, 40)
  return /^[A-Za-z0-9._-]+$/.test(safe) ? safe : `'${safe.replace(/'/g, "'\\''")}'`
}

const cliHint = (error: Errors.FishbowlError, context: HintContext): string | undefined => {
  const name = quoted(context.reference)
  const reenter = `fishbowl-llm update ${name} --api-key-stdin`
  switch (error._tag) {
    case "InvalidInput": {
      const field = error.field.split(".")[0]
      if (field === "provider") return "Run `fishbowl-llm providers` to see the provider ids."
      if (field === "baseUrl") {
        return Providers.isMissingBaseUrl(error)
          ? "Pass your server's endpoint with --base-url, e.g. --base-url https://llm.example.com/v1."
          : "Pass an https URL with --base-url (plain http only for localhost, 127.0.0.1 and ::1)."
      }
      if (field === "name") return "Pass a name of 1 to 100 characters, without control characters, with --name."
      if (field === "apiKey") {
        if (/base URL/.test(error.message)) {
          return `Add --api-key-stdin to enter the key again; it is never sent to a new host without your say-so.`
        }
        if (/needs an API key/.test(error.message)) {
          return "Pipe the key in with --api-key-stdin, or run the command in a terminal to be prompted for it."
        }
        return undefined
      }
      if (/Correct the highlighted field/.test(error.hint)) return `Run \`fishbowl-llm ${context.command} --help\` to see what it accepts.`
      return undefined
    }
    case "Conflict":
      if (/already exists/.test(error.message)) {
        return "Choose another --name; `fishbowl-llm list` shows the names in use (compared without regard to case)."
      }
      if (/has not finished/.test(error.message)) {
        return "Try again in a moment. If it persists, run `fishbowl-llm doctor --fix` to finish the interrupted change."
      }
      return undefined
    case "NotFound":
      if (/has no API key/.test(error.message)) return `Add one with \`${reenter}\`.`
      if (/keychain entry .* is missing/.test(error.message)) return `Enter the key again with \`${reenter}\`.`
      return "Run `fishbowl-llm list` to see the configurations."
    case "KeychainLocked":
      if (/may be locked, or the entry was deleted/.test(error.message)) {
        return `Unlock your keychain and try again; if the entry was deleted, enter the key again with \`${reenter}\`.`
      }
      return undefined
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
  message: withoutInternalNames(error.message),
  hint: withoutInternalNames(
    cliHint(error, context) ?? (error.hint !== "" ? error.hint : `Run \`fishbowl-llm ${context.command} --help\`.`)
  )
})
