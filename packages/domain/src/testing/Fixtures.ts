/**
 * Shared test fixtures: canary keys that tests search for everywhere a key must never appear,
 * and decoders that build store inputs the way the IPC and CLI edges do.
 */
import { Redacted, Schema } from "effect"
import * as Errors from "../Errors.ts"
import * as Ids from "../Ids.ts"
import * as LlmConfig from "../LlmConfig.ts"

/** A unique, recognisable key; every test that looks for leaks searches for the returned string. */
export const makeCanaryKey = (label = "canary"): string =>
  `sk-fishbowl-${label}-${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`

/** Builds a validated create input from plain fields (the key is wrapped in Redacted by the schema). */
export const configInput = Schema.decodeUnknownSync(LlmConfig.LlmConfigInput)

/** Builds a validated patch from plain fields. */
export const configPatch = Schema.decodeUnknownSync(LlmConfig.LlmConfigPatch)

export const secret = (text: string) => Redacted.make(text)

export const providerId = (id: string) => Ids.ProviderId.make(id)

export const configId = (id: string) => Ids.ConfigId.make(id)

/** Metadata of a plausible configuration, for tests that write documents directly. */
export const sampleConfig = (name: string): LlmConfig.LlmConfig => ({
  id: Ids.newConfigId(),
  provider: providerId("anthropic"),
  name,
  useAuthHeader: true,
  createdAt: "2026-01-02T03:04:05.678Z",
  updatedAt: "2026-01-02T03:04:05.678Z",
  hasKey: true
})

/**
 * Every (tag, reason) an error can carry, as plain fields: each tag with each of its reasons, and
 * no reason where the tag allows none. The faces' table tests word every one of them.
 */
export const everyErrorReason = (): ReadonlyArray<{ readonly _tag: Errors.FishbowlError["_tag"]; readonly reason?: string }> => {
  const reasons: Partial<Record<Errors.FishbowlError["_tag"], ReadonlyArray<string | undefined>>> = {
    KeychainLocked: Errors.KeychainLockedReason.literals,
    KeychainUnavailable: [...Errors.KeychainUnavailableReason.literals, undefined],
    NotFound: Errors.NotFoundReason.literals,
    Conflict: Errors.ConflictReason.literals,
    InvalidInput: [...Errors.InvalidInputReason.literals, undefined],
    Unsupported: Errors.UnsupportedReason.literals
  }
  return Errors.errorTags.flatMap((_tag) =>
    (reasons[_tag] ?? [undefined]).map((reason) => (reason === undefined ? { _tag } : { _tag, reason }))
  )
}
