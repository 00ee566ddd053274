/**
 * Compile-time proof that the shapes this package injects match the real packages' published
 * declarations (verbatim copies in published-types/, resolved by tsconfig.published-types.json
 * under the real module names). Checked by `npm run typecheck` and by test/published-types.test.ts.
 */
import type { AsyncStorage } from "@react-native-async-storage/async-storage"
import type AsyncStorageDefault from "@react-native-async-storage/async-storage"
import type * as SecureStore from "expo-secure-store"
import type { SecureStoreOptions } from "expo-secure-store"
import type { AppStorageApi, ExpoSecureStoreApi, ExpoSecureStoreOptions } from "../src/index.ts"
import type { MemoryAppStorage, MemorySecureStore } from "../src/testing/index.ts"

type Assignable<From extends To, To> = [From, To]

/** `import * as SecureStore from "expo-secure-store"` can be injected as is. */
export type SecureStoreModuleFits = Assignable<typeof SecureStore, ExpoSecureStoreApi>
/** The options the layer builds are options the published API accepts. */
export type OptionsFit = Assignable<ExpoSecureStoreOptions, SecureStoreOptions>
/** The default export of AsyncStorage v3 (and any `AsyncStorage` instance) can be injected as is. */
export type AsyncStorageDefaultFits = Assignable<typeof AsyncStorageDefault, AppStorageApi>
export type AsyncStorageFits = Assignable<AsyncStorage, AppStorageApi>

/** The in-memory stand-ins have the published shapes, so tests exercise what apps inject. */
export type MemoryAppStorageIsAnAsyncStorage = Assignable<MemoryAppStorage, AsyncStorage>
export type MemorySecureStoreIsTheModule = Assignable<
  MemorySecureStore,
  Pick<typeof SecureStore, "getItemAsync" | "setItemAsync" | "deleteItemAsync" | "isAvailableAsync" | "AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY" | "WHEN_UNLOCKED">
>
