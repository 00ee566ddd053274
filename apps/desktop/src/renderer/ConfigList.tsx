/**
 * "Configured providers": one row per configuration (metadata only: the bridge never returns a
 * key), each viewed, edited in place or confirming its deletion. Rows are keyed by config id, so
 * a refresh while a row is being edited keeps what the user typed.
 */
import * as Bridge from "./Bridge.ts"
import { BusyButton, BusyNote, ErrorText } from "./Components.tsx"
import { ConfigForm } from "./ConfigForm.tsx"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"
import * as ViewModel from "./ViewModel.ts"

interface RowProps {
  readonly config: Bridge.LlmConfigView
  readonly row: Store.RowState
}

const Summary = ({ config }: { readonly config: Bridge.LlmConfigView }) => {
  const key = ViewModel.keyState(config)
  return (
    <div class="config-summary">
      <span class="provider-badge">{ViewModel.displayName(config.provider)}</span>
      <div class="config-main">
        <p class="config-name" id={`row-${config.id}-name`}>{config.name}</p>
        <p class="config-url">{ViewModel.endpointOf(config)}</p>
      </div>
      <span class={`pill pill-${key.pill}`}>{key.text}</span>
    </div>
  )
}

/** A failed delete or test of this row; focus comes here to read it. */
const RowError = ({ config, row }: RowProps) => {
  const ref = Hooks.useFocusTarget<HTMLDivElement>(Store.FocusTargets.rowError(config.id))
  return (
    <div class="row-error" id={`row-${config.id}-error`} aria-live="polite" tabindex={-1} ref={ref}>
      {row.error !== undefined && <ErrorText error={row.error} />}
    </div>
  )
}

/** The last test, when and what (or that one is running). */
const LastCheckLine = ({ config, row }: RowProps) => {
  const id = `row-${config.id}-check`
  if (row.checking) return <p class="check-result busy-note" id={id} aria-live="polite">{Messages.CHECKING_PROVIDER}</p>
  const record = ViewModel.lastCheck(config, row.unrecorded)
  if (record === undefined) return <p class="check-result muted" id={id} aria-live="polite">Not tested yet</p>
  const { hint, ok, title } = Messages.checkOutcomeText(record.outcome)
  return (
    <p class={`check-result ${ok ? "check-ok" : "check-failed"}`} id={id} aria-live="polite">
      <span class="check-when">{`Last test, ${ViewModel.formatDate(record.checkedAt)}: `}</span>
      <strong>{title}</strong>
      {hint !== "" && <span class="hint">{` ${hint}`}</span>}
    </p>
  )
}

const ViewRow = ({ config, row }: RowProps) => {
  const { actions } = Hooks.usePage()
  const editRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.rowButton(config.id, "edit"))
  const deleteRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.rowButton(config.id, "delete"))
  return (
    <>
      <Summary config={config} />
      {config.allowInsecureHttp === true && (
        <p class="insecure-note">Plain http allowed to this private-network address: the key travels unencrypted.</p>
      )}
      <LastCheckLine config={config} row={row} />
      <div class="config-meta">
        <span class="muted">{`Updated ${ViewModel.formatDate(config.updatedAt)}`}</span>
        <div class="row-actions">
          {/* The text stays (it is part of the accessible name); busy shows as disabled, a spinner and the note. */}
          <BusyButton
            class="button small"
            aria-label={`Test connection to ${config.name}`}
            aria-describedby={`row-${config.id}-check`}
            label="Test connection"
            busy={row.checking}
            action={() => actions.configs.checkStored(config)}
            focusTarget={Store.FocusTargets.rowButton(config.id, "test")}
          />
          <button
            type="button"
            class="button small"
            aria-label={`Edit ${config.name}`}
            disabled={row.checking}
            ref={editRef}
            onClick={() => actions.configs.openEdit(config.id)}
          >
            Edit
          </button>
          <button
            type="button"
            class="button small danger-ghost"
            aria-label={`Delete ${config.name}`}
            disabled={row.checking}
            ref={deleteRef}
            onClick={() => actions.configs.askDelete(config.id)}
          >
            Delete
          </button>
        </div>
      </div>
      <RowError config={config} row={row} />
    </>
  )
}

const ConfirmRow = ({ config, row }: RowProps) => {
  const { actions } = Hooks.usePage()
  const cancelRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.rowButton(config.id, "cancel"))
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || row.deleting) return
    event.preventDefault()
    actions.configs.cancelDelete(config.id)
  }
  return (
    <>
      <Summary config={config} />
      <div class="confirm" role="group" aria-label={`Confirm deleting ${config.name}`} onKeyDown={onKeyDown}>
        <p>
          <strong>{`Delete “${config.name}”?`}</strong>
          {" Its API key is removed from secure storage too. This cannot be undone."}
        </p>
        <div class="row-actions">
          <BusyButton
            class="button danger"
            label="Delete permanently"
            busyLabel="Deleting…"
            action={() => actions.configs.removeConfig(config)}
          />
          <button
            type="button"
            class="button ghost"
            disabled={row.deleting}
            ref={cancelRef}
            onClick={() => actions.configs.cancelDelete(config.id)}
          >
            Cancel
          </button>
          <BusyNote>{row.waiting && Messages.WAITING_FOR_KEYCHAIN}</BusyNote>
        </div>
      </div>
      <RowError config={config} row={row} />
    </>
  )
}

const EditRow = ({ config }: RowProps) => {
  const { actions } = Hooks.usePage()
  const provider = Bridge.providerById(config.provider)
  if (provider === undefined) {
    return (
      <>
        <Summary config={config} />
        <p class="row-error">{`This provider (${config.provider}) is not supported by this version of Fishbowl.`}</p>
      </>
    )
  }
  return (
    <>
      <div class="edit-heading">
        <Summary config={config} />
      </div>
      <ConfigForm
        formId={Store.editFormId(config.id)}
        provider={provider}
        config={config}
        submitLabel="Save changes"
        onSubmit={(settings, apiKey) => actions.configs.saveEdit(config, provider, settings, apiKey)}
        onCancel={() => actions.configs.closeEdit(config.id)}
      />
    </>
  )
}

const ConfigRow = ({ config, row }: RowProps) => (
  <li class="config-row" aria-labelledby={`row-${config.id}-name`} data-mode={row.mode}>
    {row.mode === "edit" ? <EditRow config={config} row={row} /> : row.mode === "confirm"
      ? <ConfirmRow config={config} row={row} />
      : <ViewRow config={config} row={row} />}
  </li>
)

/** The list card's body: waiting note, list error, the rows, and the empty state. */
export const ConfigList = () => {
  const { state } = Hooks.usePage()
  return (
    <>
      <BusyNote id="list-busy">{state.listWaiting && Messages.WAITING_FOR_KEYCHAIN}</BusyNote>
      <div id="list-error" class="row-error" aria-live="polite">
        {state.listError !== undefined && <ErrorText error={state.listError} />}
      </div>
      <ul id="config-list" class="config-list" aria-labelledby="configs-heading">
        {state.configs.map((config) => <ConfigRow key={config.id} config={config} row={state.rows[config.id] ?? Store.emptyRow} />)}
      </ul>
      <p id="empty-state" class="empty" hidden={state.configs.length > 0 || state.phase === "loading"}>No providers yet. Add one below.</p>
    </>
  )
}
