/**
 * @fishbowl/mobile-layer: the domain's ports on React Native / Expo. The native modules
 * (expo-secure-store, AsyncStorage) are injected, so this package never imports React Native.
 */
export * from "./AppStorageModule.ts"
export * as AppStoragePreferencesStore from "./AppStoragePreferencesStore.ts"
export * from "./ExpoSecureStoreModule.ts"
export * as ExpoSecureStoreSecretStore from "./ExpoSecureStoreSecretStore.ts"
export * as MobileLayer from "./MobileLayer.ts"
export * from "./OrphanSweep.ts"
export * from "./SecretKeyIndex.ts"
export * from "./SecureStoreKey.ts"
