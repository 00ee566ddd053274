/**
 * Chooses where keys live, lazily at first use so nothing touches the keychain at start-up.
 * The backends are data: an ordered list of candidates (OS keychain through keytar → Electron
 * safeStorage encrypted file → session memory), each a tier, a probe that says why it cannot hold
 * keys now, and how to open its store. Adding a backend is its module plus one entry in
 * `candidates` (and its name in `FORCEABLE_BACKENDS`).
 * Never plaintext on disk, never silently: the chosen tier is what `describe` (and so `status`)
 * reports, and the session tier carries a warning with the fix for this platform.
 * `FISHBOWL_SECRET_BACKEND=<name>` forces a candidate; its calls fail loudly when it cannot work.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { Errors, type LlmConfig, type SecretRef, SecretStore } from "@fishbowl/domain"
import { Clock, type Context, Effect, Layer, Option, Semaphore } from "effect"
import * as KeychainProbe from "./KeychainProbe.ts"
import * as KeytarSecretStore from "./KeytarSecretStore.ts"
import * as SafeStorageSecretStore from "./SafeStorageSecretStore.ts"

export const SECRET_BACKEND_ENV = "FISHBOWL_SECRET_BACKEND"

/** The names `FISHBOWL_SECRET_BACKEND` accepts to force a candidate, in the order `auto` tries them. */
export const FORCEABLE_BACKENDS = ["keychain", "safe-storage", "session"] as const
export type ForcedBackend = typeof FORCEABLE_BACKENDS[number]
export type SecretBackendPreference = "auto" | ForcedBackend

const isForcedBackend = (raw: string): raw is ForcedBackend => (FORCEABLE_BACKENDS as ReadonlyArray<string>).includes(raw)

/** Reads the preference from the environment; anything unrecognised is a loud error, not "auto". */
export const secretBackendFromEnv = (env: Readonly<Record<string, string | undefined>>): SecretBackendPreference => {
  const raw = env[SECRET_BACKEND_ENV]
  if (raw === undefined || raw === "" || raw === "auto") return "auto"
  if (isForcedBackend(raw)) return raw
  throw new Error(`${SECRET_BACKEND_ENV} must be one of ${FORCEABLE_BACKENDS.join(", ")} (got an unknown value)`)
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
  sessionId,
  lateWriteMillis: 0
})

/** How often a process that fell back from an unreachable keychain looks for it again. */
export const KEYCHAIN_REPROBE_MILLIS = 30_000

/** One place keys can live. */
export interface Candidate {
  readonly name: ForcedBackend
  readonly tier: LlmConfig.SecretStoreTier
  /** Why it cannot hold keys now; `undefined` when it can. `auto` skips a candidate with a problem. */
  readonly probe: Effect.Effect<string | undefined>
  /** Its store. Forced, this is used even when `probe` says no: its calls then fail and say why. */
  readonly open: Effect.Effect<SecretStore.SecretStoreService>
}

/** What the candidates are built from: the options plus the stores every build has. */
interface CandidateInputs {
  readonly options: SecretBackendOptions
  readonly keychain: SecretStore.SecretStoreService
  readonly keychainProbe: KeychainProbe.KeychainProbe["Service"]
  readonly session: SecretStore.SecretStoreService
  readonly context: Context.Context<never>
}

/** The OS keychain through keytar; a locked keychain is still the keychain (calls say to unlock). */
const keychainCandidate = ({ keychain, keychainProbe }: CandidateInputs): Candidate => ({
  name: "keychain",
  tier: "keychain",
  probe: Effect.map(keychainProbe.probe, (result) => result.available ? undefined : result.detail),
  open: Effect.succeed(keychain)
})

/** Electron's safeStorage: an encrypted file in the data folder, only inside the desktop app. */
const safeStorageCandidate = ({ options, session, context }: CandidateInputs): Candidate => {
  const safeStorage = options.safeStorage
  const outsideElectron = "The safe-storage backend exists only inside the Fishbowl desktop app"
  const probe = safeStorage === undefined
    ? Effect.succeed(outsideElectron)
    : SafeStorageSecretStore.safeStorageProblem(safeStorage)
  const open = Effect.gen(function*() {
    const problem = yield* probe
    if (safeStorage === undefined || problem !== undefined) {
      return unavailableStore(
        new Errors.Unsupported({
          reason: "no-secure-storage",
          message: problem ?? outsideElectron,
          hint: safeStorage === undefined
            ? `Unset ${SECRET_BACKEND_ENV} or set it to keychain or session.`
            : `Unset ${SECRET_BACKEND_ENV} to let Fishbowl choose.`
        }),
        session.sessionId
      )
    }
    return yield* SafeStorageSecretStore.make({ safeStorage, dataDir: options.dataDir }).pipe(
      Effect.provide(NodeFileSystem.layer),
      Effect.provideContext(context)
    )
  })
  return { name: "safe-storage", tier: "encrypted-file", probe, open }
}

/** Memory only, always there: the last resort, and what `session` forces. */
const sessionCandidate = ({ session }: CandidateInputs): Candidate => ({
  name: "session",
  tier: "session",
  probe: Effect.undefined,
  open: Effect.succeed(session)
})

