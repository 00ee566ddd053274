/**
 * Compile-time proof that the shapes this package injects match the real packages' published
 * declarations (verbatim copies in published-types/, resolved by tsconfig.published-types.json
 * under the real module names). Checked by `npm run typecheck` and by test/published-types.test.ts.
 */
import type { AppStorageModule, ExpoSecureStoreModule } from "@fishbowl/mobile-layer"
import type { MemoryAppStorage, MemorySecureStore } from "@fishbowl/mobile-layer/testing"
import type { AsyncStorage } from "@react-native-async-storage/async-storage"
import type AsyncStorageDefault from "@react-native-async-storage/async-storage"
import type * as SecureStore from "expo-secure-store"
import type { SecureStoreOptions } from "expo-secure-store"

type Assignable<From extends To, To> = [From, To]

/** `import * as SecureStore from "expo-secure-store"` can be injected as is. */
export type SecureStoreModuleFits = Assignable<typeof SecureStore, ExpoSecureStoreModule.ExpoSecureStoreApi>
/** The options the layer builds are options the published API accepts. */
export type OptionsFit = Assignable<ExpoSecureStoreModule.ExpoSecureStoreOptions, SecureStoreOptions>
/** The default export of AsyncStorage v3 (and any `AsyncStorage` instance) can be injected as is. */
export type AsyncStorageDefaultFits = Assignable<typeof AsyncStorageDefault, AppStorageModule.AppStorageApi>
export type AsyncStorageFits = Assignable<AsyncStorage, AppStorageModule.AppStorageApi>

/** The in-memory stand-ins have the published shapes, so tests exercise what apps inject. */
export type MemoryAppStorageIsAnAsyncStorage = Assignable<MemoryAppStorage.MemoryAppStorage, AsyncStorage>
export type MemorySecureStoreIsTheModule = Assignable<
  MemorySecureStore.MemorySecureStore,
  Pick<
    typeof SecureStore,
    "getItemAsync" | "setItemAsync" | "deleteItemAsync" | "isAvailableAsync" | "AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY" | "WHEN_UNLOCKED"
  >
>
