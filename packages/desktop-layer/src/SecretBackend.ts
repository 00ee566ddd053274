/**
 * Chooses where keys live, lazily at first use so nothing touches the keychain at start-up:
 * OS keychain (keytar) → Electron safeStorage encrypted file → session memory. Never plaintext on
 * disk, never silently: the chosen tier is what `describe` (and so `status`) reports, and the
 * session tier carries a warning with the fix for this platform.
 * `FISHBOWL_SECRET_BACKEND=keychain|safe-storage|session` forces a tier and fails loudly when it
 * is not available.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { makeMemorySecretStore, SecretStore, type SecretStoreService, Unsupported } from "@fishbowl/domain"
import { Effect, Layer } from "effect"
import { KeytarSecretStore, type KeytarSecretStoreOptions } from "./KeytarSecretStore.ts"
import { SafeStorageSecretStore, type SafeStorageLike, safeStorageProblem } from "./SafeStorageSecretStore.ts"

export const SECRET_BACKEND_ENV = "FISHBOWL_SECRET_BACKEND"

export type SecretBackendPreference = "auto" | "keychain" | "safe-storage" | "session"

/** Reads the preference from the environment; anything unrecognised is a loud error, not "auto". */
export const secretBackendFromEnv = (env: Readonly<Record<string, string | undefined>>): SecretBackendPreference => {
  const raw = env[SECRET_BACKEND_ENV]
  if (raw === undefined || raw === "" || raw === "auto") return "auto"
  if (raw === "keychain" || raw === "safe-storage" || raw === "session") return raw
  throw new Error(`${SECRET_BACKEND_ENV} must be one of keychain, safe-storage, session (got an unknown value)`)
}

/** What to do about a session-only tier, per platform. */
export const sessionTierFix = (platform: NodeJS.Platform): string => {
  switch (platform) {
    case "darwin":
      return "Fishbowl could not reach the macOS Keychain. Log in to a desktop session and allow Fishbowl access to the login keychain."
    case "win32":
      return "Fishbowl could not reach Windows Credential Manager. Sign in interactively (not as a service) and try again."
    default:
      return "No keychain (Secret Service) is running. Install and start gnome-keyring or KWallet (e.g. apt-get install gnome-keyring) and log in to a desktop session."
  }
}

export interface SecretBackendOptions {
  readonly preference?: SecretBackendPreference
  readonly keytar?: KeytarSecretStoreOptions
  /** Electron's safeStorage, when running inside Electron. */
  readonly safeStorage?: SafeStorageLike
  readonly dataDir: string
  readonly platform?: NodeJS.Platform
}

const makeSessionStore = (platform: NodeJS.Platform, forced: boolean) =>
  makeMemorySecretStore({
    description: {
      backend: "session-memory",
      tier: "session",
      persistent: false,
      secure: false,
      detail: forced
        ? "Keys are kept in memory for this session only (forced by FISHBOWL_SECRET_BACKEND=session)."
        : "Keys are kept in memory for this session only and are forgotten when Fishbowl quits.",
      warning: forced
        ? `Keys are not saved: ${SECRET_BACKEND_ENV}=session keeps them in memory until Fishbowl quits. Unset it to use the OS keychain.`
        : `Keys are not saved. ${sessionTierFix(platform)}`
    }
  })

/** A store that fails every call with the same loud error (a forced tier that cannot work). */
const unavailableStore = (error: Unsupported): SecretStoreService => ({
  get: () => Effect.fail(error),
  set: () => Effect.fail(error),
  delete: () => Effect.fail(error),
  describe: Effect.fail(error),
  authorize: Effect.fail(error)
})

export const SecretBackend = {
  /**
   * The tiered SecretStore (plus KeytarSecretStore for diagnostics). Resolution happens once, on
   * the first call; a locked keychain is still the keychain (calls fail KeychainLocked until the
   * user unlocks), only an unreachable one falls through to the next tier.
   */
  layer: (options: SecretBackendOptions): Layer.Layer<SecretStore | KeytarSecretStore> => {
    const platform = options.platform ?? process.platform
    const preference = options.preference ?? "auto"
    const keytarLayer = KeytarSecretStore.layer(options.keytar)
    const tiered = Layer.effect(
      SecretStore,
      Effect.gen(function*() {
        const keychain = yield* SecretStore
        const keytar = yield* KeytarSecretStore
        const context = yield* Effect.context<never>()
        const choose: Effect.Effect<SecretStoreService> = Effect.gen(function*() {
          switch (preference) {
            case "keychain":
              return keychain
            case "session":
              return yield* makeSessionStore(platform, true)
            case "safe-storage": {
              if (options.safeStorage === undefined) {
                return unavailableStore(
                  new Unsupported({
                    message: "The safe-storage backend exists only inside the Fishbowl desktop app",
                    hint: `Unset ${SECRET_BACKEND_ENV} or set it to keychain or session.`
                  })
                )
              }
              const problem = safeStorageProblem(options.safeStorage)
              if (problem !== undefined) {
                return unavailableStore(
                  new Unsupported({ message: problem, hint: `Unset ${SECRET_BACKEND_ENV} to let Fishbowl choose.` })
                )
              }
              return yield* SafeStorageSecretStore.make({ safeStorage: options.safeStorage, dataDir: options.dataDir })
            }
            case "auto": {
              const probe = yield* keytar.probe
              if (probe.available) return keychain
              if (options.safeStorage !== undefined && safeStorageProblem(options.safeStorage) === undefined) {
                return yield* SafeStorageSecretStore.make({ safeStorage: options.safeStorage, dataDir: options.dataDir })
              }
              return yield* makeSessionStore(platform, false)
            }
          }
        }).pipe(Effect.provide(NodeFileSystem.layer), Effect.provideContext(context))
        const active = yield* Effect.cached(choose)
        return SecretStore.of({
          get: (ref) => Effect.flatMap(active, (store) => store.get(ref)),
          set: (ref, value) => Effect.flatMap(active, (store) => store.set(ref, value)),
          delete: (ref) => Effect.flatMap(active, (store) => store.delete(ref)),
          describe: Effect.flatMap(active, (store) => store.describe),
          authorize: Effect.flatMap(active, (store) => store.authorize)
        })
      })
    )
    // One keytar layer value, used twice: layers are memoized per build, so there is one worker.
    const keytarDiagnostics = Layer.effect(KeytarSecretStore, Effect.service(KeytarSecretStore)).pipe(Layer.provide(keytarLayer))
    return Layer.merge(tiered.pipe(Layer.provide(keytarLayer)), keytarDiagnostics)
  }
} as const
