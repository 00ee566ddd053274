/**
 * Paths of the copies of preferences.json kept in the data folder; their names are the domain's
 * (StorageFiles), which the renderer and the migration use too:
 * - `preferences.json.bak.<n>`: the last good generations (1 newest), rotated by the store;
 * - `preferences.json.corrupt-<UTC time>`: a damaged file set aside by the store (bytes unchanged);
 * - `preferences.json.replaced-<UTC time>`: the file a restore from a backup replaced, kept so the
 *   configurations the restore left out can be brought back (Restore, LlmConfigStore.bringBack).
 */
import { StorageFiles } from "@fishbowl/domain"
import { Clock, Effect } from "effect"
import * as NodePath from "node:path"
import * as DataDir from "./DataDir.ts"

const FILE = DataDir.PREFERENCES_FILE_NAME

export type Copy = StorageFiles.Copy

/** What a file name in the data folder is, if it is a copy of preferences.json (StorageFiles). */
export const copyOf = StorageFiles.copyOf

/** `<file>.bak.<generation>` beside `file` (the path of preferences.json). */
export const backupPath = StorageFiles.backupName

/** A name for `kind` of copy of `file`, stamped with the time and not taken yet (`taken` says). */
export const stampedPath = <E, R>(file: string, kind: "corrupt" | "replaced", taken: (path: string) => Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    const stamp = new Date(yield* Clock.currentTimeMillis).toISOString().replaceAll(":", "-")
    for (let index = 0;; index++) {
      const candidate = StorageFiles.stampedName(file, kind, `${stamp}${index === 0 ? "" : `-${index}`}`)
      if (!(yield* taken(candidate))) return candidate
    }
  })

/** Copies that hold a state a restore replaced or set aside: where left-out configurations come from. */
export const isReplacedState = (name: string) => {
  const copy = copyOf(name)
  return copy?._tag === "Quarantined" || copy?._tag === "Replaced"
}

/** Whether `name` (in the data folder) is preferences.json or any copy of it. */
export const isSettingsFile = (name: string) => name === FILE || copyOf(name) !== undefined

export const fileName = (path: string) => NodePath.basename(path)
