/**
 * Imports configurations written by older Fishbowl versions: legacy formats are sources
 * (legacy/*: each reads one format exactly as its writer wrote it), this runner applies them in
 * order, in the manner of Effect's SQL Migrator (`effect/sql/Migrator`: a `Loader` such as
 * `fromRecord` / `fromFileSystem` yields the migrations, `make` runs them). Every entry goes through
 * LlmConfigStore.importConfig (the domain's journal: record, write the key, verify, commit), and a
 * source removes its plaintext only once every entry of it is in the store. Nothing here writes
 * journal entries.
 *
 * Everything runs under a migration lock (`<from>/llm_migration_pending.json.lock`), so
 * migrations are serialised across processes (which importConfig relies on). Idempotent and
 * crash-safe: re-run until the report is `complete`.
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { CrashPoints, Errors, Hints, LlmConfigStore, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { Effect, FileSystem, Schema } from "effect"
import * as NodePath from "node:path"
import * as DataDir from "./DataDir.ts"
import * as FishbowlFolderSource from "./legacy/FishbowlFolderSource.ts"
import * as LeftoverKeyFiles from "./legacy/LeftoverKeyFiles.ts"
import * as LegacyFiles from "./legacy/LegacyFiles.ts"
import * as LegacySource from "./legacy/LegacySource.ts"
import * as PlaintextPreferences from "./legacy/PlaintextPreferences.ts"

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
  reason: Schema.String,
  /**
   * `already`: the entry is in the store; `blocked`: not imported until the user acts (see `fix`);
   * `note`: informational (e.g. a key without a config, removed with its file).
   */
  kind: Schema.Literals(["already", "blocked", "note"]),
  /** What the user does about it; absent for entries already in the store. */
  fix: Schema.optional(Schema.String),
  /** The key is encrypted with Electron safeStorage: only the desktop app can finish this one. */
  needsDesktopApp: Schema.optional(Schema.Boolean)
})
export type SkippedEntry = typeof SkippedEntry.Type

export const FileHoldingKeys = Schema.Struct({ path: Schema.String, what: Schema.String, encrypted: Schema.Boolean })

/** What a migration did. Names, ids, paths and reasons only: never key material. */
export const MigrationReport = Schema.Struct({
  from: Schema.String,
  /** The command that runs this migration again, exactly as a terminal takes it. */
  rerunCommand: Schema.String,
  /** True when there was no legacy data and no file holding a key. */
  nothingToDo: Schema.Boolean,
  /** True when every legacy entry is in the store and no file in `from` holds a key any more. */
  complete: Schema.Boolean,
  /** Some entries wait for the desktop app (their keys need Electron safeStorage). */
  needsDesktopApp: Schema.Boolean,
  migrated: Schema.Array(MigratedEntry),
  /** Entries not imported now, with why and the fix ("already migrated" included, without a fix). */
  skipped: Schema.Array(SkippedEntry),
  /** Files deleted because everything in them is now in the store. */
  removedFiles: Schema.Array(Schema.String),
  /** Files kept under a new name, without keys, as a record of what was imported. */
  renamedFiles: Schema.Array(Schema.Struct({ from: Schema.String, to: Schema.String })),
  /** Files rewritten without keys (preferences.json, backups, quarantined copies, ...). */
  rewrittenFiles: Schema.Array(Schema.String),
  /** Legacy files left in place because something in them is not migrated yet. */
  keptFiles: Schema.Array(Schema.String),
  /** Every file in `from` that still holds a key (plain text or encrypted) after this run. */
  filesHoldingKeys: Schema.Array(FileHoldingKeys)
})
export type MigrationReport = typeof MigrationReport.Type

