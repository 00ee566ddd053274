/**
 * What the page says, computed from data without a DOM: labels, explanations and the one-line
 * summaries of results. Pure functions, so the Node tests check the words without a browser.
 */
import type { HealthContract, IpcContract } from "@fishbowl/domain"
import * as Plural from "@fishbowl/domain/Plural"
import * as Bridge from "./Bridge.ts"
import * as FindingWords from "./FindingWords.ts"

type Tier = Bridge.StoreStatusView["secretStore"]["tier"]

export const tierLabels: Record<Tier, string> = {
  keychain: "OS keychain",
  "encrypted-file": "Encrypted file",
  session: "Session only"
}

/** What each tier means for the user, in their words (the precise text is in Storage health). */
export const tierExplanations: Record<Tier, string> = {
  keychain: "API keys are kept in your system's keychain, encrypted and available only to you.",
  "encrypted-file": "No system keychain is available, so API keys are kept in an encrypted file in Fishbowl's data folder.",
  session: "No system keychain is in use, so API keys are kept only until Fishbowl quits — you will have to enter them again."
}

export const statusBannerClass = (tier: Tier) =>
  `banner ${tier === "session" ? "banner-warning" : tier !== "keychain" ? "banner-caution" : "banner-ok"}`

/** Problems of the keychain itself: while one is on the page, the status banner says so instead of "available". */
const keychainNow: Partial<Record<Bridge.WireError["_tag"], string>> = {
  KeychainLocked: "Your system keychain is locked now: keys can be neither saved nor read until it is unlocked.",
  KeychainDenied: "Fishbowl is not allowed to use your system keychain now: keys can be neither saved nor read.",
  KeychainUnavailable: "Your system keychain cannot be reached now: keys can be neither saved nor read."
}

/**
 * The status banner's class and words for the tier in use, as it is now: a keychain problem on
 * the page (the problem banner below it) turns "available only to you" into what is true.
 */
export const keyStorageNow = (tier: Tier, problem: Bridge.WireError | undefined) => {
  const now = tier === "keychain" && problem !== undefined ? keychainNow[problem._tag] : undefined
  return now === undefined
    ? { className: statusBannerClass(tier), explanation: tierExplanations[tier] }
    : { className: "banner banner-caution", explanation: now }
}

export const noticeTitles: Record<Bridge.NoticeView["kind"], string> = {
  "restored-from-backup": "Your settings were restored from a backup"
}

export const fileName = (fullPath: string) => fullPath.split(/[\\/]/).pop() ?? fullPath

export const displayName = (providerId: string) => Bridge.providerById(providerId)?.displayName ?? providerId

export const endpointOf = (config: Bridge.LlmConfigView) => {
  if (config.baseUrl !== undefined) return config.baseUrl
  const fallback = Bridge.providerById(config.provider)?.defaultBaseUrl
  return fallback !== undefined ? `${fallback} (default)` : "—"
}

export const formatDate = (iso: string, timeStyle: "short" | "medium" = "short") => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle })
}

/** Where the key really is, from the metadata (a session key is gone when Fishbowl quits). */
export const keyState = (config: Bridge.LlmConfigView): { readonly text: string; readonly pill: "ok" | "warn" | "none" } => {
  if (config.keyStorage === "session") {
    return config.hasKey
      ? { text: "Not saved (kept in memory until Fishbowl quits)", pill: "warn" }
      : { text: "Not saved: enter the key again", pill: "warn" }
  }
  if (!config.hasKey) return { text: "No key", pill: "none" }
  return config.keyStorage === "encrypted-file" ? { text: "Stored (encrypted file)", pill: "ok" } : { text: "Key stored", pill: "ok" }
}

/** The last test to show: the stored `lastCheck`, or this session's unrecorded one when newer. */
export const lastCheck = (config: Bridge.LlmConfigView, unrecorded: Bridge.CheckRecordView | undefined) =>
  unrecorded !== undefined && (config.lastCheck === undefined || unrecorded.checkedAt > config.lastCheck.checkedAt)
    ? unrecorded
    : config.lastCheck

// ---------------------------------------------------------------------------------------------
// Storage health

type Finding = Bridge.DiagnosticsView["findings"][number]

export const severityLabel: Record<Finding["severity"], string> = { ok: "OK", warning: "Needs attention", error: "Problem" }

export const keyStateWords: Record<HealthContract.KeyCheck["state"], string> = {
  present: "Key is in the keychain",
  missing: "Key is missing from the keychain — edit this provider and enter the key again",
  elsewhere: "The stored key was entered for another address — edit this provider and enter the key again",
  "no-key": "Has no key (none needed)",
  unreadable: "Key could not be checked"
}

