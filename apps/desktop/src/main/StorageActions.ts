/**
 * What the Storage health panel can ask the main process to do with files: list the backups of
 * preferences.json (with what each would change), restore one, bring back what a restore left
 * out, and show the data folder (or one backup / damaged copy in it) in the system's file manager.
 *
 * The renderer names files only by their base name, checked by HealthContract.StorageFileName;
 * paths are built here under the data folder, and a backup is read and validated exactly as the
 * store reads preferences.json (never a link, a FIFO or another user's file; bounded size and
 * depth; a consistent llm section), so the panel never offers what the store would quarantine.
 * A restore follows the restore rule (Restore): the copy's journal is dropped, configs whose
 * destination changes ask for their key again, and no key is deleted. It goes through
 * PreferencesStore.update (locked, atomic), and first keeps the file it replaces as
 * `preferences.json.replaced-<time>` (Backups), from which LeftOut brings back what it left out.
 */
import { Backups, JsonFilePreferencesStore, LeftOut, TrustedFile } from "@fishbowl/desktop-layer"
import { Canonical, Errors, type HealthContract, LlmConfigStore, PreferencesStore, Restore } from "@fishbowl/domain"
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
  readonly restoreBackup: (
    name: string
  ) => Effect.Effect<
    void,
    | Errors.InvalidInput
    | Errors.NotFound
    | Errors.Conflict
    | Errors.StorageInaccessible
    | Errors.Unsupported
    | Errors.Corrupted
    | Errors.WriteRefused
  >
  readonly bringBack: Effect.Effect<ReadonlyArray<HealthContract.BroughtBack>, Errors.SecretStoreError | Errors.PreferencesStoreError>
  readonly open: (name: string | undefined) => Effect.Effect<{ readonly shown: string }, Errors.NotFound | Errors.StorageInaccessible>
}

const unreadable = (name: string) =>
  new Errors.StorageInaccessible({
    message: `${name} could not be read`,
    hint: "Check that the data folder belongs to you, then try again."
  })

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

/** A backup as listed, with its generation and what makes two copies the same settings. */
type Listed = HealthContract.BackupInfo & { readonly generation: number; readonly sameness: string | undefined }

/**
 * Newest first, each state once: an older backup that holds exactly the settings of a newer one
 * (nothing changed between two generations) is counted in the newer one's `olderCopies`.
 */
const onceEach = (newestFirst: ReadonlyArray<Listed>): Array<HealthContract.BackupInfo> => {
  const kept: Array<Listed> = []
  for (const backup of newestFirst) {
    const same = backup.sameness === undefined ? -1 : kept.findIndex((newer) => newer.sameness === backup.sameness)
    if (same === -1) kept.push(backup)
    else kept[same] = { ...kept[same]!, olderCopies: kept[same]!.olderCopies + 1 }
  }
  return kept.map(({ generation: _, sameness: __, ...info }) => info)
}

