/**
 * The Storage health panel: what `diagnose` reports, rendered generically (every finding the
 * platform returns is shown with its severity, what was found and the fix), plus the actions the
 * app can take itself: unlock, test the keychain again, check that every key is really there,
 * finish interrupted changes, restore a backup (seeing what it changes first) and show the data
 * folder. Precise internal names (keychain entries, backends, finding ids) appear only under
 * "Technical details".
 */
import type { HealthContract } from "@fishbowl/domain"
import * as Bridge from "./Bridge.ts"
import * as ConfigForm from "./ConfigForm.ts"
import * as Dom from "./Dom.ts"
import * as Messages from "./Messages.ts"

export interface HealthPanelHooks {
  /** Refreshes the rest of the page after an action changed the store. */
  readonly refresh: () => Promise<void>
  readonly announce: (text: string) => void
}

type Finding = Bridge.DiagnosticsView["findings"][number]

const severityLabel: Record<Finding["severity"], string> = { ok: "OK", warning: "Needs attention", error: "Problem" }

const tierWords: Record<Bridge.DiagnosticsView["tier"], string> = {
  keychain: "your system keychain",
  "encrypted-file": "an encrypted file in the data folder",
  session: "memory only"
}

const keyStateWords: Record<HealthContract.KeyCheck["state"], string> = {
  present: "Key is in the keychain",
  missing: "Key is missing from the keychain — edit this provider and enter the key again",
  elsewhere: "The stored key was entered for another address — edit this provider and enter the key again",
  "no-key": "Has no key (none needed)",
  unreadable: "Key could not be checked"
}

const formatDate = (iso: string) => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })
}

