/**
 * `diagnose` on desktop: which tier holds keys and whether it is secure and persistent, the data
 * folder's and preferences.json's health (the store's own trust check, modes, parse, backups,
 * quarantined files, unfinished changes), and — only when asked, since it may prompt — a write-read-delete probe of the keychain.
 * Every finding carries a fix hint; nothing here reads or prints key material.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { Diagnostics, Plural, type PreferencesDocument, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { Clock, Effect, FileSystem, Layer } from "effect"
import * as NodePath from "node:path"
import * as Backups from "./Backups.ts"
import * as DataDir from "./DataDir.ts"
import * as KeychainProbe from "./KeychainProbe.ts"
import * as LeftOut from "./LeftOut.ts"
import * as FishbowlFolderSource from "./legacy/FishbowlFolderSource.ts"
import * as LeftoverKeyFiles from "./legacy/LeftoverKeyFiles.ts"
import * as LegacySource from "./legacy/LegacySource.ts"
import * as TrustedFile from "./TrustedFile.ts"

/**
 * The finding for one inspected entry: what the store's trust rule refuses is an error; a mode
 * others can read (which the store tolerates) is a warning with the chmod that fixes it.
 */
const trustFinding = (
  id: "data-dir" | "preferences",
  inspected: { readonly entry: TrustedFile.EntryInfo; readonly problem?: TrustedFile.TrustProblem | undefined },
  texts: { readonly loose: (mode: number) => { readonly message: string; readonly hint: string }; readonly private: string }
): Diagnostics.Finding => {
  const { entry, problem } = inspected
  if (problem !== undefined) return { id: `${id}.trust`, severity: "error", message: problem.message, hint: problem.hint }
  if (process.platform !== "win32" && (entry.mode & 0o077) !== 0) {
    return { id: `${id}.mode`, severity: "warning", ...texts.loose(entry.mode) }
  }
  return { id: `${id}.mode`, severity: "ok", message: texts.private }
}

/**
 * Every file in the data folder that still holds an API key outside the keychain (the pending
 * migration file, Fishbowl's key files, copies of preferences.json with keys), with the fix.
 * Which files count is decided in one place, legacy/LeftoverKeyFiles (the migration report uses it too).
 */
export const leftoverKeyFilesFinding = (dataDir: string): Effect.Effect<Diagnostics.Finding, never, FileSystem.FileSystem> =>
  LeftoverKeyFiles.filesHoldingKeys(dataDir).pipe(
    Effect.map((files): Diagnostics.Finding => {
      if (files.length === 0) return { id: "legacy.key-files", severity: "ok", message: "No file in the data folder holds an API key" }
      const unreadable = files.filter((file) => file.what.includes("cannot be read") || file.what.startsWith("a damaged copy"))
      return {
        id: "legacy.key-files",
        severity: "warning",
        message: `${Plural.count(files.length, "file")} in ${dataDir} still ${
          Plural.agree(files.length, "holds", "hold")
        } API keys outside the keychain: ${files.map((file) => `${NodePath.basename(file.path)} (${file.what})`).join("; ")}`,
        hint: [
          `Run \`${LegacySource.rerunCommandOf(dataDir)}\`: it moves the keys into the keychain and removes them from these files.`,
          ...(files.some((file) => file.encrypted)
            ? ["Keys encrypted with Electron safeStorage are finished by the desktop app: start Fishbowl once."]
            : []),
          ...(unreadable.length > 0
            ? [
              `Files that cannot be read are never changed; check them and delete them by hand: ${
                unreadable.map((file) => `rm "${file.path}"`).join("; ")
              }`
            ]
            : [])
        ].join(" ")
      }
    }),
    Effect.orElseSucceed((): Diagnostics.Finding => ({
      id: "legacy.key-files-unchecked",
      severity: "warning",
      message: `The data folder ${dataDir} could not be checked for files holding keys`,
      hint: `Check that your user can read ${dataDir}, then run \`fishbowl-llm doctor\` again.`
    }))
  )

/**
 * Fishbowl's own configurations in the data folder that are not imported yet: without this, an
 * empty list reads as "my providers are gone". The desktop app imports them at start; the CLI
 * with `migrate`.
 */
