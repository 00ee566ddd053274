/**
 * @fishbowl/desktop-layer: the domain ports on Node/Electron (keychain, preferences file).
 */
export * as AtomicFile from "./AtomicFile.ts"
export * as Backups from "./Backups.ts"
export * as DataDir from "./DataDir.ts"
export * as DesktopDiagnostics from "./DesktopDiagnostics.ts"
export * as DesktopLayer from "./DesktopLayer.ts"
export * as HttpProviderCheck from "./HttpProviderCheck.ts"
export * as JsonFilePreferencesStore from "./JsonFilePreferencesStore.ts"
export * as KeytarSecretStore from "./KeytarSecretStore.ts"
export * as LeftOut from "./LeftOut.ts"
export * as Migration from "./Migration.ts"
export * as PreferencesText from "./PreferencesText.ts"
export * as ProcessLiveness from "./ProcessLiveness.ts"
export * as RestoreNotices from "./RestoreNotices.ts"
export * as SafeStorageSecretStore from "./SafeStorageSecretStore.ts"
export * as SecretBackend from "./SecretBackend.ts"
export * as TrustedFile from "./TrustedFile.ts"
