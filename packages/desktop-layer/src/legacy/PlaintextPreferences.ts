/**
 * Keys inside preferences.json, written by older builds of this store: an `llm` section without
 * `version` (or `version: 0`) whose `configs` is an array, or a current (`version: 1`) section in
 * which some config has an `apiKey`. Older builds also quarantined such files as
 * `preferences.json.corrupt-<time>`; those copies are imported too (identical entries once).
 *
 * JsonFilePreferencesStore refuses such a file with `Unsupported` (never quarantines or rewrites
 * it: a rewrite would drop the keys); this module is where that detection lives.
 *
 * Loading "adopts": under preferences.json's own file lock the legacy entries (with their keys)
 * move into `llm_migration_pending.json` (0600, atomic; each with its target id, stable across
 * re-runs), then preferences.json is rewritten as a current document without them and quarantined
 * copies are stripped of keys and marked. From there the normal store works again; the only
 * plaintext left is the pending file, removed (after backups and temp copies are scrubbed) once
 * every entry is in the store.
 */
import { Errors, Hints, Ids, LlmConfig, PreferencesDocument } from "@fishbowl/domain"
import { Clock, Effect, Redacted, Schema } from "effect"
import * as NodePath from "node:path"
import * as AtomicFile from "../AtomicFile.ts"
import * as Backups from "../Backups.ts"
import * as DataDir from "../DataDir.ts"
import * as LegacyFields from "./LegacyFields.ts"
import * as LegacyFiles from "./LegacyFiles.ts"
import * as LegacySource from "./LegacySource.ts"

/** Legacy entries of preferences.json (with their keys) while they are being imported. */
export const PENDING_FILE = "llm_migration_pending.json"

const KEY_FIELDS = ["apiKey", "api_key"] as const

export const holdsKeyField = (entry: unknown) => LegacyFiles.isRecord(entry) && KEY_FIELDS.some((field) => LegacyFiles.hasOwn(entry, field))

/**
 * True when a parsed preferences.json holds LLM configurations of an older build that must be
 * migrated first: an `llm` section without `version` (or `version: 0`) with a `configs` array,
 * or a current section with an `apiKey` in some config.
 */
export const isLegacyPreferences = (json: unknown): boolean => {
  if (!LegacyFiles.isRecord(json) || !LegacyFiles.isRecord(json["llm"])) return false
  const llm = json["llm"]
  const configs = llm["configs"]
  if (!Array.isArray(configs)) return false
  const version = llm["version"]
  if (version === undefined || version === 0) return true
  return version === PreferencesDocument.LLM_SECTION_VERSION && configs.some(holdsKeyField)
}

/** The error JsonFilePreferencesStore fails with on legacy content (nothing is changed). */
export const legacyPreferencesError = (path: string) =>
  new Errors.Unsupported({
    reason: "needs-migration",
    message: `${NodePath.basename(path)} holds configurations from an older Fishbowl that need migrating`,
    hint: "Run `fishbowl-llm migrate` or restart the app; the configurations and keys are kept until they are safely in the keychain."
  })

/** The plaintext key of an entry; an empty one (keyless providers) counts as none. */
const legacyKeyOf = (raw: LegacyFiles.Raw) => {
  const value = LegacyFields.firstField(raw, KEY_FIELDS)
  return typeof value === "string" && value.trim() !== "" ? value : undefined
}

const legacyIdOf = (raw: LegacyFiles.Raw) => LegacyFields.textField(raw, ["id", "configId", "config_id"])

const stripKeys = (entry: unknown): unknown => {
  if (!LegacyFiles.isRecord(entry)) return entry
  const copy: LegacyFiles.Raw = {}
  for (const [key, value] of Object.entries(entry)) if (!(KEY_FIELDS as ReadonlyArray<string>).includes(key)) copy[key] = value
  return copy
}

