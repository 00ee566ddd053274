/**
 * @fishbowl/domain: platform-free schemas, ports and the consistent LlmConfigStore.
 * Platform layers (desktop, mobile) provide SecretStore and PreferencesStore.
 */
export * from "./Canonical.ts"
export * from "./CrashPoints.ts"
export * from "./Errors.ts"
export * from "./Ids.ts"
export * from "./LlmConfig.ts"
export * from "./LlmConfigStore.ts"
export * from "./PreferencesDocument.ts"
export * from "./PreferencesStore.ts"
export * from "./Providers.ts"
export * from "./SecretRef.ts"
export * from "./SecretStore.ts"
export * from "./UntrustedInput.ts"
export * from "./Budget.ts"
export * from "./Diagnostics.ts"
export * from "./IpcContract.ts"
export * from "./JsonLimits.ts"
export * from "./ProviderCheck.ts"
export * from "./ConfigCheck.ts"
export * from "./StorageNotice.ts"
export * from "./HealthContract.ts"
