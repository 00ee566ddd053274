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
import { Intent, LLM_SECTION_VERSION, LlmConfig, type LlmSection, newConfigId, StorageInaccessible, Unsupported } from "@fishbowl/domain"
import { Clock, Effect, Redacted, Schema } from "effect"
import * as NodePath from "node:path"
import { isTempFileOf } from "../AtomicFile.ts"
import { PREFERENCES_FILE_NAME } from "../DataDir.ts"
import { cleanName, derivedId, firstField, reusableId, textField, timestampOf, tolerantProvider } from "./LegacyFields.ts"
import {
  hasOwn,
  isRecord,
  jsonText,
  listFolder,
  type Raw,
  readLegacyJson,
  removeFile,
  withFileLock,
  writeAtomic
} from "./LegacyFiles.ts"
import type { LegacyEntry, LegacySource, SourceContext } from "./LegacySource.ts"
import { toImportEntry } from "./LegacySource.ts"

/** Legacy entries of preferences.json (with their keys) while they are being imported. */
export const PENDING_FILE = "llm_migration_pending.json"

const KEY_FIELDS = ["apiKey", "api_key"] as const

export const holdsKeyField = (entry: unknown) => isRecord(entry) && KEY_FIELDS.some((field) => hasOwn(entry, field))

/**
 * True when a parsed preferences.json holds LLM configurations of an older build that must be
 * migrated first: an `llm` section without `version` (or `version: 0`) with a `configs` array,
 * or a current section with an `apiKey` in some config.
 */
export const isLegacyPreferences = (json: unknown): boolean => {
  if (!isRecord(json) || !isRecord(json["llm"])) return false
  const llm = json["llm"]
  const configs = llm["configs"]
  if (!Array.isArray(configs)) return false
  const version = llm["version"]
  if (version === undefined || version === 0) return true
  return version === LLM_SECTION_VERSION && configs.some(holdsKeyField)
}

/** The error JsonFilePreferencesStore fails with on legacy content (nothing is changed). */
export const legacyPreferencesError = (path: string) =>
  new Unsupported({
    message: `${NodePath.basename(path)} holds configurations from an older Fishbowl that need migrating`,
    hint: "Run `fishbowl-llm migrate` or restart the app; the configurations and keys are kept until they are safely in the keychain."
  })

/** The plaintext key of an entry; an empty one (keyless providers) counts as none. */
const legacyKeyOf = (raw: Raw) => {
  const value = firstField(raw, KEY_FIELDS)
  return typeof value === "string" && value.trim() !== "" ? value : undefined
}

const legacyIdOf = (raw: Raw) => textField(raw, ["id", "configId", "config_id"])

const stripKeys = (entry: unknown): unknown => {
  if (!isRecord(entry)) return entry
  const copy: Raw = {}
  for (const [key, value] of Object.entries(entry)) if (!(KEY_FIELDS as ReadonlyArray<string>).includes(key)) copy[key] = value
  return copy
}

/** A preferences-like JSON value with every `apiKey` removed from `llm.configs`, or undefined when it holds none. */
export const withoutPreferenceKeys = (json: unknown): unknown | undefined => {
  if (!isRecord(json) || !isRecord(json["llm"]) || !Array.isArray(json["llm"]["configs"])) return undefined
  const configs = json["llm"]["configs"] as ReadonlyArray<unknown>
  if (!configs.some(holdsKeyField)) return undefined
  return { ...json, llm: { ...json["llm"], configs: configs.map(stripKeys) } }
}

/** Canonical text of a value (sorted keys), to recognise the same legacy entry found twice. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : isRecord(value)
    ? `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`
    : JSON.stringify(value) ?? "null"

const REDACTION = "[removed: migrated to the keychain]"

/** Top-level field added to a quarantined legacy copy once its entries are in the pending file. */
const IMPORTED_MARKER = "fishbowlMigration"

export const isQuarantineName = (name: string) => name.startsWith(`${PREFERENCES_FILE_NAME}.corrupt-`)
export const isBackupName = (name: string) => name.startsWith(`${PREFERENCES_FILE_NAME}.bak.`)

interface PendingEntry {
  readonly configId: string
  readonly origin: string
  readonly legacy: Raw
}

