/**
 * Chooses where keys live, lazily at first use so nothing touches the keychain at start-up:
 * OS keychain (keytar) → Electron safeStorage encrypted file → session memory. Never plaintext on
 * disk, never silently: the chosen tier is what `describe` (and so `status`) reports, and the
 * session tier carries a warning with the fix for this platform.
 * `FISHBOWL_SECRET_BACKEND=keychain|safe-storage|session` forces a tier and fails loudly when it
 * is not available.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { Errors, type LlmConfig, type SecretRef, SecretStore } from "@fishbowl/domain"
import { Clock, Effect, Layer, Option, Semaphore } from "effect"
import * as KeychainProbe from "./KeychainProbe.ts"
import * as KeytarSecretStore from "./KeytarSecretStore.ts"
import * as SafeStorageSecretStore from "./SafeStorageSecretStore.ts"

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
  readonly keytar?: KeytarSecretStore.KeytarSecretStoreOptions
  /** Electron's safeStorage, when running inside Electron. */
  readonly safeStorage?: SafeStorageSecretStore.SafeStorageLike
  readonly dataDir: string
  readonly platform?: NodeJS.Platform
}

const makeSessionStore = (platform: NodeJS.Platform, forced: boolean) =>
  SecretStore.makeMemory({
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
const unavailableStore = (error: Errors.Unsupported, sessionId: string): SecretStore.SecretStoreService => ({
  get: () => Effect.fail(error),
  set: () => Effect.fail(error),
  delete: () => Effect.fail(error),
  describe: Effect.fail(error),
  authorize: Effect.fail(error),
  placement: Effect.fail(error),
  sessionId
})

/** How often a process that fell back from an unreachable keychain looks for it again. */
export const KEYCHAIN_REPROBE_MILLIS = 30_000

interface Tier {
  readonly store: SecretStore.SecretStoreService
  readonly tier: LlmConfig.SecretStoreTier
  /** Chosen because the keychain could not be reached (auto only): look for it again later. */
  readonly degraded: boolean
}

/**
 * The tiered SecretStore (plus KeychainProbe for diagnostics). Resolution happens on the
 * first call; a locked keychain is still the keychain (calls fail KeychainLocked until the user
 * unlocks), only an unreachable one falls through to the next tier. A process that fell through
 * probes the keychain again (at most every {@link KEYCHAIN_REPROBE_MILLIS}, and whenever the user
 * asks through `authorize`) and moves back to it when it is there; keys it wrote to a lower tier
 * meanwhile are still read from, and deleted in, the tier that holds them.
 */
export const layer = (options: SecretBackendOptions): Layer.Layer<SecretStore.SecretStore | KeychainProbe.KeychainProbe> => {
  const platform = options.platform ?? process.platform
  const preference = options.preference ?? "auto"
  const keytarLayer = KeytarSecretStore.layer(options.keytar)
  const tiered = Layer.effect(
    SecretStore.SecretStore,
    Effect.gen(function*() {
      const keychain = yield* SecretStore.SecretStore
      const keychainProbe = yield* KeychainProbe.KeychainProbe
      const context = yield* Effect.context<never>()
      // Always there and cheap: it fixes this process's session id, and holds session-only keys.
      const session = yield* makeSessionStore(platform, preference === "session")
      const keychainTier: Tier = { store: keychain, tier: "keychain", degraded: false }
      const safeStorageTier = Effect.suspend(() =>
        SafeStorageSecretStore.make({ safeStorage: options.safeStorage!, dataDir: options.dataDir })
      ).pipe(Effect.provide(NodeFileSystem.layer), Effect.provideContext(context))
      const safeStorageUsable = options.safeStorage === undefined
        ? Effect.succeed(false)
        : Effect.map(SafeStorageSecretStore.safeStorageProblem(options.safeStorage), (problem) => problem === undefined)

      const choose: Effect.Effect<Tier> = Effect.gen(function*() {
        switch (preference) {
          case "keychain":
            return keychainTier
          case "session":
            return { store: session, tier: "session", degraded: false }
          case "safe-storage": {
            if (options.safeStorage === undefined) {
              return {
                store: unavailableStore(
                  new Errors.Unsupported({
                    message: "The safe-storage backend exists only inside the Fishbowl desktop app",
                    hint: `Unset ${SECRET_BACKEND_ENV} or set it to keychain or session.`
                  }),
                  session.sessionId
                ),
                tier: "encrypted-file",
                degraded: false
              }
            }
            const problem = yield* SafeStorageSecretStore.safeStorageProblem(options.safeStorage)
            if (problem !== undefined) {
              return {
                store: unavailableStore(
                  new Errors.Unsupported({ message: problem, hint: `Unset ${SECRET_BACKEND_ENV} to let Fishbowl choose.` }),
                  session.sessionId
                ),
                tier: "encrypted-file",
                degraded: false
              }
            }
            return { store: yield* safeStorageTier, tier: "encrypted-file", degraded: false }
          }
          case "auto": {
            const probe = yield* keychainProbe.probe
            if (probe.available) return keychainTier
            if (yield* safeStorageUsable) return { store: yield* safeStorageTier, tier: "encrypted-file", degraded: true }
            return { store: session, tier: "session", degraded: true }
          }
        }
      })

      let active: Tier | undefined
      let lastProbe = 0
      /** Every store that has held keys in this process, active first: reads and deletes reach them all. */
      let holders: ReadonlyArray<SecretStore.SecretStoreService> = []
      const lock = yield* Semaphore.make(1)
      const use = (tier: Tier) =>
        Effect.gen(function*() {
          active = tier
          lastProbe = yield* Clock.currentTimeMillis
          holders = [tier.store, ...holders.filter((store) => store !== tier.store)]
          return tier
        })

      /** The active tier, chosen on first use; a degraded one gives way to the keychain when it is back. */
      const current = (options?: { readonly reprobeNow?: boolean }): Effect.Effect<Tier> =>
        lock.withPermits(1)(Effect.gen(function*() {
          if (active === undefined) return yield* use(yield* choose)
          if (!active.degraded) return active
          const now = yield* Clock.currentTimeMillis
          if (options?.reprobeNow !== true && now - lastProbe < KEYCHAIN_REPROBE_MILLIS) return active
          lastProbe = now
          const probe = yield* keychainProbe.probe
          return probe.available ? yield* use(keychainTier) : active
        }))

      const get = (ref: SecretRef.SecretRef) =>
        Effect.gen(function*() {
          const tier = yield* current()
          const found = yield* tier.store.get(ref)
          if (Option.isSome(found)) return found
          for (const holder of holders) {
            if (holder === tier.store) continue
            const older = yield* holder.get(ref)
            if (Option.isSome(older)) return older
          }
          return Option.none()
        })

      const remove = (ref: SecretRef.SecretRef) =>
        Effect.gen(function*() {
          const tier = yield* current()
          let deleted = yield* tier.store.delete(ref)
          for (const holder of holders) if (holder !== tier.store) deleted = (yield* holder.delete(ref)) || deleted
          return deleted
        })

      return SecretStore.SecretStore.of({
        get,
        set: (ref, value) => Effect.flatMap(current(), (tier) => tier.store.set(ref, value)),
        delete: remove,
        describe: Effect.flatMap(current(), (tier) => tier.store.describe),
        // The user asked: look for the keychain now rather than at the next re-probe.
        authorize: Effect.flatMap(current({ reprobeNow: true }), (tier) => tier.store.authorize),
        placement: Effect.map(current(), (tier) => tier.tier),
        sessionId: session.sessionId
      })
    })
  )
  // One keytar layer value, used twice: layers are memoized per build, so there is one worker.
  const keytarDiagnostics = Layer.effect(KeychainProbe.KeychainProbe, Effect.service(KeychainProbe.KeychainProbe)).pipe(
    Layer.provide(keytarLayer)
  )
  return Layer.merge(tiered.pipe(Layer.provide(keytarLayer)), keytarDiagnostics)
}
