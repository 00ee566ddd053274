/**
 * The domain's contract suites, unchanged, on the mobile layers: the proof that an Expo app swaps
 * platform layers and keeps the domain. Modules are in-memory stand-ins that enforce expo-secure-store's
 * and AsyncStorage's documented constraints (see src/testing).
 */
import { Faults, llmConfigStoreContract, preferencesStoreContract, secretStoreContract } from "@fishbowl/domain/testing"
import { Effect, Layer } from "effect"
import { AppStorage, AppStoragePreferencesStore, ExpoSecureStoreSecretStore } from "../src/index.ts"
import { memoryModules, memoryPorts, MemoryAppStorage } from "../src/testing/index.ts"

const freshAppStorage = Layer.effect(AppStorage, Effect.sync(() => new MemoryAppStorage()))

secretStoreContract(
  "expo-secure-store (default 2 KiB limit)",
  ExpoSecureStoreSecretStore.layer().pipe(Layer.provide(memoryModules())),
  { maxValueBytes: 2048 }
)

// Items scoped to a keychain service, and without the read-back check: the contract holds either way.
secretStoreContract(
  "expo-secure-store (keychainService set, verifyWrites off)",
  ExpoSecureStoreSecretStore.layer({ keychainService: "fishbowl", verifyWrites: false }).pipe(
    Layer.provide(memoryModules())
  ),
  { maxValueBytes: 2048 }
)

secretStoreContract(
  "expo-secure-store (raised limit 16 KiB)",
  ExpoSecureStoreSecretStore.layer({ maxValueBytes: 16 * 1024 }).pipe(Layer.provide(memoryModules())),
  { maxValueBytes: 16 * 1024 }
)

preferencesStoreContract("app storage", AppStoragePreferencesStore.layer().pipe(Layer.provide(freshAppStorage)))

llmConfigStoreContract("mobile (expo-secure-store + app storage)", memoryPorts())

// The domain's fault layer over the mobile ports, no faults armed: must be a faithful pass-through.
llmConfigStoreContract(
  "mobile under the fault layer (no faults)",
  Faults.layer.pipe(Layer.provide(memoryPorts())),
  { propertyRuns: 50 }
)
