/**
 * Fishbowl's key files (langadventurellc/fishbowl), read exactly as Fishbowl writes them.
 *
 * The storage name of a key is built twice on its way to the file:
 *   LlmConfigRepository.getSecureStorageKey(id) = "llm_api_key_" + id
 *     (packages/shared/src/repositories/llmConfig/LlmConfigRepository.ts; `create`, `update` and
 *     `delete` pass that to secureStorage.store / retrieve / delete), then
 *   - LlmSecureStorage.getStorageKey(name) = "llm_api_key_" + name, value
 *     safeStorage's synchronous `encryptString` of the key, base64, file `<userData>/secure_keys.json`
 *     (apps/desktop/src/electron/services/LlmSecureStorage.ts): production builds;
 *   - TestSecureStorage.getStorageKey(name) = "test_llm_api_key_" + name, value the key in plain
 *     text, file `<userData>/test_secure_keys.json`
 *     (apps/desktop/src/electron/services/TestSecureStorage.ts): chosen when NODE_ENV=test or
 *     CI=true (apps/desktop/src/electron/services/LlmStorageService.ts).
 * So a config `id` has its key under `llm_api_key_llm_api_key_<id>` (secure_keys.json) or
 * `test_llm_api_key_llm_api_key_<id>` (test_secure_keys.json). Both files are
 * `JSON.stringify(storage, null, 2)` written with fs.writeFileSync (default mode, not atomic).
 * Single-prefixed names are accepted as a fallback.
 */
import { Effect, Redacted } from "effect"
import type * as LegacyFiles from "./LegacyFiles.ts"
import type * as LegacySource from "./LegacySource.ts"

export const SECURE_KEYS_FILE = "secure_keys.json"
export const TEST_SECURE_KEYS_FILE = "test_secure_keys.json"

export type KeyFileKind = "encrypted" | "plain"

/** LlmConfigRepository's prefix, added before the storage's own. */
const REPOSITORY_PREFIX = "llm_api_key_"
const STORAGE_PREFIX: Record<KeyFileKind, string> = { encrypted: "llm_api_key_", plain: "test_llm_api_key_" }

/** The name Fishbowl stores config `id`'s key under, in the file of `kind`. */
export const keyNameFor = (kind: KeyFileKind, id: string) => `${STORAGE_PREFIX[kind]}${REPOSITORY_PREFIX}${id}`

/** Names tried for `id`: Fishbowl's, then the single-prefixed fallbacks. */
const candidateNames = (
  kind: KeyFileKind,
  id: string
) => [keyNameFor(kind, id), `${STORAGE_PREFIX[kind]}${id}`, `${REPOSITORY_PREFIX}${id}`]

/** True for a name that holds an LLM key in a file of `kind`. */
export const isLlmKeyName = (kind: KeyFileKind, name: string) => name.startsWith(STORAGE_PREFIX[kind]) || name.startsWith(REPOSITORY_PREFIX)

/** The config id a key name belongs to (both prefixes removed). */
export const idOfKeyName = (kind: KeyFileKind, name: string) => {
  let rest = name
  if (rest.startsWith(STORAGE_PREFIX[kind])) rest = rest.slice(STORAGE_PREFIX[kind].length)
  if (rest.startsWith(REPOSITORY_PREFIX)) rest = rest.slice(REPOSITORY_PREFIX.length)
  return rest
}

/** The names in `map` used for `id` (so they can all be removed once it is migrated). */
export const namesFor = (map: LegacyFiles.Raw, kind: KeyFileKind, id: string) =>
  candidateNames(kind, id).filter((name) => Object.prototype.hasOwnProperty.call(map, name))

/**
 * The key of `id` from a file of `kind`. Encrypted values need `decrypt` (Electron's
 * `safeStorage.decryptStringAsync`, which decrypts what Fishbowl's synchronous `encryptString`
 * wrote); without it the key is unavailable here and only the desktop app can finish the import.
 */
export const lookupKey = (
  map: LegacyFiles.Raw,
  kind: KeyFileKind,
  id: string,
  file: string,
  decrypt: LegacySource.Decrypt | undefined
): Effect.Effect<LegacySource.KeySource> => {
  const name = namesFor(map, kind, id)[0]
  if (name === undefined) return Effect.succeed({ _tag: "NoKey" })
  const value = map[name]
  if (typeof value !== "string" || value === "") {
    return Effect.succeed({
      _tag: "Unavailable",
      reason: `the key in ${file} is not text`,
      fix: `Add the configuration by hand with \`fishbowl-llm add\`, then delete "${name}" from ${file}.`
    })
  }
  if (kind === "plain") return Effect.succeed({ _tag: "Key", value: Redacted.make(value) })
  if (decrypt === undefined) {
    return Effect.succeed({
      _tag: "Unavailable",
      reason: "needs the desktop app to decrypt (Electron safeStorage)",
      fix:
        `Its key in ${file} is encrypted with Electron safeStorage, which only the desktop app can decrypt: start the Fishbowl desktop app once and it finishes the import. The files are kept until then.`,
      needsDesktopApp: true
    })
  }
  return Effect.tryPromise(() => decrypt(Buffer.from(value, "base64"))).pipe(
    Effect.map((plain): LegacySource.KeySource => ({ _tag: "Key", value: Redacted.make(plain) })),
    Effect.orElseSucceed((): LegacySource.KeySource => ({
      _tag: "Unavailable",
      reason: "key undecryptable (safeStorage could not decrypt it)",
      fix:
        `Sign in as the user who created it (safeStorage keys are tied to that login), or add the configuration again with \`fishbowl-llm add\` and delete "${name}" from ${file}.`
    }))
  )
}

/** `map` without LLM key names (what is left belongs to someone else and is kept). */
export const withoutLlmKeys = (map: LegacyFiles.Raw, kind: KeyFileKind): LegacyFiles.Raw =>
  Object.fromEntries(Object.entries(map).filter(([name]) => !isLlmKeyName(kind, name)))
