/**
 * The shape of a health report, shared by every platform's `diagnose` and by the IPC contract,
 * so the renderer and the CLI render findings without knowing which platform produced them.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type * as Errors from "./Errors.ts"
import * as LlmConfig from "./LlmConfig.ts"
import * as PreferencesStore from "./PreferencesStore.ts"
import * as SecretStore from "./SecretStore.ts"

export const Finding = Schema.Struct({
  /** Stable id (e.g. `secrets.probe`, `preferences.mode`) so UIs and tests can refer to it. */
  id: Schema.String,
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
