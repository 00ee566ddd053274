/**
 * @fishbowl/domain/testing: contract suites every platform layer runs, the model they are checked
 * against, fixtures and the fault-injecting layer. Imports vitest and fast-check, so it is only
 * for test code.
 */
export * from "./FaultInjection.ts"
export * from "./Fixtures.ts"
export * from "./LlmConfigModel.ts"
export * from "./LlmConfigStoreContract.ts"
export * from "./PreferencesStoreContract.ts"
export * from "./SecretStoreContract.ts"
