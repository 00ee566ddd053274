/**
 * The Storage health panel: what `diagnose` reports, rendered generically (every finding the
 * platform returns is shown with its severity, what was found and the fix), plus the actions the
 * app can take itself: unlock, test the keychain again, check that every key is really there,
 * finish interrupted changes, restore a backup (seeing what it changes first) and show the data
 * folder. Precise internal names (keychain entries, backends, finding ids) appear only under
 * "Technical details".
 */
import type { HealthContract } from "@fishbowl/domain"
import { Fragment } from "preact"
import type * as Bridge from "./Bridge.ts"
import { BusyButton, ErrorText } from "./Components.tsx"
import * as FindingWords from "./FindingWords.ts"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"
import * as ViewModel from "./ViewModel.ts"

type Finding = Bridge.DiagnosticsView["findings"][number]

const FindingButton = ({ action }: { readonly action: FindingWords.FindingAction | undefined }) => {
  const { actions } = Hooks.usePage()
  if (action === undefined) return null
  switch (action) {
    case "unlock":
      return <BusyButton class="button small" label="Unlock keychain" busyLabel="Unlocking…" action={actions.health.unlock} />
    case "finish":
      return (
        <BusyButton class="button small" label="Finish interrupted changes" busyLabel="Finishing…" action={actions.health.finishChanges} />
      )
    case "open-folder":
      return <BusyButton class="button small" label="Open data folder" busyLabel="Opening…" action={actions.health.openFolder} />
    case "bring-back":
      return <BusyButton class="button small" label="Bring back" busyLabel="Bringing back…" action={actions.health.bringBack} />
    case "probe":
      return <BusyButton class="button small" label="Test again" busyLabel="Testing…" action={actions.health.testKeychain} />
  }
}

const FindingItem = ({ finding, report }: { readonly finding: Finding; readonly report: Bridge.DiagnosticsView }) => {
  const words = FindingWords.findingWords(finding, report)
  return (
    <li class={`finding finding-${finding.severity}`} data-finding={finding.id}>
      <span class={`severity severity-${finding.severity}`}>{ViewModel.severityLabel[finding.severity]}</span>
      <div class="finding-body">
        <p class="finding-title">{words.title}</p>
        {words.fix !== undefined && (
          <p class="finding-fix">
            <span class="visually-label">Fix:</span> {words.fix}
          </p>
        )}
      </div>
      <FindingButton action={words.action} />
    </li>
  )
}

const BackupItem = ({ backup }: { readonly backup: HealthContract.BackupInfo }) => {
  const { actions, state } = Hooks.usePage()
  const askRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.backupButton(backup.name, "ask"))
  const cancelRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.backupButton(backup.name, "cancel"))
  const saved = ViewModel.formatDate(backup.modifiedAt, "medium")
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") actions.health.cancelRestore(backup.name)
  }
  return (
    <li class="backup" data-backup={backup.name}>
      <div class="finding-body">
        <p class="finding-title">{`Saved ${saved}`}</p>
        <p class="muted">{ViewModel.backupSummary(backup)}</p>
      </div>
      {backup.usable && state.health.confirming === backup.name && (
        <div class="row-actions" role="group" aria-label={`Confirm restoring the backup saved ${saved}`} onKeyDown={onKeyDown}>
          <span>Replace the current settings with this backup? The current ones are kept beside it, and no key is deleted.</span>
          <BusyButton
            class="button small danger"
            label="Restore"
            busyLabel="Restoring…"
            action={() =>
              actions.health.restore(backup.name)}
          />
          <button
            type="button"
            class="button small ghost"
            ref={cancelRef}
            onClick={() =>
              actions.health.cancelRestore(backup.name)}
          >
            Cancel
          </button>
        </div>
      )}
      {backup.usable && state.health.confirming !== backup.name && (
        <button
          type="button"
          class="button small"
          aria-label={`Restore this backup, saved ${saved}`}
          ref={askRef}
          onClick={() => actions.health.askRestore(backup.name)}
        >
          Restore this backup
        </button>
      )}
    </li>
  )
}

const Backups = ({ backups }: { readonly backups: ReadonlyArray<HealthContract.BackupInfo> }) => {
  const headingRef = Hooks.useFocusTarget<HTMLHeadingElement>(Store.FocusTargets.backupsHeading)
  return (
    <div class="health-group">
      <h3 id="health-backups-heading" tabindex={-1} ref={headingRef}>Backups of your settings</h3>
      {backups.length === 0
        ? (
          <p class="muted">
            No backups yet. Fishbowl keeps your settings as they were before your latest change, and two older versions about an hour apart.
          </p>
        )
        : (
          <ul class="findings" aria-labelledby="health-backups-heading">
            {backups.map((backup) => <BackupItem key={backup.name} backup={backup} />)}
          </ul>
        )}
    </div>
  )
}

