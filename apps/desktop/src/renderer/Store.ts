/**
 * The page's one state store: everything the settings page shows, as one immutable object that
 * only `reduce` changes, with `subscribe` for the view. Components render from it and call
 * `Actions`; nothing else holds page state.
 *
 * What is never here: an API key. The key input is uncontrolled (read through a ref at submit and
 * emptied there), and the key travels from that read straight into one bridge call.
 */
import type { HealthContract, Providers } from "@fishbowl/domain"
import type * as Bridge from "./Bridge.ts"

export type RowMode = "view" | "edit" | "confirm"

/** One listed configuration's own state (its data is in `configs`). */
export interface RowState {
  readonly mode: RowMode
  /** A "Test connection" is running. */
  readonly checking: boolean
  /** The last test's outcome when the store could not record it (recorded ones are `lastCheck`). */
  readonly unrecorded: Bridge.CheckRecordView | undefined
  /** A delete or test failed for a reason of this row (page-level problems go to the banner). */
  readonly error: Bridge.WireError | undefined
  /** A delete is running (its Cancel is disabled). */
  readonly deleting: boolean
  /** A delete missed its time budget and is still running. */
  readonly waiting: boolean
}

export type FieldId = "name" | Providers.ProviderField["id"] | "allowInsecureHttp"

/** The add form ("add") or one edit form (`edit-<id>`): everything about it but what was typed. */
export interface FormState {
  /** Errors next to the field they name. */
  readonly fieldErrors: Readonly<Partial<Record<FieldId, Bridge.WireError>>>
  /** An error that names no field, shown by the buttons. */
  readonly formError: Bridge.WireError | undefined
  /** "Adding…" / "Saving…" while the submit runs. */
  readonly busyLabel: string | undefined
  /** A draft "Test connection" is running. */
  readonly testing: boolean
  /** The running call missed its budget: say the page waits for the keychain. */
  readonly waiting: boolean
  /** The last draft test's outcome beside its button. */
  readonly check: { readonly check: Bridge.CheckRecordView } | { readonly error: Bridge.WireError } | undefined
  /** Editing a config that has a key: the key input is shown ("Replace key") instead of "Key stored". */
  readonly keyOpen: boolean
  /** The key input shows its text ("Show"). */
  readonly keyShown: boolean
  /** Whether the typed base URL needs the plain-http consent; undefined: decide from the stored one. */
  readonly consentNeeded: boolean | undefined
}

export interface HealthState {
  readonly report: Bridge.DiagnosticsView | undefined
  readonly backups: ReadonlyArray<HealthContract.BackupInfo>
  readonly keyChecks: ReadonlyArray<HealthContract.KeyCheck> | undefined
  readonly lastError: Bridge.WireError | undefined
  /** The backup whose restore is being confirmed. */
  readonly confirming: string | undefined
  readonly waiting: boolean
}

export interface Announcement {
  readonly text: string
  /** A "problem" (a failed connection test) is shown without the confirmation's check mark. */
  readonly tone: "done" | "problem"
  readonly serial: number
}

/** Where focus goes next; the element registered under `target` takes it (see Hooks.useFocusTarget). */
export interface FocusRequest {
  readonly target: string
  readonly serial: number
}

/** What the problem banner says about the last unlock attempt. */
export type ProblemDetail = { readonly _tag: "StillLocked" } | { readonly _tag: "Failed"; readonly error: Bridge.WireError }

export interface PageState {
  /** "loading" until the first list and status arrived; "outside-app" when there is no bridge. */
  readonly phase: "loading" | "ready" | "outside-app"
  readonly configs: ReadonlyArray<Bridge.LlmConfigView>
  readonly listError: Bridge.WireError | undefined
  /** A read missed its budget: the list says it waits for the keychain. */
  readonly listWaiting: boolean
  readonly status: Bridge.StoreStatusView | undefined
  readonly statusError: Bridge.WireError | undefined
  /** A problem of the whole store (locked keychain, unreadable settings), shown once at the top. */
  readonly problem: Bridge.WireError | undefined
  readonly problemDetail: ProblemDetail | undefined
  readonly problemWaiting: boolean
  readonly announcement: Announcement | undefined
  /** Notices dismissed here, hidden before the next status arrives. */
  readonly dismissedNotices: ReadonlyArray<string>
  readonly noticeErrors: Readonly<Record<string, Bridge.WireError>>
  readonly rows: Readonly<Record<string, RowState>>
  readonly forms: Readonly<Record<string, FormState>>
  /** The add form's provider. */
  readonly addProvider: string
  /** Bumped after an add: the add form starts over, empty. */
  readonly addFormGeneration: number
  readonly health: HealthState
  readonly focus: FocusRequest | undefined
  /** Source of serial numbers for announcements and focus requests. */
  readonly serial: number
}

