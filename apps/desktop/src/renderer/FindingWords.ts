/**
 * The page's words for every diagnostics finding, by its stable id (Diagnostics.FindingId): a
 * title, the fix in the page's own terms (naming its buttons) and the button that does it. The
 * compiler demands an entry per id, including those only `fishbowl-llm doctor` reports. A
 * platform's message and hint (paths, file names, backends, shell commands) are shown only under
 * Technical details; nothing here reads them.
 */
import type { Diagnostics } from "@fishbowl/domain"
import type * as Bridge from "./Bridge.ts"

type Finding = Bridge.DiagnosticsView["findings"][number]
type Tier = Bridge.DiagnosticsView["tier"]

/** What the page can do about a finding itself: each is one of the panel's buttons. */
export type FindingAction = "unlock" | "finish" | "open-folder" | "bring-back" | "probe"

export interface FindingWords {
  readonly title: string
  /** What to do, in the page's terms; none when nothing needs doing. */
  readonly fix?: string
  readonly action?: FindingAction
}

/** Where keys are, in the page's words (the health summary uses them too). */
export const tierWords: Record<Tier, string> = {
  keychain: "your system keychain",
  "encrypted-file": "an encrypted file in the data folder",
  session: "memory only"
}

/** What to do when the tier's finding is not ok: the keychain cannot be reached now, or keys are not in it. */
const tierFix: Record<Tier, string> = {
  keychain: "Your system keychain cannot be reached right now. Start it (sign in to a desktop session), then choose \"Test again\".",
  "encrypted-file":
    "Your system keychain protects keys better than a file. Make it available (sign in to a desktop session), then choose \"Test again\".",
  session: "Keys entered now are forgotten when Fishbowl quits. Make your system keychain available, then choose \"Test again\"."
}

const okOr = (finding: Finding, fine: string, problem: FindingWords): FindingWords => finding.severity === "ok" ? { title: fine } : problem

const technical = "The exact location and command are under Technical details."

/** The fix for a finding about one provider's key that the report does not name. */
const findTheKey = "Choose \"Check stored keys\" to see which, then edit that provider and enter its key again."

