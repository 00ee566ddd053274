/**
 * The desktop wiring in one place: tiered SecretStore, preferences.json, the journaled
 * LlmConfigStore and diagnostics. The Electron main process and the fishbowl-llm CLI build their
 * runtime from this, so both faces run exactly the same code over the same files and keychain.
 */
import {
  CrashPoints,
  Diagnostics,
  LlmConfigStore,
  type LlmConfigStoreOptions,
  PreferencesStore,
  type ProviderCheck,
  SecretStore
} from "@fishbowl/domain"
import { Layer } from "effect"
import { DesktopDiagnostics } from "./DesktopDiagnostics.ts"
import { HttpProviderCheck, type HttpProviderCheckOptions } from "./HttpProviderCheck.ts"
import { JsonFilePreferencesStore } from "./JsonFilePreferencesStore.ts"
import { KeytarSecretStore, type KeytarSecretStoreOptions } from "./KeytarSecretStore.ts"
import { SecretBackend, type SecretBackendPreference } from "./SecretBackend.ts"
import type { SafeStorageLike } from "./SafeStorageSecretStore.ts"

export interface DesktopLayerOptions {
  /** Resolved data folder (see DataDir.resolveDataDir). */
  readonly dataDir: string
  readonly secretBackend?: SecretBackendPreference
  readonly safeStorage?: SafeStorageLike
  readonly keytar?: KeytarSecretStoreOptions
  readonly store?: LlmConfigStoreOptions
  /** Test hook: what happens at each named crash point (default: nothing). */
  readonly crashPoints?: Layer.Layer<CrashPoints>
  /** "Check this key" over HTTP (timeout, body bound); the defaults are the production ones. */
  readonly providerCheck?: HttpProviderCheckOptions
}

export type DesktopServices =
  | LlmConfigStore
  | SecretStore
  | PreferencesStore
  | Diagnostics
  | KeytarSecretStore
  | ProviderCheck

export const DesktopLayer = {
  layer: (options: DesktopLayerOptions): Layer.Layer<DesktopServices> => {
    const ports = Layer.mergeAll(
      SecretBackend.layer({
        dataDir: options.dataDir,
        ...(options.secretBackend !== undefined ? { preference: options.secretBackend } : {}),
        ...(options.safeStorage !== undefined ? { safeStorage: options.safeStorage } : {}),
        ...(options.keytar !== undefined ? { keytar: options.keytar } : {})
      }),
      JsonFilePreferencesStore.layer({ dataDir: options.dataDir, restoredAsNotice: true })
    )
    const store = LlmConfigStore.layerNoDeps(options.store).pipe(Layer.provide(options.crashPoints ?? CrashPoints.layer))
    return Layer.mergeAll(store, DesktopDiagnostics.layer(options.dataDir), HttpProviderCheck.layer(options.providerCheck)).pipe(
      Layer.provideMerge(ports)
    )
  }
} as const
