/**
 * Every file in a data folder that still holds an API key outside the keychain: the pending
 * migration file, Fishbowl's key files with LLM keys, and copies of preferences.json (the file
 * itself, backups, quarantined `preferences.json.corrupt-*`, crashed writers' temp files) with an
 * `apiKey`. One rule, used by the migration report and by `doctor`. A file that cannot be read is
 * listed too: it may hold a key, and nothing here deletes what it could not read.
 */
import { Effect } from "effect"
import * as NodePath from "node:path"
import * as DataDir from "../DataDir.ts"
import * as LegacyFiles from "./LegacyFiles.ts"
import * as PlaintextPreferences from "./PlaintextPreferences.ts"
import * as SecureKeysFile from "./SecureKeysFile.ts"

export interface FileHoldingKeys {
  readonly path: string
  /** What it is and why it counts, for messages (never the key). */
  readonly what: string
  readonly encrypted: boolean
}

const KEY_FILES: Record<string, SecureKeysFile.KeyFileKind> = {
  [SecureKeysFile.SECURE_KEYS_FILE]: "encrypted",
  [SecureKeysFile.TEST_SECURE_KEYS_FILE]: "plain"
}

const preferencesHoldKey = (json: unknown) =>
  LegacyFiles.isRecord(json) && LegacyFiles.isRecord(json["llm"]) && Array.isArray(json["llm"]["configs"]) &&
  (json["llm"]["configs"] as ReadonlyArray<unknown>).some(PlaintextPreferences.holdsKeyField)

/** An `apiKey` / `api_key` field with a non-empty text value, looked for in damaged (unparseable) copies only. */
const KEY_TEXT = /"api_?key"\s*:\s*"[^"]/i

export const filesHoldingKeys = (dir: string) =>
  Effect.gen(function*() {
    const found: Array<FileHoldingKeys> = []
    for (const name of [...(yield* LegacyFiles.listFolder(dir))].sort()) {
      const path = NodePath.join(dir, name)
      const kind = KEY_FILES[name]
      const isPrefsCopy = name === DataDir.PREFERENCES_FILE_NAME || PlaintextPreferences.isBackupName(name) ||
        PlaintextPreferences.isQuarantineName(name) ||
        (name.startsWith(`.${DataDir.PREFERENCES_FILE_NAME}.`) && name.endsWith(".tmp"))
      const isPending = name === PlaintextPreferences.PENDING_FILE ||
        (name.startsWith(`.${PlaintextPreferences.PENDING_FILE}.`) && name.endsWith(".tmp"))
      if (!isPending && kind === undefined && !isPrefsCopy) continue
      const read = yield* LegacyFiles.readLegacyJson(path)
      if (read._tag === "Missing") continue
      if (isPending) {
        found.push({
          path,
          what: name === PlaintextPreferences.PENDING_FILE
            ? "configurations waiting to be migrated, with their keys in plain text"
            : "an interrupted write of the pending migration file (keys in plain text)",
          encrypted: false
        })
      } else if (kind !== undefined) {
        const holds = read._tag === "Refused" || !LegacyFiles.isRecord(read.value) ||
          Object.keys(read.value).some((key) => SecureKeysFile.isLlmKeyName(kind, key))
        if (holds) {
          found.push({
            path,
            what: kind === "encrypted"
              ? "Fishbowl's keys, encrypted with Electron safeStorage"
              : "Fishbowl's keys in plain text (test builds)",
            encrypted: kind === "encrypted"
          })
        }
      } else if (read._tag === "Refused" && read.text === undefined) {
        // Too large, too deep or not a file: it may hold anything. (The live preferences.json is
        // refused by the store with its own error.)
        if (name !== DataDir.PREFERENCES_FILE_NAME) {
          found.push({ path, what: `a copy of preferences.json that cannot be read (${read.reason}); it may hold keys`, encrypted: false })
        }
      } else if (read._tag === "Refused") {
        if (KEY_TEXT.test(read.text!)) {
          found.push({ path, what: "a damaged copy of preferences.json with keys in plain text", encrypted: false })
        }
      } else if (preferencesHoldKey(read.value)) {
        found.push({
          path,
          what: name === DataDir.PREFERENCES_FILE_NAME
            ? "configurations of an older build with keys in plain text"
            : "a copy of preferences.json with keys in plain text",
          encrypted: false
        })
      }
    }
    return found
  })
