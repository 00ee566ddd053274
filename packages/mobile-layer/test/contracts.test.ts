/**
 * The domain's contract suites, unchanged, on the mobile layers: the proof that an Expo app swaps
 * platform layers and keeps the domain. Modules are in-memory stand-ins that enforce expo-secure-store's
 * and AsyncStorage's documented constraints (see src/testing).
 */
import { FaultInjection, LlmConfigStoreContract, PreferencesStoreContract, SecretStoreContract } from "@fishbowl/domain/testing"
import { Effect, Layer } from "effect"
import * as AppStorageModule from "../src/AppStorageModule.ts"
import * as AppStoragePreferencesStore from "../src/AppStoragePreferencesStore.ts"
import * as ExpoSecureStoreSecretStore from "../src/ExpoSecureStoreSecretStore.ts"
import * as MemoryAppStorage from "../src/testing/MemoryAppStorage.ts"
import * as MemoryModules from "../src/testing/MemoryModules.ts"

const freshAppStorage = Layer.effect(AppStorageModule.AppStorage, Effect.sync(() => new MemoryAppStorage.MemoryAppStorage()))

SecretStoreContract.secretStoreContract(
  "expo-secure-store (default 2 KiB limit)",
  ExpoSecureStoreSecretStore.layer().pipe(Layer.provide(MemoryModules.memoryModules())),
  { maxValueBytes: 2048 }
)

// Items scoped to a keychain service, and without the read-back check: the contract holds either way.
SecretStoreContract.secretStoreContract(
  "expo-secure-store (keychainService set, verifyWrites off)",
  ExpoSecureStoreSecretStore.layer({ keychainService: "fishbowl", verifyWrites: false }).pipe(
    Layer.provide(MemoryModules.memoryModules())
  ),
  { maxValueBytes: 2048 }
)

SecretStoreContract.secretStoreContract(
  "expo-secure-store (raised limit 16 KiB)",
  ExpoSecureStoreSecretStore.layer({ maxValueBytes: 16 * 1024 }).pipe(Layer.provide(MemoryModules.memoryModules())),
  { maxValueBytes: 16 * 1024 }
)

PreferencesStoreContract.preferencesStoreContract("app storage", AppStoragePreferencesStore.layer().pipe(Layer.provide(freshAppStorage)))

LlmConfigStoreContract.llmConfigStoreContract("mobile (expo-secure-store + app storage)", MemoryModules.memoryPorts())

// The domain's fault layer over the mobile ports, no faults armed: must be a faithful pass-through.
LlmConfigStoreContract.llmConfigStoreContract(
  "mobile under the fault layer (no faults)",
  FaultInjection.layer.pipe(Layer.provide(MemoryModules.memoryPorts())),
  { propertyRuns: 50 }
)