const KeyChecks = ({ checks }: { readonly checks: ReadonlyArray<HealthContract.KeyCheck> }) => (
  <div class="health-group">
    <h3>Stored keys</h3>
    {checks.length === 0 ? <p class="muted">No providers yet.</p> : (
      <ul class="findings" aria-label="Stored keys">
        {checks.map((check) => {
          const tone = ViewModel.keyCheckNeedsAttention(check.state) ? "warning" : "ok"
          return (
            <li key={check.id} class={`finding finding-${tone}`} data-key-check={check.state}>
              <span class={`severity severity-${tone}`}>{tone === "ok" ? "OK" : "Needs attention"}</span>
              <div class="finding-body">
                <p class="finding-title">{check.name}</p>
                <p class="muted">{ViewModel.keyStateWords[check.state]}</p>
              </div>
            </li>
          )
        })}
      </ul>
    )}
  </div>
)

const Term = ({ name, value }: { readonly name: string; readonly value: string }) => (
  <>
    <dt>{name}</dt>
    <dd>{value}</dd>
  </>
)

/** Internal names, for whoever fixes the machine: backends, files, finding ids, the last error. */
const TechnicalDetails = () => {
  const { state } = Hooks.usePage()
  const { lastError, report } = state.health
  const { status } = state
  return (
    <details class="tech-details">
      <summary>Technical details</summary>
      <dl>
        {report !== undefined && <Term name="Backend" value={`${report.backend} (tier ${report.tier})`} />}
        {report !== undefined && <Term name="Data folder" value={report.dataDir} />}
        {status !== undefined && <Term name="Key storage" value={status.secretStore.detail} />}
        {status?.secretStore.warning !== undefined && <Term name="Warning" value={status.secretStore.warning} />}
        {status !== undefined && <Term name="Settings file" value={status.preferencesLocation} />}
        {status !== undefined && <Term name="Interrupted changes" value={String(status.pendingIntents)} />}
        {report?.findings.map((finding) => (
          <Fragment key={finding.id}>
            <Term name={finding.id} value={Messages.technicalText(finding)} />
          </Fragment>
        ))}
        {lastError !== undefined && <Term name={`Last error (${lastError._tag})`} value={Messages.technicalText(lastError)} />}
      </dl>
    </details>
  )
}

const HealthError = ({ error }: { readonly error: Bridge.WireError }) => {
  const ref = Hooks.useFocusTarget<HTMLDivElement>(Store.FocusTargets.healthError)
  return (
    <div class="form-error" id="health-error" tabindex={-1} aria-live="polite" ref={ref}>
      <ErrorText error={error} />
    </div>
  )
}

export const HealthPanel = () => {
  const { actions, state } = Hooks.usePage()
  const { backups, keyChecks, lastError, report } = state.health
  const problems = report?.findings.filter((finding) => finding.severity !== "ok") ?? []
  const fine = report?.findings.filter((finding) => finding.severity === "ok") ?? []
  return (
    <>
      <p class="health-headline">{ViewModel.healthHeadline(report)}</p>
      {report !== undefined && <p class="muted">{ViewModel.storageSummary(report)}</p>}
      {lastError !== undefined && <HealthError error={lastError} />}
      {report !== undefined && problems.length > 0 && (
        <ul class="findings" aria-label="Needs attention">
          {problems.map((finding) => <FindingItem key={finding.id} finding={finding} report={report} />)}
        </ul>
      )}
      <div class="row-actions health-actions">
        <BusyButton class="button small" label="Check again" busyLabel="Checking…" action={actions.health.checkAgain} />
        <BusyButton class="button small" label="Test keychain access" busyLabel="Testing…" action={actions.health.testKeychain} />
        <BusyButton class="button small" label="Check stored keys" busyLabel="Checking keys…" action={actions.health.checkKeys} />
        <BusyButton class="button small" label="Open data folder" busyLabel="Opening…" action={actions.health.openFolder} />
      </div>
      {keyChecks !== undefined && <KeyChecks checks={keyChecks} />}
      <Backups backups={backups} />
      {report !== undefined && fine.length > 0 && (
        <div class="health-group">
          <h3>Working as expected</h3>
          <ul class="findings findings-ok" aria-label="Working as expected">
            {fine.map((finding) => <FindingItem key={finding.id} finding={finding} report={report} />)}
          </ul>
        </div>
      )}
      <TechnicalDetails />
    </>
  )
}
