/**
 * The one mapping from a domain `SecretRef` to an expo-secure-store key.
 *
 * expo-secure-store accepts only `[A-Za-z0-9._-]` in keys and has no separate service/account
 * pair, so the ref is flattened to `<service>.<account>`:
 *   `fishbowl.<provider-id>.<config-id>.apiKey` and `fishbowl.<provider-id>.<config-id>.apiKey.staged`.
 * Injective: a service is lowercase (`fishbowl.[a-z0-9.-]+`) while both accounts contain an
 * uppercase `K`, so the account is always the unique suffix that starts with `.apiKey`.
 */
import { Errors, SecretRef } from "@fishbowl/domain"
import { Effect, Option, Schema } from "effect"

/** The characters expo-secure-store accepts in a key (its own check is `/^[\w.-]+$/`). */
export const SECURE_STORE_KEY_PATTERN = /^[A-Za-z0-9._-]+$/

const SERVICE_PATTERN = /^fishbowl\.[a-z0-9.-]+$/

/** Keys the layer itself uses (the key index); `_` never occurs in a secret's key, so they cannot collide. */
export const RESERVED_KEY_PREFIX = "fishbowl._"

/** The secure-store key of a ref; total on refs that satisfy the `SecretRef` schema. */
export const secureStoreKeyFor = (ref: SecretRef.SecretRef): string => `${ref.service}.${ref.account}`

const isSecretField = Schema.is(SecretRef.SecretField)

/** The inverse of `secureStoreKeyFor`; None for keys this layer did not derive from a ref. */
export const secretRefFromSecureStoreKey = (key: string): Option.Option<SecretRef.SecretRef> => {
  for (const account of ["apiKey.staged", "apiKey"] as const) {
    const suffix = `.${account}`
    if (key.endsWith(suffix)) {
      const service = key.slice(0, -suffix.length)
      if (SERVICE_PATTERN.test(service) && isSecretField(account)) return Option.some({ service, account })
    }
  }
  return Option.none()
}

/**
 * The key for `ref`, checked before it reaches native code: a ref built by hand (not decoded by
 * the schema) could otherwise make expo-secure-store throw an untyped "Invalid key".
 */
export const checkedSecureStoreKey = (ref: SecretRef.SecretRef): Effect.Effect<string, Errors.InvalidInput> => {
  const key = secureStoreKeyFor(ref)
  return SERVICE_PATTERN.test(ref.service) && isSecretField(ref.account) && SECURE_STORE_KEY_PATTERN.test(key)
    ? Effect.succeed(key)
    : Effect.fail(
      new Errors.InvalidInput({
        field: "secretRef",
        message: `The entry for ${
          SecretRef.spokenName(ref)
        } cannot be named in expo-secure-store (only A-Z, a-z, 0-9, '.', '_' and '-' are allowed)`,
        hint: "This is a bug in Fishbowl; please report it."
      })
    )
}