const sourceOf = (context: SourceContext) => {
  const { from } = context
  const at = (name: string) => NodePath.join(from, name)
  const prefsPath = at(PREFERENCES_FILE_NAME)
  const pendingPath = at(PENDING_FILE)
  const busy = () =>
    new StorageInaccessible({
      message: `${PREFERENCES_FILE_NAME} is locked by another Fishbowl process (waited ${context.lockWaitMillis} ms)`,
      hint: "Wait for the other migration or Fishbowl window to finish, then run the migration again."
    })
  const underPrefsLock = <A, E, R>(effect: Effect.Effect<A, E, R>) => withFileLock(prefsPath, context.lockWaitMillis, busy, effect)

  const legacyQuarantine = Effect.gen(function*() {
    const found: Array<string> = []
    for (const name of (yield* listFolder(from)).filter(isQuarantineName)) {
      const read = yield* readLegacyJson(at(name))
      if (read._tag === "Parsed" && isLegacyPreferences(read.value) && !hasOwn(read.value as Raw, IMPORTED_MARKER)) found.push(at(name))
    }
    return found
  })

  const readPending = Effect.gen(function*() {
    const read = yield* readLegacyJson(pendingPath)
    if (read._tag === "Missing") return { ok: true as const, exists: false, entries: [] as Array<PendingEntry> }
    if (read._tag === "Refused" || !isRecord(read.value) || !Array.isArray(read.value["entries"])) {
      return { ok: false as const, reason: read._tag === "Refused" ? read.reason : "it is not a pending-migration file" }
    }
    const entries = (read.value["entries"] as Array<unknown>).filter((entry): entry is PendingEntry =>
      isRecord(entry) && typeof entry["configId"] === "string" && typeof entry["origin"] === "string" && isRecord(entry["legacy"])
    )
    return { ok: true as const, exists: true, entries }
  })

  const writePending = (entries: ReadonlyArray<PendingEntry>) =>
    writeAtomic(pendingPath, jsonText({ format: "fishbowl-llm-migration-pending", version: 1, entries }))

  /**
   * Removes keys from every copy of preferences.json: backups, quarantined copies (structurally:
   * `apiKey` fields; then any remaining occurrence of a known key text) and temp files of crashed
   * writers (deleted when they hold a known key).
   */
  const scrub = (knownKeys: ReadonlyArray<string>, removed: Array<string>, rewritten: Array<string>) =>
    Effect.gen(function*() {
      const keys = knownKeys.filter((key) => key.length >= 4)
      for (const name of yield* listFolder(from)) {
        const path = at(name)
        const isCopy = isBackupName(name) || isQuarantineName(name)
        const isTemp = name.startsWith(".") && name.endsWith(".tmp")
        if (!isCopy && !isTemp) continue
        const read = yield* readLegacyJson(path)
        if (read._tag === "Missing") continue
        // A copy that cannot even be read as text is left alone (doctor lists it).
        const text = read._tag === "Parsed" ? read.text : undefined
        if (isTemp) {
          if (!(isTempFileOf(prefsPath, name) || isTempFileOf(pendingPath, name))) continue
          // A pending-file temp is never needed (under the migration lock no write of it is in flight).
          const holds = isTempFileOf(pendingPath, name) || read._tag === "Refused" || keys.some((key) => text!.includes(key)) ||
            (read._tag === "Parsed" && withoutPreferenceKeys(read.value) !== undefined)
          if (holds) {
            yield* removeFile(path)
            removed.push(path)
          }
          continue
        }
        if (text === undefined) continue
        let next = text
        const stripped = read._tag === "Parsed" ? withoutPreferenceKeys(read.value) : undefined
        if (stripped !== undefined) next = jsonText(stripped)
        for (const key of keys) {
          if (next.includes(key)) next = next.split(key).join(REDACTION)
          const escaped = JSON.stringify(key).slice(1, -1)
          if (escaped !== key && next.includes(escaped)) next = next.split(escaped).join(REDACTION)
        }
        if (next !== text) {
          yield* writeAtomic(path, next)
          if (!rewritten.includes(path)) rewritten.push(path)
        }
      }
    })

  /** Moves legacy entries of preferences.json and quarantined copies into the pending file. */
  const adopt = (removed: Array<string>, rewritten: Array<string>) =>
    Effect.gen(function*() {
      const pending = yield* readPending
      if (!pending.ok) return
      const entries = [...pending.entries]
      const seen = new Set(entries.map((entry) => canonical(entry.legacy)))
      const ids = new Set(entries.map((entry) => entry.configId))
      const addEntry = (legacy: Raw, origin: string) => {
        const identity = canonical(legacy)
        if (seen.has(identity)) return
        seen.add(identity)
        const reused = reusableId(legacyIdOf(legacy))
        const configId = reused !== undefined && !ids.has(reused) ? reused : newConfigId()
        ids.add(configId)
        entries.push({ configId, origin, legacy })
      }
      const quarantined = yield* legacyQuarantine
      for (const path of quarantined) {
        const read = yield* readLegacyJson(path)
        if (read._tag !== "Parsed" || !isLegacyPreferences(read.value)) continue
        for (const config of ((read.value as Raw)["llm"] as Raw)["configs"] as Array<unknown>) if (isRecord(config)) addEntry(config, path)
      }
      yield* underPrefsLock(Effect.gen(function*() {
        const read = yield* readLegacyJson(prefsPath)
        let next: string | undefined
        if (read._tag === "Parsed" && isLegacyPreferences(read.value)) {
          const json = read.value as Raw
          const llm = json["llm"] as Raw
          const versioned = llm["version"] === LLM_SECTION_VERSION
          const kept: Array<LlmConfig> = []
          for (const config of llm["configs"] as Array<unknown>) {
            if (versioned && !holdsKeyField(config) && Schema.is(LlmConfig)(config)) kept.push(config)
            else if (isRecord(config)) addEntry(config, prefsPath)
          }
          const journal = versioned && Array.isArray(llm["journal"])
            ? (llm["journal"] as Array<unknown>).filter((intent): intent is Intent => Schema.is(Intent)(intent))
            : []
          const section: LlmSection = { version: LLM_SECTION_VERSION, configs: kept, journal }
          const { llm: _llm, ...other } = json
          next = jsonText({ ...other, llm: section })
        }
        // The pending file is durable before the keys leave preferences.json.
        if (entries.length !== pending.entries.length) yield* writePending(entries)
        if (next !== undefined) {
          yield* writeAtomic(prefsPath, next)
          rewritten.push(prefsPath)
        }
        for (const path of quarantined) {
          const copy = yield* readLegacyJson(path)
          if (copy._tag !== "Parsed" || !isRecord(copy.value)) continue
          const marked = { ...((withoutPreferenceKeys(copy.value) ?? copy.value) as Raw), [IMPORTED_MARKER]: { importedInto: PENDING_FILE } }
          yield* writeAtomic(path, jsonText(marked))
          if (!rewritten.includes(path)) rewritten.push(path)
        }
      }))
      yield* scrub(entries.flatMap((entry) => {
        const key = legacyKeyOf(entry.legacy)
        return key === undefined ? [] : [key]
      }), removed, rewritten)
    })

  /** True when a backup, quarantined copy or crashed writer's temp file still has an `apiKey` field. */
  const copiesHoldKeys = Effect.gen(function*() {
    for (const name of yield* listFolder(from)) {
      if (isTempFileOf(pendingPath, name)) return true
      if (!(isBackupName(name) || isQuarantineName(name) || isTempFileOf(prefsPath, name))) continue
      const read = yield* readLegacyJson(at(name))
      if (read._tag === "Parsed" && withoutPreferenceKeys(read.value) !== undefined) return true
    }
    return false
  })

  return { prefsPath, pendingPath, legacyQuarantine, readPending, writePending, scrub, adopt, underPrefsLock, copiesHoldKeys }
}

