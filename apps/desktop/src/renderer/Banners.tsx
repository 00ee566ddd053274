/**
 * The top of the page: where keys are stored (status banner), the one problem of the whole store
 * (problem banner, with its fix), confirmations (a live region in the page's flow, so it never
 * covers a control) and the notices of recoveries the storage made on its own.
 */
import { useEffect } from "preact/hooks"
import type * as Bridge from "./Bridge.ts"
import { BusyButton, ErrorText } from "./Components.tsx"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"
import * as ViewModel from "./ViewModel.ts"

/** How long a confirmation stays on screen (screen readers have read it by then). */
const ANNOUNCEMENT_MILLIS = 6000

export const StatusBanner = () => {
  const { state } = Hooks.usePage()
  const { status, statusError } = state
  if (statusError !== undefined) {
    return (
      <div id="status-banner" class="banner banner-caution" role="status" aria-live="polite">
        <div class="banner-body">
          <p class="banner-title">Storage status unknown</p>
          <ErrorText error={statusError} />
        </div>
      </div>
    )
  }
  if (status === undefined) {
    return (
      <div id="status-banner" class="banner" role="status" aria-live="polite">
        <div class="banner-body">
          <p class="muted">Checking where keys are stored…</p>
        </div>
      </div>
    )
  }
  const { tier } = status.secretStore
  const now = ViewModel.keyStorageNow(tier, state.problem)
  return (
    <div id="status-banner" class={now.className} role="status" aria-live="polite" data-tier={tier}>
      <div class="banner-body">
        <p class="banner-title">
          {"Key storage: "}
          <span class="tier">{ViewModel.tierLabels[tier]}</span>
        </p>
        <p>{now.explanation}</p>
        {tier !== "keychain" && (
          <p>
            <a href="#health-heading" class="banner-link">How to fix this in Storage health</a>
          </p>
        )}
      </div>
    </div>
  )
}

const ProblemDetailText = ({ detail }: { readonly detail: Store.ProblemDetail | undefined }) => {
  if (detail === undefined) return null
  if (detail._tag === "StillLocked") return <>Still locked. Unlock it in your system's prompt, then try again.</>
  return <ErrorText error={detail.error} />
}

/** A problem of the whole store, once, with its fix; focus comes here when a change hits it. */
export const ProblemBanner = () => {
  const { actions, state } = Hooks.usePage()
  const { problem } = state
  const unlock = problem?._tag === "KeychainLocked" || problem?._tag === "KeychainDenied"
  const titleRef = Hooks.useFocusTarget<HTMLParagraphElement>(unlock ? undefined : Store.FocusTargets.problemBanner)
  const friendly = problem === undefined ? undefined : Messages.friendly(problem)
  return (
    <div id="locked-banner" class="banner banner-danger" role="alert" aria-live="assertive" hidden={problem === undefined}>
      {friendly !== undefined && (
        <div class="banner-body">
          <p class="banner-title" tabindex={-1} ref={titleRef}>{friendly.title}</p>
          <p>{friendly.hint}</p>
          {!unlock && (
            <p>
              {"Details are in "}
              <a href="#health-heading" class="banner-link">Storage health</a>
              {"."}
            </p>
          )}
          <div class="banner-detail" aria-live="polite">
            {state.problemWaiting ? Messages.WAITING_FOR_KEYCHAIN : <ProblemDetailText detail={state.problemDetail} />}
          </div>
        </div>
      )}
      {friendly !== undefined && unlock && (
        <div class="banner-actions">
          <BusyButton
            class="button primary"
            label="Unlock keychain"
            busyLabel="Unlocking…"
            action={actions.health.unlockFromBanner}
            focusTarget={Store.FocusTargets.problemBanner}
          />
        </div>
      )}
    </div>
  )
}

/** Confirmations, announced politely and shown for a few seconds. */
export const Announcer = () => {
  const { actions, state } = Hooks.usePage()
  const { announcement } = state
  useEffect(() => {
    if (announcement === undefined) return
    const timer = window.setTimeout(() => actions.announcementExpired(announcement.serial), ANNOUNCEMENT_MILLIS)
    return () => window.clearTimeout(timer)
  }, [announcement?.serial])
  return (
    <div id="announcer" class="toast" role="status" aria-live="polite" data-tone={announcement?.tone ?? "done"}>
      {announcement?.text}
    </div>
  )
}

const Notice = ({ notice }: { readonly notice: Bridge.NoticeView }) => {
  const { actions, state } = Hooks.usePage()
  const headingId = `notice-${notice.id}-title`
  const error = state.noticeErrors[notice.id]
  return (
    <section class="banner banner-caution notice" data-notice={notice.id} aria-labelledby={headingId}>
      <div class="banner-body">
        <h2 class="banner-title" id={headingId}>{ViewModel.noticeTitles[notice.kind]}</h2>
        <p>
          Fishbowl found its settings file damaged and put back the last good copy. Changes saved after that copy are missing; check your
          providers below.
        </p>
        <details class="tech-details">
          <summary>Technical details</summary>
          <dl>
            <dt>Restored from</dt>
            <dd>{ViewModel.fileName(notice.restoredFrom)}</dd>
            <dt>Damaged file kept as</dt>
            <dd>{notice.quarantinedAs}</dd>
          </dl>
        </details>
        <div class="row-actions">
          <BusyButton
            class="button primary small"
            label="Keep the restored settings"
            action={() => actions.health.dismissNotice(notice.id)}
          />
          <button type="button" class="button small" onClick={actions.health.showBackups}>Choose another backup</button>
          <BusyButton class="button small" label="Show the damaged file" action={() => actions.health.showDamagedFile(notice)} />
        </div>
        <div class="banner-detail" aria-live="polite">{error !== undefined && <ErrorText error={error} />}</div>
      </div>
    </section>
  )
}

/** Recoveries the storage made on its own, shown until dismissed. */
export const Notices = () => {
  const { state } = Hooks.usePage()
  const notices = (state.status?.notices ?? []).filter((notice) => !state.dismissedNotices.includes(notice.id))
  return <div id="notices" class="notices">{notices.map((notice) => <Notice key={notice.id} notice={notice} />)}</div>
}
