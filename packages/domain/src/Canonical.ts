/**
 * One canonical form per input, decided here and nowhere else: the store, IPC, the CLI, the UI
 * and migration all go through these functions, so what is checked is what is stored and shown.
 *
 * - A base URL is parsed once (WHATWG URL: the host becomes punycode) and stored as its `href`;
 *   what a person sees is what the key is sent to.
 * - A name is shown as typed but compared by a key that folds compatibility forms, case and
 *   confusable letters, so names that look the same to a person are one name.
 * - Invisible and direction-changing characters are refused in names and keys, never dropped.
 */
import { Effect } from "effect"
import ipaddr from "ipaddr.js"
import unhomoglyph from "unhomoglyph"
import * as Errors from "./Errors.ts"

/** C0 and C1 control characters (NUL included). */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Characters that show as nothing or reorder text: zero-width space/joiners, word joiner and
 * invisible operators, BOM, soft hyphen, Mongolian vowel separator, bidi embeddings, overrides,
 * isolates and marks, and the line/paragraph separators.
 */
export const INVISIBLE_CHARACTERS = /[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/

/** A UTF-16 surrogate without its pair: not a character, and not encodable as UTF-8. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Printable ASCII only: none of the characters above, and already in every Unicode normal form,
 * so most names (and every name of a large settings file) skip the per-character rules below.
 */
const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/

// ---------------------------------------------------------------------------------------------
// names

/** Why a display name is unacceptable (after trimming), or undefined. Never echoes the name. */
export const nameProblem = (name: string): string | undefined => {
  if (name.length === 0) return "name must not be empty"
  if (name.length > 100) return "name must be at most 100 characters"
  if (PRINTABLE_ASCII.test(name)) return undefined
  if (CONTROL_CHARACTERS.test(name)) return "name must not contain control characters"
  if (INVISIBLE_CHARACTERS.test(name)) return "name must not contain invisible or text-direction characters"
  if (LONE_SURROGATE.test(name)) return "name must not contain unpaired surrogate characters"
  return undefined
}

const nameKeyStep = (text: string): string => unhomoglyph(text.normalize("NFKC").toLowerCase()).toLowerCase().normalize("NFKC").trim()

/**
 * Identity of a name for uniqueness: NFKC (fullwidth, ligatures), confusable letters mapped to
 * their Unicode prototypes (Cyrillic "о" is Latin "o"), case-folded. Idempotent: the steps are
 * repeated until nothing changes (at most a few rounds: each maps into a smaller alphabet).
 */
export const nameKey = (name: string): string => {
  let current = name
  for (let round = 0; round < 8; round++) {
    const next = nameKeyStep(current)
    if (next === current) return current
    current = next
  }
  return current
}

/** Whether two names are the same configuration name by {@link nameKey}. */
export const sameName = (a: string, b: string): boolean => nameKey(a) === nameKey(b)

/**
 * The name identity every version of the store has kept unique (case-insensitive, NFC). A stored
 * document with two names equal by it is damaged; one with two lookalikes is merely old.
 */
export const storedNameKey = (name: string): string => {
  const trimmed = name.trim()
  return (PRINTABLE_ASCII.test(trimmed) ? trimmed : trimmed.normalize("NFC")).toLowerCase()
}

// ---------------------------------------------------------------------------------------------
// keys

/** Why key text is unacceptable, or undefined. Says which rule, never the value. */
export const apiKeyProblem = (key: string, maxBytes: number, utf8Length: (text: string) => number): string | undefined => {
  if (key.length === 0 || key.trim().length === 0) return "API key must not be empty"
  if (key.includes("\u0000")) return "API key must not contain NUL or control characters"
  // before the whitespace rule: String.prototype.trim counts U+FEFF as whitespace
  if (/\ufeff/.test(key)) return "API key contains a byte-order mark (U+FEFF), usually from a copied file: paste only the key"
  if (INVISIBLE_CHARACTERS.test(key)) {
    return "API key contains an invisible character (zero-width, direction mark or similar), usually picked up when copying: paste only the key"
  }
  if (key !== key.trim()) {
    return "API key starts or ends with a space, tab or line break: paste only the key (nothing was trimmed for you)"
  }
  if (CONTROL_CHARACTERS.test(key)) return "API key must not contain NUL or control characters"
  if (LONE_SURROGATE.test(key)) return "API key contains an unpaired surrogate, which is not valid text"
  if (utf8Length(key) > maxBytes) return `API key must be at most ${maxBytes} bytes`
  // The key travels in an HTTP header (Authorization, x-api-key): fetch's Headers take a
  // ByteString, and servers read header values as ASCII, so anything else would only fail later
  // as "connection failed". Every provider issues keys of printable ASCII.
  if (/[^\u0020-\u007e]/.test(key)) {
    return "API key contains a character an HTTP header cannot carry (only ASCII letters, digits and punctuation): it is probably not the key; copy it again from your provider's dashboard"
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// base URLs

/** Where a base URL's host is, which decides whether plain http may be used with it. */
export type HostReach = "loopback" | "private" | "public"

/** A base URL in canonical form, with what the http rule needs to know about it. */
export interface CanonicalBaseUrl {
  readonly href: string
  readonly secure: boolean
  readonly reach: HostReach
}

export const MAX_BASE_URL_LENGTH = 2048

/** Query parameter names that carry credentials (a key in a URL ends up in files and logs). */
const CREDENTIAL_PARAMETER =
  /(^|[-_.])(key|apikey|api[-_]?key|token|access[-_]?token|secret|password|passwd|pwd|auth|authorization|credential|credentials|session|sig|signature|code)($|[-_.])/i

const PRIVATE_SUFFIXES = [".local", ".lan", ".home.arpa", ".internal", ".localdomain"]

/** An IP literal as the WHATWG URL parser leaves it: dotted-decimal IPv4, or IPv6 (it had brackets). */
const looksLikeIpLiteral = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":")

/**
 * Loopback, private-network (RFC 1918, CGNAT/Tailscale, link-local, IPv6 ULA, local names) or public.
 *
 * Only `localhost` and loopback literals count as this machine. A `*.localhost` name is not: the
 * resolver here (glibc, `getent hosts foo.localhost`) asks DNS for it, so a hostile network can
 * answer with any address; it is treated as a private-network name (plain http with a key needs
 * the user's consent). `localhost` itself resolves from /etc/hosts before DNS on every platform.
 */
export const hostReach = (hostname: string): HostReach => {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname
  const lower = host.toLowerCase()
  if (lower === "localhost") return "loopback"
  if (lower.endsWith(".localhost") || lower.endsWith(".localhost.")) return "private"
  // Checked first so a name never costs ipaddr's throw-and-catch (most of a large load's time).
  if (looksLikeIpLiteral(host) && ipaddr.isValid(host)) {
    const range = ipaddr.process(host).range() // process: an IPv4-mapped IPv6 address counts as its IPv4
    if (range === "loopback") return "loopback"
    if (["private", "carrierGradeNat", "linkLocal", "uniqueLocal"].includes(range)) return "private"
    return "public"
  }
  if (!host.includes(".")) return "private" // a single-label name resolves only on a local network
  const name = lower.replace(/\.$/, "")
  if (PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return "private"
  return "public"
}

export type BaseUrlCheck =
  | { readonly _tag: "Ok"; readonly url: CanonicalBaseUrl }
  | { readonly _tag: "Refused"; readonly problem: string }

const refused = (problem: string): BaseUrlCheck => ({ _tag: "Refused", problem })

/**
 * Parses a base URL once and returns its canonical form, or why it is refused. The problem text
 * never echoes the URL (it may carry a credential). The http rule that depends on whether a key
 * is stored lives in {@link insecureHttpProblem}.
 */
export const checkBaseUrl = (text: string): BaseUrlCheck => {
  if (text.length > MAX_BASE_URL_LENGTH) return refused(`base URL must be at most ${MAX_BASE_URL_LENGTH} characters`)
  if (CONTROL_CHARACTERS.test(text) || INVISIBLE_CHARACTERS.test(text)) {
    return refused("base URL must not contain control or invisible characters")
  }
  if (/\s/.test(text)) return refused("base URL must not contain spaces")
  if (text.includes("\\")) return refused("base URL must not contain backslashes")
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return refused("base URL must be an absolute URL, such as https://api.example.com/v1")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return refused("base URL must use https (or http on a local network)")
  if (url.username !== "" || url.password !== "") return refused("base URL must not contain a user name or password")
  if (url.hash !== "" || text.includes("#")) return refused("base URL must not contain a #fragment")
  for (const name of url.searchParams.keys()) {
    if (CREDENTIAL_PARAMETER.test(name)) {
      return refused("base URL must not carry a key or token in its query string: enter the key in the API key field instead")
    }
  }
  if (url.href.length > MAX_BASE_URL_LENGTH) return refused(`base URL must be at most ${MAX_BASE_URL_LENGTH} characters`)
  return { _tag: "Ok", url: { href: url.href, secure: url.protocol === "https:", reach: hostReach(url.hostname) } }
}

/**
 * Whether a config may use this URL given whether it holds a key: https anywhere; http to this
 * machine; http to a private network only without a key, or with the user's explicit
 * acknowledgement stored with the config; never http to a public host.
 */
export const insecureHttpProblem = (
  url: CanonicalBaseUrl,
  options: { readonly hasKey: boolean; readonly allowInsecureHttp: boolean }
): string | undefined => {
  if (url.secure || url.reach === "loopback") return undefined
  if (url.reach === "public") {
    return "base URL must use https: plain http is allowed only to this machine or a private network"
  }
  if (!options.hasKey || options.allowInsecureHttp) return undefined
  return "plain http to a network host would send the key unencrypted: use https, or allow insecure http for this configuration explicitly"
}

/**
 * The plain-http rule applied to the URL a key would go to (`effectiveUrl`: the config's, else
 * the provider's default), as saving and the draft check both apply it. A refused URL is the
 * schema's business, not this rule's.
 */
export const refuseInsecureHttp = (
  effectiveUrl: string | undefined,
  options: { readonly hasKey: boolean; readonly allowInsecureHttp: boolean }
): Effect.Effect<void, Errors.InvalidInput> => {
  const check = effectiveUrl === undefined ? undefined : checkBaseUrl(effectiveUrl)
  const problem = check?._tag === "Ok" ? insecureHttpProblem(check.url, options) : undefined
  return problem === undefined
    ? Effect.void
    : Effect.fail(
      new Errors.InvalidInput({
        field: "baseUrl",
        message: problem,
        hint: "Use an https URL, or explicitly allow insecure http for this configuration.",
        reason: check?._tag === "Ok" && check.url.reach === "public" ? "base-url-refused" : "insecure-http-needs-consent"
      })
    )
}
