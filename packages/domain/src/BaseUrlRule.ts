/**
 * The base-URL rule, decided here and nowhere else: what a base URL may be, where its host is,
 * and when plain http may carry a key. Free of Effect and of any platform API (the WHATWG URL
 * parser and ipaddr.js only), so the store's schema, the CLI and the settings page's form all
 * import this one module: the form asks for consent exactly when the store would demand it.
 */
import ipaddr from "ipaddr.js"
import { CONTROL_CHARACTERS, INVISIBLE_CHARACTERS } from "./Characters.ts"

/** Why plain http to a public host is refused: consent cannot make it acceptable. */
export const PUBLIC_HTTP_REFUSED = "base URL must use https: plain http is allowed only to this machine or a private network"

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
  if (url.reach === "public") return PUBLIC_HTTP_REFUSED
  if (!options.hasKey || options.allowInsecureHttp) return undefined
  return "plain http to a network host would send the key unencrypted: use https, or allow insecure http for this configuration explicitly"
}

/**
 * Whether saving `text` with a key needs the user's consent to plain http (a private-network
 * host): what the settings page asks before the store would refuse. False for https, this
 * machine, a public host (refused whatever the consent) and what is not a base URL at all.
 */
export const needsConsent = (text: string): boolean => {
  const check = checkBaseUrl(text.trim())
  if (check._tag === "Refused") return false
  // consent is what makes the difference: refused without it, accepted with it
  return insecureHttpProblem(check.url, { hasKey: true, allowInsecureHttp: false }) !== undefined &&
    insecureHttpProblem(check.url, { hasKey: true, allowInsecureHttp: true }) === undefined
}
