/**
 * Imports configurations written by older Fishbowl versions into the journaled store, moving every
 * key into the SecretStore and only then removing the plaintext from disk.
 *
 * ## Legacy formats (all in the `from` folder; default: the current data folder)
 *
 * (a) `preferences.json` with keys in it ("legacy preferences"). Either
 *     - an `llm` section WITHOUT `version` (or with `version: 0`) whose `configs` is an array, or
 *     - a current (`version: 1`) section in which some `configs[]` entry has an `apiKey` property.
 *     JsonFilePreferencesStore refuses such a file with `Unsupported` (never quarantines it, never
 *     rewrites it: its next write would have dropped the keys), see `legacyPreferencesError`.
 *     Older builds of the store quarantined such files as `preferences.json.corrupt-<time>`; those
 *     copies are imported too (identical entries are imported once).
 * (b) the older folder format:
 *     - `llm_config.json`: an array of configs (or `{ "configs": [...] }`) without keys;
 *     - `secure_keys.json`: `{ "llm_api_key_<legacy id>": "<base64 of Electron safeStorage ciphertext>" }`,
 *       decrypted by the injected `decrypt` (the app passes `safeStorage.decryptString`);
 *     - `test_secure_keys.json`: the same mapping with plaintext values (development builds).
 *     A key found in both is taken from `secure_keys.json` when it decrypts, else from the test file.
 *
 * A legacy config entry is read tolerantly (first field present wins):
 *   id: `id` | `configId` | `config_id` (string or number);  provider: `provider` | `providerId` |
 *   `provider_id` | `type` (case-insensitive; aliases gemini→google, claude→anthropic,
 *   custom/openai_compatible→openai-compatible, local→ollama);  name: `name` | `displayName` |
 *   `display_name` | `label` | `title`;  baseUrl: `baseUrl` | `baseURL` | `base_url` | `endpoint` | `url`;
 *   useAuthHeader: `useAuthHeader` | `use_auth_header` (default true);  createdAt / updatedAt:
 *   `createdAt` | `created_at`, `updatedAt` | `updated_at` (ISO text or epoch ms/s; default now);
 *   key (format (a) and plaintext fields in (b)): `apiKey` | `api_key`.
 *   Other fields (e.g. a model name) have no place in the current schema and are not imported.
 *
 * ## Protocol
 * Everything runs under a migration lock (`<from>/llm_migration_pending.json.lock`), so migrations
 * are serialised across processes.
 * 0. (a) only — "adopt": under preferences.json's own file lock, legacy entries (with their keys)
 *    are moved into `<from>/llm_migration_pending.json` (0600, atomic; each entry gets its target
 *    config id there, so the id is stable across re-runs), then preferences.json is rewritten
 *    atomically as a current document without them, and every backup / quarantined / temp copy
 *    holding keys is rewritten without them (or deleted, for temp files). From here the normal
 *    store works again; the only plaintext left is the pending file.
 * 1. Per entry, the store's journal protocol: record a `migrate` intent (metadata `after`,
 *    keyChange "set") → write the key → `migrate.secret-written` → read it back and compare
 *    (verify-before-delete) → `migrate.secret-verified` → commit the metadata and drop the intent in
 *    one write → `migrate.committed`. A leftover `migrate` intent is rolled back (key deleted,
 *    intent dropped) by the domain's `recover` or by the next migration; the source still holds
 *    the key, so the next run imports it again.
 * 2. Once EVERY entry of a source is committed (or was already), its plaintext is removed:
 *    the pending file is deleted (after the data folder has been scrubbed again); for (b)
 *    `llm_config.json` becomes `llm_config.json.migrated` (keys stripped) and the key files are
 *    deleted (entries that are not LLM keys are kept: the file is rewritten with only those) →
 *    `migrate.plaintext-removed`. While any entry is unmigrated, the (b) files are kept whole and
 *    the pending file keeps only the unmigrated entries; all are listed in `keptFiles`.
 *
 * ## Decisions
 * - Ids: a legacy id that is a UUID v4 (any case) is reused, lower-cased; otherwise (b) derives a
 *   UUID-v4-shaped id from SHA-256(folder, legacy id or name) and (a) draws a random one that is
 *   stored in the pending file. Either way re-runs map an entry to the same id.
 * - "Already migrated": a config with the entry's id exists, or a config with the same name,
 *   provider and base URL exists whose stored key equals the legacy key.
 * - Duplicate names: the entry is imported as "<name> (imported)" ("(imported 2)", ...), not
 *   skipped, so nothing is lost; the report gives `renamedFrom`.
 * - Skipped, source kept: unknown provider, invalid base URL or missing required base URL, invalid
 *   key (empty / control characters / too long), undecryptable key, key in secure_keys.json but no
 *   decrypt function, secret store rejected or failed verification.
 * - An entry without any key is imported without one (`hasKey: false`).
 * - Keys in secure_keys.json without a config in llm_config.json are reported as skipped and are
 *   dropped with the file once every config is migrated.
 * - The secret store must be persistent (`describe().persistent`): verifying against memory and
 *   then deleting the source would lose every key at exit, so a session-only store is refused.
 * - Backups (`preferences.json.bak.*`) are never imported (they may hold configs the user deleted);
 *   their `apiKey` fields are removed. Quarantined copies in the legacy format are imported first.
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import {
  ApiKeyText,
  baseUrlProblem,
  ConfigId,
  CONTROL_CHARACTERS,
  CrashPoints,
  findProvider,
  Intent,
  KeychainLocked,
  LlmConfig,
  type LlmSection,
  LLM_SECTION_VERSION,
  nameKey,
  newConfigId,
  PreferencesStore,
  type PreferencesStoreError,
  type ProviderDefinition,
  type ProviderId,
  secretRefFor,
  SecretStore,
  type SecretStoreError,
  StorageInaccessible,
  Timestamp,
  Unsupported
} from "@fishbowl/domain"
import { Clock, Effect, FileSystem, Option, Redacted, Schema } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash } from "node:crypto"
import * as NodePath from "node:path"
import * as lockfile from "proper-lockfile"
import { errnoCode, isTempFileOf, writeFileAtomic } from "./AtomicFile.ts"
import { currentDataDir, PREFERENCES_FILE_NAME } from "./DataDir.ts"

// ---------------------------------------------------------------------------------------------
// File names and the report

export const LEGACY_CONFIG_FILE = "llm_config.json"
export const LEGACY_KEYS_FILE = "secure_keys.json"
export const LEGACY_TEST_KEYS_FILE = "test_secure_keys.json"
export const LEGACY_KEY_PREFIX = "llm_api_key_"
/** What `llm_config.json` becomes (keys stripped) once every config in it is migrated. */
export const MIGRATED_CONFIG_FILE = "llm_config.json.migrated"
/** Legacy entries of preferences.json (with their keys) while they are being imported. */
export const PENDING_FILE = "llm_migration_pending.json"

