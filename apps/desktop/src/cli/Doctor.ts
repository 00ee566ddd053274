/**
 * `fishbowl-llm doctor`: looks at the data folder itself before anything is loaded through the
 * store, so a broken folder (a directory or a FIFO where preferences.json should be) gets
 * findings instead of one failure. Shows every finding the platform's diagnostics return (their
 * list grows without changes here), adds with `--probe` a check that every configuration that
 * says it has a key has one in the keychain, and with `--fix` finishes or undoes stuck changes.
 *
 * Exit code: the most urgent problem wins — 4 keychain locked, 5 no usable keychain, 6 data
 * folder or preferences.json damaged, 3 a key is missing, 1 any other error; warnings alone are 0.
 */
import { DataDir, LeftOut } from "@fishbowl/desktop-layer"
import { Diagnostics, type Errors, KeyBinding, LlmConfigStore, Plural, PreferencesStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as CliIo from "./CliIo.ts"
import * as ExitCodes from "./ExitCodes.ts"
import * as Text from "./Text.ts"

/** A finding as the CLI shows it: `detail` may name internal things (keychain entries, files). */
export interface DoctorFinding extends Diagnostics.Finding {
  readonly detail?: string
}

/** Hints of the platform's findings that speak of the GUI, reworded for the terminal by id. */
const cliHints: Partial<Record<Diagnostics.FindingId, string>> = {
  "preferences.journal": "Run `fishbowl-llm doctor --fix` to finish or undo them.",
  "keychain.locked": "Unlock the login keyring (e.g. in Passwords and Keys / Seahorse, or by logging in again), then retry."
}

/**
 * A locked keychain is a warning on the page (the user unlocks it there) but here the command
 * fails with 4, so it is an error: the summary line and the exit code count the same findings.
 */
const failsTheCommand = (id: Diagnostics.FindingId) => Diagnostics.findingKinds[id] === "locked"

/**
 * The keychain tier's warning says what is wrong ("cannot be reached right now"); the terminal's
 * `fix:` line says what to do about it.
 */
const keychainTierHint =
  "Start your keyring (gnome-keyring or KWallet) in this desktop session, then run `fishbowl-llm doctor --probe` to check that keys can be saved and read."

const forTerminal = (tier: Diagnostics.DiagnosticsReport["tier"]) => (finding: Diagnostics.Finding): DoctorFinding => {
  const hint = cliHints[finding.id] ??
    (finding.id === "secrets.tier" && tier === "keychain" && finding.severity === "warning" ? keychainTierHint : finding.hint)
  return {
    ...finding,
    ...(failsTheCommand(finding.id) ? { severity: "error" as const } : {}),
    ...(hint !== undefined ? { hint } : {})
  }
}

type FileKind = "missing" | "file" | "directory" | "symlink" | "fifo" | "socket" | "device" | "other"

const kindOf = (path: string): FileKind => {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(path)
  } catch {
    return "missing"
  }
  if (stat.isFile()) return "file"
  if (stat.isDirectory()) return "directory"
  if (stat.isSymbolicLink()) return "symlink"
  if (stat.isFIFO()) return "fifo"
  if (stat.isSocket()) return "socket"
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "device"
  return "other"
}

const article: Record<FileKind, string> = {
  missing: "missing",
  file: "a file",
  directory: "a directory",
  symlink: "a symbolic link",
  fifo: "a named pipe (FIFO)",
  socket: "a socket",
  device: "a device",
  other: "not a regular file"
}

