/**
 * One message per problem, in words a person uses. Domain errors carry a precise `message` for
 * logs and the CLI (it may name a keychain entry such as `fishbowl.anthropic.<uuid>/apiKey`); the
 * page shows a plain title per kind of problem and the error's hint (written for people). The
 * precise text appears only in the Storage health panel's technical details.
 */
import type { Errors } from "@fishbowl/domain"
import type * as Bridge from "./Bridge.ts"

export interface Friendly {
  readonly title: string
  readonly hint: string
}

/** Problems of the whole store, not of one field: shown once, in the banner at the top. */
export const pageLevelTags: ReadonlySet<Bridge.WireError["_tag"]> = new Set([
  "KeychainLocked",
  "KeychainDenied",
  "NotPermitted",
  "KeychainUnavailable",
  "StorageInaccessible",
  "Corrupted"
])

/** Internal names (keychain entries, config ids) have no place in the page's own messages. */
const internal = /fishbowl\.[\w-]+\.[0-9a-f-]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|FISHBOWL_[A-Z_]+/i

const keepIfPlain = (text: string, fallback: string) => (internal.test(text) ? fallback : text)

/** The page's words for each reason of a Conflict (the compiler demands one per reason). */
const conflicts: Record<Errors.ConflictReason, Friendly> = {
  "name-taken": {
    title: "That name is already in use",
    hint: "Choose a different name; names are compared without regard to case."
  },
  "busy": {
    title: "Another change to this configuration is still in progress",
    hint: "Try again in a moment."
  },
  "settings-replaced": {
    title: "The settings were replaced while this change was being saved",
    hint: "Nothing was changed. Check the list, then try again."
  },
  "unfinished-changes": {
    title: "Some changes are not finished yet",
    hint: "Choose \"Finish interrupted changes\" in Storage health, then try again."
  }
}

const isConflictReason = (reason: Bridge.WireError["reason"]): reason is Errors.ConflictReason =>
  reason !== undefined && Object.prototype.hasOwnProperty.call(conflicts, reason)

export const friendly = (error: Bridge.WireError): Friendly => {
  switch (error._tag) {
    case "KeychainLocked":
      return { title: "The keychain is locked", hint: keepIfPlain(error.hint, "Unlock your keychain, then try again.") }
    case "KeychainDenied":
      return {
        title: "Fishbowl was not allowed to use the keychain",
        hint: keepIfPlain(error.hint, "Allow access when your system asks, then try again.")
      }
    case "NotPermitted":
      return { title: "This window may not manage API keys", hint: "Open Fishbowl's own settings page to manage providers." }
    case "WriteRefused":
      return { title: "That change could not be saved", hint: keepIfPlain(error.hint, "Nothing was changed.") }
    case "KeychainUnavailable":
      return {
        title: "No keychain is available",
        hint: "Fishbowl cannot save API keys securely right now. Storage health below says how to fix it."
      }
    case "StorageInaccessible":
      return {
        title: "Fishbowl could not read or save its settings",
        hint: keepIfPlain(error.hint, "Storage health below has the details.")
      }
    case "Corrupted":
      return { title: "The settings file is damaged", hint: "Storage health below shows the backups you can restore." }
    case "Timeout":
      return { title: "The keychain did not answer", hint: "Try again. If it keeps happening, check Storage health below." }
    case "NotFound":
      return {
        title: keepIfPlain(error.message, "This configuration no longer exists"),
        hint: keepIfPlain(error.hint, "The list has been refreshed.")
      }
    case "Conflict":
      return conflicts[isConflictReason(error.reason) ? error.reason : "busy"]
    case "Internal":
      return { title: "Something went wrong inside Fishbowl", hint: "Try again; if it keeps happening, check Storage health below." }
    default:
      return { title: keepIfPlain(error.message, "That did not work"), hint: keepIfPlain(error.hint, "") }
  }
}

export const WAITING_FOR_KEYCHAIN = "Waiting for your keychain — it may be asking for permission or a password"

/** How long a provider check may take; the page says so while it waits (PROVIDER_CHECK_TIMEOUT_MILLIS). */
export const CHECKING_PROVIDER = "Contacting the provider — this can take up to 10 seconds"

/** A check's outcome in one line and its next step. The checker builds every message itself (never server text). */
export const checkOutcomeText = (outcome: Bridge.CheckOutcomeView): Friendly & { readonly ok: boolean } => {
  if (outcome._tag === "Ok") {
    const models = outcome.models === 1 ? "1 model" : `${outcome.models} models`
    return { ok: true, title: `Connected: the key works (${models} available)`, hint: "" }
  }
  return {
    ok: false,
    title: keepIfPlain(outcome.message, "The connection test failed"),
    hint: keepIfPlain(outcome.hint, "Check the base URL and the key, then try again.")
  }
}
