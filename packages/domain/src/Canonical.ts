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
import unhomoglyph from "unhomoglyph"
import * as BaseUrlRule from "./BaseUrlRule.ts"
import { CONTROL_CHARACTERS, INVISIBLE_CHARACTERS, LONE_SURROGATE, PRINTABLE_ASCII } from "./Characters.ts"
import * as Errors from "./Errors.ts"

export { CONTROL_CHARACTERS, INVISIBLE_CHARACTERS, LONE_SURROGATE } from "./Characters.ts"

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
 * Every write that names a configuration compares it with every other name in the store, so the
 * keys of the names in the file are computed again and again (1-2 µs each: NFKC and the
 * confusables table). The key is a pure function of the name: a bounded table remembers it.
 */
const nameKeys = new Map<string, string>()
const MAX_REMEMBERED_NAME_KEYS = 20_000

/**
 * Identity of a name for uniqueness: NFKC (fullwidth, ligatures), confusable letters mapped to
 * their Unicode prototypes (Cyrillic "о" is Latin "o"), case-folded. Idempotent: the steps are
 * repeated until nothing changes (at most a few rounds: each maps into a smaller alphabet).
 */
export const nameKey = (name: string): string => {
  const known = nameKeys.get(name)
  if (known !== undefined) return known
  if (nameKeys.size >= MAX_REMEMBERED_NAME_KEYS) nameKeys.clear()
  const key = nameKeyOf(name)
  nameKeys.set(name, key)
  return key
}

const nameKeyOf = (name: string): string => {
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
// base URLs: the rule lives in BaseUrlRule (free of Effect, so the settings page bundles it too)

export {
  type BaseUrlCheck,
  type CanonicalBaseUrl,
  checkBaseUrl,
  type HostReach,
  hostReach,
  insecureHttpProblem,
  MAX_BASE_URL_LENGTH
} from "./BaseUrlRule.ts"

/**
 * The plain-http rule applied to the URL a key would go to (`effectiveUrl`: the config's, else
 * the provider's default), as saving and the draft check both apply it. A refused URL is the
 * schema's business, not this rule's.
 */
export const refuseInsecureHttp = (
  effectiveUrl: string | undefined,
  options: { readonly hasKey: boolean; readonly allowInsecureHttp: boolean }
): Effect.Effect<void, Errors.InvalidInput> => {
  const check = effectiveUrl === undefined ? undefined : BaseUrlRule.checkBaseUrl(effectiveUrl)
  const problem = check?._tag === "Ok" ? BaseUrlRule.insecureHttpProblem(check.url, options) : undefined
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