/** Every backend, best first. */
const candidates = (inputs: CandidateInputs): ReadonlyArray<Candidate> => [
  keychainCandidate(inputs),
  safeStorageCandidate(inputs),
  sessionCandidate(inputs)
]

interface Tier {
  readonly store: SecretStore.SecretStoreService
  readonly tier: LlmConfig.SecretStoreTier
  /** The candidates ranked above it that were not usable (auto only): they are looked for again later. */
  readonly better: ReadonlyArray<Candidate>
}

const opened = (candidate: Candidate, better: ReadonlyArray<Candidate>) =>
  Effect.map(candidate.open, (store): Tier => ({ store, tier: candidate.tier, better }))

/** The forced candidate, or the first whose probe finds no problem. */
const choose = (list: ReadonlyArray<Candidate>, preference: SecretBackendPreference): Effect.Effect<Tier> =>
  Effect.gen(function*() {
    if (preference !== "auto") return yield* opened(list.find((candidate) => candidate.name === preference)!, [])
    for (const [index, candidate] of list.entries()) {
      if ((yield* candidate.probe) === undefined) return yield* opened(candidate, list.slice(0, index))
    }
    // The last candidate (session memory) has no problem by construction.
    return yield* opened(list[list.length - 1]!, list.slice(0, -1))
  })

/** A better candidate that works again, if any (probed best first). */
const betterAvailable = (tier: Tier): Effect.Effect<Tier | undefined> =>
  Effect.gen(function*() {
    for (const [index, candidate] of tier.better.entries()) {
      if ((yield* candidate.probe) === undefined) return yield* opened(candidate, tier.better.slice(0, index))
    }
    return undefined
  })

/**
 * Reads reach every store that has held keys in this process (the active one first), so keys
 * written to a lower tier while the keychain was away are still read from, and deleted in, the
 * tier that holds them.
 */
const makeTieredStore = (
  current: (options?: { readonly reprobeNow?: boolean }) => Effect.Effect<Tier>,
  holders: () => ReadonlyArray<SecretStore.SecretStoreService>,
  sessionId: string,
  /** The longest of every tier's (only the keychain's helper outlives a call). */
  lateWriteMillis: number
) => {
  const get = (ref: SecretRef.SecretRef) =>
    Effect.gen(function*() {
      const tier = yield* current()
      const found = yield* tier.store.get(ref)
      if (Option.isSome(found)) return found
      for (const holder of holders()) {
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
      for (const holder of holders()) if (holder !== tier.store) deleted = (yield* holder.delete(ref)) || deleted
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
    sessionId,
    lateWriteMillis
  })
}

/**
 * The tiered SecretStore (plus KeychainProbe for diagnostics). Resolution happens on the first
 * call; only an unreachable keychain falls through to the next candidate. A process that fell
 * through looks for the better candidates again (at most every {@link KEYCHAIN_REPROBE_MILLIS},
 * and whenever the user asks through `authorize`) and moves back when one is there.
 */
export const layer = (options: SecretBackendOptions): Layer.Layer<SecretStore.SecretStore | KeychainProbe.KeychainProbe> => {
  const platform = options.platform ?? process.platform
  const preference = options.preference ?? "auto"
  const keytarLayer = KeytarSecretStore.layer(options.keytar)
  const tiered = Layer.effect(
    SecretStore.SecretStore,
    Effect.gen(function*() {
      // Always there and cheap: it fixes this process's session id, and holds session-only keys.
      const session = yield* makeSessionStore(platform, preference === "session")
      const keychain = yield* SecretStore.SecretStore
      const list = candidates({
        options,
        keychain,
        keychainProbe: yield* KeychainProbe.KeychainProbe,
        session,
        context: yield* Effect.context<never>()
      })

      let active: Tier | undefined
      let lastProbe = 0
      let holders: ReadonlyArray<SecretStore.SecretStoreService> = []
      const lock = yield* Semaphore.make(1)
      const use = (tier: Tier) =>
        Effect.gen(function*() {
          active = tier
          lastProbe = yield* Clock.currentTimeMillis
          holders = [tier.store, ...holders.filter((store) => store !== tier.store)]
          return tier
        })

      /** The active tier, chosen on first use; a fallback gives way to a better candidate when it is back. */
      const current = (options?: { readonly reprobeNow?: boolean }): Effect.Effect<Tier> =>
        lock.withPermits(1)(Effect.gen(function*() {
          if (active === undefined) return yield* use(yield* choose(list, preference))
          if (active.better.length === 0) return active
          const now = yield* Clock.currentTimeMillis
          if (options?.reprobeNow !== true && now - lastProbe < KEYCHAIN_REPROBE_MILLIS) return active
          lastProbe = now
          const better = yield* betterAvailable(active)
          return better === undefined ? active : yield* use(better)
        }))

      return makeTieredStore(current, () => holders, session.sessionId, Math.max(keychain.lateWriteMillis, session.lateWriteMillis))
    })
  )
  // One keytar layer value, used twice: layers are memoized per build, so there is one worker.
  const keytarDiagnostics = Layer.effect(KeychainProbe.KeychainProbe, Effect.service(KeychainProbe.KeychainProbe)).pipe(
    Layer.provide(keytarLayer)
  )
  return Layer.merge(tiered.pipe(Layer.provide(keytarLayer)), keytarDiagnostics)
}
