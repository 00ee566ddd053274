/**
 * Orphan sweep: secrets in the secure store that no configuration refers to.
 *
 * On mobile, the keychain and app storage have different lifetimes. An iOS reinstall keeps
 * keychain items but wipes app storage; then every key is an orphan that no screen can show or
 * delete. The journal's `recover` cannot see them (the journal was in the wiped storage), so the
 * app runs this sweep after `recover`, driven by the `SecretKeyIndex` (expo-secure-store cannot
 * list its keys).
 *
 * Orphans are deleted, not only reported: their configuration is gone, iOS offers users no way to
 * see or remove an app's keychain items, and a key nobody can use is only a liability. `dryRun`
 * reports without deleting. A document that cannot be read fails the sweep before anything is
 * deleted (a corrupt document is never read as "no configurations").
 */
import { type Errors, LlmConfigStore, PreferencesStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, Option, Schema } from "effect"
import * as SecretKeyIndex from "./SecretKeyIndex.ts"
import * as SecureStoreKey from "./SecureStoreKey.ts"

export const OrphanSweepReport = Schema.Struct({
  /** Services (`fishbowl.<provider>.<config-id>`) the index lists but no configuration or intent uses. */
  orphans: Schema.Array(Schema.String),
  /** Secure-store keys removed (names only). Empty on a dry run. */
  deleted: Schema.Array(Schema.String),
  /** Configurations that say they have a key the store cannot return: the UI should ask to re-enter it. */
  keysMissing: Schema.Array(Schema.Struct({ configId: Schema.String, name: Schema.String })),
  /** Index pages that could not be decrypted (Android restore): orphans listed there cannot be found. */
  unreadableIndexPages: Schema.Number,
  /** What could not be checked or removed; retried by the next sweep. */
  failed: Schema.Array(Schema.Struct({ service: Schema.String, error: Schema.String }))
})
export type OrphanSweepReport = typeof OrphanSweepReport.Type

export interface OrphanSweepOptions {
  /** Report orphans without deleting them. */
  readonly dryRun?: boolean
  /** Also read each configuration's key to report the ones the store cannot return (default true). */
  readonly checkConfigs?: boolean
}

const fields = ["apiKey", "apiKey.staged"] as const

export const sweepOrphanSecrets = Effect.fn("OrphanSweep.sweepOrphanSecrets")(function*(options?: OrphanSweepOptions) {
  const index = yield* SecretKeyIndex.SecretKeyIndex
  const secrets = yield* SecretStore.SecretStore
  const preferences = yield* PreferencesStore.PreferencesStore
  const dryRun = options?.dryRun === true
  // The index is read before the document: a secret is indexed only after its intent is in the
  // document, so anything indexed by now is visible in the document read next (no race with create).
  const indexed = yield* index.services
  const document = yield* preferences.load
  const inJournal = new Set(document.llm.journal.map((intent) => intent.configId as string))
  const referenced = new Set([
    ...document.llm.configs.map((config) => SecretRef.secretRefFor(config.provider, config.id).service),
    ...document.llm.journal.map((intent) => SecretRef.secretRefFor(intent.provider, intent.configId).service)
  ])
  const orphans = indexed.filter((service) => !referenced.has(service))
  const deleted: Array<string> = []
  const failed: Array<{ service: string; error: string }> = []
  const swept: Array<string> = []

  const deleteRef = (ref: { readonly service: string; readonly account: (typeof fields)[number] }) =>
    secrets.delete(ref).pipe(Effect.tap((existed) => Effect.sync(() => existed && deleted.push(SecureStoreKey.secureStoreKeyFor(ref)))))

  if (!dryRun) {
    for (const service of orphans) {
      const outcome = yield* Effect.forEach(fields, (account) => deleteRef({ service, account }), { discard: true }).pipe(
        Effect.result
      )
      if (outcome._tag === "Success") swept.push(service)
      else failed.push({ service, error: outcome.failure._tag })
    }
    if (swept.length > 0) yield* index.forget(swept)
  }

  const keysMissing: Array<{ configId: string; name: string }> = []
  if (options?.checkConfigs !== false) {
    for (const config of document.llm.configs) {
      if (!config.hasKey || inJournal.has(config.id)) continue
      const ref = SecretRef.secretRefFor(config.provider, config.id)
      const outcome = yield* Effect.result(secrets.get(ref))
      if (outcome._tag === "Success" && Option.isNone(outcome.success)) {
        keysMissing.push({ configId: config.id, name: config.name })
      }
      if (outcome._tag === "Failure") failed.push({ service: ref.service, error: outcome.failure._tag })
    }
  }

  return {
    orphans,
    deleted,
    keysMissing,
    unreadableIndexPages: yield* index.unreadablePages,
    failed
  } satisfies OrphanSweepReport
})

/** What an app runs at start-up: finish interrupted changes, then clear orphans. */
export const recoverAndSweep = Effect.fn("OrphanSweep.recoverAndSweep")(function*(options?: OrphanSweepOptions) {
  const store = yield* LlmConfigStore.LlmConfigStore
  const recovery = yield* store.recover()
  const sweep = yield* sweepOrphanSecrets(options)
  return { recovery, sweep }
})

export type OrphanSweepError = Errors.SecretStoreError | Errors.PreferencesStoreError