export const emptyRow: RowState = {
  mode: "view",
  checking: false,
  unrecorded: undefined,
  error: undefined,
  deleting: false,
  waiting: false
}

export const emptyForm: FormState = {
  fieldErrors: {},
  formError: undefined,
  busyLabel: undefined,
  testing: false,
  waiting: false,
  check: undefined,
  keyOpen: false,
  keyShown: false,
  consentNeeded: undefined
}

export const initialState = (addProvider: string): PageState => ({
  phase: "loading",
  configs: [],
  listError: undefined,
  listWaiting: false,
  status: undefined,
  statusError: undefined,
  problem: undefined,
  problemDetail: undefined,
  problemWaiting: false,
  announcement: undefined,
  dismissedNotices: [],
  noticeErrors: {},
  rows: {},
  forms: {},
  addProvider,
  addFormGeneration: 0,
  health: { report: undefined, backups: [], keyChecks: undefined, lastError: undefined, confirming: undefined, waiting: false },
  focus: undefined,
  serial: 0
})

export const addFormId = "add"
export const editFormId = (configId: string) => `edit-${configId}`

/** Focus targets: a component registers its element under one of these names. */
export const FocusTargets = {
  problemBanner: "problem-banner",
  addHeading: "add-heading",
  addProvider: "add-provider",
  backupsHeading: "backups-heading",
  healthError: "health-error",
  rowButton: (configId: string, button: "edit" | "delete" | "test" | "cancel") => `row:${configId}:${button}`,
  rowError: (configId: string) => `row:${configId}:error`,
  field: (formId: string, field: FieldId | "replace-key") => `form:${formId}:${field}`,
  formError: (formId: string) => `form:${formId}:error`,
  backupButton: (name: string, button: "ask" | "cancel") => `backup:${name}:${button}`
} as const

export type PageEvent =
  | { readonly _tag: "OutsideApp"; readonly error: Bridge.WireError }
  | { readonly _tag: "Loaded" }
  | { readonly _tag: "ListRead"; readonly result: Bridge.Outcome<ReadonlyArray<Bridge.LlmConfigView>> }
  | { readonly _tag: "StatusRead"; readonly result: Bridge.Outcome<Bridge.StoreStatusView> }
  | { readonly _tag: "ListWaiting"; readonly waiting: boolean }
  | { readonly _tag: "ProblemShown"; readonly error: Bridge.WireError }
  | { readonly _tag: "ProblemCleared" }
  | { readonly _tag: "ProblemUnlockFailed"; readonly detail: ProblemDetail }
  | { readonly _tag: "ProblemWaiting"; readonly waiting: boolean }
  | { readonly _tag: "Announced"; readonly text: string; readonly tone: Announcement["tone"] }
  | { readonly _tag: "AnnouncementExpired"; readonly serial: number }
  | { readonly _tag: "FocusRequested"; readonly target: string }
  | { readonly _tag: "FocusDone"; readonly serial: number }
  | { readonly _tag: "NoticeDismissed"; readonly id: string }
  | { readonly _tag: "NoticeFailed"; readonly id: string; readonly error: Bridge.WireError | undefined }
  | { readonly _tag: "RowChanged"; readonly id: string; readonly change: Partial<RowState> }
  | { readonly _tag: "RowRemoved"; readonly id: string }
  | { readonly _tag: "FormChanged"; readonly formId: string; readonly change: Partial<FormState> }
  | { readonly _tag: "FormReset"; readonly formId: string }
  | { readonly _tag: "AddProviderChosen"; readonly providerId: string }
  | { readonly _tag: "AddFormRestarted" }
  | { readonly _tag: "HealthChanged"; readonly change: Partial<HealthState> }

const withRow = (state: PageState, id: string, change: Partial<RowState>): PageState => ({
  ...state,
  rows: { ...state.rows, [id]: { ...(state.rows[id] ?? emptyRow), ...change } }
})

const withForm = (state: PageState, formId: string, change: Partial<FormState>): PageState => ({
  ...state,
  forms: { ...state.forms, [formId]: { ...(state.forms[formId] ?? emptyForm), ...change } }
})