/** A preferences-like JSON value with every `apiKey` removed from `llm.configs`, or undefined when it holds none. */
export const withoutPreferenceKeys = (json: unknown): unknown | undefined => {
  if (!LegacyFiles.isRecord(json) || !LegacyFiles.isRecord(json["llm"]) || !Array.isArray(json["llm"]["configs"])) return undefined
  const configs = json["llm"]["configs"] as ReadonlyArray<unknown>
  if (!configs.some(holdsKeyField)) return undefined
  return { ...json, llm: { ...json["llm"], configs: configs.map(stripKeys) } }
}

/** Canonical text of a value (sorted keys), to recognise the same legacy entry found twice. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : LegacyFiles.isRecord(value)
    ? `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`
    : JSON.stringify(value) ?? "null"

const REDACTION = "[removed: migrated to the keychain]"

/** Top-level field added to a quarantined legacy copy once its entries are in the pending file. */
const IMPORTED_MARKER = "fishbowlMigration"

export const isQuarantineName = (name: string) => Backups.copyOf(name)?._tag === "Quarantined"
export const isBackupName = (name: string) => Backups.copyOf(name)?._tag === "Backup"

interface PendingEntry {
  readonly configId: string
  readonly origin: string
  readonly legacy: LegacyFiles.Raw
}

/** `text` of a copy of preferences.json without keys: `apiKey` fields dropped, then known key texts redacted. */
const scrubbedText = (read: Extract<LegacyFiles.LegacyJson, { _tag: "Parsed" }>, keys: ReadonlyArray<string>) => {
  const stripped = withoutPreferenceKeys(read.value)
  return withoutKnownKeys(stripped !== undefined ? LegacyFiles.jsonText(stripped) : read.text, keys)
}

/** `text` with every occurrence of a known key (as is, or JSON-escaped) replaced by REDACTION. */
const withoutKnownKeys = (text: string, keys: ReadonlyArray<string>) => {
  let next = text
  for (const key of keys) {
    if (next.includes(key)) next = next.split(key).join(REDACTION)
    const escaped = JSON.stringify(key).slice(1, -1)
    if (escaped !== key && next.includes(escaped)) next = next.split(escaped).join(REDACTION)
  }
  return next
}

/**
 * Removes keys from every copy of preferences.json: backups, quarantined copies (structurally:
 * `apiKey` fields; then any remaining occurrence of a known key text) and temp files of crashed
 * writers (deleted when they hold a known key).
 */
const scrubCopies = (
  files: { readonly from: string; readonly prefsPath: string; readonly pendingPath: string },
  knownKeys: ReadonlyArray<string>,
  removed: Array<string>,
  rewritten: Array<string>
) =>
  Effect.gen(function*() {
    const keys = knownKeys.filter((key) => key.length >= 4)
    for (const name of yield* LegacyFiles.listFolder(files.from)) {
      const path = NodePath.join(files.from, name)
      const isCopy = isBackupName(name) || isQuarantineName(name)
      const isTemp = name.startsWith(".") && name.endsWith(".tmp")
      if (!isCopy && !isTemp) continue
      const read = yield* LegacyFiles.readLegacyJson(path)
      if (read._tag === "Missing") continue
      if (isTemp) {
        if (!(AtomicFile.isTempFileOf(files.prefsPath, name) || AtomicFile.isTempFileOf(files.pendingPath, name))) continue
        // A pending-file temp is never needed (under the migration lock no write of it is in flight).
        const holds = AtomicFile.isTempFileOf(files.pendingPath, name) || read._tag === "Refused" ||
          keys.some((key) => read.text.includes(key)) || withoutPreferenceKeys(read.value) !== undefined
        if (holds) {
          yield* LegacyFiles.removeFile(path)
          removed.push(path)
        }
        continue
      }
      // A damaged copy (truncated JSON) is still text: the keys it names are replaced all the same.
      // One that cannot even be read as text is left alone (doctor lists it).
      const text = read.text
      if (text === undefined) continue
      const next = read._tag === "Parsed" ? scrubbedText(read, keys) : withoutKnownKeys(text, keys)
      if (next !== text) {
        yield* LegacyFiles.writeAtomic(path, next)
        if (!rewritten.includes(path)) rewritten.push(path)
      }
    }
  })

