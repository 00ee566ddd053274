/**
 * The desktop wiring in one place: tiered SecretStore, preferences.json, the journaled
 * LlmConfigStore and diagnostics. The Electron main process and the fishbowl-llm CLI build their
 * runtime from this, so both faces run exactly the same code over the same files and keychain.
 */
import {
  CrashPoints,
  Diagnostics,
  type Liveness,
  LlmConfigStore,
  PreferencesStore,
  type ProviderCheck,
  SecretStore
} from "@fishbowl/domain"
import { Layer } from "effect"
import * as DesktopDiagnostics from "./DesktopDiagnostics.ts"
import * as HttpProviderCheck from "./HttpProviderCheck.ts"
import * as JsonFilePreferencesStore from "./JsonFilePreferencesStore.ts"
import * as KeychainProbe from "./KeychainProbe.ts"
import * as KeytarSecretStore from "./KeytarSecretStore.ts"
import * as ProcessLiveness from "./ProcessLiveness.ts"
import type * as SafeStorageSecretStore from "./SafeStorageSecretStore.ts"
import * as SecretBackend from "./SecretBackend.ts"
import * as SlicedScheduler from "./SlicedScheduler.ts"

export interface DesktopLayerOptions {
  /** Resolved data folder (see DataDir.resolveDataDir). */
  readonly dataDir: string
  readonly secretBackend?: SecretBackend.SecretBackendPreference
  readonly safeStorage?: SafeStorageSecretStore.SafeStorageLike
  readonly keytar?: KeytarSecretStore.KeytarSecretStoreOptions
  /** Test hook: what happens at each named crash point (default: nothing). */
  readonly crashPoints?: CrashPoints.CrashPointsLayer
  /** "Check this key" over HTTP (timeout, body bound); the defaults are the production ones. */
  readonly providerCheck?: HttpProviderCheck.HttpProviderCheckOptions
  /** Locked preferences writes on a worker thread (JsonFilePreferencesStoreOptions.writeThread; default true). */
  readonly writeThread?: boolean
}

export type DesktopServices =
  | LlmConfigStore.LlmConfigStore
  | Liveness.Liveness
  | SecretStore.SecretStore
  | PreferencesStore.PreferencesStore
  | Diagnostics.Diagnostics
  | KeychainProbe.KeychainProbe
  | ProviderCheck.ProviderCheck

/** Every service the app and the CLI use, on the desktop's keychain tiers and preferences file. */
export const layer = (options: DesktopLayerOptions): Layer.Layer<DesktopServices> => {
  const ports = Layer.mergeAll(
    SecretBackend.layer({
      dataDir: options.dataDir,
      ...(options.secretBackend !== undefined ? { preference: options.secretBackend } : {}),
      ...(options.safeStorage !== undefined ? { safeStorage: options.safeStorage } : {}),
      ...(options.keytar !== undefined ? { keytar: options.keytar } : {})
    }),
    JsonFilePreferencesStore.layer({
      dataDir: options.dataDir,
      restoredAsNotice: true,
      ...(options.writeThread !== undefined ? { writeThread: options.writeThread } : {})
    }),
    ProcessLiveness.layer
  )
  const store = options.crashPoints === undefined
    ? LlmConfigStore.layer
    : LlmConfigStore.layer.pipe(Layer.provide(options.crashPoints))
  return Layer.mergeAll(
    store,
    DesktopDiagnostics.layer(options.dataDir),
    HttpProviderCheck.layer(options.providerCheck),
    SlicedScheduler.layer
  ).pipe(Layer.provideMerge(ports))
}
