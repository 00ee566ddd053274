/**
 * Port: where keys live. Platform layers (keytar, safeStorage, expo-secure-store, memory)
 * implement it; everything above depends only on this contract.
 */
import { Context, Effect, Layer, Option, Redacted, Ref, Schema } from "effect"
import * as Canonical from "./Canonical.ts"
import * as Errors from "./Errors.ts"
import * as Hints from "./Hints.ts"
import * as Ids from "./Ids.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as SecretRef from "./SecretRef.ts"

export const SecretStoreDescription = Schema.Struct({
  backend: Schema.String,
  tier: LlmConfig.SecretStoreTier,
  persistent: Schema.Boolean,
  secure: Schema.Boolean,
  /** False when `get` returning nothing may also mean "locked": callers must then not treat None as absent. */
  distinguishesLockedFromAbsent: Schema.Boolean,
  detail: Schema.String,
  warning: Schema.optional(Schema.String)
})
export type SecretStoreDescription = typeof SecretStoreDescription.Type

export interface SecretStoreService {
  /** None means "no such entry"; a locked or unreachable store fails instead (see `describe`). */
  readonly get: (ref: SecretRef.SecretRef) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, Errors.SecretStoreError>
  readonly set: (ref: SecretRef.SecretRef, value: Redacted.Redacted<string>) => Effect.Effect<void, Errors.SecretStoreError>
  /** True when an entry was removed; deleting an absent entry is not an error (recovery relies on it). */
  readonly delete: (ref: SecretRef.SecretRef) => Effect.Effect<boolean, Errors.SecretStoreError>
  readonly describe: Effect.Effect<SecretStoreDescription, Errors.SecretStoreError>
  /** User-initiated: lets the platform prompt for unlock or access, outside the normal time budgets. */
  readonly authorize: Effect.Effect<void, Errors.SecretStoreError>
  /** The tier a key written now goes to. No keychain round trip: metadata records it with the key. */
  readonly placement: Effect.Effect<LlmConfig.SecretStoreTier, Errors.SecretStoreError>
  /**
   * The session whose memory holds the keys this store keeps on the session tier: fixed for the
   * life of the store (the process). A key recorded under another session is gone.
   */
  readonly sessionId: string
  /**
   * How long a write this store accepted may still land after its caller stopped waiting (its
   * process died, or the call timed out): a helper process that finishes its request first. An
   * update that writes a key straight into its entry is rolled back only once this has passed
   * (Journal), so a late write never meets metadata it was not written for. 0: nothing outlives
   * the call.
   */
  readonly lateWriteMillis: number
}

/**
 * Defence in depth for every backend: reject values a keychain would truncate (NUL) or choke on
 * (oversize) before they reach native code. `maxBytes` lets a platform lower the bound.
 */
export const checkSecretValue = (
  ref: SecretRef.SecretRef,
  value: Redacted.Redacted<string>,
  maxBytes: number = LlmConfig.MAX_API_KEY_BYTES
): Effect.Effect<string, Errors.InvalidInput> => {
  const text = Redacted.value(value)
  if (text.length === 0 || Canonical.CONTROL_CHARACTERS.test(text)) {
    return Effect.fail(
      new Errors.InvalidInput({
        field: ref.account,
        message: `The value for ${SecretRef.spokenName(ref)} is empty or contains NUL or control characters`,
        hint: "Paste the key again without line breaks or invisible characters."
      })
    )
  }
  if (LlmConfig.utf8Length(text) > maxBytes) {
    return Effect.fail(
      new Errors.InvalidInput({
        field: ref.account,
        message: `The value for ${SecretRef.spokenName(ref)} is larger than this secret store accepts (${maxBytes} bytes)`,
        hint: Hints.pasteOnlyTheKey
      })
    )
  }
  return Effect.succeed(text)
}

const refKey = (ref: SecretRef.SecretRef) => `${ref.service}\u0000${ref.account}`

/** Keys stored in process memory, forgotten at exit; the session tier and the base of test layers. */
export const makeMemory = (options?: {
  readonly description?: Partial<SecretStoreDescription>
  /** As a store whose writes can outlive their call (tests of recovery's wait); default 0. */
  readonly lateWriteMillis?: number
}) =>
  Effect.gen(function*() {
    const entries = yield* Ref.make(new Map<string, Redacted.Redacted<string>>())
    const description: SecretStoreDescription = {
      backend: "memory",
      tier: "session",
      persistent: false,
      secure: false,
      distinguishesLockedFromAbsent: true,
      detail: "Keys are kept in memory for this session only and are forgotten when the app quits.",
      ...options?.description
    }
    return SecretStore.of({
      get: Effect.fn("SecretStore.get")(function*(ref: SecretRef.SecretRef) {
        return Option.fromUndefinedOr((yield* Ref.get(entries)).get(refKey(ref)))
      }),
      set: Effect.fn("SecretStore.set")(function*(ref: SecretRef.SecretRef, value: Redacted.Redacted<string>) {
        const text = yield* checkSecretValue(ref, value)
        yield* Ref.update(entries, (map) => new Map(map).set(refKey(ref), Redacted.make(text)))
      }),
      delete: Effect.fn("SecretStore.delete")(function*(ref: SecretRef.SecretRef) {
        return yield* Ref.modify(entries, (map) => {
          if (!map.has(refKey(ref))) return [false, map]
          const next = new Map(map)
          next.delete(refKey(ref))
          return [true, next]
        })
      }),
      describe: Effect.succeed(description),
      authorize: Effect.void,
      placement: Effect.succeed(description.tier),
      sessionId: newSessionId(),
      lateWriteMillis: options?.lateWriteMillis ?? 0
    })
  })

/** An unguessable id for one store's session memory. */
export const newSessionId = (): string => `session-${Ids.randomUuid()}`

/** The port for secret storage. */
export class SecretStore extends Context.Service<SecretStore, SecretStoreService>()("@fishbowl/domain/SecretStore") {}

/** In-memory store for tests and the session tier. */
export const layerMemory = Layer.effect(SecretStore, makeMemory())
