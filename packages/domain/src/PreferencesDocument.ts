/**
 * The metadata document persisted as preferences.json: the LLM section (configs plus the intent
 * journal that keeps them consistent with the secret store) and every other setting, kept as-is.
 */
import { Effect, Option, Schema } from "effect"
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
  /**
   * What happens to the key: `set` writes a new one, `delete` removes it. An update with a new
   * key writes it straight into its entry when `keyMark` is there; older versions staged a copy first.
   */
  keyChange: Schema.Literals(["none", "set", "delete"]),
  /**
   * An update's new key, as a salted fingerprint of the value written (KeyBinding.writeMark, never
   * the value): recovery reads the entry and rolls forward when it holds that value.
   */
  keyMark: Schema.optional(Schema.String.check(Schema.isPattern(/^[0-9a-f]{16}$/))),
  /**
   * Set by recovery for an update whose key had not landed: it is rolled back only after this
   * time, when no write of it can land any more (SecretStore.lateWriteMillis).
   */
  settledAfter: Schema.optional(LlmConfig.Timestamp),
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

const decodeSectionWithSchema = Schema.decodeUnknownEffect(LlmSection)
const encodeSectionWithSchema = Schema.encodeSync(LlmSection)
const decodeConfigWithSchema = Schema.decodeUnknownOption(LlmConfig.LlmConfig)
const encodeConfigWithSchema = Schema.encodeUnknownOption(LlmConfig.LlmConfig)
const decodeJournalWithSchema = Schema.decodeUnknownOption(LlmSection.fields.journal)
const encodeJournalWithSchema = Schema.encodeUnknownOption(LlmSection.fields.journal)

/**
 * The section as the schema decodes (or encodes) it, by one synchronous pass: each configuration
 * through the stored-config reader (LlmConfig.makeStoredConfigReader), else the schema's own
 * decoder for that one configuration, the journal (usually empty) through the schema. Undefined
 * when anything fails: the caller then runs the whole schema, for its error.
 */
const sectionBy = <Config, Journal>(
  config: (input: unknown) => Option.Option<Config>,
  journal: (input: unknown) => Option.Option<Journal>
) =>
(
  input: unknown
): { readonly version: 1; readonly configs: ReadonlyArray<Config | LlmConfig.LlmConfig>; readonly journal: Journal } | undefined => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return undefined
  const record = input as { readonly [key: string]: unknown }
  const configs = record["configs"]
  if (record["version"] !== LLM_SECTION_VERSION || !Array.isArray(configs)) return undefined
  const entries = journal(record["journal"])
  if (Option.isNone(entries)) return undefined
  const read = LlmConfig.makeStoredConfigReader()
  const out: Array<Config | LlmConfig.LlmConfig> = new Array(configs.length)
  for (let index = 0; index < configs.length; index++) {
    const entry = configs[index]
    const fast = read(entry)
    if (fast !== undefined) {
      out[index] = fast
      continue
    }
    const slow = config(entry)
    if (Option.isNone(slow)) return undefined
    out[index] = slow.value
  }
  return { version: LLM_SECTION_VERSION, configs: out, journal: entries.value }
}

const decodeSectionFast = sectionBy(decodeConfigWithSchema, decodeJournalWithSchema)
const encodeSectionFast = sectionBy(encodeConfigWithSchema, encodeJournalWithSchema)

/**
 * Decodes the `llm` section of a parsed file; used by every persistent store. The same result
 * (and error) as `Schema.decodeUnknownEffect(LlmSection)`, without its cost per value on a large
 * file of stored configurations (see `sectionBy`).
 */
export const decodeLlmSection = (input: unknown): Effect.Effect<LlmSection, Schema.SchemaError> =>
  Effect.suspend(() => {
    const fast = decodeSectionFast(input)
    return fast !== undefined ? Effect.succeed(fast) : decodeSectionWithSchema(input)
  })

/** Encodes the `llm` section for JSON, validating it: `Schema.encodeSync(LlmSection)`, by the same fast pass. */
export const encodeLlmSection = (section: LlmSection): typeof LlmSection.Encoded =>
  encodeSectionFast(section) ?? encodeSectionWithSchema(section)

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
  const sameId = firstRepeat(section.configs.map((config) => config.id))
  const sameName = firstRepeat(section.configs.map((config) => Canonical.storedNameKey(config.name)))
  // the first configuration that repeats either, its id before its name (one walk in file order)
  if (sameId < sameName) return "two configurations have the same id"
  if (sameName < sameId) return "two configurations have the same name"
  return sameId === Infinity ? undefined : "two configurations have the same id"
}

/**
 * The index of the first key equal to an earlier one, or Infinity. An open-addressed table of
 * indexes keyed by each string's FNV-1a hash: a Set of 10,000 strings fresh from JSON.parse costs
 * several times more (each insert hashes, grows and rehashes a general-purpose table).
 */
const firstRepeat = (keys: ReadonlyArray<string>): number => {
  let size = 16
  while (size < keys.length * 2) size *= 2
  const mask = size - 1
  const slots = new Int32Array(size).fill(-1)
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!
    let hash = 0x811c9dc5
    for (let at = 0; at < key.length; at++) hash = Math.imul(hash ^ key.charCodeAt(at), 0x01000193)
    for (let slot = hash & mask;; slot = (slot + 1) & mask) {
      const earlier = slots[slot]!
      if (earlier === -1) {
        slots[slot] = index
        break
      }
      if (keys[earlier] === key) return index
    }
  }
  return Infinity
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
