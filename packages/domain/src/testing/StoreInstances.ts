/**
 * Store instances over shared ports, as separate processes (or one process's instances) build
 * them: what the tests of one instance seeing another's work start from.
 */
import { Effect, Layer } from "effect"
import * as Liveness from "../Liveness.ts"
import * as LlmConfigStore from "../LlmConfigStore.ts"
import * as PreferencesStore from "../PreferencesStore.ts"
import * as SecretStore from "../SecretStore.ts"

/** A memory SecretStore that describes itself as the OS keychain (secure, persistent). */
export const keychain = () =>
  SecretStore.makeMemory({ description: { backend: "test-keychain", tier: "keychain", persistent: true, secure: true } })

/**
 * An LlmConfigStore over `secrets` and `preferences`. Without `liveness`, a fresh memory registry:
 * the instance is its own "process", so every other instance's work counts as gone.
 */
export const storeOver = (
  secrets: SecretStore.SecretStoreService,
  preferences: PreferencesStore.PreferencesStore["Service"],
  liveness?: Liveness.LivenessService
) =>
  LlmConfigStore.make().pipe(
    Effect.provide(Layer.mergeAll(
      Layer.succeed(SecretStore.SecretStore, secrets),
      Layer.succeed(PreferencesStore.PreferencesStore, preferences),
      liveness === undefined ? Liveness.layerMemory : Layer.succeed(Liveness.Liveness, liveness)
    ))
  )
