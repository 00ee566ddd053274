/**
 * The shape of a health report, shared by every platform's `diagnose` and by the IPC contract,
 * so the renderer and the CLI render findings without knowing which platform produced them.
 */
import { Schema } from "effect"
import { SecretStoreTier } from "./SecretStore.ts"

export const Finding = Schema.Struct({
  /** Stable id (e.g. `keychain.probe`, `preferences.mode`) so UIs and tests can refer to it. */
  id: Schema.String,
  severity: Schema.Literals(["ok", "warning", "error"]),
  message: Schema.String,
  hint: Schema.optional(Schema.String)
})
export type Finding = typeof Finding.Type

export const DiagnosticsReport = Schema.Struct({
  tier: SecretStoreTier,
  backend: Schema.String,
  secure: Schema.Boolean,
  persistent: Schema.Boolean,
  dataDir: Schema.String,
  probed: Schema.Boolean,
  findings: Schema.Array(Finding)
})
export type DiagnosticsReport = typeof DiagnosticsReport.Type