/** Findings from the folder as it is on disk, read with lstat only (never opened). */
const folderFindings = (dataDir: string) => {
  const findings: Array<DoctorFinding> = []
  const dirKind = kindOf(dataDir)
  if (dirKind !== "missing" && dirKind !== "directory") {
    findings.push({
      id: "data-dir.type",
      severity: "error",
      message: `The data folder ${dataDir} is ${article[dirKind]}, not a folder`,
      hint: `Move it aside (mv "${dataDir}" "${dataDir}.bad") or pass another folder with --data-dir.`
    })
    return { findings, readable: false }
  }
  const file = DataDir.preferencesPath(dataDir)
  const fileKind = kindOf(file)
  if (fileKind !== "missing" && fileKind !== "file") {
    findings.push({
      id: "preferences.type",
      severity: "error",
      message: `preferences.json is ${article[fileKind]}, not a file`,
      hint: `Move it aside (mv "${file}" "${file}.bad"); fishbowl-llm then starts from the newest valid backup, or empty.`,
      detail: file
    })
  }
  // Opening a FIFO or device blocks or reads forever: nothing below may open it.
  return { findings, readable: fileKind === "missing" || fileKind === "file" || fileKind === "directory" }
}

/** The kinds of the error findings: what makes the command fail, and what the tier line says. */
const errorKinds = (findings: ReadonlyArray<DoctorFinding>): ReadonlySet<Diagnostics.FindingKind> =>
  new Set(findings.filter((finding) => finding.severity === "error").map((finding) => Diagnostics.findingKinds[finding.id]))

/** The most urgent kind among the error findings decides (FindingKind lists them by urgency); none: 0. */
export const exitCodeOf = (findings: ReadonlyArray<DoctorFinding>): number => {
  const kinds = errorKinds(findings)
  const urgent = Diagnostics.FindingKind.literals.find((kind) => kinds.has(kind))
  return urgent === undefined ? ExitCodes.ExitCode.ok : ExitCodes.doctorExitCodes[urgent].code
}

const failureFinding = (id: Diagnostics.FindingId, error: Errors.FishbowlError): DoctorFinding => ({
  id,
  severity: "error",
  message: error.message,
  hint: error.hint
})

/** With --probe: every configuration marked as having a key has its keychain entry. */
const keyFindings = Effect.gen(function*() {
  const preferences = yield* PreferencesStore.PreferencesStore
  const secrets = yield* SecretStore.SecretStore
  const document = yield* Effect.option(preferences.load)
  if (Option.isNone(document)) return [] as Array<DoctorFinding>
  const findings: Array<DoctorFinding> = []
  const withKey = document.value.llm.configs.filter((config) => config.hasKey)
  let present = 0
  for (const config of withKey) {
    const ref = SecretRef.secretRefFor(config.provider, config.id)
    const stored = yield* Effect.result(secrets.get(ref))
    if (stored._tag === "Failure") {
      findings.push({
        id: stored.failure._tag === "KeychainLocked" ? "keys.locked" : "keys.unreadable",
        severity: "error",
        message: `The key of "${config.name}" could not be read: ${stored.failure.message}`,
        hint: stored.failure.hint,
        detail: SecretRef.describeSecretRef(ref)
      })
    } else if (Option.isNone(stored.success)) {
      findings.push({
        id: "keys.missing",
        severity: "error",
        message: `"${config.name}" should have a key, but the keychain has none for it`,
        hint: `Enter the key again with \`fishbowl-llm update ${JSON.stringify(config.name)} --api-key-stdin\`.`,
        detail: SecretRef.describeSecretRef(ref)
      })
    } else if (KeyBinding.open(stored.success.value, KeyBinding.destinationOf(config))._tag === "Elsewhere") {
      findings.push({
        id: "keys.elsewhere",
        severity: "error",
        message: `The key stored for "${config.name}" was entered for a different provider or base URL than it has now, so it is not used`,
        hint: `Enter the key again for this base URL with \`fishbowl-llm update ${JSON.stringify(config.name)} --api-key-stdin\`.`,
        detail: SecretRef.describeSecretRef(ref)
      })
    } else present++
  }
  if (findings.length === 0) {
    findings.push({
      id: "keys.present",
      severity: "ok",
      message: withKey.length === 0
        ? "No configuration has a key to check"
        : withKey.length === 1
        ? "The one stored key is in the keychain"
        : `All ${Plural.count(withKey.length, "key")} are in the keychain`
    })
  } else if (present > 0) {
    findings.push({
      id: "keys.present",
      severity: "ok",
      message: `${Plural.count(present, "other key")} ${present === 1 ? "is" : "are"} in the keychain`
    })
  }
  return findings
})

