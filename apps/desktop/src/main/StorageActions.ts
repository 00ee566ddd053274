/**
 * What the Storage health panel can ask the main process to do with files: list the backups of
 * preferences.json (with what each would change), restore one, and show the data folder (or one
 * backup / damaged copy in it) in the system's file manager.
 *
 * The renderer names files only by their base name, checked by HealthContract.StorageFileName;
 * paths are built here under the data folder, and a backup is read and validated exactly as the
 * store reads preferences.json (never a link, a FIFO or another user's file; bounded size and
 * depth; a consistent llm section), so the panel never offers what the store would quarantine. A restore goes through PreferencesStore.update, so it is
 * locked, atomic and itself backed up (the current file becomes `.bak.1`): it can be undone.
 */
import { JsonFilePreferencesStore } from "@fishbowl/desktop-layer"
import { Canonical, Errors, type HealthContract, type PreferencesDocument, PreferencesStore } from "@fishbowl/domain"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** The two calls of Electron's `shell` this needs (injected, so tests can record them). */
export interface ShellLike {
  readonly showItemInFolder: (fullPath: string) => void
  readonly openPath: (fullPath: string) => Promise<string>
}

export interface StorageActions {
  readonly backups: Effect.Effect<ReadonlyArray<HealthContract.BackupInfo>, Errors.StorageInaccessible>
  readonly restoreBackup: (name: string) => Effect.Effect<void, Errors.InvalidInput | Errors.NotFound | Errors.Conflict | Errors.StorageInaccessible | Errors.Unsupported | Errors.Corrupted>
  readonly open: (name: string | undefined) => Effect.Effect<{ readonly shown: string }, Errors.NotFound | Errors.StorageInaccessible>
}

const BACKUP = /^preferences\.json\.bak\.(\d{1,3})$/
const SHOWABLE = /^preferences\.json\.(bak\.\d{1,3}|corrupt-[0-9A-Za-z.-]{1,64})$/

const unreadable = (name: string) =>
  new Errors.StorageInaccessible({ message: `${name} could not be read`, hint: "Check that the data folder belongs to you, then try again." })

/**
 * A backup judged as the store judges its own files (JsonFilePreferencesStore.readSettingsFile):
 * undefined when it is missing or was not read (a link, a FIFO, another user's file, too large).
 */
const readBackup = (file: string) =>
  JsonFilePreferencesStore.readSettingsFile(file).pipe(
    Effect.mapError(() => unreadable(path.basename(file))),
    Effect.map((read) => (read._tag === "Read" ? read : undefined))
  )

/** The settings a backup holds, when the store would accept it as preferences.json. */
const validDocument = (read: { readonly state: JsonFilePreferencesStore.FileState }) =>
  read.state._tag === "Valid" ? read.state.document : undefined

export const make = (options: { readonly shell: ShellLike }) =>
  Effect.gen(function*() {
    const preferences = yield* PreferencesStore.PreferencesStore
    const dataDir = path.dirname(preferences.location)
    const inDataDir = (name: string) => path.join(dataDir, path.basename(name))

    const backups: StorageActions["backups"] = Effect.gen(function*() {
      const names = yield* Effect.tryPromise({ try: () => fs.readdir(dataDir), catch: () => unreadable(dataDir) }).pipe(
        Effect.orElseSucceed(() => [] as Array<string>)
      )
      const current = yield* preferences.load.pipe(Effect.map((document) => document.llm.configs.map((config) => config.name)), Effect.orElseSucceed(() => [] as Array<string>))
      const currentKeys = new Set(current.map(Canonical.nameKey))
      const found: Array<HealthContract.BackupInfo & { readonly generation: number }> = []
      for (const name of names) {
        const match = BACKUP.exec(name)
        if (match === null) continue
        const file = yield* readBackup(inDataDir(name))
        if (file === undefined) continue
        const settings = validDocument(file)
        const configNames = settings?.llm.configs.map((config) => config.name) ?? []
        const keys = new Set(configNames.map(Canonical.nameKey))
        found.push({
          generation: Number(match[1]),
          name,
          modifiedAt: file.modifiedAt.toISOString(),
          usable: settings !== undefined,
          configNames,
          added: configNames.filter((configName) => !currentKeys.has(Canonical.nameKey(configName))),
          removed: current.filter((configName) => !keys.has(Canonical.nameKey(configName)))
        })
      }
      return found.sort((a, b) => a.generation - b.generation).map(({ generation: _, ...info }) => info)
    })

    const restoreBackup: StorageActions["restoreBackup"] = (name) =>
      Effect.gen(function*() {
        if (!BACKUP.test(name)) {
          return yield* new Errors.InvalidInput({ field: "name", message: "Only a backup can be restored", hint: "Pick one of the listed backups." })
        }
        const file = yield* readBackup(inDataDir(name))
        if (file === undefined) return yield* new Errors.NotFound({ message: `${name} is no longer there`, hint: "Refresh the list of backups." })
        const settings = validDocument(file)
        if (settings === undefined) {
          return yield* new Errors.InvalidInput({ field: "name", message: `${name} is damaged and cannot be restored`, hint: "Pick another backup." })
        }
        // Unfinished changes in either file refer to keys as they were then: restoring over them
        // could undo a key write that has since been committed. Finish them first.
        const restored: PreferencesDocument.PreferencesDocument = { ...settings, llm: { ...settings.llm, journal: [] } }
        yield* preferences.update((document) =>
          document.llm.journal.length > 0
            ? Effect.fail(new Errors.Conflict({
              message: "Some changes were interrupted and are not finished yet",
              hint: "Choose \"Finish interrupted changes\" first, then restore the backup."
            }))
            : Effect.succeed([undefined, restored] as const)
        )
      })

    const open: StorageActions["open"] = (name) =>
      Effect.gen(function*() {
        if (name === undefined) {
          const failure = yield* Effect.tryPromise({ try: () => options.shell.openPath(dataDir), catch: () => unreadable(dataDir) })
          if (failure !== "") return yield* new Errors.NotFound({ message: "The data folder could not be opened", hint: `It is at ${dataDir}.` })
          return { shown: dataDir }
        }
        const full = inDataDir(name)
        const info = SHOWABLE.test(name) ? yield* Effect.promise(() => fs.lstat(full).catch(() => undefined)) : undefined
        if (info === undefined || !info.isFile()) {
          return yield* new Errors.NotFound({ message: `${path.basename(name)} is no longer in the data folder`, hint: "Refresh the health report." })
        }
        options.shell.showItemInFolder(full)
        return { shown: full }
      })

    return { backups, restoreBackup, open } satisfies StorageActions
  })