export const MigratedEntry = Schema.Struct({
  name: Schema.String,
  provider: Schema.String,
  configId: Schema.String,
  /** File the entry came from (absolute path). */
  source: Schema.String,
  hasKey: Schema.Boolean,
  /** The legacy name when the entry was renamed to avoid a duplicate. */
  renamedFrom: Schema.optional(Schema.String)
})
export type MigratedEntry = typeof MigratedEntry.Type

export const SkippedEntry = Schema.Struct({
  name: Schema.optional(Schema.String),
  source: Schema.String,
  reason: Schema.String
})
export type SkippedEntry = typeof SkippedEntry.Type

/** What a migration did. Names, ids, paths and reasons only: never key material. */
export const MigrationReport = Schema.Struct({
  from: Schema.String,
  /** True when there was no legacy data at all. */
  nothingToDo: Schema.Boolean,
  migrated: Schema.Array(MigratedEntry),
  /** Entries not imported now, with why ("already migrated" included). */
  skipped: Schema.Array(SkippedEntry),
  /** Files deleted (or renamed away) because everything in them is now in the store. */
  removedFiles: Schema.Array(Schema.String),
  /** Files rewritten without keys (preferences.json, backups, quarantined copies, ...). */
  rewrittenFiles: Schema.Array(Schema.String),
  /** Legacy files left in place because something in them is not migrated yet. */
  keptFiles: Schema.Array(Schema.String)
})
export type MigrationReport = typeof MigrationReport.Type

export interface MigrateOptions {
  /** Folder holding the legacy files; default: the folder of preferences.json, else the data folder. */
  readonly from?: string
  /** Decrypts one secure_keys.json value (Electron: `safeStorage.decryptString`). */
  readonly decrypt?: (ciphertext: Buffer) => string
  /** How long to wait for another migration or preferences.json writer (default 10000 ms). */
  readonly lockWaitMillis?: number
}

export type MigrationError = SecretStoreError | PreferencesStoreError

