/** Test wiring: the real mobile layers over fresh in-memory modules, one pair per layer build. */
import { Effect, Layer } from "effect"
import { AppStorage } from "../AppStorageModule.ts"
import { ExpoSecureStore } from "../ExpoSecureStoreModule.ts"
import { type MobileSettings, portsNoDeps } from "../MobileLayer.ts"
import { MemoryAppStorage } from "./MemoryAppStorage.ts"
import { MemorySecureStore, type MemorySecureStoreOptions } from "./MemorySecureStore.ts"

/** Fresh in-memory modules each time the layer is built (each test gets an empty device). */
export const memoryModules = (secureStoreOptions?: MemorySecureStoreOptions) =>
  Layer.mergeAll(
    Layer.effect(ExpoSecureStore, Effect.sync(() => new MemorySecureStore(secureStoreOptions))),
    Layer.effect(AppStorage, Effect.sync(() => new MemoryAppStorage()))
  )

/** The mobile ports (SecretStore, SecretKeyIndex, PreferencesStore) over fresh in-memory modules. */
export const memoryPorts = (settings: MobileSettings = {}, secureStoreOptions?: MemorySecureStoreOptions) =>
  portsNoDeps(settings).pipe(Layer.provide(memoryModules(secureStoreOptions)))