export const keyCheckNeedsAttention = (state: HealthContract.KeyCheck["state"]) =>
  state === "missing" || state === "elsewhere" || state === "unreadable"

export const healthHeadline = (report: Bridge.DiagnosticsView | undefined) => {
  if (report === undefined) return "Checking storage…"
  const problems = report.findings.filter((finding) => finding.severity !== "ok").length
  return problems === 0 ? "Everything looks right." : `${Plural.count(problems, "thing needs", "things need")} attention.`
}

export const storageSummary = (report: Bridge.DiagnosticsView) =>
  `API keys are kept in ${FindingWords.tierWords[report.tier]}. ${
    report.secure ? "They are encrypted by your system." : "They are not protected by your system."
  } ${report.persistent ? "They are kept when Fishbowl restarts." : "They are lost when Fishbowl quits."}`

export type RecoveryReport = Extract<Awaited<ReturnType<IpcContract.LlmConfigsBridge["recover"]>>, { readonly ok: true }>["value"]
export type BroughtBack = Extract<Awaited<ReturnType<IpcContract.LlmConfigsBridge["bringBack"]>>, { readonly ok: true }>["value"]

export const recoveryMessage = (report: RecoveryReport) => {
  const finished = report.rolledForward.length + report.rolledBack.length
  const elsewhere = report.left.filter((entry) => entry.why !== "settling").length
  const settling = report.left.length - elsewhere
  const running = (elsewhere > 0
    ? ` ${Plural.count(elsewhere, "change is", "changes are")} still in progress in another Fishbowl window or command and ${
      elsewhere === 1 ? "finishes" : "finish"
    } there.`
    : "") +
    (settling > 0
      ? ` ${
        Plural.count(settling, "change waits", "changes wait")
      } for the keychain to finish saving a key; choose "Finish interrupted changes" again in a minute.`
      : "")
  return (report.failed.length > 0
    ? `${Plural.count(report.failed.length, "change", "changes")} could not be finished yet`
    : finished === 0
    ? "Nothing was left to finish"
    : `Finished ${Plural.count(finished, "interrupted change", "interrupted changes")}`) + (running === "" ? "" : `.${running}`)
}

export const broughtBackMessage = (results: BroughtBack) => {
  const back = results.filter((result) => result.outcome === "brought-back").length
  const not = results.filter((result) => result.outcome === "not-brought-back").length
  return back === 0
    ? "Nothing could be brought back: their keys are no longer in the keychain or they have none"
    : `Brought back ${Plural.count(back, "configuration", "configurations")}` +
      (not > 0 ? `; ${not} could not be (no key left in the keychain)` : "")
}

export const keyChecksMessage = (checks: ReadonlyArray<HealthContract.KeyCheck>) => {
  const missing = checks.filter((check) => check.state === "missing" || check.state === "elsewhere").length
  return missing === 0 ? "Every stored key is in the keychain" : `${Plural.count(missing, "key needs", "keys need")} entering again`
}

/** A key's destination for people: the base URL, or the provider's default. */
const destinationWords = (destination: { readonly provider: string; readonly baseUrl?: string | undefined }) =>
  destination.baseUrl ?? `the ${destination.provider} default`

/** What restoring `backup` would change, in one sentence. */
export const backupSummary = (backup: HealthContract.BackupInfo) => {
  if (!backup.usable) return "This backup is damaged and cannot be restored."
  const changes = [
    backup.added.length > 0 ? `brings back ${backup.added.join(", ")}` : undefined,
    backup.removed.length > 0
      ? `leaves out ${backup.removed.join(", ")} (${
        backup.removed.length === 1 ? "its key stays" : "their keys stay"
      } in the keychain, and "Bring back" returns ${backup.removed.length === 1 ? "it" : "them"})`
      : undefined,
    ...backup.changed.map((change) =>
      `changes where ${change.name} connects, ${destinationWords(change.from)} → ${
        destinationWords(change.to)
      } (you will enter its key again)`
    )
  ].filter((part): part is string => part !== undefined)
  const copies = backup.olderCopies === 0
    ? ""
    : ` ${Plural.count(backup.olderCopies, "older backup holds", "older backups hold")} the same settings.`
  return `${Plural.count(backup.configNames.length, "provider", "providers")}. ${
    changes.length === 0 ? "Same providers as now." : `Restoring ${changes.join("; ")}.`
  }${copies}`
}
