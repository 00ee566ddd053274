/**
 * SecretStore over expo-secure-store (iOS Keychain, Android Keystore-encrypted preferences).
 *
 * Platform rules it enforces rather than leaves to native code:
 * - keys are derived by `secureStoreKeyFor` and checked against the store's charset;
 * - values above `maxValueBytes` (2 KiB by default) fail with InvalidInput before any native call,
 *   and every write is read back, so nothing is ever truncated silently;
 * - `isAvailableAsync() === false` (web, unsupported device) fails every call with Unsupported;
 * - an item that can no longer be decrypted reads as absent, so the domain answers NotFound with
 *   its "Replace key" hint, exactly as on desktop when a keychain entry is deleted.
 */
import { Errors, KeyedLock, SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, Layer, Option, Redacted } from "effect"
import * as ExpoSecureStoreModule from "./ExpoSecureStoreModule.ts"
import * as SecretKeyIndex from "./SecretKeyIndex.ts"
import * as SecureStoreKey from "./SecureStoreKey.ts"

const unsupported = () =>
  new Errors.Unsupported({
    reason: "no-secure-storage",
    message: "Secure storage is not available on this device (expo-secure-store reports it unavailable)",
    hint: "Fishbowl needs the iOS Keychain or Android Keystore to keep API keys; use the iOS or Android app rather than the web build."
  })

/** Builds the store over the injected module and the key index (both from context). */
export const make = Effect.fnUntraced(function*(settings: ExpoSecureStoreModule.ExpoSecureStoreSettings = {}) {
  const native = yield* ExpoSecureStoreModule.ExpoSecureStore
  const index = yield* SecretKeyIndex.SecretKeyIndex
  const options = ExpoSecureStoreModule.nativeOptions(native, settings)
  const maxValueBytes = settings.maxValueBytes ?? ExpoSecureStoreModule.DEFAULT_MAX_VALUE_BYTES
  const verifyWrites = settings.verifyWrites ?? true
  // Per entry: `delete` reads before it deletes, and must not interleave with a `set`.
  const serialized = KeyedLock.make()

  /** Availability never changes while the app runs, so a definite answer is remembered; errors are retried. */
  let available: boolean | undefined
  const checkAvailability = Effect.tryPromise({
    try: () => native.isAvailableAsync(),
    catch: ExpoSecureStoreModule.availabilityCheckFailed
  }).pipe(Effect.tap((answer) => Effect.sync(() => (available = answer))))
  const requireAvailable = Effect.suspend(() => available === undefined ? checkAvailability : Effect.succeed(available))
    .pipe(Effect.flatMap((answer) => answer ? Effect.void : Effect.fail(unsupported())))

  const readRaw = (key: string, ref: SecretRef.SecretRef) =>
    Effect.tryPromise({ try: () => native.getItemAsync(key, options), catch: ExpoSecureStoreModule.rejected }).pipe(
      Effect.map((value) => value === null ? ("absent" as const) : { value }),
      Effect.catchTag("NativeRejection", ({ cause }) =>
        ExpoSecureStoreModule.classifyNativeFailure(cause) === "undecryptable"
          ? Effect.succeed("undecryptable" as const)
          : Effect.fail(ExpoSecureStoreModule.nativeFailure("read", SecretRef.spokenName(ref), cause)))
    )

  const get = Effect.fn("SecretStore.get")(function*(ref: SecretRef.SecretRef) {
    yield* requireAvailable
    const key = yield* SecureStoreKey.checkedSecureStoreKey(ref)
    const raw = yield* readRaw(key, ref)
    if (raw === "absent") return Option.none()
    if (raw === "undecryptable") {
      yield* Effect.logWarning(
        `${SecretRef.describeSecretRef(ref)} exists but cannot be decrypted (restored backup or reinstall); treating it as missing`
      )
      return Option.none()
    }
    return Option.some(Redacted.make(raw.value))
  })

  const set = Effect.fn("SecretStore.set")(function*(ref: SecretRef.SecretRef, value: Redacted.Redacted<string>) {
    const text = yield* SecretStore.checkSecretValue(ref, value, maxValueBytes)
    yield* requireAvailable
    const key = yield* SecureStoreKey.checkedSecureStoreKey(ref)
    yield* index.record(ref)
    yield* serialized(
      key,
      Effect.gen(function*() {
        yield* Effect.tryPromise({
          try: () => native.setItemAsync(key, text, options),
          catch: (cause) => ExpoSecureStoreModule.nativeFailure("write", SecretRef.spokenName(ref), cause)
        })
        if (!verifyWrites) return
        const back = yield* readRaw(key, ref)
        if (typeof back === "object" && back.value === text) return
        // A mangled key would fail later at the provider with a confusing 401; absent means "Replace key".
        yield* Effect.tryPromise({ try: () => native.deleteItemAsync(key, options), catch: () => undefined }).pipe(Effect.ignore)
        return yield* new Errors.StorageInaccessible({
          message: `The secure store did not keep the value for ${SecretRef.spokenName(ref)} intact`,
          hint: "The key is probably too large for this device's secure storage; check that you pasted only the API key."
        })
      })
    )
  })

  const remove = Effect.fn("SecretStore.delete")(function*(ref: SecretRef.SecretRef) {
    yield* requireAvailable
    const key = yield* SecureStoreKey.checkedSecureStoreKey(ref)
    return yield* serialized(
      key,
      Effect.gen(function*() {
        // expo-secure-store does not say whether it removed anything, so look first.
        const existed = (yield* readRaw(key, ref)) !== "absent"
        yield* Effect.tryPromise({
          try: () => native.deleteItemAsync(key, options),
          catch: (cause) => ExpoSecureStoreModule.nativeFailure("delete", SecretRef.spokenName(ref), cause)
        })
        return existed
      })
    )
  })

  const description: SecretStore.SecretStoreDescription = {
    backend: "expo-secure-store",
    tier: "keychain",
    persistent: true,
    secure: true,
    distinguishesLockedFromAbsent: true,
    detail: settings.keychainAccessible === undefined
      ? "Keys are kept in the iOS Keychain / Android Keystore, readable after the first unlock and never copied to another device."
      : "Keys are kept in the iOS Keychain / Android Keystore with the accessibility this app configured."
  }

  return SecretStore.SecretStore.of({
    get,
    set,
    delete: remove,
    describe: requireAvailable.pipe(Effect.as(description)),
    // Nothing to unlock from JS on mobile; re-asking lets a user retry after a transient failure.
    authorize: Effect.suspend(() => {
      available = undefined
      return requireAvailable
    }),
    placement: Effect.succeed("keychain" as const),
    sessionId: SecretStore.newSessionId(),
    // expo-secure-store writes in the app's own process: nothing outlives it.
    lateWriteMillis: 0
  })
})

/** The SecretStore without its index; for apps that compose the index themselves. */
export const layerNoIndex = (settings: ExpoSecureStoreModule.ExpoSecureStoreSettings = {}) =>
  Layer.effect(SecretStore.SecretStore, make(settings))

/**
 * SecretStore and SecretKeyIndex over the injected `ExpoSecureStore` module. Provide the module
 * with `Layer.succeed(ExpoSecureStore, SecureStore)` where `SecureStore` is `import * as SecureStore
 * from "expo-secure-store"`.
 */
export const layer = (settings: ExpoSecureStoreModule.ExpoSecureStoreSettings = {}) =>
  layerNoIndex(settings).pipe(Layer.provideMerge(SecretKeyIndex.layer(settings)))
