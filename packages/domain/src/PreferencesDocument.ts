/**
 * The metadata document persisted as preferences.json: the LLM section (configs plus the intent
 * journal that keeps them consistent with the secret store) and every other setting, kept as-is.
 */
import { Schema } from "effect"
import * as Canonical from "./Canonical.ts"
import * as Ids from "./Ids.ts"
import * as Liveness from "./Liveness.ts"
import * as LlmConfig from "./LlmConfig.ts"

/** Current layout version of the `llm` section; a larger number on disk was written by a newer app. */
export const LLM_SECTION_VERSION = 1

/**
 * One unfinished multi-step operation. Recorded before the secret store is touched and removed
 * when metadata and secret agree again; `recover` finishes or undoes whatever is left.
 */
export const Intent = Schema.Struct({
  id: Schema.String,
  /** The store instance that started it; others recover it only once its owner is gone (Liveness). */
  owner: Schema.String,
  /** The owner's process, so another process can tell whether it still runs (absent: one-process platforms, older versions). */
  ownerProcess: Schema.optional(Liveness.ProcessIdentity),
  startedAt: LlmConfig.Timestamp,
  op: Schema.Literals(["create", "update", "remove", "migrate"]),
  configId: Ids.ConfigId,
  provider: Ids.ProviderId,
  /** Metadata before the operation (update, remove). */
  before: Schema.optional(LlmConfig.LlmConfig),
  /** Metadata after the operation (create, update, migrate). */
  after: Schema.optional(LlmConfig.LlmConfig),
  /** What happens to the key: `set` writes a new one (staged first on update), `delete` removes it. */
  keyChange: Schema.Literals(["none", "set", "delete"]),
  /**
   * `committed`: metadata is final, only clean-up (the staged key) remains. `abandoned`: the
   * operation failed and was reported as failed; only undoing its secret writes remains, so it
   * reserves no name and anyone may finish it.
   */
  phase: Schema.Literals(["pending", "committed", "abandoned"])
})
export type Intent = typeof Intent.Type

export const LlmSection = Schema.Struct({
  version: Schema.Literal(LLM_SECTION_VERSION),
  configs: Schema.Array(LlmConfig.LlmConfig),
  journal: Schema.Array(Intent)
})
export type LlmSection = typeof LlmSection.Type

/**
 * The whole document. `other` holds every top-level key except `llm`, exactly as read, so
 * settings owned by other parts of the app survive every update.
 */
export interface PreferencesDocument {
  readonly llm: LlmSection
  readonly other: { readonly [key: string]: unknown }
}

export const emptyLlmSection: LlmSection = { version: LLM_SECTION_VERSION, configs: [], journal: [] }

export const emptyDocument: PreferencesDocument = { llm: emptyLlmSection, other: {} }

/** Decodes the `llm` section of a parsed file; used by every persistent store. */
export const decodeLlmSection = Schema.decodeUnknownEffect(LlmSection)

/** Encodes the `llm` section for JSON; configs are plain data so this is cheap. */
export const encodeLlmSection = Schema.encodeSync(LlmSection)

/** Why a parsed JSON value cannot be a preferences document, or undefined when its shape is right. */
export const documentShapeProblem = (json: unknown): string | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "the file is not a JSON object"
  const llm = (json as Record<string, unknown>)["llm"]
  if (llm === undefined) return undefined
  if (typeof llm !== "object" || llm === null) return "the llm section is not an object"
  const version = (llm as Record<string, unknown>)["version"]
  if (typeof version === "number" && version > LLM_SECTION_VERSION) {
    return `the llm section has version ${version}, written by a newer Fishbowl (this one reads ${LLM_SECTION_VERSION})`
  }
  return undefined
}

/**
 * Why a decoded `llm` section cannot be used as a whole, or undefined. Each configuration is
 * checked by the schema; this checks what no single entry can: two configurations with one id
 * (`remove` would drop both and orphan a key) or one name (names are unique per store). Names are
 * compared by `storedNameKey`, the rule every version of the store has enforced: the stricter
 * `nameKey` (lookalikes are one name) decides new names only, so a file written under the older
 * rule ("Home" beside "Horne") is never quarantined for a rule it could not know.
 * Never echoes ids or names: problems are fixed phrases.
 */
export const llmSectionProblem = (section: LlmSection): string | undefined => {
  const ids = new Set<string>()
  const names = new Set<string>()
  for (const config of section.configs) {
    if (ids.has(config.id)) return "two configurations have the same id"
    ids.add(config.id)
    const key = Canonical.storedNameKey(config.name)
    if (names.has(key)) return "two configurations have the same name"
    names.add(key)
  }
  return undefined
}

/** Splits a parsed file into the document, keeping unknown top-level keys untouched. */
export const splitDocument = (json: { readonly [key: string]: unknown }, llm: LlmSection): PreferencesDocument => {
  const { llm: _llm, ...other } = json
  return { llm, other }
}

/** The JSON object written to disk: other settings first, then `llm`. */
export const joinDocument = (document: PreferencesDocument): Record<string, unknown> => ({
  ...document.other,
  llm: encodeLlmSection(document.llm)
})
