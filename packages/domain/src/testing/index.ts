/**
 * @fishbowl/domain/testing: contract suites every platform layer runs, the model they are checked
 * against, fixtures and the fault-injecting layer. Imports vitest and fast-check, so it is only
 * for test code.
 */
export * as CrashSwitch from "./CrashSwitch.ts"
export * as FaultInjection from "./FaultInjection.ts"
export * as Fixtures from "./Fixtures.ts"
export * as LlmConfigModel from "./LlmConfigModel.ts"
export * as LlmConfigStoreContract from "./LlmConfigStoreContract.ts"
export * as PreferencesStoreContract from "./PreferencesStoreContract.ts"
export * as SecretStoreContract from "./SecretStoreContract.ts"
export * as StoreInstances from "./StoreInstances.ts"