// ---------------------------------------------------------------------------------------------
// Legacy detection, shared with JsonFilePreferencesStore

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const hasOwn = (value: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(value, key)

const KEY_FIELDS = ["apiKey", "api_key"] as const

const holdsKeyField = (entry: unknown) => isRecord(entry) && KEY_FIELDS.some((field) => hasOwn(entry, field))

/**
 * True when a parsed preferences.json holds LLM configurations of an older Fishbowl that must be
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

// ---------------------------------------------------------------------------------------------
// Reading legacy entries

type Raw = Record<string, unknown>

const firstField = (raw: Raw, names: ReadonlyArray<string>): unknown => {
  for (const name of names) if (hasOwn(raw, name) && raw[name] !== null && raw[name] !== undefined) return raw[name]
  return undefined
}

const textField = (raw: Raw, names: ReadonlyArray<string>): string | undefined => {
  const value = firstField(raw, names)
  if (typeof value === "string") return value
  if (typeof value === "number" && Number.isFinite(value)) return String(value)
  return undefined
}

const legacyIdOf = (raw: Raw) => textField(raw, ["id", "configId", "config_id"])
/** The plaintext key of an entry; an empty one (keyless providers) counts as none. */
const legacyKeyOf = (raw: Raw) => {
  const value = firstField(raw, KEY_FIELDS)
  return typeof value === "string" && value.trim() !== "" ? value : undefined
}

const PROVIDER_ALIASES: Record<string, string> = {
  gemini: "google",
  "google-gemini": "google",
  claude: "anthropic",
  custom: "openai-compatible",
  "openai-compat": "openai-compatible",
  local: "ollama"
}

const providerOf = (raw: Raw): { readonly text?: string | undefined; readonly provider?: ProviderDefinition | undefined } => {
  const text = textField(raw, ["provider", "providerId", "provider_id", "type"])
  if (text === undefined) return {}
  const slug = text.trim().toLowerCase().replace(/[\s_]+/g, "-")
  return { text, provider: findProvider(PROVIDER_ALIASES[slug] ?? slug) }
}

const CONTROL = new RegExp(CONTROL_CHARACTERS.source, "g")

const nameOf = (raw: Raw): string | undefined => {
  const text = textField(raw, ["name", "displayName", "display_name", "label", "title"])
  if (text === undefined) return undefined
  const cleaned = text.replace(CONTROL, " ").trim().slice(0, 100).trim()
  return cleaned === "" ? undefined : cleaned
}

const isTimestamp = Schema.is(Timestamp)

const timestampOf = (raw: Raw, names: ReadonlyArray<string>, fallback: string): string => {
  const value = firstField(raw, names)
  if (isTimestamp(value)) return value
  const millis = typeof value === "number"
    ? (value < 1e12 ? value * 1000 : value)
    : typeof value === "string"
    ? Date.parse(value)
    : Number.NaN
  if (!Number.isFinite(millis)) return fallback
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString()
}

const isConfigId = Schema.is(ConfigId)

const reusableId = (legacyId: string | undefined): ConfigId | undefined => {
  const lower = legacyId?.trim().toLowerCase()
  return lower !== undefined && isConfigId(lower) ? lower : undefined
}

/** A UUID-v4-shaped id derived from the folder and the legacy identity, so re-runs agree. */
const derivedId = (folder: string, identity: string): ConfigId => {
  const bytes = createHash("sha256").update(`fishbowl-migration\u0000${folder}\u0000${identity}`).digest()
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const h = bytes.subarray(0, 16).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` as ConfigId
}

/** Where an entry's key comes from. */
type KeySource =
  | { readonly _tag: "Key"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "NoKey" }
  | { readonly _tag: "Unavailable"; readonly reason: string }

interface Candidate {
  readonly source: string
  readonly configId: ConfigId
  readonly raw: Raw
  readonly key: KeySource
}

type Outcome =
  | { readonly _tag: "Migrated"; readonly entry: MigratedEntry }
  | { readonly _tag: "Already" }
  | { readonly _tag: "Skipped"; readonly reason: string }

/** A candidate turned into config metadata, or why it cannot be. */
const validate = (candidate: Candidate, now: string) => {
  const { raw } = candidate
  const { text, provider } = providerOf(raw)
  if (provider === undefined) {
    return { _tag: "Invalid" as const, reason: text === undefined ? "no provider" : `unknown provider "${text.slice(0, 40)}"` }
  }
  if (candidate.key._tag === "Unavailable") return { _tag: "Invalid" as const, reason: candidate.key.reason }
  const key = candidate.key._tag === "Key" ? candidate.key.value : undefined
  if (key !== undefined && !Schema.is(ApiKeyText)(Redacted.value(key))) {
    return { _tag: "Invalid" as const, reason: "invalid key (empty, contains control characters or is too long)" }
  }
  const rawUrl = textField(raw, ["baseUrl", "baseURL", "base_url", "endpoint", "url"])?.trim()
  const baseUrl = rawUrl === undefined || rawUrl === "" ? undefined : rawUrl
  if (baseUrl !== undefined) {
    const problem = baseUrlProblem(baseUrl)
    if (problem !== undefined) return { _tag: "Invalid" as const, reason: `invalid base URL: ${problem}` }
  }
  if (baseUrl === undefined && provider.fields.some((field) => field.id === "baseUrl" && field.required)) {
    return { _tag: "Invalid" as const, reason: `${provider.displayName} needs a base URL and the entry has none` }
  }
  const useAuthHeader = firstField(raw, ["useAuthHeader", "use_auth_header"])
  const createdAt = timestampOf(raw, ["createdAt", "created_at"], now)
  const config: LlmConfig = {
    id: candidate.configId,
    provider: provider.id,
    name: nameOf(raw) ?? `${provider.displayName} (imported)`,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    useAuthHeader: typeof useAuthHeader === "boolean" ? useAuthHeader : true,
    createdAt,
    updatedAt: timestampOf(raw, ["updatedAt", "updated_at"], createdAt),
    hasKey: key !== undefined
  }
  if (!Schema.is(LlmConfig)(config)) return { _tag: "Invalid" as const, reason: "the entry cannot be represented as a configuration" }
  return { _tag: "Valid" as const, config, key }
}

// ---------------------------------------------------------------------------------------------
// Files

const utf8 = new TextDecoder("utf-8", { fatal: false })

const ioError = (action: "read" | "written" | "removed", path: string) => (error: PlatformError) =>
  new StorageInaccessible({
    message: `${NodePath.basename(path)} cannot be ${action} (${errnoCode(error) ?? error.reason._tag})`,
    hint: `Check that your user can read and write ${NodePath.dirname(path)}, then run the migration again. Nothing was lost.`
  })

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** The pending file: legacy entries of preferences.json (keys included) with their target ids. */
interface PendingEntry {
  readonly configId: string
  readonly origin: string
  readonly legacy: Raw
}

/** Canonical text of a value (sorted keys), to recognise the same legacy entry found twice. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : isRecord(value)
    ? `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`
    : JSON.stringify(value) ?? "null"

const stripKeys = (entry: unknown): unknown => {
  if (!isRecord(entry)) return entry
  const copy: Raw = {}
  for (const [key, value] of Object.entries(entry)) if (!(KEY_FIELDS as ReadonlyArray<string>).includes(key)) copy[key] = value
  return copy
}

/** A preferences-like JSON value with every `apiKey` removed from `llm.configs`, or undefined when it holds none. */
const withoutPreferenceKeys = (json: unknown): unknown | undefined => {
  if (!isRecord(json) || !isRecord(json["llm"]) || !Array.isArray(json["llm"]["configs"])) return undefined
  const configs = json["llm"]["configs"] as ReadonlyArray<unknown>
  if (!configs.some(holdsKeyField)) return undefined
  return { ...json, llm: { ...json["llm"], configs: configs.map(stripKeys) } }
}

const REDACTION = "[removed: migrated to the keychain]"

/** Top-level field added to a quarantined legacy copy once its entries are in the pending file. */
const IMPORTED_MARKER = "fishbowlMigration"

// ---------------------------------------------------------------------------------------------

/** Runs `effect` holding a proper-lockfile lock on `target` (the same kind JsonFilePreferencesStore uses). */
const withFileLock = <A, E, R>(
  target: string,
  waitMillis: number,
  busy: () => StorageInaccessible,
  effect: Effect.Effect<A, E, R>
) =>
  Effect.scoped(Effect.gen(function*() {
    const deadline = (yield* Clock.currentTimeMillis) + waitMillis
    let delay = 5
    for (;;) {
      const attempt = yield* Effect.acquireRelease(
        Effect.tryPromise({
          // A compromised lock (e.g. the machine slept) must not throw from a timer; the writes
          // under it are atomic and idempotent, so the worst case is a redundant re-run.
          try: () => lockfile.lock(target, { realpath: false, stale: 5000, retries: 0, onCompromised: () => undefined }),
          catch: (error) => error as NodeJS.ErrnoException
        }).pipe(Effect.result),
        (result) => result._tag === "Success" ? Effect.promise(() => result.success().catch(() => undefined)) : Effect.void
      )
      if (attempt._tag === "Success") break
      if (attempt.failure.code !== "ELOCKED") {
        return yield* new StorageInaccessible({
          message: `${NodePath.basename(target)} cannot be locked (${attempt.failure.code ?? "unknown error"})`,
          hint: `Check that your user can write ${NodePath.dirname(target)}.`
        })
      }
      if ((yield* Clock.currentTimeMillis) >= deadline) return yield* Effect.fail(busy())
      yield* Effect.sleep(delay)
      delay = Math.min(100, Math.round(delay * 1.5))
    }
    return yield* effect
  }))

/**
 * Imports legacy configurations (see the module comment). Idempotent and crash-safe: re-run it
 * (after the domain's `recover`, or on its own) until `keptFiles` is empty.
 */
export const migrate = Effect.fn("Migration.migrate")(function*(options?: MigrateOptions) {
  const fs = yield* FileSystem.FileSystem
  const secrets = yield* SecretStore
  const preferences = yield* PreferencesStore
  const crash = yield* CrashPoints
  const provideFs = Effect.provideService(FileSystem.FileSystem, fs)

  const from = NodePath.resolve(
    options?.from ??
      (NodePath.basename(preferences.location) === PREFERENCES_FILE_NAME && NodePath.isAbsolute(preferences.location)
        ? NodePath.dirname(preferences.location)
        : yield* currentDataDir())
  )
  const at = (name: string) => NodePath.join(from, name)
  const prefsPath = at(PREFERENCES_FILE_NAME)
  const pendingPath = at(PENDING_FILE)
  const waitMillis = options?.lockWaitMillis ?? 10_000
  const busy = (path: string) =>
    new StorageInaccessible({
      message: `${NodePath.basename(path)} is locked by another Fishbowl process (waited ${waitMillis} ms)`,
      hint: "Wait for the other migration or Fishbowl window to finish, then run the migration again."
    })

  const report = {
    from,
    nothingToDo: false,
    migrated: [] as Array<MigratedEntry>,
    skipped: [] as Array<SkippedEntry>,
    removedFiles: [] as Array<string>,
    rewrittenFiles: [] as Array<string>,
    keptFiles: [] as Array<string>
  }
  const noteRewritten = (path: string) => {
    if (!report.rewrittenFiles.includes(path)) report.rewrittenFiles.push(path)
  }

  const readBytes = (path: string) =>
    fs.readFile(path).pipe(
      Effect.map((bytes): Uint8Array | undefined => bytes),
      Effect.catchReason("PlatformError", "NotFound", () => Effect.succeed(undefined)),
      Effect.mapError(ioError("read", path))
    )
  const readText = (path: string) => readBytes(path).pipe(Effect.map((bytes) => bytes === undefined ? undefined : utf8.decode(bytes)))
  const readJson = (path: string) =>
    readText(path).pipe(Effect.map((text) => text === undefined ? undefined : parseJson(text.replace(/^\uFEFF/, ""))))
  const writeAtomic = (path: string, text: string) =>
    writeFileAtomic(path, text, { mode: 0o600 }).pipe(provideFs, Effect.mapError(ioError("written", path)))
  const remove = (path: string) =>
    fs.remove(path, { force: true }).pipe(Effect.mapError(ioError("removed", path)))
  const listFolder = fs.readDirectory(from).pipe(
    Effect.catchReason("PlatformError", "NotFound", () => Effect.succeed([] as Array<string>)),
    Effect.mapError(ioError("read", from))
  )
  const isQuarantine = (name: string) => name.startsWith(`${PREFERENCES_FILE_NAME}.corrupt-`)

  // --- What is there? -------------------------------------------------------------------------
  const survey = Effect.gen(function*() {
    const names = yield* listFolder
    const prefs = yield* readJson(prefsPath)
    const legacyPrefs = prefs !== undefined && prefs.ok && isLegacyPreferences(prefs.value)
    const legacyQuarantine: Array<string> = []
    for (const name of names.filter(isQuarantine)) {
      const parsed = yield* readJson(at(name))
      if (parsed !== undefined && parsed.ok && isLegacyPreferences(parsed.value) && !hasOwn(parsed.value as Raw, IMPORTED_MARKER)) {
        legacyQuarantine.push(at(name))
      }
    }
    const has = (name: string) => names.includes(name)
    let legacyKeys = false
    for (const name of [LEGACY_KEYS_FILE, LEGACY_TEST_KEYS_FILE].filter(has)) {
      const parsed = yield* readJson(at(name))
      // Unreadable counts as "may hold keys"; a file with only non-LLM secrets is not ours.
      legacyKeys ||= parsed === undefined || !parsed.ok || !isRecord(parsed.value) ||
        Object.keys(parsed.value).some((key) => key.startsWith(LEGACY_KEY_PREFIX))
    }
    return {
      legacyPrefs,
      legacyQuarantine,
      pending: has(PENDING_FILE),
      folderFormat: has(LEGACY_CONFIG_FILE) || legacyKeys
    }
  })

  const found = yield* survey
  if (!found.legacyPrefs && found.legacyQuarantine.length === 0 && !found.pending && !found.folderFormat) {
    return { ...report, nothingToDo: true } satisfies MigrationReport
  }

  const description = yield* secrets.describe
  if (!description.persistent) {
    return yield* new Unsupported({
      message: `Keys cannot be migrated into ${description.backend}: it does not keep them after Fishbowl quits`,
      hint: "Make the system keychain available (see `fishbowl-llm doctor`) and migrate again; the legacy files are untouched."
    })
  }

  const owner = `migration-${newConfigId()}`
  const isoNow = Clock.currentTimeMillis.pipe(Effect.map((millis) => new Date(millis).toISOString()))
  const keyRef = (config: { readonly provider: ProviderId; readonly id: ConfigId }) =>
    secretRefFor(config.provider, config.id, "apiKey")

  const dropIntent = (intentId: string) =>
    preferences.update((document) =>
      Effect.succeed([undefined, {
        ...document,
        llm: { ...document.llm, journal: document.llm.journal.filter((intent) => intent.id !== intentId) }
      }] as const)
    )

  /** Rolls back leftover `migrate` intents of crashed migrations (the domain's `recover` does the same). */
  const rollBackLeftovers = Effect.gen(function*() {
    const document = yield* preferences.load
    for (const intent of document.llm.journal) {
      if (intent.op !== "migrate") continue
      if (intent.keyChange === "set" && intent.after !== undefined) yield* secrets.delete(keyRef(intent.after))
      yield* dropIntent(intent.id)
    }
  })

  // --- (a) adopt: move legacy entries of preferences.json into the pending file ------------------

  const readPending = Effect.gen(function*() {
    const parsed = yield* readJson(pendingPath)
    if (parsed === undefined) return { ok: true as const, entries: [] as Array<PendingEntry> }
    if (!parsed.ok || !isRecord(parsed.value) || !Array.isArray(parsed.value["entries"])) return { ok: false as const }
    const entries = (parsed.value["entries"] as Array<unknown>).filter((entry): entry is PendingEntry =>
      isRecord(entry) && typeof entry["configId"] === "string" && typeof entry["origin"] === "string" && isRecord(entry["legacy"])
    )
    return { ok: true as const, entries }
  })

  const writePending = (entries: ReadonlyArray<PendingEntry>) =>
    writeAtomic(pendingPath, jsonText({ format: "fishbowl-llm-migration-pending", version: 1, entries }))

  /**
   * Removes keys from every copy of preferences.json: backups, quarantined copies (structurally:
   * `apiKey` fields; then any remaining occurrence of a known key text) and temp files of crashed
   * writers (deleted when they hold a known key).
   */
  const scrub = (knownKeys: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const names = yield* listFolder
      const keys = knownKeys.filter((key) => key.length >= 4)
      for (const name of names) {
        const path = at(name)
        const isCopy = name.startsWith(`${PREFERENCES_FILE_NAME}.bak.`) || isQuarantine(name)
        const isTemp = name.startsWith(".") && name.endsWith(".tmp")
        if (!isCopy && !isTemp) continue
        const bytes = yield* readBytes(path).pipe(Effect.catch(() => Effect.succeed(undefined)))
        if (bytes === undefined) continue
        const text = utf8.decode(bytes)
        if (isTemp) {
          const ours = isTempFileOf(prefsPath, name) || isTempFileOf(pendingPath, name) ||
            isTempFileOf(at(LEGACY_TEST_KEYS_FILE), name) || isTempFileOf(at(LEGACY_CONFIG_FILE), name)
          const parsed = parseJson(text)
          if (ours && (keys.some((key) => text.includes(key)) || (parsed.ok && withoutPreferenceKeys(parsed.value) !== undefined))) {
            yield* remove(path)
            report.removedFiles.push(path)
          }
          continue
        }
        let next = text
        const parsed = parseJson(text)
        if (parsed.ok) {
          const stripped = withoutPreferenceKeys(parsed.value)
          if (stripped !== undefined) next = jsonText(stripped)
        }
        for (const key of keys) {
          if (next.includes(key)) next = next.split(key).join(REDACTION)
          const escaped = JSON.stringify(key).slice(1, -1)
          if (escaped !== key && next.includes(escaped)) next = next.split(escaped).join(REDACTION)
        }
        if (next !== text) {
          yield* writeAtomic(path, next)
          noteRewritten(path)
        }
      }
    })

  const adopt = Effect.gen(function*() {
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

    const quarantined = (yield* survey).legacyQuarantine
    for (const path of quarantined) {
      const parsed = yield* readJson(path)
      if (parsed === undefined || !parsed.ok || !isLegacyPreferences(parsed.value)) continue
      const configs = ((parsed.value as Raw)["llm"] as Raw)["configs"] as Array<unknown>
      for (const config of configs) if (isRecord(config)) addEntry(config, path)
    }

    yield* withFileLock(prefsPath, waitMillis, () => busy(prefsPath), Effect.gen(function*() {
      const parsed = yield* readJson(prefsPath)
      const legacy = parsed !== undefined && parsed.ok && isLegacyPreferences(parsed.value)
      let rewritten: string | undefined
      if (legacy) {
        const json = parsed.value as Raw
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
        rewritten = jsonText({ ...other, llm: section })
      }
      // The pending file is durable before the keys leave preferences.json.
      if (entries.length !== pending.entries.length) yield* writePending(entries)
      if (rewritten !== undefined) {
        yield* writeAtomic(prefsPath, rewritten)
        noteRewritten(prefsPath)
      }
      for (const path of quarantined) {
        const parsed = yield* readJson(path)
        if (parsed === undefined || !parsed.ok || !isRecord(parsed.value)) continue
        const marked = { ...((withoutPreferenceKeys(parsed.value) ?? parsed.value) as Raw), [IMPORTED_MARKER]: { importedInto: PENDING_FILE } }
        yield* writeAtomic(path, jsonText(marked))
        noteRewritten(path)
      }
      yield* scrub(entries.flatMap((entry) => {
        const key = legacyKeyOf(entry.legacy)
        return key === undefined ? [] : [key]
      }))
    }))
  })

  // --- Importing one entry -------------------------------------------------------------------

  const namesTaken = (llm: LlmSection) => {
    const names = new Set<string>()
    for (const config of llm.configs) names.add(nameKey(config.name))
    for (const intent of llm.journal) if (intent.after !== undefined) names.add(nameKey(intent.after.name))
    return names
  }

  const freeName = (name: string, taken: Set<string>) => {
    if (!taken.has(nameKey(name))) return name
    for (let index = 1;; index++) {
      const suffix = index === 1 ? " (imported)" : ` (imported ${index})`
      const candidate = `${name.slice(0, 100 - suffix.length).trim()}${suffix}`
      if (!taken.has(nameKey(candidate))) return candidate
    }
  }

  const sameKey = (stored: Option.Option<Redacted.Redacted<string>>, key: Redacted.Redacted<string>) =>
    Option.isSome(stored) && Redacted.value(stored.value) === Redacted.value(key)

  /** A committed config whose key went missing gets it back (verified); there is no metadata to change. */
  const ensureKey = (config: LlmConfig, key: Redacted.Redacted<string> | undefined) =>
    Effect.gen(function*() {
      if (key === undefined || !config.hasKey) return
      if (Option.isSome(yield* secrets.get(keyRef(config)))) return
      yield* secrets.set(keyRef(config), key)
      if (!sameKey(yield* secrets.get(keyRef(config)), key)) {
        return yield* new KeychainLocked({
          message: `The key for "${config.name}" could not be read back from ${description.backend}`,
          hint: "Unlock the keychain and run the migration again; the legacy files are kept."
        })
      }
    })

  const importOne = (candidate: Candidate): Effect.Effect<Outcome, MigrationError> =>
    Effect.gen(function*() {
      const now = yield* isoNow
      const valid = validate(candidate, now)
      if (valid._tag === "Invalid") return { _tag: "Skipped", reason: valid.reason } as const
      const { config, key } = valid
      const document = yield* preferences.load
      const existing = document.llm.configs.find((other) => other.id === config.id)
      if (existing !== undefined) {
        yield* ensureKey(existing, key)
        return { _tag: "Already" } as const
      }
      const twin = document.llm.configs.find((other) =>
        nameKey(other.name) === nameKey(config.name) && other.provider === config.provider &&
        (other.baseUrl ?? "") === (config.baseUrl ?? "") && other.hasKey === (key !== undefined)
      )
      if (twin !== undefined && (key === undefined || sameKey(yield* secrets.get(keyRef(twin)), key))) {
        return { _tag: "Already" } as const
      }

      const recorded = yield* preferences.update((current) =>
        Effect.gen(function*() {
          if (current.llm.configs.some((other) => other.id === config.id)) return [undefined, current] as const
          if (current.llm.journal.some((intent) => intent.configId === config.id && intent.op !== "migrate")) {
            return [undefined, current] as const
          }
          const journal = current.llm.journal.filter((intent) => intent.configId !== config.id)
          const name = freeName(config.name, namesTaken({ ...current.llm, journal }))
          const after: LlmConfig = { ...config, name }
          const intent: Intent = {
            id: newConfigId(),
            owner,
            startedAt: yield* isoNow,
            op: "migrate",
            configId: config.id,
            provider: config.provider,
            after,
            keyChange: key === undefined ? "none" : "set",
            phase: "pending"
          }
          return [intent, { ...current, llm: { ...current.llm, journal: [...journal, intent] } }] as const
        })
      )
      if (recorded === undefined) return { _tag: "Skipped", reason: "another change to this configuration is in progress; run the migration again" } as const
      const after = recorded.after!
      yield* crash.reached("migrate.intent-recorded")

      const abandon = Effect.gen(function*() {
        if (key !== undefined) yield* secrets.delete(keyRef(after))
        yield* dropIntent(recorded.id)
      }).pipe(Effect.ignore)

      if (key !== undefined) {
        const written = yield* secrets.set(keyRef(after), key).pipe(
          Effect.tapError(() => abandon),
          Effect.map(() => undefined),
          Effect.catchTag("InvalidInput", (error) => Effect.succeed(`the secret store rejected the key: ${error.message}`))
        )
        if (written !== undefined) return { _tag: "Skipped", reason: written } as const
      }
      yield* crash.reached("migrate.secret-written")
      if (key !== undefined) {
        const stored = yield* secrets.get(keyRef(after)).pipe(Effect.tapError(() => abandon))
        if (!sameKey(stored, key)) {
          yield* abandon
          return { _tag: "Skipped", reason: "verification failed: the secret store did not return the key just written" } as const
        }
      }
      yield* crash.reached("migrate.secret-verified")
      yield* preferences.update((current) =>
        Effect.succeed([undefined, {
          ...current,
          llm: {
            ...current.llm,
            configs: current.llm.configs.some((other) => other.id === after.id)
              ? current.llm.configs
              : [...current.llm.configs, after],
            journal: current.llm.journal.filter((intent) => intent.id !== recorded.id)
          }
        }] as const)
      ).pipe(Effect.tapError(() => abandon))
      yield* crash.reached("migrate.committed")
      return {
        _tag: "Migrated",
        entry: {
          name: after.name,
          provider: after.provider,
          configId: after.id,
          source: candidate.source,
          hasKey: after.hasKey,
          ...(after.name !== config.name ? { renamedFrom: config.name } : {})
        }
      } as const
    }).pipe(Effect.uninterruptible)

  /** Imports candidates in order; true when every one is now in the store. */
  const importAll = (candidates: ReadonlyArray<Candidate>) =>
    Effect.gen(function*() {
      const open: Array<Candidate> = []
      for (const candidate of candidates) {
        const outcome = yield* importOne(candidate)
        const name = nameOf(candidate.raw)
        if (outcome._tag === "Migrated") report.migrated.push(outcome.entry)
        else if (outcome._tag === "Already") {
          report.skipped.push({ ...(name !== undefined ? { name } : {}), source: candidate.source, reason: "already migrated" })
        } else {
          report.skipped.push({ ...(name !== undefined ? { name } : {}), source: candidate.source, reason: outcome.reason })
          open.push(candidate)
        }
      }
      return open
    })

  // --- Sources ---------------------------------------------------------------------------------

  const migratePending = Effect.gen(function*() {
    const pending = yield* readPending
    if (!pending.ok) {
      report.skipped.push({ source: pendingPath, reason: `${PENDING_FILE} could not be read; it is kept unchanged` })
      report.keptFiles.push(pendingPath)
      return
    }
    if (pending.entries.length === 0 && !(yield* fs.exists(pendingPath).pipe(Effect.orElseSucceed(() => false)))) return
    const candidates = pending.entries.map((entry): Candidate => {
      const key = legacyKeyOf(entry.legacy)
      return {
        source: entry.origin,
        configId: (reusableId(entry.configId) ?? derivedId(from, entry.configId)),
        raw: entry.legacy,
        key: key === undefined ? { _tag: "NoKey" } : { _tag: "Key", value: Redacted.make(key) }
      }
    })
    const open = new Set(yield* importAll(candidates))
    const remaining = pending.entries.filter((_, index) => open.has(candidates[index]!))
    const knownKeys = pending.entries.flatMap((entry) => {
      const key = legacyKeyOf(entry.legacy)
      return key === undefined ? [] : [key]
    })
    yield* withFileLock(prefsPath, waitMillis, () => busy(prefsPath), scrub(knownKeys))
    if (remaining.length === 0) {
      yield* remove(pendingPath)
      report.removedFiles.push(pendingPath)
      yield* crash.reached("migrate.plaintext-removed")
    } else {
      if (remaining.length !== pending.entries.length) yield* writePending(remaining)
      report.keptFiles.push(pendingPath)
    }
  })

  const readKeyFile = (name: string) =>
    Effect.gen(function*() {
      const parsed = yield* readJson(at(name))
      if (parsed === undefined) return undefined
      if (!parsed.ok || !isRecord(parsed.value)) return { ok: false as const }
      return { ok: true as const, map: parsed.value }
    })

  const migrateFolderFormat = Effect.gen(function*() {
    const configPath = at(LEGACY_CONFIG_FILE)
    const keysPath = at(LEGACY_KEYS_FILE)
    const testKeysPath = at(LEGACY_TEST_KEYS_FILE)
    const configs = yield* readJson(configPath)
    const keys = yield* readKeyFile(LEGACY_KEYS_FILE)
    const testKeys = yield* readKeyFile(LEGACY_TEST_KEYS_FILE)
    const present = [configPath, keysPath, testKeysPath].filter((_, index) =>
      [configs, keys, testKeys][index] !== undefined
    )
    const keepAll = (reason: string) => {
      report.skipped.push({ source: configs === undefined ? (keys !== undefined ? keysPath : testKeysPath) : configPath, reason })
      report.keptFiles.push(...present)
    }
    if (configs === undefined) return keepAll(`keys were found but ${LEGACY_CONFIG_FILE} is missing; the key files are kept`)
    const list = configs.ok
      ? Array.isArray(configs.value)
        ? configs.value
        : isRecord(configs.value) && Array.isArray(configs.value["configs"])
        ? configs.value["configs"]
        : undefined
      : undefined
    if (list === undefined) return keepAll(`${LEGACY_CONFIG_FILE} could not be read (not a JSON list of configurations)`)
    if (keys !== undefined && !keys.ok) return keepAll(`${LEGACY_KEYS_FILE} could not be read (not a JSON object)`)
    if (testKeys !== undefined && !testKeys.ok) return keepAll(`${LEGACY_TEST_KEYS_FILE} could not be read (not a JSON object)`)
    const encrypted = keys?.ok === true ? keys.map : {}
    const plain = testKeys?.ok === true ? testKeys.map : {}

    const keyFor = (raw: Raw, legacyId: string | undefined): KeySource => {
      const inline = legacyKeyOf(raw)
      if (legacyId !== undefined) {
        const keyName = `${LEGACY_KEY_PREFIX}${legacyId}`
        let unavailable: string | undefined
        const cipher = encrypted[keyName]
        if (typeof cipher === "string") {
          if (options?.decrypt === undefined) unavailable = "needs the desktop app to decrypt (Electron safeStorage)"
          else {
            try {
              return { _tag: "Key", value: Redacted.make(options.decrypt(Buffer.from(cipher, "base64"))) }
            } catch {
              unavailable = "key undecryptable (safeStorage could not decrypt it)"
            }
          }
        } else if (cipher !== undefined) unavailable = "key undecryptable (not a base64 text)"
        const text = plain[keyName]
        if (typeof text === "string" && text.trim() !== "") return { _tag: "Key", value: Redacted.make(text) }
        if (unavailable !== undefined) return { _tag: "Unavailable", reason: unavailable }
      }
      return inline === undefined ? { _tag: "NoKey" } : { _tag: "Key", value: Redacted.make(inline) }
    }

    const candidates: Array<Candidate> = []
    const legacyIds = new Set<string>()
    for (const [index, entry] of list.entries()) {
      if (!isRecord(entry)) {
        candidates.push({ source: configPath, configId: derivedId(from, `#${index}`), raw: {}, key: { _tag: "Unavailable", reason: "the entry is not an object" } })
        continue
      }
      const legacyId = legacyIdOf(entry)
      if (legacyId !== undefined) legacyIds.add(legacyId)
      candidates.push({
        source: configPath,
        configId: reusableId(legacyId) ?? derivedId(from, legacyId !== undefined ? `id:${legacyId}` : `name:${nameKey(nameOf(entry) ?? `#${index}`)}`),
        raw: entry,
        key: keyFor(entry, legacyId)
      })
    }
    for (const keyName of new Set([...Object.keys(encrypted), ...Object.keys(plain)])) {
      if (keyName.startsWith(LEGACY_KEY_PREFIX) && !legacyIds.has(keyName.slice(LEGACY_KEY_PREFIX.length))) {
        report.skipped.push({
          source: Object.hasOwn(encrypted, keyName) ? keysPath : testKeysPath,
          reason: `key ${keyName} has no configuration in ${LEGACY_CONFIG_FILE}; it is not imported`
        })
      }
    }

    const open = yield* importAll(candidates)
    if (open.length > 0) {
      report.keptFiles.push(...present)
      return
    }
    // Every config is in the store with its key verified: remove the plaintext.
    const migratedCopy = configs.ok ? jsonText(Array.isArray(configs.value) ? configs.value.map(stripKeys) : { ...(configs.value as Raw), configs: list.map(stripKeys) }) : ""
    yield* writeAtomic(at(MIGRATED_CONFIG_FILE), migratedCopy)
    for (const [path, file] of [[keysPath, keys], [testKeysPath, testKeys]] as const) {
      if (file === undefined || !file.ok) continue
      const others = Object.fromEntries(Object.entries(file.map).filter(([name]) => !name.startsWith(LEGACY_KEY_PREFIX)))
      if (Object.keys(others).length > 0) {
        // Secrets that are not LLM keys belong to someone else: kept, in a file without ours.
        yield* writeAtomic(path, jsonText(others))
        noteRewritten(path)
      } else {
        yield* remove(path)
        report.removedFiles.push(path)
      }
    }
    yield* remove(configPath)
    report.removedFiles.push(configPath)
    yield* crash.reached("migrate.plaintext-removed")
  })

  yield* withFileLock(
    pendingPath,
    waitMillis,
    () => busy(PENDING_FILE),
    Effect.gen(function*() {
      const now = yield* survey
      if (now.legacyPrefs || now.legacyQuarantine.length > 0) yield* adopt
      yield* rollBackLeftovers
      if (now.legacyPrefs || now.legacyQuarantine.length > 0 || now.pending) yield* migratePending
      if (now.folderFormat) yield* migrateFolderFormat
    })
  )
  return report satisfies MigrationReport
})

/** `Migration.migrate`, plus `migrateNode` which brings Node's file system. */
export const Migration = {
  migrate,
  /** `migrate` over Node's file system (the CLI and the Electron main process). */
  migrateNode: (options?: MigrateOptions) => migrate(options).pipe(Effect.provide(NodeFileSystem.layer)),
  isLegacyPreferences,
  legacyPreferencesError
} as const
