/**
 * @fishbowl/desktop-layer: the domain ports on Node/Electron (keychain, preferences file).
 */
export * from "./KeytarSecretStore.ts"
export * as AtomicFile from "./AtomicFile.ts"
export * from "./DataDir.ts"
export { JsonFilePreferencesStore, type JsonFilePreferencesStoreOptions } from "./JsonFilePreferencesStore.ts"
export * from "./DesktopDiagnostics.ts"
export * from "./DesktopLayer.ts"
export * from "./SafeStorageSecretStore.ts"
export * from "./SecretBackend.ts"
export { Migration, MigrationReport, type MigrateOptions, type MigrationError } from "./Migration.ts"
export * from "./HttpProviderCheck.ts"
