/**
 * Configurations a restore left out: named by a file that a restore replaced or set aside
 * (Backups: `preferences.json.replaced-*`, `preferences.json.corrupt-*`) and absent from the store.
 * Their keys stay in the keychain (Restore never deletes one), and `bringBack` returns each one
 * whose key is still there and bound to its destination (LlmConfigStore.bringBack decides).
 * Files are read as the store reads its own (JsonFilePreferencesStore.readSettingsFile: never a
 * link, a FIFO or another user's file; bounded), and a damaged one leniently (Restore.configsIn).
 */
import { type LlmConfig, LlmConfigStore, Restore } from "@fishbowl/domain"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as NodePath from "node:path"
import * as Backups from "./Backups.ts"
import * as JsonFilePreferencesStore from "./JsonFilePreferencesStore.ts"

export interface LeftOutConfig {
  readonly config: LlmConfig.LlmConfig
  /** The file that names it (absolute path). */
  readonly file: string
}

/** What bringing one back did, by name (never a key). */
export interface BroughtBack {
  readonly name: string
  readonly file: string
  readonly outcome: "brought-back" | "already-present" | "not-brought-back"
  /** Why not, or the name it got when its own was taken. */
  readonly detail?: string
}

/** The configurations of replaced or set-aside files that `current` does not have (by id), oldest file first. */
export const find = (dataDir: string, current: ReadonlyArray<LlmConfig.LlmConfig>) =>
  Effect.gen(function*() {
    const names = yield* Effect.promise(() => fs.readdir(dataDir).catch(() => [] as Array<string>))
    const present = new Set<string>(current.map((config) => config.id))
    const found: Array<LeftOutConfig> = []
    for (const name of names.filter(Backups.isReplacedState).sort()) {
      const file = NodePath.join(dataDir, name)
      const read = yield* JsonFilePreferencesStore.readSettingsFile(file).pipe(Effect.orElseSucceed(() => undefined))
      if (read?._tag !== "Read") continue
      const configs = read.state._tag === "Valid"
        ? read.state.document.llm.configs
        : read.state._tag === "Bad"
        ? Restore.configsIn(read.state.parsed)
        : []
      for (const config of configs) if (!present.has(config.id)) found.push({ config, file })
    }
    return found
  })

/** Brings back every left-out configuration whose key is still in the keychain for its destination. */
export const bringBack = (dataDir: string) =>
  Effect.gen(function*() {
    const store = yield* LlmConfigStore.LlmConfigStore
    const candidates = yield* find(dataDir, yield* store.list)
    const results: Array<BroughtBack> = []
    for (const { config, file } of candidates) {
      const outcome = yield* store.bringBack(config)
      results.push(
        outcome._tag === "Imported"
          ? {
            name: config.name,
            file,
            outcome: "brought-back",
            ...(outcome.renamedFrom !== undefined ? { detail: `as "${outcome.config.name}"` } : {})
          }
          : outcome._tag === "AlreadyPresent"
          ? { name: config.name, file, outcome: "already-present" }
          : { name: config.name, file, outcome: "not-brought-back", detail: outcome.reason }
      )
    }
    return results
  })