/** A key's destination for people: the base URL, or the provider's default. */
const destinationWords = (destination: { readonly provider: string; readonly baseUrl?: string | undefined }) =>
  destination.baseUrl ?? `the ${destination.provider} default`

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`

export class HealthPanel {
  private report: Bridge.DiagnosticsView | undefined
  private status: Bridge.StoreStatusView | undefined
  private backups: ReadonlyArray<HealthContract.BackupInfo> = []
  private keyChecks: ReadonlyArray<HealthContract.KeyCheck> | undefined
  private lastError: Bridge.WireError | undefined
  private confirming: string | undefined

  constructor(private readonly hooks: HealthPanelHooks) {}

  private get root() {
    return Dom.byId("health-body")
  }

  /** Reads the report (and backups) again; `probe` also writes, reads and deletes a test entry. */
  async load(options?: { readonly probe?: boolean }) {
    const [report, backups] = await Promise.all([
      Bridge.invokePatiently((api) => api.diagnose({ probe: options?.probe === true }), (waiting) => this.setWaiting(waiting), {
        retry: options?.probe !== true
      }),
      Bridge.invoke((api) => api.backups())
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
  setStatus(status: Bridge.StoreStatusView) {
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
    Dom.byId("health-busy").textContent = waiting ? Messages.WAITING_FOR_KEYCHAIN : ""
  }

  /** A button that shows it is busy while `action` runs. */
  private actionButton(label: string, busyLabel: string, action: () => Promise<void>, extra: Readonly<Record<string, string>> = {}) {
    const button = Dom.h("button", { type: "button", class: "button small", ...extra }, label)
    button.addEventListener(
      "click",
      Dom.background(async () => {
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
    )
    return button
  }

  /** Runs a store-changing call; shows a real failure once, next to the panel's actions. */
  private async act<A>(call: Parameters<typeof Bridge.invokePatiently<A>>[0], done: (value: A) => string) {
    const result: Bridge.Outcome<A> = await Bridge.invokePatiently(call, (waiting) => this.setWaiting(waiting))
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
      const running = report.left.length > 0
        ? ` ${plural(report.left.length, "change is", "changes are")} still in progress in another Fishbowl window or command and ${
          report.left.length === 1 ? "finishes" : "finish"
        } there.`
        : ""
      return (report.failed.length > 0
        ? `${plural(report.failed.length, "change", "changes")} could not be finished yet`
        : finished === 0
        ? "Nothing was left to finish"
        : `Finished ${plural(finished, "interrupted change", "interrupted changes")}`) + (running === "" ? "" : `.${running}`)
    })
  private bringBack = () =>
    this.act((api) => api.bringBack(), (results) => {
      const back = results.filter((result) => result.outcome === "brought-back").length
      const not = results.filter((result) => result.outcome === "not-brought-back").length
      return back === 0
        ? "Nothing could be brought back: their keys are no longer in the keychain or they have none"
        : `Brought back ${plural(back, "configuration", "configurations")}` +
          (not > 0 ? `; ${not} could not be (no key left in the keychain)` : "")
    })
  private openFolder = (file?: string) =>
    this.act((api) => api.openFolder(file === undefined ? {} : { file }), () => "Opened in your file manager")

  private checkKeys = async () => {
    const result = await Bridge.invokePatiently((api) => api.checkKeys(), (waiting) => this.setWaiting(waiting))
    if (result.ok) {
      this.keyChecks = result.value
      const missing = result.value.filter((check) => check.state === "missing" || check.state === "elsewhere").length
      this.hooks.announce(
        missing === 0 ? "Every stored key is in the keychain" : `${plural(missing, "key needs", "keys need")} entering again`
      )
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
    if (finding.id === "restore.left-out") return this.actionButton("Bring back", "Bringing back…", this.bringBack)
    if (finding.id === "secrets.probe" || finding.id.startsWith("keychain.")) {
      return this.actionButton("Test again", "Testing…", () => this.load({ probe: true }))
    }
    return undefined
  }

  private renderFinding(finding: Finding) {
    return Dom.h(
      "li",
      { class: `finding finding-${finding.severity}`, "data-finding": finding.id },
      Dom.h("span", { class: `severity severity-${finding.severity}` }, severityLabel[finding.severity]),
      Dom.h(
        "div",
        { class: "finding-body" },
        Dom.h("p", { class: "finding-title" }, finding.message),
        finding.hint !== undefined &&
          Dom.h("p", { class: "finding-fix" }, Dom.h("span", { class: "visually-label" }, "Fix: "), finding.hint)
      ),
      this.findingAction(finding)
    )
  }

  private renderBackup(backup: HealthContract.BackupInfo) {
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
    const summary = !backup.usable
      ? "This backup is damaged and cannot be restored."
      : `${plural(backup.configNames.length, "provider", "providers")}. ${
        changes.length === 0 ? "Same providers as now." : `Restoring ${changes.join("; ")}.`
      }`
    const item = Dom.h(
      "li",
      { class: "backup", "data-backup": backup.name },
      Dom.h(
        "div",
        { class: "finding-body" },
        Dom.h("p", { class: "finding-title" }, `Saved ${formatDate(backup.modifiedAt)}`),
        Dom.h("p", { class: "muted" }, summary)
      )
    )
    if (!backup.usable) return item
    if (this.confirming === backup.name) {
      const restore = this.actionButton("Restore", "Restoring…", async () => {
        this.confirming = undefined
        await this.act((api) => api.restoreBackup({ name: backup.name }), () => "Backup restored")
      }, { class: "button small danger" })
      const cancel = Dom.h("button", { type: "button", class: "button small ghost" }, "Cancel")
      cancel.addEventListener("click", () => {
        this.confirming = undefined
        this.render()
        this.root.querySelector<HTMLElement>(`[data-backup="${backup.name}"] button`)?.focus()
      })
      const group = Dom.h(
        "div",
        { class: "row-actions", role: "group", "aria-label": `Confirm restoring the backup saved ${formatDate(backup.modifiedAt)}` },
        Dom.h("span", {}, "Replace the current settings with this backup? The current ones are kept beside it, and no key is deleted."),
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
    const ask = Dom.h("button", {
      type: "button",
      class: "button small",
      "aria-label": `Restore this backup, saved ${formatDate(backup.modifiedAt)}`
    }, "Restore this backup")
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
    Dom.replaceChildren(
      this.root,
      Dom.h("p", { class: "health-headline" }, headline),
      report !== undefined && Dom.h(
        "p",
        { class: "muted" },
        `API keys are kept in ${tierWords[report.tier]}. ${
          report.secure ? "They are encrypted by your system." : "They are not protected by your system."
        } ${report.persistent ? "They are kept when Fishbowl restarts." : "They are lost when Fishbowl quits."}`
      ),
      this.lastError !== undefined &&
        Dom.h(
          "div",
          { class: "form-error", id: "health-error", tabindex: "-1", "aria-live": "polite" },
          ConfigForm.errorText(this.lastError)
        ),
      problems.length > 0 &&
        Dom.h("ul", { class: "findings", "aria-label": "Needs attention" }, problems.map((finding) => this.renderFinding(finding))),
      Dom.h(
        "div",
        { class: "row-actions health-actions" },
        this.actionButton("Check again", "Checking…", () => this.load()),
        this.actionButton("Test keychain access", "Testing…", () => this.load({ probe: true })),
        this.actionButton("Check stored keys", "Checking keys…", this.checkKeys),
        this.actionButton("Open data folder", "Opening…", () => this.openFolder())
      ),
      this.keyChecks !== undefined && Dom.h(
        "div",
        { class: "health-group" },
        Dom.h("h3", {}, "Stored keys"),
        this.keyChecks.length === 0
          ? Dom.h("p", { class: "muted" }, "No providers yet.")
          : Dom.h(
            "ul",
            { class: "findings", "aria-label": "Stored keys" },
            this.keyChecks.map((check) =>
              Dom.h(
                "li",
                {
                  class: `finding finding-${
                    check.state === "missing" || check.state === "elsewhere" || check.state === "unreadable" ? "warning" : "ok"
                  }`,
                  "data-key-check": check.state
                },
                Dom.h("span", {
                  class: `severity severity-${
                    check.state === "missing" || check.state === "elsewhere" || check.state === "unreadable" ? "warning" : "ok"
                  }`
                }, check.state === "present" || check.state === "no-key" ? "OK" : "Needs attention"),
                Dom.h(
                  "div",
                  { class: "finding-body" },
                  Dom.h("p", { class: "finding-title" }, check.name),
                  Dom.h("p", { class: "muted" }, keyStateWords[check.state])
                )
              )
            )
          )
      ),
      Dom.h(
        "div",
        { class: "health-group" },
        Dom.h("h3", { id: "health-backups-heading", tabindex: "-1" }, "Backups of your settings"),
        this.backups.length === 0
          ? Dom.h("p", { class: "muted" }, "No backups yet. Fishbowl keeps the last 3 versions of your settings as you change them.")
          : Dom.h(
            "ul",
            { class: "findings", "aria-labelledby": "health-backups-heading" },
            this.backups.map((backup) => this.renderBackup(backup))
          )
      ),
      fine.length > 0 && Dom.h(
        "div",
        { class: "health-group" },
        Dom.h("h3", {}, "Working as expected"),
        Dom.h(
          "ul",
          { class: "findings findings-ok", "aria-label": "Working as expected" },
          fine.map((finding) => this.renderFinding(finding))
        )
      ),
      Dom.h(
        "details",
        { class: "tech-details" },
        Dom.h("summary", {}, "Technical details"),
        Dom.h(
          "dl",
          {},
          report !== undefined && [
            Dom.h("dt", {}, "Backend"),
            Dom.h("dd", {}, `${report.backend} (tier ${report.tier})`),
            Dom.h("dt", {}, "Data folder"),
            Dom.h("dd", {}, report.dataDir)
          ],
          status !== undefined && [
            Dom.h("dt", {}, "Key storage"),
            Dom.h("dd", {}, status.secretStore.detail),
            ...(status.secretStore.warning !== undefined ? [Dom.h("dt", {}, "Warning"), Dom.h("dd", {}, status.secretStore.warning)] : []),
            Dom.h("dt", {}, "Settings file"),
            Dom.h("dd", {}, status.preferencesLocation),
            Dom.h("dt", {}, "Interrupted changes"),
            Dom.h("dd", {}, String(status.pendingIntents))
          ],
          report?.findings.flatMap((finding) => [Dom.h("dt", {}, finding.id), Dom.h("dd", {}, finding.message)]),
          this.lastError !== undefined && [Dom.h("dt", {}, `Last error (${this.lastError._tag})`), Dom.h("dd", {}, this.lastError.message)]
        )
      )
    )
  }
}
