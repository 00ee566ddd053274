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

export const FishbowlFolderSource: LegacySource.LegacySource = {
  name: "Fishbowl llm_config.json + key files",
  detect: (context) => Effect.map(unmigratedFiles(context.from), (files) => files.length > 0),
  load: (context) =>
    Effect.gen(function*() {
      const at = (name: string) => NodePath.join(context.from, name)
      const keyFiles: ReadonlyArray<KeyFile> = [
        {
          kind: "encrypted",
          path: at(SecureKeysFile.SECURE_KEYS_FILE),
          read: yield* LegacyFiles.readLegacyJson(at(SecureKeysFile.SECURE_KEYS_FILE))
        },
        {
          kind: "plain",
          path: at(SecureKeysFile.TEST_SECURE_KEYS_FILE),
          read: yield* LegacyFiles.readLegacyJson(at(SecureKeysFile.TEST_SECURE_KEYS_FILE))
        }
      ]
      const keysLeft = keyFiles.some(mayHoldKeys)
      let configPath = at(FishbowlLlmConfigFile.LLM_CONFIG_FILE)
      let config = yield* LegacyFiles.readLegacyJson(configPath)
      if (config._tag === "Missing" && keysLeft) {
        configPath = at(FishbowlLlmConfigFile.MIGRATED_CONFIG_FILE)
        config = yield* LegacyFiles.readLegacyJson(configPath)
      }
      if (config._tag === "Missing" && !keysLeft) return undefined

      const present = [
        ...(config._tag !== "Missing" ? [configPath] : []),
        ...keyFiles.filter((file) => file.read._tag !== "Missing").map((file) => file.path)
      ]
      const keepAll = (notes: ReadonlyArray<LegacySource.SourceNote>) => ({
        entries: [],
        notes,
        finish: () => Effect.succeed({ removed: [], renamed: [], rewritten: [], kept: present })
      })
      if (config._tag === "Missing") {
        return keepAll([{
          source: keyFiles.find(mayHoldKeys)!.path,
          reason: `keys were found but ${FishbowlLlmConfigFile.LLM_CONFIG_FILE} is missing; the key files are kept`,
          fix: `Put Fishbowl's ${FishbowlLlmConfigFile.LLM_CONFIG_FILE} back in ${context.from}, then run ${
            LegacySource.rerunText(context.rerunCommand)
          } (or add the configurations with \`fishbowl-llm add\` and delete the key files).`,
          blocking: true
        }])
      }
      const list = config._tag === "Parsed" ? FishbowlLlmConfigFile.configEntries(config.value) : undefined
      if (list === undefined) {
        return keepAll([{
          source: configPath,
          reason: `${NodePath.basename(configPath)} cannot be read: ${
            config._tag === "Refused" ? config.reason : "it is not a JSON list of configurations"
          }`,
          fix: (config._tag === "Refused" ? config.fix : undefined) ??
            `Restore ${NodePath.basename(configPath)} from a backup, then run ${
              LegacySource.rerunText(context.rerunCommand)
            }; nothing was changed.`,
          blocking: true
        }])
      }
      for (const file of keyFiles) {
        if (file.read._tag === "Refused" || (file.read._tag === "Parsed" && !LegacyFiles.isRecord(file.read.value))) {
          return keepAll([{
            source: file.path,
            reason: `${NodePath.basename(file.path)} cannot be read: ${
              file.read._tag === "Refused" ? file.read.reason : "it is not a JSON object"
            }`,
            fix: (file.read._tag === "Refused" ? file.read.fix : undefined) ??
              `Restore ${NodePath.basename(file.path)} from a backup, then run ${
                LegacySource.rerunText(context.rerunCommand)
              }; nothing was changed.`,
            blocking: true
          }])
        }
      }
      const maps = keyFiles.map((file) => ({ file, map: file.read._tag === "Parsed" ? file.read.value as LegacyFiles.Raw : {} }))
      const keyFor = (legacyId: string | undefined) =>
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
          outcome: LegacySource.toImportEntry(fields, yield* keyFor(legacyId), {
            file: configPath,
            field: FishbowlLlmConfigFile.baseUrlFieldOf(raw),
            ...context
          })
        })
      }
      const notes: Array<LegacySource.SourceNote> = []
      for (const { file } of maps) {
        for (const name of llmKeyNames(file)) {
          if (!legacyIds.has(SecureKeysFile.idOfKeyName(file.kind, name))) {
            notes.push({
              source: file.path,
              reason: `key "${name}" has no configuration in ${
                NodePath.basename(configPath)
              } (Fishbowl deletes the metadata before the key); it is not imported`,
              fix: "Nothing to do: it is removed with the file once every configuration is migrated.",
              blocking: false
            })
          }
        }
      }

      return {
        entries,
        notes,
        finish: (inStore) =>
          Effect.gen(function*() {
            if (inStore.some((done) => !done)) return { removed: [], renamed: [], rewritten: [], kept: present }
            const removed: Array<string> = []
            const renamed: Array<{ from: string; to: string }> = []
            const rewritten: Array<string> = []
            if (NodePath.basename(configPath) === FishbowlLlmConfigFile.LLM_CONFIG_FILE && config._tag === "Parsed") {
              // It holds no key; kept as a record of what was imported.
              yield* LegacyFiles.writeAtomic(
                at(FishbowlLlmConfigFile.MIGRATED_CONFIG_FILE),
                config.text.endsWith("\n") ? config.text : `${config.text}\n`
              )
            }
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
            if (NodePath.basename(configPath) === FishbowlLlmConfigFile.LLM_CONFIG_FILE) {
              yield* LegacyFiles.removeFile(configPath)
              renamed.push({ from: configPath, to: at(FishbowlLlmConfigFile.MIGRATED_CONFIG_FILE) })
            }
            return { removed, renamed, rewritten, kept: [] }
          })
      }
    })
}
