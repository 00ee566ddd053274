/**
 * The names of the copies of preferences.json kept in the data folder, in one place for every
 * face (the desktop store writes them, the renderer may name them over IPC, the migration scrubs
 * them): `preferences.json.bak.<n>` (the last good generations, 1 newest),
 * `preferences.json.corrupt-<time>` (a damaged file set aside) and `preferences.json.replaced-<time>`
 * (the file a restore replaced). Platform-free: names only, no paths.
 */

export type Copy =
  | { readonly _tag: "Backup"; readonly generation: number }
  /** Set aside by the store because it could not be used. */
  | { readonly _tag: "Quarantined" }
  /** Replaced by a restore from a backup. */
  | { readonly _tag: "Replaced" }

/** The settings file itself. */
export const PREFERENCES_FILE_NAME = "preferences.json"

const BACKUP = /^preferences\.json\.bak\.(\d{1,3})$/
const STAMPED = /^preferences\.json\.(corrupt|replaced)-[0-9A-Za-z.-]{1,64}$/

/** What a file name in the data folder is, if it is a copy of preferences.json. */
export const copyOf = (name: string): Copy | undefined => {
  const backup = BACKUP.exec(name)
  if (backup !== null) return { _tag: "Backup", generation: Number(backup[1]) }
  const stamped = STAMPED.exec(name)
  if (stamped === null) return undefined
  return stamped[1] === "corrupt" ? { _tag: "Quarantined" } : { _tag: "Replaced" }
}

/** `<file>.bak.<generation>` beside `file` (the path of preferences.json). */
export const backupName = (file: string, generation: number) => `${file}.bak.${generation}`

/** `<file>.<kind>-<stamp>`: a copy set aside (`corrupt`) or replaced by a restore (`replaced`). */
export const stampedName = (file: string, kind: "corrupt" | "replaced", stamp: string) => `${file}.${kind}-${stamp}`