export const fishbowlDataFinding = (dataDir: string): Effect.Effect<ReadonlyArray<Diagnostics.Finding>> =>
  FishbowlFolderSource.unmigratedFiles(dataDir).pipe(
    Effect.map((files): ReadonlyArray<Diagnostics.Finding> =>
      files.length === 0 ? [] : [{
        id: "legacy.fishbowl-data",
        severity: "warning",
        message: `Fishbowl's configurations in ${dataDir} are not imported yet (${files.join(", ")})`,
        hint: `Restart Fishbowl to import them, or run \`${LegacySource.rerunCommandOf(dataDir)}\`. Nothing is lost until then.`
      }]
    )
  )

/** Configurations that a replaced or set-aside copy names and the settings lack (a restore may have left them out). */
const leftOutFinding = (leftOut: ReadonlyArray<LeftOut.LeftOutConfig>): Array<Diagnostics.Finding> => {
  if (leftOut.length === 0) return []
  const names = [...new Set(leftOut.map(({ config }) => `"${config.name}"`))]
  const files = [...new Set(leftOut.map(({ file }) => NodePath.basename(file)))]
  const keyed = leftOut.filter(({ config }) => config.hasKey).length
  return [{
    id: "restore.left-out",
    severity: "warning",
    message: `${files.join(", ")} ${files.length === 1 ? "names" : "name"} ${
      Plural.count(names.length, "configuration")
    } your settings do not have: ${names.join(", ")}`,
    hint: (keyed > 0
      ? "If a restore left them out, their keys are still in your keychain: `fishbowl-llm doctor --fix` (or \"Bring back\" in Storage health) returns each one whose key is still there. "
      : "None of them has a key; add them again if you want them. ") +
      `Delete ${files.length === 1 ? "the file" : "the files"} once you no longer need ${files.length === 1 ? "it" : "them"}.`
  }]
}

/**
 * Of the unfinished changes, those recovery waits on (a key write of a stopped process may still
 * land, Journal.rollDirectUpdate): until when, so "run --fix" is not promised to work before then.
 */
const settlingNote = (journal: ReadonlyArray<PreferencesDocument.Intent>, now: number): string => {
  const until = journal.flatMap((intent) => intent.settledAfter === undefined ? [] : [Date.parse(intent.settledAfter)])
    .filter((time) => time > now)
  return until.length === 0
    ? ""
    : `; ${until.length === 1 ? "one" : until.length} can be finished only after ${
      new Date(Math.max(...until)).toLocaleTimeString()
    }, as the keychain may still be saving its key`
}

