/**
 * @fishbowl/mobile-layer/testing: in-memory stand-ins for the injected native modules, usable in
 * this package's tests and in an app's own Jest/Vitest tests.
 */
export * as MemoryAppStorage from "./MemoryAppStorage.ts"
export * as MemoryModules from "./MemoryModules.ts"
export * as MemorySecureStore from "./MemorySecureStore.ts"
