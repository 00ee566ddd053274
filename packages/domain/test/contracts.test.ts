import { Layer } from "effect"
import { makeMemorySecretStore, PreferencesStore, SecretStore } from "../src/index.ts"
import {
  Faults,
  llmConfigStoreContract,
  preferencesStoreContract,
  secretStoreContract
} from "../src/testing/index.ts"

const memoryPorts = Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory)

secretStoreContract("memory", SecretStore.layerMemory)
preferencesStoreContract("memory", PreferencesStore.layerMemory)
llmConfigStoreContract("memory", memoryPorts)
// A memory store that calls itself persistent, so importConfig (refused on session-only stores) runs in full.
llmConfigStoreContract(
  "memory (persistent)",
  Layer.mergeAll(Layer.effect(SecretStore, makeMemorySecretStore({ description: { persistent: true } })), PreferencesStore.layerMemory),
  { propertyRuns: 50 }
)

// The fault layer with no fault armed must be a faithful pass-through.
secretStoreContract("fault layer (no faults)", Faults.layerMemory)
preferencesStoreContract("fault layer (no faults)", Faults.layerMemory)
llmConfigStoreContract("fault layer (no faults)", Faults.layerMemory, { propertyRuns: 50 })