export const make = Effect.fnUntraced(function*(dataDir: string) {
  const secrets = yield* SecretStore.SecretStore
  const preferences = yield* PreferencesStore.PreferencesStore
  const keychainProbe = yield* KeychainProbe.KeychainProbe
  const fs = yield* FileSystem.FileSystem
  const file = DataDir.preferencesPath(dataDir)

  const fileFindings = Effect.gen(function*() {
    const findings: Array<Diagnostics.Finding> = []
    // The store's own trust check (TrustedFile.trustProblem): what it refuses is an error here.
    const folder = yield* Effect.result(TrustedFile.inspectEntry(dataDir, "directory"))
    if (folder._tag === "Failure" || folder.success === undefined) {
      findings.push({
        id: "data-dir.exists",
        severity: "ok",
        message: `Data folder ${dataDir} does not exist yet; it is created on first save`
      })
      return findings
    }
    findings.push(trustFinding("data-dir", folder.success, {
      loose: (mode) => ({ message: `Data folder ${dataDir} has mode ${TrustedFile.octal(mode)}`, hint: `Run: chmod 700 "${dataDir}"` }),
      private: `Data folder ${dataDir} is private`
    }))
    const stat = yield* Effect.result(TrustedFile.inspectEntry(file, "file"))
    if (stat._tag === "Success" && stat.success !== undefined) {
      findings.push(trustFinding("preferences", stat.success, {
        loose: (mode) => ({ message: `preferences.json has mode ${TrustedFile.octal(mode)}`, hint: `Run: chmod 600 "${file}"` }),
        private: "preferences.json is readable only by you"
      }))
    }
    const loaded = yield* Effect.result(preferences.load)
    if (loaded._tag === "Success") {
      const document = loaded.success
      const count = document.llm.configs.length
      findings.push({
        id: "preferences.parse",
        severity: "ok",
        message: stat._tag === "Success" && stat.success === undefined
          ? "preferences.json does not exist yet: it is created when the first configuration is saved"
          : `preferences.json is valid (${count} ${count === 1 ? "configuration" : "configurations"})`
      })
      if (document.llm.journal.length > 0) {
        findings.push({
          id: "preferences.journal",
          severity: "warning",
          message: `${
            Plural.count(document.llm.journal.length, "change")
          } not finished yet: in progress in another Fishbowl window or command, or interrupted${
            settlingNote(document.llm.journal, yield* Clock.currentTimeMillis)
          }`,
          hint:
            "A change in progress finishes on its own; an interrupted one is finished by the next Fishbowl start or `fishbowl-llm doctor --fix`."
        })
      }
    } else {
      findings.push({ id: "preferences.parse", severity: "error", message: loaded.failure.message, hint: loaded.failure.hint })
    }
    const names = yield* fs.readDirectory(dataDir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    const backups = names.filter((name) => Backups.copyOf(name)?._tag === "Backup")
    findings.push({ id: "preferences.backups", severity: "ok", message: `${Plural.count(backups.length, "backup generation")} kept` })
    const quarantined = names.filter((name) => Backups.copyOf(name)?._tag === "Quarantined")
    if (quarantined.length > 0) {
      findings.push({
        id: "preferences.quarantine",
        severity: "warning",
        message: `${Plural.count(quarantined.length, "damaged preferences file")} ${
          Plural.agree(quarantined.length, "was", "were")
        } set aside: ${quarantined.join(", ")}`,
        hint: `They are kept in ${dataDir} for inspection; delete them once you no longer need them.`
      })
    }
    if (loaded._tag === "Success") findings.push(...leftOutFinding(yield* LeftOut.find(dataDir, loaded.success.llm.configs)))
    findings.push(...yield* fishbowlDataFinding(dataDir))
    return findings
  })

  const diagnose = Effect.fn("DesktopDiagnostics.diagnose")(function*(options?: { readonly probe?: boolean }) {
    const findings: Array<Diagnostics.Finding> = []
    const description = yield* secrets.describe
    findings.push({
      id: "secrets.tier",
      severity: description.tier === "session"
        ? "error"
        : description.tier === "encrypted-file" || description.warning !== undefined
        ? "warning"
        : "ok",
      message: description.detail,
      ...(description.warning !== undefined ? { hint: description.warning } : {})
    })
    if (description.tier === "keychain") {
      const probe = yield* keychainProbe.probe
      findings.push(
        !probe.available
          ? {
            id: "keychain.reachable",
            severity: "error",
            message: probe.detail,
            hint: "Install and start gnome-keyring or KWallet, or run inside a desktop session."
          }
          : probe.locked === true
          ? {
            id: "keychain.locked",
            severity: "warning",
            message: "The keychain is locked",
            hint: "Unlock your login keyring (or use Unlock keychain in Settings)."
          }
          : { id: "keychain.reachable", severity: "ok", message: probe.detail }
      )
    }
    findings.push(...(yield* fileFindings))
    findings.push(yield* leftoverKeyFilesFinding(dataDir).pipe(Effect.provideService(FileSystem.FileSystem, fs)))
    if (options?.probe === true) {
      const probed = yield* Effect.result(secrets.authorize)
      findings.push(
        probed._tag === "Success"
          ? { id: "secrets.probe", severity: "ok", message: "Writing, reading and deleting a probe entry worked" }
          : { id: "secrets.probe", severity: "error", message: probed.failure.message, hint: probed.failure.hint }
      )
    }
    return {
      tier: description.tier,
      backend: description.backend,
      secure: description.secure,
      persistent: description.persistent,
      dataDir: NodePath.resolve(dataDir),
      probed: options?.probe === true,
      findings
    }
  })

  return Diagnostics.Diagnostics.of({ diagnose })
})

/** The domain's Diagnostics with the desktop's file and keychain checks. */
export const layer = (
  dataDir: string
): Layer.Layer<Diagnostics.Diagnostics, never, SecretStore.SecretStore | PreferencesStore.PreferencesStore | KeychainProbe.KeychainProbe> =>
  Layer.effect(Diagnostics.Diagnostics, make(dataDir)).pipe(Layer.provide(NodeFileSystem.layer))
