/**
 * One message per problem, in words a person uses. Domain errors carry a precise `message` and
 * `hint` for logs and the CLI (they may name files, paths or backends); the page words each
 * (tag, reason) from the tables below, checked exhaustive by the compiler, and shows the precise
 * text only under Technical details. Field refusals (InvalidInput) are the rule's own sentence.
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

/** The page's words for each reason of a KeychainLocked. */
const locked: Record<Errors.KeychainLockedReason, Friendly> = {
  "locked": {
    title: "The keychain is locked",
    hint: "Choose \"Unlock keychain\", or unlock it in your system's keychain app, then try again."
  },
  "locked-or-missing": {
    title: "The keychain is locked, or the key is no longer in it",
    hint: "Choose \"Unlock keychain\" and try again; if the key was deleted, choose \"Edit\", then \"Replace key\"."
  },
  "lock-state-unknown": {
    title: "The keychain may be locked, so nothing was deleted",
    hint: "Choose \"Unlock keychain\", then delete again."
  }
}

const noKeychain: Friendly = {
  title: "No keychain is available",
  hint: "Fishbowl cannot save API keys securely right now. Storage health below says how to fix it."
}

/** The page's words for each reason of a KeychainUnavailable (none: nothing answered). */
const unavailable: Record<Errors.KeychainUnavailableReason, Friendly> = {
  "not-reachable": noKeychain,
  "no-answer": {
    title: "The keychain did not answer",
    hint: "If your system is asking for a password or permission, answer it; then try again."
  },
  "helper-lost": {
    title: "Fishbowl lost its connection to the keychain",
    hint: "Try again. If it keeps happening, restart Fishbowl."
  },
  "session-lost": {
    title: "The keychain service restarted",
    hint: "Try again. If it keeps happening, restart Fishbowl."
  },
  "error": {
    title: "The keychain reported an error",
    hint: "Try again; Storage health below has the details."
  }
}

/** The page's words for each reason of a NotFound. */
const notFound: Record<Errors.NotFoundReason, Friendly> = {
  "config": {
    title: "This configuration no longer exists",
    hint: "It may have been removed in another Fishbowl window or command."
  },
  "no-key": { title: "This configuration has no API key", hint: "Choose \"Edit\" to add one." },
  "key-missing": {
    title: "The key of this configuration is missing from the keychain",
    hint: "Choose \"Edit\", then \"Replace key\", to enter it again."
  },
  "key-elsewhere": {
    title: "The stored key was entered for a different provider or base URL",
    hint: "Choose \"Edit\" and enter the key again for this base URL, or change the base URL back."
  },
  "key-lost-with-session": {
    title: "The key was kept only until Fishbowl closed",
    hint: "Choose \"Edit\" and enter the key again; start your keychain first so that it is saved this time."
  },
  "file": { title: "That file is no longer in the data folder", hint: "Choose \"Check again\" in Storage health to refresh the list." },
  "folder": { title: "The data folder could not be opened", hint: "Its location is under Technical details." }
}

/** The page's words for each reason of an Unsupported. */
const unsupported: Record<Errors.UnsupportedReason, Friendly> = {
  "no-secure-storage": {
    title: "This computer cannot keep API keys securely right now",
    hint: "Storage health below says how to fix it."
  },
  "key-undecryptable": {
    title: "The stored key cannot be decrypted on this computer",
    hint: "Choose \"Edit\", then \"Replace key\", to enter it again."
  },
  "keys-not-kept": {
    title: "Keys cannot be moved while they are kept only in memory",
    hint: "Make your system keychain available, then restart Fishbowl."
  },
  "needs-migration": {
    title: "Settings from an older Fishbowl need importing",
    hint: "Restart Fishbowl to import them; nothing is lost until then."
  },
  "newer-version": {
    title: "These settings were saved by a newer Fishbowl",
    hint: "Update Fishbowl to use them; nothing was changed."
  },
  "not-available-here": { title: "This is not available here", hint: "Open the settings from the Fishbowl app." }
}

/** The page's words for each tag; reasons pick from their own tables. No face reads an error's message to choose. */
export const friendly = (error: Bridge.WireError): Friendly => {
  switch (error._tag) {
    case "KeychainLocked":
      return locked[error.reason]
    case "KeychainDenied":
      return {
        title: "Fishbowl was not allowed to use the keychain",
        hint: "Allow access when your system asks, then try again."
      }
    case "NotPermitted":
      return { title: "This window may not manage API keys", hint: "Open Fishbowl's own settings page to manage providers." }
    case "WriteRefused":
      return { title: "That change could not be saved", hint: "Nothing was changed. Undo the change that caused this and try again." }
    case "KeychainUnavailable":
      return error.reason === undefined ? noKeychain : unavailable[error.reason]
    case "StorageInaccessible":
      return { title: "Fishbowl could not read or save its settings", hint: "Storage health below has the details." }
    case "Corrupted":
      return { title: "The settings file is damaged", hint: "Storage health below shows the backups you can restore." }
    case "Timeout":
      return { title: "The keychain did not answer", hint: "Try again. If it keeps happening, check Storage health below." }
    case "NotFound":
      return notFound[error.reason]
    case "Conflict":
      return conflicts[error.reason]
    case "InvalidInput":
      // The rule's own sentence (BaseUrlRule, LlmConfig): written for people, naming no internals.
      return { title: error.message, hint: error.hint }
    case "Unsupported":
      return unsupported[error.reason]
    case "Internal":
      return { title: "Something went wrong inside Fishbowl", hint: "Try again; if it keeps happening, check Storage health below." }
  }
}

/** An error's own words, for Technical details only: "message — hint". */
export const technicalText = (words: { readonly message: string; readonly hint?: string | undefined }) =>
  [words.message, words.hint ?? ""].filter((text) => text !== "").join(" — ")

export const WAITING_FOR_KEYCHAIN = "Waiting for your keychain — it may be asking for permission or a password"

/** How long a provider check may take; the page says so while it waits (PROVIDER_CHECK_TIMEOUT_MILLIS). */
export const CHECKING_PROVIDER = "Contacting the provider — this can take up to 10 seconds"

/** A check's outcome in one line and its next step. The checker builds every message itself (never server text). */
export const checkOutcomeText = (outcome: Bridge.CheckOutcomeView): Friendly & { readonly ok: boolean } => {
  if (outcome._tag === "Ok") {
    const models = outcome.models === 1 ? "1 model" : `${outcome.models} models`
    return { ok: true, title: `Connected: the key works (${models} available)`, hint: "" }
  }
  return { ok: false, title: outcome.message, hint: outcome.hint }
}
