/**
 * The expo-secure-store module, injected. The layer depends only on this shape, so the package
 * never imports expo or React Native; an app provides `import * as SecureStore from
 * "expo-secure-store"`. `type-tests/published-shapes.ts` proves the published module fits.
 */
import { Errors } from "@fishbowl/domain"
import { Context, Data } from "effect"

/** The subset of expo-secure-store's `SecureStoreOptions` this package sets. */
export interface ExpoSecureStoreOptions {
  readonly keychainService?: string
  readonly keychainAccessible?: number
  readonly accessGroup?: string
}

/** What the layer calls; the published module (`typeof import("expo-secure-store")`) is assignable to it. */
export interface ExpoSecureStoreApi {
  readonly getItemAsync: (key: string, options?: ExpoSecureStoreOptions) => Promise<string | null>
  readonly setItemAsync: (key: string, value: string, options?: ExpoSecureStoreOptions) => Promise<void>
  readonly deleteItemAsync: (key: string, options?: ExpoSecureStoreOptions) => Promise<void>
  readonly isAvailableAsync: () => Promise<boolean>
  /** The default `keychainAccessible`: readable in the background after the first unlock, never migrated. */
  readonly AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY: number
}

/** The injected native module. */
export class ExpoSecureStore extends Context.Service<ExpoSecureStore, ExpoSecureStoreApi>()(
  "@fishbowl/mobile-layer/ExpoSecureStore"
) {}

/** How the layer talks to the store; every call uses the same options so items are found again. */
export interface ExpoSecureStoreSettings {
  /** iOS `kSecAttrAccessible`; default `AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY` of the injected module. */
  readonly keychainAccessible?: number
  /** iOS service / Android key alias; once used, it is needed to read the items back. */
  readonly keychainService?: string
  /** iOS keychain access group (sharing with an app extension). */
  readonly accessGroup?: string
  /**
   * Largest value accepted, in UTF-8 bytes. Default 2048: older expo-secure-store docs warned that
   * iOS may reject values above 2 KiB. Larger values fail with `InvalidInput` before native code runs.
   */
  readonly maxValueBytes?: number
  /** Read every write back and compare, so a store that truncates cannot do so silently (default true). */
  readonly verifyWrites?: boolean
}

export const DEFAULT_MAX_VALUE_BYTES = 2048

/** The options object passed to every native call (no undefined members: the native side reads keys). */
export const nativeOptions = (module: ExpoSecureStoreApi, settings: ExpoSecureStoreSettings): ExpoSecureStoreOptions => ({
  keychainAccessible: settings.keychainAccessible ?? module.AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
  ...(settings.keychainService !== undefined ? { keychainService: settings.keychainService } : {}),
  ...(settings.accessGroup !== undefined ? { accessGroup: settings.accessGroup } : {})
})

/** `isAvailableAsync` itself rejected: the native module is missing or broken, not merely unsupported. */
export const availabilityCheckFailed = () =>
  new Errors.KeychainUnavailable({
    message: "Could not ask expo-secure-store whether secure storage is available",
    hint: "Restart the app. If it keeps failing, reinstall it: this build may lack the native module."
  })

const field = (cause: unknown, name: "code" | "message"): string => {
  if (typeof cause === "object" && cause !== null && name in cause) {
    const value = (cause as Record<string, unknown>)[name]
    return typeof value === "string" ? value : ""
  }
  return typeof cause === "string" && name === "message" ? cause : ""
}

/** A promise of expo-secure-store rejected; `cause` is what it rejected with, classified below. */
export class NativeRejection extends Data.TaggedError("NativeRejection")<{ readonly cause: unknown }> {}

/** The `catch` of every `Effect.tryPromise` over the native module. */
export const rejected = (cause: unknown) => new NativeRejection({ cause })

/** How a rejection of expo-secure-store reads: codes are expo's (`ERR_<ExceptionName>`), messages its native texts. */
export type NativeFailureKind = "locked" | "denied" | "undecryptable" | "invalid" | "failed"

/**
 * Classifies a rejection. `undecryptable` is permanent (Android Keystore key lost after a backup
 * restore or reinstall, biometry change): the item can never be read again, so reads treat it as
 * absent and the domain's NotFound / "Replace key" path applies.
 */
export const classifyNativeFailure = (cause: unknown): NativeFailureKind => {
  const code = field(cause, "code")
  const message = field(cause, "message")
  if (/interaction is not allowed|errSecInteractionNotAllowed|-25308/i.test(message)) return "locked"
  if (code === "ERR_AUTHENTICATION" || /user cancel|authenticat/i.test(message)) return "denied"
  if (code === "ERR_DECRYPT" || /could not decrypt|encrypted JSON|encryption scheme|encoding scheme/i.test(message)) {
    return "undecryptable"
  }
  if (/invalid (key|value) provided/i.test(message)) return "invalid"
  return "failed"
}

/**
 * A typed error for a rejection. Native messages are not copied (they name keychains and could be
 * anything); only the expo error code is kept for diagnostics.
 */
export const nativeFailure = (
  operation: "read" | "write" | "delete",
  label: string,
  cause: unknown
): Errors.SecretStoreError => {
  const code = field(cause, "code")
  const suffix = code === "" ? "" : ` (${code})`
  switch (classifyNativeFailure(cause)) {
    case "locked":
      return new Errors.KeychainLocked({
        message: `The secure store is locked, so ${label} could not be ${pastTense[operation]}${suffix}`,
        hint: "Unlock your device and try again.",
        reason: "locked"
      })
    case "denied":
      return new Errors.KeychainDenied({
        message: `Access to ${label} was refused${suffix}`,
        hint: "Confirm with Face ID, Touch ID or your device passcode when asked."
      })
    case "invalid":
      return new Errors.InvalidInput({
        field: "apiKey",
        message: `The secure store rejected ${label} as invalid${suffix}`,
        hint: "Paste the key again; it must be plain text."
      })
    case "undecryptable":
      return new Errors.StorageInaccessible({
        message: `${label} can no longer be decrypted on this device${suffix}`,
        hint: "Edit the configuration and choose \"Replace key\" to enter the API key again."
      })
    case "failed":
      return new Errors.KeychainUnavailable({
        message: `The secure store could not ${operation} ${label}${suffix}`,
        hint: "Try again. If it keeps failing, restart the app; your configurations are kept."
      })
  }
}

const pastTense = { read: "read", write: "written", delete: "deleted" } as const
