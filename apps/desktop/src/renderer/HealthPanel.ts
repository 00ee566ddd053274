/**
 * The Storage health panel: what `diagnose` reports, rendered generically (every finding the
 * platform returns is shown with its severity, what was found and the fix), plus the actions the
 * app can take itself: unlock, test the keychain again, check that every key is really there,
 * finish interrupted changes, restore a backup (seeing what it changes first) and show the data
 * folder. Precise internal names (keychain entries, backends, finding ids) appear only under
 * "Technical details".
 */
import type { BackupInfo, KeyCheck } from "@fishbowl/domain"
import { type DiagnosticsView, invoke, invokePatiently, type Outcome, type StoreStatusView, type WireError } from "./Bridge.ts"
import { errorText } from "./ConfigForm.ts"
import { byId, h, replaceChildren } from "./Dom.ts"
import { WAITING_FOR_KEYCHAIN } from "./Messages.ts"

export interface HealthPanelHooks {
  /** Refreshes the rest of the page after an action changed the store. */
  readonly refresh: () => Promise<void>
  readonly announce: (text: string) => void
}

type Finding = DiagnosticsView["findings"][number]

const severityLabel: Record<Finding["severity"], string> = { ok: "OK", warning: "Needs attention", error: "Problem" }

const tierWords: Record<DiagnosticsView["tier"], string> = {
  keychain: "your system keychain",
  "encrypted-file": "an encrypted file in the data folder",
  session: "memory only"
}

const keyStateWords: Record<KeyCheck["state"], string> = {
  present: "Key is in the keychain",
  missing: "Key is missing from the keychain — edit this provider and enter the key again",
  "no-key": "Has no key (none needed)",
  unreadable: "Key could not be checked"
}