export interface MigrateOptions {
  /** Folder holding the legacy files; default: the folder of preferences.json, else the data folder. */
  readonly from?: string
  /**
   * Decrypts one secure_keys.json value: in Electron, `safeStorage.decryptStringAsync(c)` then its
   * `result` (Fishbowl's values were written by the synchronous `encryptString`, which the async
   * call decrypts; they are not re-encrypted: the file is removed once its keys are imported).
   */
  readonly decrypt?: LegacySource.Decrypt
  /** How long to wait for another migration or preferences.json writer (default 10000 ms). */
  readonly lockWaitMillis?: number
  /**
   * Names of entries whose plain-http base URL to a private-network host the user accepts (the
   * key then travels unencrypted there), recorded per config as `add --allow-insecure-http` does.
   */
  readonly allowInsecureHttp?: ReadonlyArray<string>
}

export type MigrationError = Errors.SecretStoreError | Errors.PreferencesStoreError

/** The sources, in order: this store's own older format first, then Fishbowl's files. */
export const defaultSources: ReadonlyArray<LegacySource.LegacySource> = [
  PlaintextPreferences.PlaintextPreferencesSource,
  FishbowlFolderSource.FishbowlFolderSource
]

const ALREADY = "already migrated"

/** A runner over `sources` (see the module comment). */
export const make = (sources: ReadonlyArray<LegacySource.LegacySource>) =>
  Effect.fn("Migration.migrate")(function*(options?: MigrateOptions) {
    const fs = yield* FileSystem.FileSystem
    const preferences = yield* PreferencesStore.PreferencesStore
    const from = NodePath.resolve(
      options?.from ??
        (NodePath.basename(preferences.location) === DataDir.PREFERENCES_FILE_NAME && NodePath.isAbsolute(preferences.location)
          ? NodePath.dirname(preferences.location)
          : yield* DataDir.currentDataDir())
    )
    if (options?.from !== undefined) {
      const info = yield* fs.stat(from).pipe(Effect.result)
      if (info._tag === "Failure" || info.success.type !== "Directory") {
        return yield* new Errors.InvalidInput({
          field: "from",
          message: `${from} is not a folder${
            info._tag === "Failure" && info.failure.reason._tag === "NotFound" ? " (it does not exist)" : ""
          }`,
          hint: "Pass the folder that holds Fishbowl's llm_config.json (its data folder, e.g. ~/.config/Fishbowl)."
        })
      }
    }
    const context: LegacySource.SourceContext = {
      from,
      decrypt: options?.decrypt,
      lockWaitMillis: options?.lockWaitMillis ?? 10_000,
      rerunCommand: LegacySource.rerunCommandOf(from),
      allowInsecureHttp: options?.allowInsecureHttp ?? []
    }
    const report = {
      from,
      rerunCommand: context.rerunCommand,
      nothingToDo: false,
      complete: false,
      needsDesktopApp: false,
      migrated: [] as Array<MigratedEntry>,
      skipped: [] as Array<SkippedEntry>,
      removedFiles: [] as Array<string>,
      renamedFiles: [] as Array<{ from: string; to: string }>,
      rewrittenFiles: [] as Array<string>,
      keptFiles: [] as Array<string>,
      filesHoldingKeys: [] as Array<typeof FileHoldingKeys.Type>
    }

    // Scoped: the store instance made here counts as running (Liveness) only while the migration runs.
    const run = Effect.scoped(Effect.gen(function*() {
      const present: Array<LegacySource.LegacySource> = []
      for (const source of sources) if (yield* source.detect(context)) present.push(source)
      if (present.length === 0) return false
      // Checked before any source adopts files: verifying against memory and then deleting the
      // source would lose every key at exit (importConfig refuses such a store too).
      const description = yield* (yield* SecretStore.SecretStore).describe
      if (!description.persistent) {
        return yield* new Errors.Unsupported({
          reason: "keys-not-kept",
          message: `Keys cannot be migrated into ${description.backend}: it does not keep them after Fishbowl quits`,
          hint: Hints.keychainForMigration
        })
      }
      const store = yield* LlmConfigStore.make()
      const crash = yield* CrashPoints.CrashPoints
      for (const source of present) {
        const batch = yield* source.load(context)
        if (batch === undefined) continue
        const inStore: Array<boolean> = []
        for (const legacy of batch.entries) {
          const name = legacy.label !== undefined ? { name: legacy.label } : {}
          if (legacy.outcome._tag === "Blocked") {
            const { reason, fix, needsDesktopApp } = legacy.outcome
            report.skipped.push({
              ...name,
              source: legacy.source,
              reason,
              kind: "blocked",
              fix,
              ...(needsDesktopApp === true ? { needsDesktopApp } : {})
            })
            report.needsDesktopApp ||= needsDesktopApp === true
            inStore.push(false)
            continue
          }
          const outcome = yield* store.importConfig(legacy.outcome.entry)
          if (outcome._tag === "Imported") {
            report.migrated.push({
              name: outcome.config.name,
              provider: outcome.config.provider,
              configId: outcome.config.id,
              source: legacy.source,
              hasKey: outcome.config.hasKey,
              ...(outcome.renamedFrom !== undefined ? { renamedFrom: outcome.renamedFrom } : {})
            })
          } else if (outcome._tag === "AlreadyPresent") {
            report.skipped.push({ ...name, source: legacy.source, reason: ALREADY, kind: "already" })
          } else if (outcome._tag === "Conflict") {
            report.skipped.push({
              ...name,
              source: legacy.source,
              reason: outcome.reason,
              kind: "blocked",
              fix:
                `Keep both: add this one by hand with \`fishbowl-llm add\` (its key is still in the legacy file), then delete its entry from ${legacy.source}; or, if "${outcome.existing.name}" is the one you want, delete the entry from ${legacy.source}. Then run ${
                  LegacySource.rerunText(context.rerunCommand)
                }. The legacy files are kept until then.`
            })
          } else {
            report.skipped.push({
              ...name,
              source: legacy.source,
              reason: outcome.reason,
              kind: "blocked",
              fix: `Run ${LegacySource.rerunText(context.rerunCommand)}; the legacy files are kept until it succeeds.`
            })
          }
          inStore.push(outcome._tag === "Imported" || outcome._tag === "AlreadyPresent")
        }
        for (const { blocking, ...note } of batch.notes) report.skipped.push({ ...note, kind: blocking ? "blocked" : "note" })
        const finished = yield* batch.finish(inStore)
        report.removedFiles.push(...finished.removed)
        report.renamedFiles.push(...finished.renamed)
        for (const path of finished.rewritten) if (!report.rewrittenFiles.includes(path)) report.rewrittenFiles.push(path)
        report.keptFiles.push(...finished.kept)
        if (finished.kept.length === 0 && finished.removed.length + finished.renamed.length > 0) {
          yield* crash.reached("migrate.plaintext-removed")
        }
      }
      return true
    }))

    const busy = () =>
      new Errors.StorageInaccessible({
        message: `${PlaintextPreferences.PENDING_FILE} is locked by another Fishbowl process (waited ${context.lockWaitMillis} ms)`,
        hint: Hints.otherMigrationRunning
      })
    const found = yield* LegacyFiles.withFileLock(NodePath.join(from, PlaintextPreferences.PENDING_FILE), context.lockWaitMillis, busy, run)
    report.filesHoldingKeys = [...yield* LeftoverKeyFiles.filesHoldingKeys(from)]
    report.nothingToDo = !found && report.filesHoldingKeys.length === 0
    report.complete = report.keptFiles.length === 0 && report.filesHoldingKeys.length === 0 &&
      report.skipped.every((entry) => entry.kind !== "blocked")
    return report satisfies MigrationReport
  })

/** The command that imports what is in `from`, exactly as printed. */
export const rerunCommandOf = LegacySource.rerunCommandOf

/** Fishbowl's files in `dir` not imported yet (names), for `list`, `doctor` and the settings page. */
export const unmigratedFishbowlFiles = FishbowlFolderSource.unmigratedFiles

/** The runner over the default sources. */
export const migrate = make(defaultSources)

/** `migrate` over Node's file system (the CLI and the Electron main process). */
export const migrateNode = (options?: MigrateOptions) => migrate(options).pipe(Effect.provide(NodeFileSystem.layer))