/** The fields of one entry of the older build's format (read tolerantly: first spelling present). */
const fieldsOf = (entry: PendingEntry, folder: string, now: string) => {
  const raw = entry.legacy
  const providerText = textField(raw, ["provider", "providerId", "provider_id", "type"])
  const useAuthHeader = firstField(raw, ["useAuthHeader", "use_auth_header"])
  const createdAt = timestampOf(firstField(raw, ["createdAt", "created_at"]), now)
  return {
    configId: reusableId(entry.configId) ?? derivedId(folder, entry.configId),
    provider: tolerantProvider(providerText),
    providerText,
    name: cleanName(textField(raw, ["name", "customName", "displayName", "display_name", "label", "title"])),
    baseUrl: textField(raw, ["baseUrl", "baseURL", "base_url", "endpoint", "url"]),
    useAuthHeader: typeof useAuthHeader === "boolean" ? useAuthHeader : true,
    createdAt,
    updatedAt: timestampOf(firstField(raw, ["updatedAt", "updated_at"]), createdAt)
  }
}

export const PlaintextPreferencesSource: LegacySource = {
  name: "keys inside preferences.json",
  detect: (context) =>
    Effect.gen(function*() {
      const files = sourceOf(context)
      const prefs = yield* readLegacyJson(files.prefsPath)
      if (prefs._tag === "Parsed" && isLegacyPreferences(prefs.value)) return true
      if ((yield* files.legacyQuarantine).length > 0) return true
      if ((yield* readLegacyJson(files.pendingPath))._tag !== "Missing") return true
      return yield* files.copiesHoldKeys
    }),
  load: (context) =>
    Effect.gen(function*() {
      const files = sourceOf(context)
      const prefs = yield* readLegacyJson(files.prefsPath)
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
          finish: () => files.underPrefsLock(files.scrub([], removed, rewritten)).pipe(Effect.as({ removed, rewritten, kept: [] }))
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
            fix: `Restore ${PENDING_FILE} from a backup (it holds keys: keep it private), then run \`fishbowl-llm migrate\` again.`,
            blocking: true
          }],
          finish: () => Effect.succeed({ removed, rewritten, kept: [files.pendingPath] })
        }
      }
      const now = new Date(yield* Clock.currentTimeMillis).toISOString()
      const entries: Array<LegacyEntry> = pending.entries.map((entry) => {
        const fields = fieldsOf(entry, context.from, now)
        const key = legacyKeyOf(entry.legacy)
        return {
          source: entry.origin,
          label: fields.name,
          outcome: toImportEntry(fields, key === undefined ? { _tag: "NoKey" } : { _tag: "Key", value: Redacted.make(key) }, {
            file: files.pendingPath,
            field: "baseUrl"
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
              yield* removeFile(files.pendingPath)
              removed.push(files.pendingPath)
              return { removed, rewritten, kept: [] }
            }
            if (remaining.length !== pending.entries.length) yield* files.writePending(remaining)
            return { removed, rewritten, kept: [files.pendingPath] }
          })
      }
    })
}
