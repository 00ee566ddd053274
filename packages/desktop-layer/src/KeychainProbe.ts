/**
 * Keychain diagnostics only the keytar backend can answer: is a keychain reachable, is it locked?
 * The SecretStore port cannot say (a locked keychain reads as "no key" through keytar), so
 * doctor and the status page ask this service, which KeytarSecretStore.layer provides.
 */
import { Context, type Effect } from "effect"

/** Is a keychain reachable, is it locked (null = cannot tell), and why. */
export interface KeychainProbeResult {
  readonly available: boolean
  readonly locked: boolean | null
  readonly detail: string
}

export class KeychainProbe extends Context.Service<KeychainProbe, {
  /** Reads one never-written probe entry; touches no real entry. */
  readonly probe: Effect.Effect<KeychainProbeResult>
}>()("@fishbowl/desktop-layer/KeychainProbe") {}