const words: Record<Diagnostics.FindingId, (finding: Finding, report: Bridge.DiagnosticsView) => FindingWords> = {
  "secrets.tier": (finding, report) => {
    const reported = (id: Diagnostics.FindingId, severity?: Finding["severity"]) =>
      report.findings.some((other) => other.id === id && (severity === undefined || other.severity === severity))
    if (finding.severity === "ok") return { title: `Keys are kept in ${tierWords[report.tier]}` }
    // A locked keychain has its own finding with the fix ("Unlock keychain"); this one only says where keys are.
    if (report.tier === "keychain" && reported("keychain.locked")) {
      return { title: "Keys are kept in your system keychain, which is locked now" }
    }
    // Reachable, but its lock state cannot be read (Linux): saving tells.
    if (report.tier === "keychain" && reported("keychain.reachable", "ok")) {
      return {
        title: "Keys are kept in your system keychain",
        fix: "Fishbowl cannot tell whether it is locked; if saving a key fails, unlock it and choose \"Test again\".",
        action: "probe"
      }
    }
    return { title: `Keys are kept in ${tierWords[report.tier]}`, fix: tierFix[report.tier], action: "probe" }
  },
  "keychain.locked": () => ({
    title: "Your keychain is locked",
    fix: "Choose \"Unlock keychain\": keys can be neither saved nor read until it is unlocked.",
    action: "unlock"
  }),
  "keys.locked": () => ({
    title: "Keys could not be checked while the keychain is locked",
    fix: "Choose \"Unlock keychain\", then \"Check stored keys\".",
    action: "unlock"
  }),
  "keychain.reachable": (finding) =>
    okOr(finding, "Your system keychain is reachable and unlocked", {
      title: "Your system keychain cannot be reached",
      fix: "Make sure your system's keychain is installed and running (sign in to a desktop session), then choose \"Test again\".",
      action: "probe"
    }),
  "secrets.probe": (finding) =>
    okOr(finding, "Saving, reading and deleting a test key worked", {
      title: "Fishbowl could not save and read back a test key",
      fix: "Unlock or start your system keychain, then choose \"Test again\".",
      action: "probe"
    }),
  "data-dir.exists": () => ({ title: "Your data folder is created when you first save a provider" }),
  "data-dir.type": () => ({
    title: "Something that is not a folder has the data folder's name",
    fix: `Move it aside; Fishbowl then creates the folder. ${technical}`
  }),
  "data-dir.trust": () => ({
    title: "Fishbowl does not trust its data folder",
    fix: `It must be a folder of your own account, not a link. ${technical}`
  }),
  "data-dir.mode": (finding) =>
    okOr(finding, "Your data folder is private", {
      title: "Other users of this computer can look into your data folder",
      fix: `Make it private to your account. ${technical}`
    }),
  "preferences.trust": () => ({
    title: "Fishbowl does not trust its settings file",
    fix: `It must be a regular file of your own account, not a link. ${technical}`
  }),
  "preferences.mode": (finding) =>
    okOr(finding, "Your settings file is readable only by you", {
      title: "Other users of this computer can read your settings file",
      fix: `It holds no keys, but it names your providers; make it readable only by you. ${technical}`
    }),
  "preferences.type": () => ({
    title: "Your settings file is not a regular file",
    fix: `Move it aside; Fishbowl then starts from the newest good backup. ${technical}`
  }),
  "preferences.parse": (finding) =>
    okOr(finding, "Your settings file is valid", {
      title: "Your settings file cannot be read",
      fix: "Restore one of the backups below."
    }),
  "preferences.backups": () => ({ title: "Backups of your settings are kept as you change them" }),
  "preferences.journal": () => ({
    title: "Some changes are not finished yet",
    fix:
      "A change in progress in another Fishbowl window finishes on its own; for one that was interrupted, choose \"Finish interrupted changes\".",
    action: "finish"
  }),
  "preferences.quarantine": () => ({
    title: "Damaged copies of your settings file were set aside",
    fix: "Fishbowl no longer needs them; delete them from the data folder once you have looked at them.",
    action: "open-folder"
  }),
  "journal.fix": (finding) =>
    okOr(finding, "Interrupted changes were finished", {
      title: "Some interrupted changes could not be finished",
      fix: "Choose \"Finish interrupted changes\" again.",
      action: "finish"
    }),
  "journal.running": () => ({
    title: "A change is still in progress in another Fishbowl window or command",
    fix: "It finishes on its own."
  }),
  "journal.settling": () => ({
    title: "A change waits for the keychain to finish saving a key",
    fix: "Choose \"Finish interrupted changes\" again in a minute: the change is then finished or undone.",
    action: "finish"
  }),
  "journal.unknown-owner": () => ({
    title: "A change was started by a program Fishbowl cannot check",
    fix: "If no other Fishbowl window or command is running, choose \"Finish interrupted changes\".",
    action: "finish"
  }),
  "keys.missing": () => ({
    title: "A provider's key is missing from the keychain",
    fix: findTheKey
  }),
  "keys.elsewhere": () => ({
    title: "A stored key was entered for a different address",
    fix: findTheKey
  }),
  "keys.present": () => ({ title: "Every stored key is in the keychain" }),
  "keys.unreadable": () => ({
    title: "A stored key could not be read",
    fix: "Unlock your keychain, then choose \"Check stored keys\"."
  }),
  "legacy.fishbowl-data": () => ({
    title: "Providers from an earlier Fishbowl are not imported yet",
    fix: "Restart Fishbowl to import them; nothing is lost until then."
  }),
  "legacy.key-files-unchecked": () => ({
    title: "Fishbowl could not check the data folder for files holding API keys",
    fix: "Check that the data folder belongs to you, then choose \"Check again\"."
  }),
  "legacy.key-files": (finding) =>
    okOr(finding, "No file in the data folder holds an API key", {
      title: "Some files in the data folder still hold API keys outside the keychain",
      fix: `Restart Fishbowl to move the keys into the keychain and out of those files. ${technical}`,
      action: "open-folder"
    }),
  "restore.left-out": () => ({
    title: "Some providers were left out when settings were restored",
    fix: "Choose \"Bring back\" to return each one whose key is still in your keychain.",
    action: "bring-back"
  }),
  "restore.brought-back": () => ({ title: "Providers left out by a restore were brought back" }),
  "restore.not-brought-back": () => ({
    title: "Some left-out providers could not be brought back",
    fix: "Their keys are no longer in the keychain; add them again."
  }),
  "restore.bring-back": () => ({
    title: "Bringing back left-out providers failed",
    fix: "Choose \"Bring back\" again.",
    action: "bring-back"
  }),
  "diagnostics": () => ({ title: "The health check could not finish", fix: "Choose \"Check again\"." })
}

/** The page's words for a finding; an `ok` finding never offers a fix or an action. */
export const findingWords = (finding: Finding, report: Bridge.DiagnosticsView): FindingWords => {
  const chosen = words[finding.id](finding, report)
  return finding.severity === "ok" ? { title: chosen.title } : chosen
}