const formatDate = (iso: string) => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`

export class HealthPanel {
  private report: DiagnosticsView | undefined
  private status: StoreStatusView | undefined
  private backups: ReadonlyArray<BackupInfo> = []
  private keyChecks: ReadonlyArray<KeyCheck> | undefined
  private lastError: WireError | undefined
  private confirming: string | undefined

  constructor(private readonly hooks: HealthPanelHooks) {}

  private get root() {
    return byId("health-body")
  }

  /** Reads the report (and backups) again; `probe` also writes, reads and deletes a test entry. */
  async load(options?: { readonly probe?: boolean }) {
    const [report, backups] = await Promise.all([
      invokePatiently((api) => api.diagnose({ probe: options?.probe === true }), (waiting) => this.setWaiting(waiting), { retry: options?.probe !== true }),
      invoke((api) => api.backups())
    ])
    if (report.ok) {
      this.report = report.value
      this.lastError = undefined
    } else {
      this.lastError = report.error
    }
    this.backups = backups.ok ? backups.value : []
    this.render()
  }

  /** The store's status feeds the technical details; re-rendered only when it changed. */
  setStatus(status: StoreStatusView) {
    const changed = JSON.stringify(status) !== JSON.stringify(this.status)
    this.status = status
    if (changed && this.report !== undefined && !this.root.contains(document.activeElement)) this.render()
  }

  /** Focuses the backups list (from a restore notice). */
  focusBackups() {
    const target = this.root.querySelector<HTMLElement>("#health-backups-heading")
    target?.scrollIntoView({ block: "start" })
    target?.focus()
  }

  private setWaiting(waiting: boolean) {
    byId("health-busy").textContent = waiting ? WAITING_FOR_KEYCHAIN : ""
  }

  /** A button that shows it is busy while `action` runs. */
  private actionButton(label: string, busyLabel: string, action: () => Promise<void>, extra: Readonly<Record<string, string>> = {}) {
    const button = h("button", { type: "button", class: "button small", ...extra }, label)
    button.addEventListener("click", async () => {
      button.disabled = true
      button.textContent = busyLabel
      button.setAttribute("aria-busy", "true")
      try {
        await action()
      } finally {
        if (button.isConnected) {
          button.disabled = false
          button.textContent = label
          button.removeAttribute("aria-busy")
        }
      }
    })
    return button
  }

  /** Runs a store-changing call; shows a real failure once, next to the panel's actions. */
  private async act<A>(call: Parameters<typeof invokePatiently<A>>[0], done: (value: A) => string) {
    const result: Outcome<A> = await invokePatiently(call, (waiting) => this.setWaiting(waiting))
    if (result.ok) {
      this.hooks.announce(done(result.value))
      this.lastError = undefined
      await this.hooks.refresh()
      await this.load()
      return
    }
    this.lastError = result.error
    this.render()
    this.root.querySelector<HTMLElement>("#health-error")?.focus()
  }

  private unlock = () => this.act((api) => api.authorize(), () => "Keychain unlocked")
  private finishChanges = () =>
    this.act((api) => api.recover(), (report) => {
      const finished = report.rolledForward.length + report.rolledBack.length
      return report.failed.length > 0
        ? `${plural(report.failed.length, "change", "changes")} could not be finished yet`
        : finished === 0
        ? "Nothing was left to finish"
        : `Finished ${plural(finished, "interrupted change", "interrupted changes")}`
    })
  private openFolder = (file?: string) =>
    this.act((api) => api.openFolder(file === undefined ? {} : { file }), () => "Opened in your file manager")

  private checkKeys = async () => {
    const result = await invokePatiently((api) => api.checkKeys(), (waiting) => this.setWaiting(waiting))
    if (result.ok) {
      this.keyChecks = result.value
      const missing = result.value.filter((check) => check.state === "missing").length
      this.hooks.announce(missing === 0 ? "Every stored key is in the keychain" : `${plural(missing, "key is", "keys are")} missing`)
    } else {
      this.lastError = result.error
    }
    this.render()
  }

  /** The action the app can take for a finding, by its stable id; none for the rest. */
  private findingAction(finding: Finding): HTMLElement | undefined {
    if (finding.severity === "ok") return undefined
    if (finding.id === "keychain.locked") return this.actionButton("Unlock keychain", "Unlocking…", this.unlock)
    if (finding.id === "preferences.journal") return this.actionButton("Finish interrupted changes", "Finishing…", this.finishChanges)
    if (finding.id === "preferences.quarantine") return this.actionButton("Open data folder", "Opening…", () => this.openFolder())
    if (finding.id === "secrets.probe" || finding.id.startsWith("keychain.")) {
      return this.actionButton("Test again", "Testing…", () => this.load({ probe: true }))
    }
    return undefined
  }

  private renderFinding(finding: Finding) {
    return h(
      "li",
      { class: `finding finding-${finding.severity}`, "data-finding": finding.id },
      h("span", { class: `severity severity-${finding.severity}` }, severityLabel[finding.severity]),
      h(
        "div",
        { class: "finding-body" },
        h("p", { class: "finding-title" }, finding.message),
        finding.hint !== undefined && h("p", { class: "finding-fix" }, h("span", { class: "visually-label" }, "Fix: "), finding.hint)
      ),
      this.findingAction(finding)
    )
  }

  private renderBackup(backup: BackupInfo) {
    const changes = [
      backup.added.length > 0 ? `brings back ${backup.added.join(", ")}` : undefined,
      backup.removed.length > 0
        ? `removes ${backup.removed.join(", ")} (${backup.removed.length === 1 ? "its key stays" : "their keys stay"} in the keychain)`
        : undefined
    ].filter((part): part is string => part !== undefined)
    const summary = !backup.usable
      ? "This backup is damaged and cannot be restored."
      : `${plural(backup.configNames.length, "provider", "providers")}. ${changes.length === 0 ? "Same providers as now." : `Restoring ${changes.join("; ")}.`}`
    const item = h(
      "li",
      { class: "backup", "data-backup": backup.name },
      h("div", { class: "finding-body" }, h("p", { class: "finding-title" }, `Saved ${formatDate(backup.modifiedAt)}`), h("p", { class: "muted" }, summary))
    )
    if (!backup.usable) return item
    if (this.confirming === backup.name) {
      const restore = this.actionButton("Restore", "Restoring…", async () => {
        this.confirming = undefined
        await this.act((api) => api.restoreBackup({ name: backup.name }), () => "Backup restored")
      }, { class: "button small danger" })
      const cancel = h("button", { type: "button", class: "button small ghost" }, "Cancel")
      cancel.addEventListener("click", () => {
        this.confirming = undefined
        this.render()
        this.root.querySelector<HTMLElement>(`[data-backup="${backup.name}"] button`)?.focus()
      })
      const group = h(
        "div",
        { class: "row-actions", role: "group", "aria-label": `Confirm restoring the backup saved ${formatDate(backup.modifiedAt)}` },
        h("span", {}, "Replace the current settings with this backup? The current ones become a backup too."),
        restore,
        cancel
      )
      group.addEventListener("keydown", (event) => {
        if (event.key === "Escape") cancel.click()
      })
      item.append(group)
      window.setTimeout(() => cancel.focus(), 0)
      return item
    }
    const ask = h("button", { type: "button", class: "button small", "aria-label": `Restore this backup, saved ${formatDate(backup.modifiedAt)}` }, "Restore this backup")
    ask.addEventListener("click", () => {
      this.confirming = backup.name
      this.render()
    })
    item.append(ask)
    return item
  }

  render() {
    const report = this.report
    const status = this.status
    const problems = report?.findings.filter((finding) => finding.severity !== "ok") ?? []
    const fine = report?.findings.filter((finding) => finding.severity === "ok") ?? []
    const headline = report === undefined
      ? "Checking storage…"
      : problems.length === 0
      ? "Everything looks right."
      : `${plural(problems.length, "thing needs", "things need")} attention.`
    replaceChildren(
      this.root,
      h("p", { class: "health-headline" }, headline),
      report !== undefined && h(
        "p",
        { class: "muted" },
        `API keys are kept in ${tierWords[report.tier]}. ${report.secure ? "They are encrypted by your system." : "They are not protected by your system."} ${
          report.persistent ? "They are kept when Fishbowl restarts." : "They are lost when Fishbowl quits."
        }`
      ),
      this.lastError !== undefined && h("div", { class: "form-error", id: "health-error", tabindex: "-1", "aria-live": "polite" }, errorText(this.lastError)),
      problems.length > 0 && h("ul", { class: "findings", "aria-label": "Needs attention" }, problems.map((finding) => this.renderFinding(finding))),
      h(
        "div",
        { class: "row-actions health-actions" },
        this.actionButton("Check again", "Checking…", () => this.load()),
        this.actionButton("Test keychain access", "Testing…", () => this.load({ probe: true })),
        this.actionButton("Check stored keys", "Checking keys…", this.checkKeys),
        this.actionButton("Open data folder", "Opening…", () => this.openFolder())
      ),
      this.keyChecks !== undefined && h(
        "div",
        { class: "health-group" },
        h("h3", {}, "Stored keys"),
        this.keyChecks.length === 0
          ? h("p", { class: "muted" }, "No providers yet.")
          : h(
            "ul",
            { class: "findings", "aria-label": "Stored keys" },
            this.keyChecks.map((check) =>
              h(
                "li",
                { class: `finding finding-${check.state === "missing" || check.state === "unreadable" ? "warning" : "ok"}`, "data-key-check": check.state },
                h("span", { class: `severity severity-${check.state === "missing" || check.state === "unreadable" ? "warning" : "ok"}` }, check.state === "present" || check.state === "no-key" ? "OK" : "Needs attention"),
                h("div", { class: "finding-body" }, h("p", { class: "finding-title" }, check.name), h("p", { class: "muted" }, keyStateWords[check.state]))
              )
            )
          )
      ),
      h(
        "div",
        { class: "health-group" },
        h("h3", { id: "health-backups-heading", tabindex: "-1" }, "Backups of your settings"),
        this.backups.length === 0
          ? h("p", { class: "muted" }, "No backups yet. Fishbowl keeps the last 3 versions of your settings as you change them.")
          : h("ul", { class: "findings", "aria-labelledby": "health-backups-heading" }, this.backups.map((backup) => this.renderBackup(backup)))
      ),
      fine.length > 0 && h(
        "div",
        { class: "health-group" },
        h("h3", {}, "Working as expected"),
        h("ul", { class: "findings findings-ok", "aria-label": "Working as expected" }, fine.map((finding) => this.renderFinding(finding)))
      ),
      h(
        "details",
        { class: "tech-details" },
        h("summary", {}, "Technical details"),
        h(
          "dl",
          {},
          report !== undefined && [
            h("dt", {}, "Backend"),
            h("dd", {}, `${report.backend} (tier ${report.tier})`),
            h("dt", {}, "Data folder"),
            h("dd", {}, report.dataDir)
          ],
          status !== undefined && [
            h("dt", {}, "Key storage"),
            h("dd", {}, status.secretStore.detail),
            ...(status.secretStore.warning !== undefined ? [h("dt", {}, "Warning"), h("dd", {}, status.secretStore.warning)] : []),
            h("dt", {}, "Settings file"),
            h("dd", {}, status.preferencesLocation),
            h("dt", {}, "Interrupted changes"),
            h("dd", {}, String(status.pendingIntents))
          ],
          report?.findings.flatMap((finding) => [h("dt", {}, finding.id), h("dd", {}, finding.message)]),
          this.lastError !== undefined && [h("dt", {}, `Last error (${this.lastError._tag})`), h("dd", {}, this.lastError.message)]
        )
      )
    )
  }
}
