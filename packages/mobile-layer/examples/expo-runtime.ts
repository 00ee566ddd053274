/**
 * How an Expo app builds its runtime from the mobile layers. Type-checked against the published
 * declarations of expo-secure-store and AsyncStorage (tsconfig.published-types.json); quoted in README.md.
 */
import { LlmConfigStore } from "@fishbowl/domain"
import { MobileLayer, OrphanSweep } from "@fishbowl/mobile-layer"
import AsyncStorage from "@react-native-async-storage/async-storage"
import { Effect, ManagedRuntime } from "effect"
import * as SecureStore from "expo-secure-store"

// The native modules are the only platform-specific inputs; the domain is the desktop's code.
export const runtime = ManagedRuntime.make(
  MobileLayer.layer({ secureStore: SecureStore, appStorage: AsyncStorage })
)

// At start-up: finish interrupted changes (journal), then delete keys no configuration uses
// (e.g. left in the keychain by an earlier install of the app).
export const startUp = () => runtime.runPromise(OrphanSweep.recoverAndSweep())

// Everything else is the domain's API, unchanged.
export const listConfigs = () => runtime.runPromise(Effect.flatMap(LlmConfigStore.LlmConfigStore, (store) => store.list))