const without = <A>(record: Readonly<Record<string, A>>, key: string): Readonly<Record<string, A>> => {
  const { [key]: _removed, ...rest } = record
  return rest
}

/** A new list: rows of configs that are gone go too (with their edit forms). */
const listRead = (state: PageState, configs: ReadonlyArray<Bridge.LlmConfigView>): PageState => {
  const ids = new Set(configs.map((config) => config.id))
  const rows = Object.fromEntries(Object.entries(state.rows).filter(([id]) => ids.has(id)))
  const forms = Object.fromEntries(
    Object.entries(state.forms).filter(([formId]) => formId === addFormId || ids.has(formId.slice("edit-".length)))
  )
  return { ...state, configs, listError: undefined, rows, forms }
}

const statusRead = (state: PageState, status: Bridge.StoreStatusView): PageState => ({
  ...state,
  status,
  statusError: undefined,
  // A dismissed notice stays hidden until the status no longer lists it.
  dismissedNotices: state.dismissedNotices.filter((id) => status.notices.some((notice) => notice.id === id))
})

const next = (state: PageState) => state.serial + 1

/** The one place page state changes. Pure: the Node tests run it without a DOM. */
export const reduce = (state: PageState, event: PageEvent): PageState => {
  switch (event._tag) {
    case "OutsideApp":
      return { ...state, phase: "outside-app", statusError: event.error }
    case "Loaded":
      return state.phase === "loading" ? { ...state, phase: "ready" } : state
    case "ListRead":
      if (event.result.ok) return listRead(state, event.result.value)
      return { ...state, listError: event.result.error }
    case "StatusRead":
      if (event.result.ok) return statusRead(state, event.result.value)
      return { ...state, statusError: event.result.error }
    case "ListWaiting":
      return { ...state, listWaiting: event.waiting }
    case "ProblemShown":
      // A confirmation of an earlier action ("Deleted …") must not sit beside the newer problem.
      return {
        ...state,
        problem: event.error,
        problemDetail: undefined,
        announcement: state.announcement?.tone === "done" ? undefined : state.announcement
      }
    case "ProblemCleared":
      return { ...state, problem: undefined, problemDetail: undefined, problemWaiting: false }
    case "ProblemUnlockFailed":
      return { ...state, problemDetail: event.detail }
    case "ProblemWaiting":
      return { ...state, problemWaiting: event.waiting }
    case "Announced":
      return { ...state, serial: next(state), announcement: { text: event.text, tone: event.tone, serial: next(state) } }
    case "AnnouncementExpired":
      return state.announcement?.serial === event.serial ? { ...state, announcement: undefined } : state
    case "FocusRequested":
      return { ...state, serial: next(state), focus: { target: event.target, serial: next(state) } }
    case "FocusDone":
      return state.focus?.serial === event.serial ? { ...state, focus: undefined } : state
    case "NoticeDismissed":
      return { ...state, dismissedNotices: [...state.dismissedNotices, event.id], noticeErrors: without(state.noticeErrors, event.id) }
    case "NoticeFailed":
      return {
        ...state,
        noticeErrors: event.error === undefined ? without(state.noticeErrors, event.id) : { ...state.noticeErrors, [event.id]: event.error }
      }
    case "RowChanged":
      return withRow(state, event.id, event.change)
    case "RowRemoved":
      return { ...state, rows: without(state.rows, event.id), forms: without(state.forms, editFormId(event.id)) }
    case "FormChanged":
      return withForm(state, event.formId, event.change)
    case "FormReset":
      return { ...state, forms: without(state.forms, event.formId) }
    case "AddProviderChosen":
      return { ...state, addProvider: event.providerId, forms: without(state.forms, addFormId) }
    case "AddFormRestarted":
      return { ...state, addFormGeneration: state.addFormGeneration + 1, forms: without(state.forms, addFormId) }
    case "HealthChanged":
      return { ...state, health: { ...state.health, ...event.change } }
  }
}

export interface Store {
  readonly get: () => PageState
  readonly dispatch: (event: PageEvent) => void
  /** Calls `listener` after every change; returns the unsubscribe. */
  readonly subscribe: (listener: (state: PageState) => void) => () => void
}

export const make = (initial: PageState): Store => {
  let state = initial
  const listeners = new Set<(state: PageState) => void>()
  return {
    get: () => state,
    dispatch: (event) => {
      const updated = reduce(state, event)
      if (updated === state) return
      state = updated
      for (const listener of listeners) listener(state)
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}