export const make = (options: { readonly shell: ShellLike }) =>
  Effect.gen(function*() {
    const preferences = yield* PreferencesStore.PreferencesStore
    const store = yield* LlmConfigStore.LlmConfigStore
    const dataDir = path.dirname(preferences.location)
    const inDataDir = (name: string) => path.join(dataDir, path.basename(name))

    const backups: StorageActions["backups"] = Effect.gen(function*() {
      const names = yield* Effect.tryPromise({ try: () => fs.readdir(dataDir), catch: () => unreadable(dataDir) }).pipe(
        Effect.orElseSucceed(() => [] as Array<string>)
      )
      const current = yield* preferences.load.pipe(Effect.map((document) => document.llm.configs), Effect.orElseSucceed(() => []))
      const currentKeys = new Set(current.map((config) => Canonical.nameKey(config.name)))
      const found: Array<Listed> = []
      for (const name of names) {
        const copy = Backups.copyOf(name)
        if (copy?._tag !== "Backup") continue
        const file = yield* readBackup(inDataDir(name))
        if (file === undefined) continue
        const settings = validDocument(file)
        const configNames = settings?.llm.configs.map((config) => config.name) ?? []
        const keys = new Set(configNames.map(Canonical.nameKey))
        const { changed } = Restore.compare(settings?.llm.configs ?? [], current)
        found.push({
          generation: copy.generation,
          sameness: settings === undefined ? undefined : JSON.stringify(settings),
          name,
          modifiedAt: file.modifiedAt.toISOString(),
          usable: settings !== undefined,
          olderCopies: 0,
          configNames,
          added: configNames.filter((configName) => !currentKeys.has(Canonical.nameKey(configName))),
          removed: current.map((config) => config.name).filter((configName) => !keys.has(Canonical.nameKey(configName))),
          changed: changed.map(({ from, name: changedName, to }) => ({ name: changedName, from, to }))
        })
      }
      return onceEach(found.sort((a, b) => a.generation - b.generation))
    })

    /** A restore the user chose replaces the state an earlier automatic restore told them about. */
    const supersedeNotices = Effect.gen(function*() {
      const notices = preferences.notices
      if (notices === undefined) return
      for (const notice of yield* notices.current) yield* notices.dismiss(notice.id)
    })

    const restoreBackup: StorageActions["restoreBackup"] = (name) =>
      Effect.gen(function*() {
        if (Backups.copyOf(name)?._tag !== "Backup") {
          return yield* new Errors.InvalidInput({
            field: "name",
            message: "Only a backup can be restored",
            hint: "Pick one of the listed backups."
          })
        }
        const file = yield* readBackup(inDataDir(name))
        if (file === undefined) {
          return yield* new Errors.NotFound({ reason: "file", message: `${name} is no longer there`, hint: "Refresh the list of backups." })
        }
        const settings = validDocument(file)
        if (settings === undefined) {
          return yield* new Errors.InvalidInput({
            field: "name",
            message: "That backup is damaged and cannot be restored",
            hint: "Pick another backup."
          })
        }
        // Unfinished changes in the current file belong to operations that may still run: restoring
        // over them could undo a key write that is being committed. They must finish first.
        yield* preferences.update((document) =>
          Effect.gen(function*() {
            if (document.llm.journal.length > 0) {
              return yield* new Errors.Conflict({
                message: "Some changes are not finished yet",
                hint:
                  "Wait for other Fishbowl windows or commands to finish, or choose \"Finish interrupted changes\", then restore the backup.",
                reason: "unfinished-changes"
              })
            }
            yield* keepReplaced
            return [undefined, Restore.over(settings, document.llm.configs).document] as const
          })
        )
        yield* supersedeNotices
      })

    /** Under the store's lock, before a restore: the current file, kept as `preferences.json.replaced-<time>` (0600). */
    const keepReplaced = Effect.gen(function*() {
      const kept = yield* Backups.stampedPath(preferences.location, "replaced", (candidate) =>
        Effect.promise(() =>
          fs.lstat(candidate).then(() => true, () => false)
        ))
      yield* TrustedFile.copyExclusive(preferences.location, kept, 0o600).pipe(
        Effect.catchReason("PlatformError", "NotFound", () => Effect.void),
        Effect.mapError(() => unreadable(path.basename(preferences.location)))
      )
    })

    const bringBack: StorageActions["bringBack"] = LeftOut.bringBack(dataDir).pipe(
      Effect.map((results) => results.map((result) => ({ ...result, file: path.basename(result.file) }))),
      Effect.provideService(LlmConfigStore.LlmConfigStore, store)
    )

    const open: StorageActions["open"] = (name) =>
      Effect.gen(function*() {
        if (name === undefined) {
          const failure = yield* Effect.tryPromise({ try: () => options.shell.openPath(dataDir), catch: () => unreadable(dataDir) })
          if (failure !== "") {
            return yield* new Errors.NotFound({
              reason: "folder",
              message: "The data folder could not be opened",
              hint: `It is at ${dataDir}.`
            })
          }
          return { shown: dataDir }
        }
        const full = inDataDir(name)
        const info = Backups.copyOf(name) !== undefined
          ? yield* Effect.promise(() => fs.lstat(full).catch(() => undefined))
          : undefined
        if (info === undefined || !info.isFile()) {
          return yield* new Errors.NotFound({
            reason: "file",
            message: `${path.basename(name)} is no longer in the data folder`,
            hint: "Refresh the health report."
          })
        }
        options.shell.showItemInFolder(full)
        return { shown: full }
      })

    return { backups, restoreBackup, bringBack, open } satisfies StorageActions
  })