/**
 * preferences.json without its legacy entries: configs of the current shape without a key stay,
 * every other config goes to `adopt` (for the pending file), the journal is kept when valid.
 */
const withoutLegacyEntries = (json: LegacyFiles.Raw, adopt: (legacy: LegacyFiles.Raw) => void): string => {
  const llm = json["llm"] as LegacyFiles.Raw
  const versioned = llm["version"] === PreferencesDocument.LLM_SECTION_VERSION
  const kept: Array<LlmConfig.LlmConfig> = []
  for (const config of llm["configs"] as Array<unknown>) {
    if (versioned && !holdsKeyField(config) && Schema.is(LlmConfig.LlmConfig)(config)) kept.push(config)
    else if (LegacyFiles.isRecord(config)) adopt(config)
  }
  const journal = versioned && Array.isArray(llm["journal"])
    ? (llm["journal"] as Array<unknown>).filter((intent): intent is PreferencesDocument.Intent =>
      Schema.is(PreferencesDocument.Intent)(intent)
    )
    : []
  const section: PreferencesDocument.LlmSection = { version: PreferencesDocument.LLM_SECTION_VERSION, configs: kept, journal }
  const { llm: _llm, ...other } = json
  return LegacyFiles.jsonText({ ...other, llm: section })
}

const sourceOf = (context: LegacySource.SourceContext) => {
  const { from } = context
  const at = (name: string) => NodePath.join(from, name)
  const prefsPath = at(DataDir.PREFERENCES_FILE_NAME)
  const pendingPath = at(PENDING_FILE)
  const busy = () =>
    new Errors.StorageInaccessible({
      message: `${DataDir.PREFERENCES_FILE_NAME} is locked by another Fishbowl process (waited ${context.lockWaitMillis} ms)`,
      hint: Hints.otherMigrationRunning
    })
  const underPrefsLock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    LegacyFiles.withFileLock(prefsPath, context.lockWaitMillis, busy, effect)

  const legacyQuarantine = Effect.gen(function*() {
    const found: Array<string> = []
    for (const name of (yield* LegacyFiles.listFolder(from)).filter(isQuarantineName)) {
      const read = yield* LegacyFiles.readLegacyJson(at(name))
      if (
        read._tag === "Parsed" && isLegacyPreferences(read.value) && !LegacyFiles.hasOwn(read.value as LegacyFiles.Raw, IMPORTED_MARKER)
      ) found.push(at(name))
    }
    return found
  })

  const readPending = Effect.gen(function*() {
    const read = yield* LegacyFiles.readLegacyJson(pendingPath)
    if (read._tag === "Missing") return { ok: true as const, exists: false, entries: [] as Array<PendingEntry> }
    if (read._tag === "Refused" || !LegacyFiles.isRecord(read.value) || !Array.isArray(read.value["entries"])) {
      return { ok: false as const, reason: read._tag === "Refused" ? read.reason : "it is not a pending-migration file" }
    }
    const entries = (read.value["entries"] as Array<unknown>).filter((entry): entry is PendingEntry =>
      LegacyFiles.isRecord(entry) && typeof entry["configId"] === "string" && typeof entry["origin"] === "string" &&
      LegacyFiles.isRecord(entry["legacy"])
    )
    return { ok: true as const, exists: true, entries }
  })

  const writePending = (entries: ReadonlyArray<PendingEntry>) =>
    LegacyFiles.writeAtomic(pendingPath, LegacyFiles.jsonText({ format: "fishbowl-llm-migration-pending", version: 1, entries }))

  const scrub = (knownKeys: ReadonlyArray<string>, removed: Array<string>, rewritten: Array<string>) =>
    scrubCopies({ from, prefsPath, pendingPath }, knownKeys, removed, rewritten)

  /** Moves legacy entries of preferences.json and quarantined copies into the pending file. */
  const adopt = (removed: Array<string>, rewritten: Array<string>) =>
    Effect.gen(function*() {
      const pending = yield* readPending
      if (!pending.ok) return
      const entries = [...pending.entries]
      const seen = new Set(entries.map((entry) => canonical(entry.legacy)))
      const ids = new Set(entries.map((entry) => entry.configId))
      const addEntry = (legacy: LegacyFiles.Raw, origin: string) => {
        const identity = canonical(legacy)
        if (seen.has(identity)) return
        seen.add(identity)
        const reused = LegacyFields.reusableId(legacyIdOf(legacy))
        const configId = reused !== undefined && !ids.has(reused) ? reused : Ids.newConfigId()
        ids.add(configId)
        entries.push({ configId, origin, legacy })
      }
      const quarantined = yield* legacyQuarantine
      for (const path of quarantined) {
        const read = yield* LegacyFiles.readLegacyJson(path)
        if (read._tag !== "Parsed" || !isLegacyPreferences(read.value)) continue
        for (
          const config of ((read.value as LegacyFiles.Raw)["llm"] as LegacyFiles.Raw)["configs"] as Array<unknown>
        ) if (LegacyFiles.isRecord(config)) addEntry(config, path)
      }
      yield* underPrefsLock(Effect.gen(function*() {
        const read = yield* LegacyFiles.readLegacyJson(prefsPath)
        const next = read._tag === "Parsed" && isLegacyPreferences(read.value)
          ? withoutLegacyEntries(read.value as LegacyFiles.Raw, (config) => addEntry(config, prefsPath))
          : undefined
        // The pending file is durable before the keys leave preferences.json.
        if (entries.length !== pending.entries.length) yield* writePending(entries)
        if (next !== undefined) {
          yield* LegacyFiles.writeAtomic(prefsPath, next)
          rewritten.push(prefsPath)
        }
        for (const path of quarantined) {
          const copy = yield* LegacyFiles.readLegacyJson(path)
          if (copy._tag !== "Parsed" || !LegacyFiles.isRecord(copy.value)) continue
          const marked = {
            ...((withoutPreferenceKeys(copy.value) ?? copy.value) as LegacyFiles.Raw),
            [IMPORTED_MARKER]: { importedInto: PENDING_FILE }
          }
          yield* LegacyFiles.writeAtomic(path, LegacyFiles.jsonText(marked))
          if (!rewritten.includes(path)) rewritten.push(path)
        }
      }))
      yield* scrub(
        entries.flatMap((entry) => {
          const key = legacyKeyOf(entry.legacy)
          return key === undefined ? [] : [key]
        }),
        removed,
        rewritten
      )
    })

  /** True when a backup, quarantined copy or crashed writer's temp file still has an `apiKey` field. */
  const copiesHoldKeys = Effect.gen(function*() {
    for (const name of yield* LegacyFiles.listFolder(from)) {
      if (AtomicFile.isTempFileOf(pendingPath, name)) return true
      if (!(isBackupName(name) || isQuarantineName(name) || AtomicFile.isTempFileOf(prefsPath, name))) continue
      const read = yield* LegacyFiles.readLegacyJson(at(name))
      if (read._tag === "Parsed" && withoutPreferenceKeys(read.value) !== undefined) return true
    }
    return false
  })

  return { prefsPath, pendingPath, legacyQuarantine, readPending, writePending, scrub, adopt, underPrefsLock, copiesHoldKeys }
}

