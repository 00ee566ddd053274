/**
 * The source for Fishbowl's own files in its data folder: `llm_config.json` (metadata, see
 * FishbowlLlmConfigFile) with keys in `secure_keys.json` (safeStorage) or `test_secure_keys.json`
 * (plain text), see SecureKeysFile. Once every config is in the store, `llm_config.json` becomes
 * `llm_config.json.migrated` and the LLM keys leave the key files (a file left with other entries
 * is rewritten with only those). A `llm_config.json.migrated` next to key files that still hold
 * LLM keys (what an earlier, wrong import left) is read again, so those keys are not lost.
 */
import { Clock, Effect } from "effect"
import * as NodePath from "node:path"
import * as FishbowlLlmConfigFile from "./FishbowlLlmConfigFile.ts"
import * as LegacyFiles from "./LegacyFiles.ts"
import * as LegacySource from "./LegacySource.ts"
import * as SecureKeysFile from "./SecureKeysFile.ts"

interface KeyFile {
  readonly kind: SecureKeysFile.KeyFileKind
  readonly path: string
  readonly read: LegacyFiles.LegacyJson
}

const llmKeyNames = (file: KeyFile): ReadonlyArray<string> =>
  file.read._tag === "Parsed" && LegacyFiles.isRecord(file.read.value)
    ? Object.keys(file.read.value).filter((name) => SecureKeysFile.isLlmKeyName(file.kind, name))
    : []

/** True when the file may hold an LLM key (unreadable counts: it is never deleted unread). */
const mayHoldKeys = (file: KeyFile) =>
  file.read._tag === "Refused" || (file.read._tag === "Parsed" && (!LegacyFiles.isRecord(file.read.value) || llmKeyNames(file).length > 0))

/**
 * Fishbowl's files in `dir` that hold data not imported yet: `llm_config.json` (while it has not
 * become `llm_config.json.migrated`) and key files that may hold LLM keys. Read-only, bounded;
 * what `list`, `doctor` and the settings page use to say that Fishbowl's configurations are here.
 */
export const unmigratedFiles = (dir: string) =>
  Effect.gen(function*() {
    const at = (name: string) => NodePath.join(dir, name)
    const found: Array<string> = []
    if ((yield* LegacyFiles.readLegacyJson(at(FishbowlLlmConfigFile.LLM_CONFIG_FILE)))._tag !== "Missing") {
      found.push(FishbowlLlmConfigFile.LLM_CONFIG_FILE)
    }
    for (const [kind, name] of [["encrypted", SecureKeysFile.SECURE_KEYS_FILE], ["plain", SecureKeysFile.TEST_SECURE_KEYS_FILE]] as const) {
      if (mayHoldKeys({ kind, path: at(name), read: yield* LegacyFiles.readLegacyJson(at(name)) })) found.push(name)
    }
    return found as ReadonlyArray<string>
  })

/** Fishbowl's two key files in `from`, as read. */
const readKeyFiles = (from: string) =>
  Effect.forEach(
    [["encrypted", SecureKeysFile.SECURE_KEYS_FILE], ["plain", SecureKeysFile.TEST_SECURE_KEYS_FILE]] as const,
    ([kind, name]) =>
      Effect.map(
        LegacyFiles.readLegacyJson(NodePath.join(from, name)),
        (read): KeyFile => ({ kind, path: NodePath.join(from, name), read })
      )
  )

/** llm_config.json, else (while key files still hold keys) what an earlier import renamed it to. */
const readConfigFile = (from: string, keysLeft: boolean) =>
  Effect.gen(function*() {
    const current = NodePath.join(from, FishbowlLlmConfigFile.LLM_CONFIG_FILE)
    const read = yield* LegacyFiles.readLegacyJson(current)
    if (read._tag !== "Missing" || !keysLeft) return { path: current, read }
    const migrated = NodePath.join(from, FishbowlLlmConfigFile.MIGRATED_CONFIG_FILE)
    return { path: migrated, read: yield* LegacyFiles.readLegacyJson(migrated) }
  })

