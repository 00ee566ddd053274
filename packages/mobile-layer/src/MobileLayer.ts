/**
 * The wiring an Expo app uses: both platform ports from the two injected modules, and the domain's
 * LlmConfigStore on top. The domain is the same code as on desktop; only these layers differ.
 */
import { Liveness, LlmConfigStore, type PreferencesStore, type SecretStore } from "@fishbowl/domain"
import { Layer } from "effect"
import * as AppStorageModule from "./AppStorageModule.ts"
import * as AppStoragePreferencesStore from "./AppStoragePreferencesStore.ts"
import * as ExpoSecureStoreModule from "./ExpoSecureStoreModule.ts"
import * as ExpoSecureStoreSecretStore from "./ExpoSecureStoreSecretStore.ts"
import type * as SecretKeyIndex from "./SecretKeyIndex.ts"

export interface NativeModules {
  /** `import * as SecureStore from "expo-secure-store"` */
  readonly secureStore: ExpoSecureStoreModule.ExpoSecureStoreApi
  /** `import AsyncStorage from "@react-native-async-storage/async-storage"` */
  readonly appStorage: AppStorageModule.AppStorageApi
}

export interface MobileSettings {
  readonly secureStore?: ExpoSecureStoreModule.ExpoSecureStoreSettings
  readonly preferences?: AppStoragePreferencesStore.AppStoragePreferencesSettings
}

/** What `layer` provides: the domain store, the ports, and the key index the orphan sweep reads. */
export type Services =
  | LlmConfigStore.LlmConfigStore
  | SecretStore.SecretStore
  | SecretKeyIndex.SecretKeyIndex
  | PreferencesStore.PreferencesStore
  | Liveness.Liveness

/** The injected modules as services. */
export const modules = (native: NativeModules) =>
  Layer.mergeAll(
    Layer.succeed(ExpoSecureStoreModule.ExpoSecureStore, native.secureStore),
    Layer.succeed(AppStorageModule.AppStorage, native.appStorage)
  )

/**
 * SecretStore, SecretKeyIndex, PreferencesStore and Liveness over modules found in context. The app
 * is one process: an intent not owned by an instance of this launch is an earlier launch's, gone.
 */
export const portsOverModules = (settings: MobileSettings = {}) =>
  Layer.mergeAll(
    ExpoSecureStoreSecretStore.layer(settings.secureStore),
    AppStoragePreferencesStore.layer(settings.preferences),
    Liveness.layerMemory
  )

/** SecretStore, SecretKeyIndex and PreferencesStore over the given modules. */
export const ports = (native: NativeModules, settings: MobileSettings = {}) =>
  portsOverModules(settings).pipe(Layer.provide(modules(native)))

/** LlmConfigStore plus the ports (the sweep needs them), ready for a ManagedRuntime. */
export const layer = (native: NativeModules, settings: MobileSettings = {}) =>
  LlmConfigStore.layer.pipe(Layer.provideMerge(ports(native, settings)))
