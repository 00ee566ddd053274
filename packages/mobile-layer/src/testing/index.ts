/**
 * @fishbowl/mobile-layer/testing: in-memory stand-ins for the injected native modules, usable in
 * this package's tests and in an app's own Jest/Vitest tests.
 */
export * from "./MemoryAppStorage.ts"
export * from "./MemorySecureStore.ts"
export * from "./MemoryModules.ts"