/**
 * Where keys are kept, as it is now: the tier chosen, and when its error findings say the keychain
 * cannot be used or is locked, that — not "secure, persistent" for keys that cannot be saved.
 */
const tierLine = (report: Omit<Diagnostics.DiagnosticsReport, "findings"> & { readonly findings: ReadonlyArray<DoctorFinding> }) => {
  const failing = errorKinds(report.findings)
  const where = `keys kept in: ${report.tier} (${report.backend})`
  if (failing.has("no-keychain")) return `${where}, which cannot be reached now: keys can be neither saved nor read`
  if (failing.has("locked")) return `${where}, locked now: keys can be neither saved nor read until it is unlocked`
  return `${where}, ${report.secure ? "secure" : "NOT secure"}, ${report.persistent ? "persistent" : "lost when this process ends"}`
}

const render = (report: Omit<Diagnostics.DiagnosticsReport, "findings"> & { readonly findings: ReadonlyArray<DoctorFinding> }) => {
  const lines = [
    tierLine(report),
    `data folder:  ${report.dataDir}`,
    ""
  ]
  for (const finding of report.findings) {
    lines.push(`${finding.severity.padEnd(7)}  ${finding.message}`)
    if (finding.hint !== undefined && finding.severity !== "ok") lines.push(`         fix: ${finding.hint}`)
    if (finding.detail !== undefined && finding.detail !== finding.message) lines.push(`         detail: ${finding.detail}`)
  }
  const errors = report.findings.filter((finding) => finding.severity === "error").length
  const warnings = report.findings.filter((finding) => finding.severity === "warning").length
  lines.push("", errors + warnings === 0 ? "No problems found." : `${Plural.count(errors, "error")}, ${Plural.count(warnings, "warning")}.`)
  return lines.map(Text.escapeControls).join("\n") + "\n"
}

/** What `--fix` did with the journal: finished, undone, failed, and left (with whose process). */
const recoveryFindings = (report: LlmConfigStore.RecoveryReport): Array<DoctorFinding> => {
  const { failed, left, rolledBack, rolledForward } = report
  const running = left.filter((entry) => entry.why === "running")
  const unknown = left.filter((entry) => entry.why === "unknown")
  const settling = left.filter((entry) => entry.why === "settling")
  const findings: Array<DoctorFinding> = [{
    id: "journal.fix",
    severity: failed.length > 0 ? "error" : "ok",
    // A change left to finish later is not "nothing to finish": the counts say what was done.
    message: rolledForward.length + rolledBack.length + failed.length + settling.length === 0
      ? "--fix: no interrupted change to finish or undo"
      : `--fix: finished ${rolledForward.length}, undid ${rolledBack.length}` +
        (failed.length > 0
          ? `, could not finish ${Plural.count(failed.length, "interrupted change")} (${
            [...new Set(failed.map((entry) => entry.error))].join(", ")
          })`
          : ""),
    ...(failed.length > 0
      ? { hint: "Fix the problem reported for the keychain or the data folder, then run `fishbowl-llm doctor --fix` again." }
      : {})
  }]
  if (settling.length > 0) {
    findings.push({
      id: "journal.settling",
      severity: "ok",
      message: `--fix left ${Plural.count(settling.length, "change")} to finish later: the keychain helper of ${
        [...new Set(settling.map((entry) => entry.owner))].join(", ")
      }, which stopped, may still be saving a key`,
      hint: "Run `fishbowl-llm doctor --fix` again in a minute: each is then finished or undone."
    })
  }
  if (running.length > 0) {
    findings.push({
      id: "journal.running",
      severity: "ok",
      message: `--fix left ${Plural.count(running.length, "change")} alone: still in progress (${
        [...new Set(running.map((entry) => entry.owner))].join(", ")
      })`,
      hint: "Nothing to do: the process that started it finishes it. If it is waiting for a keychain prompt, answer it."
    })
  }
  if (unknown.length > 0) {
    findings.push({
      id: "journal.unknown-owner",
      severity: "warning",
      message: `--fix left ${Plural.count(unknown.length, "change")} alone: started by ${
        [...new Set(unknown.map((entry) => entry.owner))].join(", ")
      }, which cannot be checked from here`,
      hint: "If Fishbowl no longer runs there, finish them with `fishbowl-llm doctor --fix --assume-gone`."
    })
  }
  return findings
}

