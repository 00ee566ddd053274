/**
 * What restoring an older copy of the settings may and may not do: the rule every restore follows
 * (the health panel's "Restore", the automatic restore of a damaged file).
 *
 * - A restored copy never brings back unfinished changes: its journal describes operations of
 *   processes that have since finished or died, and recovering them against today's keychain
 *   could delete a key saved after the copy was made. The journal is dropped; no key is touched.
 * - A config whose provider or base URL differs from the newer state asks for its key again
 *   (`hasKey: false`): the key in the keychain was entered for the newer destination (KeyBinding
 *   refuses it anyway; this makes the page say so at once).
 * - Configs of the newer state that the copy lacks are "left out": their keys stay in the
 *   keychain, and `bringBack` (LlmConfigStore) can return them from the file that was replaced.
 */
import { Option, Schema } from "effect"
import * as KeyBinding from "./KeyBinding.ts"
import * as LlmConfig from "./LlmConfig.ts"
import type * as PreferencesDocument from "./PreferencesDocument.ts"

/** A destination change a restore makes to one config. */
export interface DestinationChange {
  readonly id: string
  readonly name: string
  readonly from: KeyBinding.Destination
  readonly to: KeyBinding.Destination
}

export interface Restored {
  /** The document to write: the copy without its journal, changed destinations without their key. */
  readonly document: PreferencesDocument.PreferencesDocument
  /** Configs of the newer state the copy does not have (by id). */
  readonly leftOut: ReadonlyArray<LlmConfig.LlmConfig>
  /** Configs whose provider or base URL the restore changes. */
  readonly changed: ReadonlyArray<DestinationChange>
}

/** The differences between `older` (about to be restored) and `newer` (the state it replaces). */
export const compare = (older: ReadonlyArray<LlmConfig.LlmConfig>, newer: ReadonlyArray<LlmConfig.LlmConfig>) => {
  const olderById = new Map(older.map((config) => [config.id as string, config]))
  const changed: Array<DestinationChange> = []
  for (const config of newer) {
    const before = olderById.get(config.id)
    if (before === undefined) continue
    const from = KeyBinding.destinationOf(config)
    const to = KeyBinding.destinationOf(before)
    if (!KeyBinding.sameDestination(from, to)) changed.push({ id: config.id, name: before.name, from, to })
  }
  return { leftOut: newer.filter((config) => !olderById.has(config.id)), changed }
}

/** `older` made ready to replace a state holding `newer` configs (see the module comment). */
export const over = (older: PreferencesDocument.PreferencesDocument, newer: ReadonlyArray<LlmConfig.LlmConfig>): Restored => {
  const { changed, leftOut } = compare(older.llm.configs, newer)
  const rebound = new Set(changed.map((change) => change.id))
  const configs = older.llm.configs.map((config) => rebound.has(config.id) && config.hasKey ? { ...config, hasKey: false } : config)
  return { document: { ...older, llm: { ...older.llm, configs, journal: [] } }, leftOut, changed }
}

const decodeConfig = Schema.decodeUnknownOption(LlmConfig.LlmConfig)

/**
 * The configurations a settings file holds, read leniently: a damaged file (two entries with one
 * id, a bad field in one entry) still yields every entry that is a valid config on its own.
 */
export const configsIn = (json: unknown): ReadonlyArray<LlmConfig.LlmConfig> => {
  if (typeof json !== "object" || json === null) return []
  const llm = (json as { readonly llm?: unknown }).llm
  const configs = typeof llm === "object" && llm !== null ? (llm as { readonly configs?: unknown }).configs : undefined
  if (!Array.isArray(configs)) return []
  return configs.flatMap((entry) => Option.toArray(decodeConfig(entry)))
}
