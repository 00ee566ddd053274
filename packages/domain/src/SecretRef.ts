/**
 * Where a secret lives. The one mapping from (provider, config, field) to a keychain entry, so
 * every platform layer names entries identically and users can find them in their OS keychain UI.
 */
import { Schema } from "effect"
import * as Ids from "./Ids.ts"

/**
 * Secret fields of a configuration. `apiKey.staged` holds a replacement key while an update is
 * in flight, so a crash can always roll the update forward (see LlmConfigStore's journal).
 */
export const SecretField = Schema.Literals(["apiKey", "apiKey.staged"])
export type SecretField = typeof SecretField.Type

/** A keychain coordinate: `service` groups a config's secrets, `account` picks the field. */
export const SecretRef = Schema.Struct({
  service: Schema.String.check(Schema.isPattern(/^fishbowl\.[a-z0-9.-]+$/)),
  account: SecretField
})
export type SecretRef = typeof SecretRef.Type

/** `fishbowl.<provider-id>.<config-id>` / `<field>`; injective because provider ids hold no '.'. */
export const secretRefFor = (provider: Ids.ProviderId, configId: Ids.ConfigId, field: SecretField = "apiKey"): SecretRef => ({
  service: `fishbowl.${provider}.${configId}`,
  account: field
})

/** A stable, log-safe label for a ref (never contains secret material, only names): for technical details. */
export const describeSecretRef = (ref: SecretRef): string => `${ref.service}/${ref.account}`

/** The service of throw-away entries that no configuration owns (keychain probes, `authorize`). */
export const PROBE_SERVICE_PREFIX = "fishbowl.probe."

/**
 * What an error message calls the entry. People never typed its coordinates and cannot act on
 * them, so messages use these words and the coordinates appear only as technical details
 * (`describeSecretRef`); no face has to scrub a message.
 */
export const spokenName = (ref: SecretRef): string =>
  ref.service.startsWith(PROBE_SERVICE_PREFIX)
    ? "the keychain's test entry"
    : ref.account === "apiKey.staged"
    ? "the new key being saved"
    : "the key"
