/**
 * The shape of a health report, shared by every platform's `diagnose` and by the IPC contract,
 * so the renderer and the CLI render findings without knowing which platform produced them.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type * as Errors from "./Errors.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as PreferencesStore from "./PreferencesStore.ts"
import * as SecretStore from "./SecretStore.ts"

/**
 * What a finding is about, which decides what it makes a command do (the CLI's exit code): the
 * keychain is `locked`; there is `no-keychain` to use; the `storage` (data folder, preferences.json,
 * an unfinished change that could not be fixed) is damaged or untrusted; a configuration's key is
 * missing (`key-missing`); anything else is `other`. Listed by urgency: when a command reports
 * several, the first kind present decides its outcome.
 */
export const FindingKind = Schema.Literals(["locked", "no-keychain", "storage", "key-missing", "other"])
export type FindingKind = typeof FindingKind.Type

/** Every finding id a platform or the CLI reports, with its kind: the one list every face reads. */
export const findingKinds = {
  "keychain.locked": "locked",
  "keys.locked": "locked",
  "keychain.reachable": "no-keychain",
  "secrets.tier": "no-keychain",
  "secrets.probe": "no-keychain",
  "data-dir.exists": "storage",
  "data-dir.type": "storage",
  "data-dir.trust": "storage",
  "data-dir.mode": "storage",
  "preferences.trust": "storage",
  "preferences.mode": "storage",
  "preferences.type": "storage",
  "preferences.parse": "storage",
  "preferences.backups": "storage",
  "preferences.journal": "storage",
  "preferences.quarantine": "storage",
  "journal.fix": "storage",
  "keys.missing": "key-missing",
  "keys.elsewhere": "key-missing",
  "keys.present": "other",
  "keys.unreadable": "other",
  "journal.running": "other",
  "journal.unknown-owner": "other",
  "journal.settling": "other",
  "legacy.fishbowl-data": "other",
  "legacy.key-files": "other",
  "legacy.key-files-unchecked": "other",
  "restore.left-out": "other",
  "restore.brought-back": "other",
  "restore.not-brought-back": "other",
  "restore.bring-back": "other",
  "diagnostics": "other"
} as const satisfies Record<string, FindingKind>

export type FindingId = keyof typeof findingKinds
export const FindingId = Schema.Literals(Object.keys(findingKinds) as [FindingId, ...Array<FindingId>])

export const Finding = Schema.Struct({
  /** Stable id (see `findingKinds`) so UIs and tests can refer to it. */
  id: FindingId,
  severity: Schema.Literals(["ok", "warning", "error"]),
  message: Schema.String,
  hint: Schema.optional(Schema.String)
})
export type Finding = typeof Finding.Type

export const DiagnosticsReport = Schema.Struct({
  tier: LlmConfig.SecretStoreTier,
  backend: Schema.String,
  secure: Schema.Boolean,
  persistent: Schema.Boolean,
  dataDir: Schema.String,
  probed: Schema.Boolean,
  findings: Schema.Array(Finding)
})
export type DiagnosticsReport = typeof DiagnosticsReport.Type

/** Port: a platform's health check. `probe` writes, reads and deletes a probe entry (may prompt). */
export class Diagnostics extends Context.Service<Diagnostics, {
  readonly diagnose: (
    options?: { readonly probe?: boolean }
  ) => Effect.Effect<DiagnosticsReport, Errors.SecretStoreError | Errors.PreferencesStoreError>
}>()("@fishbowl/domain/Diagnostics") {}

/** Reports what the ports say about themselves; platforms add file and keychain checks. */
export const layerFromPorts = Layer.effect(
  Diagnostics,
  Effect.gen(function*() {
    const secrets = yield* SecretStore.SecretStore
    const preferences = yield* PreferencesStore.PreferencesStore
    return Diagnostics.of({
      diagnose: Effect.fn("Diagnostics.diagnose")(function*(options?: { readonly probe?: boolean }) {
        const description = yield* secrets.describe
        yield* preferences.load
        const findings: Array<Finding> = [{
          id: "secrets.tier",
          severity: description.tier === "keychain" ? "ok" : "warning",
          message: description.detail,
          ...(description.warning !== undefined ? { hint: description.warning } : {})
        }]
        if (options?.probe === true) {
          yield* secrets.authorize
          findings.push({ id: "secrets.probe", severity: "ok", message: "Write, read and delete of a probe entry worked" })
        }
        return {
          tier: description.tier,
          backend: description.backend,
          secure: description.secure,
          persistent: description.persistent,
          dataDir: preferences.location,
          probed: options?.probe === true,
          findings
        }
      })
    })
  })
)