/** A batch that imports nothing and keeps every file, for a folder that cannot be read whole. */
const keepAll = (present: ReadonlyArray<string>, note: LegacySource.SourceNote): LegacySource.LegacyBatch => ({
  entries: [],
  notes: [note],
  finish: () => Effect.succeed({ removed: [], renamed: [], rewritten: [], kept: present })
})

/** The note for a file that cannot be read (or is not the expected JSON): its own fix, or restore it. */
const unreadableNote = (path: string, read: LegacyFiles.LegacyJson, expected: string, context: LegacySource.SourceContext) => ({
  source: path,
  reason: `${NodePath.basename(path)} cannot be read: ${read._tag === "Refused" ? read.reason : expected}`,
  fix: (read._tag === "Refused" ? read.fix : undefined) ??
    `Restore ${NodePath.basename(path)} from a backup, then run ${LegacySource.rerunText(context.rerunCommand)}; nothing was changed.`,
  blocking: true
})

type KeyMap = { readonly file: KeyFile; readonly map: LegacyFiles.Raw }

/** The key of a legacy id: from secure_keys.json first, then test_secure_keys.json. */
const keyFor = (maps: ReadonlyArray<KeyMap>, legacyId: string | undefined, context: LegacySource.SourceContext) =>
  Effect.gen(function*() {
    if (legacyId === undefined) return { _tag: "NoKey" } as LegacySource.KeySource
    const [encrypted, plain] = yield* Effect.forEach(
      maps,
      ({ file, map }) => SecureKeysFile.lookupKey(map, file.kind, legacyId, file.path, context.decrypt)
    )
    if (encrypted!._tag === "Key") return encrypted!
    if (plain!._tag === "Key") return plain!
    return encrypted!._tag === "Unavailable" ? encrypted! : plain!
  })

/** Each entry of llm_config.json, ready to import or blocked with its fix; and the legacy ids seen. */
const entriesOf = (list: ReadonlyArray<unknown>, configPath: string, maps: ReadonlyArray<KeyMap>, context: LegacySource.SourceContext) =>
  Effect.gen(function*() {
    const now = new Date(yield* Clock.currentTimeMillis).toISOString()
    const entries: Array<LegacySource.LegacyEntry> = []
    const legacyIds = new Set<string>()
    for (const [index, raw] of list.entries()) {
      if (!LegacyFiles.isRecord(raw)) {
        entries.push({
          source: configPath,
          outcome: { _tag: "Blocked", reason: "the entry is not an object", fix: `Remove entry #${index + 1} from ${configPath}.` }
        })
        continue
      }
      const legacyId = FishbowlLlmConfigFile.legacyIdOf(raw)
      if (legacyId !== undefined) legacyIds.add(legacyId)
      const fields = FishbowlLlmConfigFile.fieldsOf(raw, index, context.from, now)
      entries.push({
        source: configPath,
        label: fields.name,
        outcome: LegacySource.toImportEntry(fields, yield* keyFor(maps, legacyId, context), {
          file: configPath,
          field: FishbowlLlmConfigFile.baseUrlFieldOf(raw),
          ...context
        })
      })
    }
    return { entries, legacyIds }
  })

/** Keys without a configuration (Fishbowl deletes the metadata first): said, removed with the file. */
const orphanKeyNotes = (maps: ReadonlyArray<KeyMap>, legacyIds: ReadonlySet<string>, configPath: string) =>
  maps.flatMap(({ file }) =>
    llmKeyNames(file)
      .filter((name) => !legacyIds.has(SecureKeysFile.idOfKeyName(file.kind, name)))
      .map((name): LegacySource.SourceNote => ({
        source: file.path,
        reason: `key "${name}" has no configuration in ${
          NodePath.basename(configPath)
        } (Fishbowl deletes the metadata before the key); it is not imported`,
        fix: "Nothing to do: it is removed with the file once every configuration is migrated.",
        blocking: false
      }))
  )

/**
 * Once every entry is in the store: llm_config.json becomes llm_config.json.migrated (a record,
 * no key in it), each key file loses its LLM keys (removed when nothing else is left in it).
 */
