/** Test wiring: the real mobile layers over fresh in-memory modules, one pair per layer build. */
import { Effect, Layer } from "effect"
import * as AppStorageModule from "../AppStorageModule.ts"
import * as ExpoSecureStoreModule from "../ExpoSecureStoreModule.ts"
import * as MobileLayer from "../MobileLayer.ts"
import * as MemoryAppStorage from "./MemoryAppStorage.ts"
import * as MemorySecureStore from "./MemorySecureStore.ts"

/** Fresh in-memory modules each time the layer is built (each test gets an empty device). */
export const memoryModules = (secureStoreOptions?: MemorySecureStore.MemorySecureStoreOptions) =>
  Layer.mergeAll(
    Layer.effect(ExpoSecureStoreModule.ExpoSecureStore, Effect.sync(() => new MemorySecureStore.MemorySecureStore(secureStoreOptions))),
    Layer.effect(AppStorageModule.AppStorage, Effect.sync(() => new MemoryAppStorage.MemoryAppStorage()))
  )

/** The mobile ports (SecretStore, SecretKeyIndex, PreferencesStore) over fresh in-memory modules. */
export const memoryPorts = (settings: MobileLayer.MobileSettings = {}, secureStoreOptions?: MemorySecureStore.MemorySecureStoreOptions) =>
  MobileLayer.portsOverModules(settings).pipe(Layer.provide(memoryModules(secureStoreOptions)))
