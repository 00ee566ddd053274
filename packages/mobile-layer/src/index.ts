/**
 * @fishbowl/mobile-layer: the domain's ports on React Native / Expo. The native modules
 * (expo-secure-store, AsyncStorage) are injected, so this package never imports React Native.
 */
export * as AppStorageModule from "./AppStorageModule.ts"
export * as AppStoragePreferencesStore from "./AppStoragePreferencesStore.ts"
export * as ExpoSecureStoreModule from "./ExpoSecureStoreModule.ts"
export * as ExpoSecureStoreSecretStore from "./ExpoSecureStoreSecretStore.ts"
export * as MobileLayer from "./MobileLayer.ts"
export * as OrphanSweep from "./OrphanSweep.ts"
export * as SecretKeyIndex from "./SecretKeyIndex.ts"
export * as SecureStoreKey from "./SecureStoreKey.ts"
