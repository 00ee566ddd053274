import { Layer } from "effect"
import * as PreferencesStore from "../src/PreferencesStore.ts"
import * as SecretStore from "../src/SecretStore.ts"
import * as FaultInjection from "../src/testing/FaultInjection.ts"
import * as LlmConfigStoreContract from "../src/testing/LlmConfigStoreContract.ts"
import * as PreferencesStoreContract from "../src/testing/PreferencesStoreContract.ts"
import * as SecretStoreContract from "../src/testing/SecretStoreContract.ts"

const memoryPorts = Layer.mergeAll(SecretStore.layerMemory, PreferencesStore.layerMemory)

SecretStoreContract.secretStoreContract("memory", SecretStore.layerMemory)
PreferencesStoreContract.preferencesStoreContract("memory", PreferencesStore.layerMemory)
LlmConfigStoreContract.llmConfigStoreContract("memory", memoryPorts)
// A memory store that calls itself persistent, so importConfig (refused on session-only stores) runs in full.
LlmConfigStoreContract.llmConfigStoreContract(
  "memory (persistent)",
  Layer.mergeAll(
    Layer.effect(SecretStore.SecretStore, SecretStore.makeMemory({ description: { persistent: true } })),
    PreferencesStore.layerMemory
  ),
  { propertyRuns: 50 }
)

// The fault layer with no fault armed must be a faithful pass-through.
SecretStoreContract.secretStoreContract("fault layer (no faults)", FaultInjection.layerMemory)
PreferencesStoreContract.preferencesStoreContract("fault layer (no faults)", FaultInjection.layerMemory)
LlmConfigStoreContract.llmConfigStoreContract("fault layer (no faults)", FaultInjection.layerMemory, { propertyRuns: 50 })
