/**
 * A key is bound to the destination it was entered for: its provider and base URL (as stored, so
 * "the provider's default" stays bound to that default). The binding lives in the secret store's
 * value, beside the key: `fishbowl:1:<digest>:<key>`, the digest a SHA-256 of the destination.
 *
 * Why there and not in preferences.json: the keychain is written only when a user enters a key
 * (add, update with a key, import), while preferences.json can be restored from a backup, imported,
 * recovered or edited by hand. A binding kept in metadata would move with the metadata; kept with
 * the key, any path that points a config at a new destination leaves the key bound to the old one,
 * and the store refuses to hand it out (`getApiKey`) until the key is entered again.
 *
 * A value without the prefix was written before keys were bound: it is accepted for the config as
 * it is now (the best that can be known) and sealed to it on first use.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js"
import { Redacted } from "effect"
import * as Canonical from "./Canonical.ts"
import type * as LlmConfig from "./LlmConfig.ts"

/** Where a key may be sent: the config's provider and base URL (absent: the provider's default). */
export interface Destination {
  readonly provider: string
  readonly baseUrl?: string | undefined
}

/**
 * The destination of `config`, its base URL in canonical form (Canonical.checkBaseUrl): a config
 * decoded from the file is canonical already, an imported one may not be yet, and both must bind
 * to the same digest.
 */
export const destinationOf = (config: Pick<LlmConfig.LlmConfig, "provider" | "baseUrl">): Destination => ({
  provider: config.provider,
  baseUrl: config.baseUrl === undefined ? undefined : canonicalUrl(config.baseUrl)
})

const canonicalUrl = (text: string): string => {
  const check = Canonical.checkBaseUrl(text)
  return check._tag === "Ok" ? check.url.href : text
}

export const sameDestination = (a: Destination, b: Destination) => a.provider === b.provider && (a.baseUrl ?? "") === (b.baseUrl ?? "")

const PREFIX = "fishbowl:1:"
const DIGEST_LENGTH = 32

/** 128 bits of SHA-256 over the destination: not secret, only unforgeable by editing a file. */
const digestOf = (destination: Destination): string =>
  bytesToHex(sha256(utf8ToBytes(`fishbowl key binding\u0000${destination.provider}\u0000${destination.baseUrl ?? ""}`))).slice(
    0,
    DIGEST_LENGTH
  )

/** The value stored for `key` entered for `destination`. */
export const seal = (key: Redacted.Redacted<string>, destination: Destination): Redacted.Redacted<string> =>
  Redacted.make(`${PREFIX}${digestOf(destination)}:${Redacted.value(key)}`)

/** Bytes the seal adds to a key (for size limits). */
export const SEAL_OVERHEAD_BYTES = PREFIX.length + DIGEST_LENGTH + 1

/**
 * A fingerprint of the value an update writes, recorded in its intent so that recovery can tell
 * whether the write landed: 64 bits of SHA-256 over the stored value, salted with the intent's
 * id. Salted so that one key's marks cannot be matched across intents or files; short because it
 * only has to tell two values apart, never identify one. It is removed with the intent.
 */
export const writeMark = (salt: string, stored: Redacted.Redacted<string>): string =>
  bytesToHex(sha256(utf8ToBytes(`fishbowl key write\u0000${salt}\u0000${Redacted.value(stored)}`))).slice(0, 16)

export type Opened =
  /** Entered for this destination. */
  | { readonly _tag: "Bound"; readonly key: Redacted.Redacted<string> }
  /** Written before keys were bound: accepted for the config as it is now, sealed on first use. */
  | { readonly _tag: "Unsealed"; readonly key: Redacted.Redacted<string> }
  /** Entered for another destination: never handed out for this one. */
  | { readonly _tag: "Elsewhere" }

/** What a stored value holds for `destination`. */
export const open = (stored: Redacted.Redacted<string>, destination: Destination): Opened => {
  const value = Redacted.value(stored)
  const separator = PREFIX.length + DIGEST_LENGTH
  if (!value.startsWith(PREFIX) || value.charAt(separator) !== ":") return { _tag: "Unsealed", key: stored }
  return value.slice(PREFIX.length, separator) === digestOf(destination)
    ? { _tag: "Bound", key: Redacted.make(value.slice(separator + 1)) }
    : { _tag: "Elsewhere" }
}