/** The fields of one entry of the older build's format (read tolerantly: first spelling present). */
const fieldsOf = (entry: PendingEntry, folder: string, now: string) => {
  const raw = entry.legacy
  const providerText = LegacyFields.textField(raw, ["provider", "providerId", "provider_id", "type"])
  const useAuthHeader = LegacyFields.firstField(raw, ["useAuthHeader", "use_auth_header"])
  const createdAt = LegacyFields.timestampOf(LegacyFields.firstField(raw, ["createdAt", "created_at"]), now)
  return {
    configId: LegacyFields.reusableId(entry.configId) ?? LegacyFields.derivedId(folder, entry.configId),
    provider: LegacyFields.tolerantProvider(providerText),
    providerText,
    name: LegacyFields.cleanName(LegacyFields.textField(raw, ["name", "customName", "displayName", "display_name", "label", "title"])),
    baseUrl: LegacyFields.textField(raw, ["baseUrl", "baseURL", "base_url", "endpoint", "url"]),
    useAuthHeader: typeof useAuthHeader === "boolean" ? useAuthHeader : true,
    createdAt,
    updatedAt: LegacyFields.timestampOf(LegacyFields.firstField(raw, ["updatedAt", "updated_at"]), createdAt)
  }
}

export const PlaintextPreferencesSource: LegacySource.LegacySource = {
  name: "keys inside preferences.json",
  detect: (context) =>
    Effect.gen(function*() {
      const files = sourceOf(context)
      const prefs = yield* LegacyFiles.readLegacyJson(files.prefsPath)
      if (prefs._tag === "Parsed" && isLegacyPreferences(prefs.value)) return true
      if ((yield* files.legacyQuarantine).length > 0) return true
      if ((yield* LegacyFiles.readLegacyJson(files.pendingPath))._tag !== "Missing") return true
      return yield* files.copiesHoldKeys
    }),
  load: (context) =>
    Effect.gen(function*() {
      const files = sourceOf(context)
      const prefs = yield* LegacyFiles.readLegacyJson(files.prefsPath)
      const legacyPrefs = prefs._tag === "Parsed" && isLegacyPreferences(prefs.value)
      const quarantined = yield* files.legacyQuarantine
      const pendingBefore = yield* files.readPending
      const removed: Array<string> = []
      const rewritten: Array<string> = []
      if (!legacyPrefs && quarantined.length === 0 && pendingBefore.ok && !pendingBefore.exists) {
        if (!(yield* files.copiesHoldKeys)) return undefined
        // Only copies with keys are left (e.g. a backup written before the keys moved): strip them.
        return {
          entries: [],
          notes: [],
          finish: () =>
            files.underPrefsLock(files.scrub([], removed, rewritten)).pipe(Effect.as({ removed, renamed: [], rewritten, kept: [] }))
        }
      }
      if (legacyPrefs || quarantined.length > 0) yield* files.adopt(removed, rewritten)
      const pending = yield* files.readPending
      if (!pending.ok) {
        return {
          entries: [],
          notes: [{
            source: files.pendingPath,
            reason: `${PENDING_FILE} cannot be read: ${pending.reason}; it is kept unchanged`,
            fix: `Restore ${PENDING_FILE} from a backup (it holds keys: keep it private), then run ${
              LegacySource.rerunText(context.rerunCommand)
            }.`,
            blocking: true
          }],
          finish: () => Effect.succeed({ removed, renamed: [], rewritten, kept: [files.pendingPath] })
        }
      }
      const now = new Date(yield* Clock.currentTimeMillis).toISOString()
      const entries: Array<LegacySource.LegacyEntry> = pending.entries.map((entry) => {
        const fields = fieldsOf(entry, context.from, now)
        const key = legacyKeyOf(entry.legacy)
        return {
          source: entry.origin,
          label: fields.name,
          outcome: LegacySource.toImportEntry(fields, key === undefined ? { _tag: "NoKey" } : { _tag: "Key", value: Redacted.make(key) }, {
            file: files.pendingPath,
            field: "baseUrl",
            ...context
          })
        }
      })
      return {
        entries,
        notes: [],
        finish: (inStore) =>
          Effect.gen(function*() {
            const knownKeys = pending.entries.flatMap((entry) => {
              const key = legacyKeyOf(entry.legacy)
              return key === undefined ? [] : [key]
            })
            yield* files.underPrefsLock(files.scrub(knownKeys, removed, rewritten))
            const remaining = pending.entries.filter((_, index) => !inStore[index])
            if (remaining.length === 0) {
              yield* LegacyFiles.removeFile(files.pendingPath)
              removed.push(files.pendingPath)
              return { removed, renamed: [], rewritten, kept: [] }
            }
            if (remaining.length !== pending.entries.length) yield* files.writePending(remaining)
            return { removed, renamed: [], rewritten, kept: [files.pendingPath] }
          })
      }
    })
}