/** What `--fix` brought back of the configurations a restore left out. */
const bringBackFindings = (results: ReadonlyArray<LeftOut.BroughtBack>): Array<DoctorFinding> => {
  const back = results.filter((result) => result.outcome === "brought-back")
  const not = results.filter((result) => result.outcome === "not-brought-back")
  return [
    ...(back.length > 0
      ? [{
        id: "restore.brought-back" as const,
        severity: "ok" as const,
        message: `--fix brought back ${
          back.map((result) => `"${result.name}"${result.detail !== undefined ? ` ${result.detail}` : ""}`).join(", ")
        } (left out by a restore; keys still in the keychain)`
      }]
      : []),
    ...not.map((result): DoctorFinding => ({
      id: "restore.not-brought-back",
      severity: "ok" as const,
      message: `"${result.name}" (named by ${path.basename(result.file)}) was not brought back: ${result.detail ?? "see above"}`
    }))
  ]
}

export const doctor = (options: {
  readonly probe: boolean
  readonly fix: boolean
  readonly assumeGone: boolean
  readonly json: boolean
  readonly dataDir: string
  readonly budget: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y | Errors.FishbowlError, Z>
}) =>
  Effect.gen(function*() {
    const { budget } = options
    const folder = folderFindings(options.dataDir)
    const findings: Array<DoctorFinding> = [...folder.findings]
    const blocked = folder.findings.some((finding) => finding.severity === "error")

    if (options.fix) {
      if (blocked) {
        findings.push({
          id: "journal.fix",
          severity: "error",
          message: "--fix did nothing: the data folder must be repaired first (see above)"
        })
      } else {
        const fixed = yield* Effect.result(
          budget(LlmConfigStore.LlmConfigStore.use((store) => store.recover({ assumeUnknownOwnersGone: options.assumeGone })))
        )
        if (fixed._tag === "Failure") findings.push(failureFinding("journal.fix", fixed.failure as Errors.FishbowlError))
        else findings.push(...recoveryFindings(fixed.success))
        const brought = yield* Effect.result(budget(LeftOut.bringBack(options.dataDir)))
        if (brought._tag === "Failure") findings.push(failureFinding("restore.bring-back", brought.failure as Errors.FishbowlError))
        else findings.push(...bringBackFindings(brought.success))
      }
    }

    const secrets = yield* SecretStore.SecretStore
    const base = yield* Effect.gen(function*() {
      if (!folder.readable) return undefined
      const diagnosed = yield* Effect.result(
        budget(Diagnostics.Diagnostics.use((diagnostics) => diagnostics.diagnose({ probe: options.probe })))
      )
      if (diagnosed._tag === "Success") return diagnosed.success
      findings.push(failureFinding("diagnostics", diagnosed.failure as Errors.FishbowlError))
      return undefined
    })
    let report: Omit<Diagnostics.DiagnosticsReport, "findings">
    if (base !== undefined) {
      findings.push(...base.findings.map(forTerminal(base.tier)))
      report = base
    } else {
      const description = yield* budget(secrets.describe)
      report = {
        tier: description.tier,
        backend: description.backend,
        secure: description.secure,
        persistent: description.persistent,
        dataDir: options.dataDir,
        probed: false
      }
    }
    if (options.probe && folder.readable) findings.push(...(yield* budget(keyFindings)))

    const full = { ...report, findings }
    yield* options.json ? CliIo.json(full) : CliIo.out(render(full))
    const code = exitCodeOf(findings)
    if (code !== ExitCodes.ExitCode.ok) return yield* new ExitCodes.CliExit({ code })
  })