const finishFiles = (from: string, config: { readonly path: string; readonly text: string }, maps: ReadonlyArray<KeyMap>) =>
  Effect.gen(function*() {
    const removed: Array<string> = []
    const renamed: Array<{ from: string; to: string }> = []
    const rewritten: Array<string> = []
    const isCurrent = NodePath.basename(config.path) === FishbowlLlmConfigFile.LLM_CONFIG_FILE
    const record = NodePath.join(from, FishbowlLlmConfigFile.MIGRATED_CONFIG_FILE)
    if (isCurrent) yield* LegacyFiles.writeAtomic(record, config.text.endsWith("\n") ? config.text : `${config.text}\n`)
    for (const { file, map } of maps) {
      if (file.read._tag === "Missing") continue
      const others = SecureKeysFile.withoutLlmKeys(map, file.kind)
      if (Object.keys(others).length > 0) {
        // Entries that are not LLM keys belong to someone else: kept, in a file without ours.
        yield* LegacyFiles.writeAtomic(file.path, LegacyFiles.jsonText(others))
        rewritten.push(file.path)
      } else {
        yield* LegacyFiles.removeFile(file.path)
        removed.push(file.path)
      }
    }
    if (isCurrent) {
      yield* LegacyFiles.removeFile(config.path)
      renamed.push({ from: config.path, to: record })
    }
    return { removed, renamed, rewritten, kept: [] }
  })

export const FishbowlFolderSource: LegacySource.LegacySource = {
  name: "Fishbowl llm_config.json + key files",
  detect: (context) => Effect.map(unmigratedFiles(context.from), (files) => files.length > 0),
  load: (context) =>
    Effect.gen(function*() {
      const keyFiles = yield* readKeyFiles(context.from)
      const keysLeft = keyFiles.some(mayHoldKeys)
      const config = yield* readConfigFile(context.from, keysLeft)
      if (config.read._tag === "Missing" && !keysLeft) return undefined
      const present = [
        ...(config.read._tag !== "Missing" ? [config.path] : []),
        ...keyFiles.filter((file) => file.read._tag !== "Missing").map((file) => file.path)
      ]
      if (config.read._tag === "Missing") {
        return keepAll(present, {
          source: keyFiles.find(mayHoldKeys)!.path,
          reason: `keys were found but ${FishbowlLlmConfigFile.LLM_CONFIG_FILE} is missing; the key files are kept`,
          fix: `Put Fishbowl's ${FishbowlLlmConfigFile.LLM_CONFIG_FILE} back in ${context.from}, then run ${
            LegacySource.rerunText(context.rerunCommand)
          } (or add the configurations with \`fishbowl-llm add\` and delete the key files).`,
          blocking: true
        })
      }
      const list = config.read._tag === "Parsed" ? FishbowlLlmConfigFile.configEntries(config.read.value) : undefined
      if (list === undefined || config.read._tag !== "Parsed") {
        return keepAll(present, unreadableNote(config.path, config.read, "it is not a JSON list of configurations", context))
      }
      const unreadable = keyFiles.find((file) =>
        file.read._tag === "Refused" || (file.read._tag === "Parsed" && !LegacyFiles.isRecord(file.read.value))
      )
      if (unreadable !== undefined) {
        return keepAll(present, unreadableNote(unreadable.path, unreadable.read, "it is not a JSON object", context))
      }

      const maps = keyFiles.map((file) => ({ file, map: file.read._tag === "Parsed" ? file.read.value as LegacyFiles.Raw : {} }))
      const { entries, legacyIds } = yield* entriesOf(list, config.path, maps, context)
      const parsed = { path: config.path, text: config.read.text }
      return {
        entries,
        notes: orphanKeyNotes(maps, legacyIds, config.path),
        finish: (inStore) =>
          inStore.some((done) => !done)
            ? Effect.succeed({ removed: [], renamed: [], rewritten: [], kept: present })
            : finishFiles(context.from, parsed, maps)
      }
    })
}
