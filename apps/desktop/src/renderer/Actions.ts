/**
 * What the page does: every bridge call and the store changes around it. Components call these
 * and render the store; the Node tests call them against a fake bridge.
 *
 * One message per problem: a problem of the whole store (locked keychain, unreadable settings) is
 * shown once, in the banner at the top, with its fix; field problems next to their field. A call
 * that misses its time budget says it is waiting for the keychain and ends with the real outcome
 * (Bridge.invokePatiently). Every change event refetches list, status and health, so several
 * windows (or the CLI working on the same files) stay in step.
 *
 * An API key is an argument of the one call that sends it, never stored: the form reads it from
 * its input at submit and hands it straight to `addConfig`, `testDraft` or `saveEdit`.
 */
import type { IpcContract, Providers } from "@fishbowl/domain"
import * as BaseUrlRule from "@fishbowl/domain/BaseUrlRule"
import * as Background from "./Background.ts"
import * as Bridge from "./Bridge.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"
import * as ViewModel from "./ViewModel.ts"

type Call<A> = (api: IpcContract.LlmConfigsBridge) => Promise<Bridge.Outcome<A>>
/** A failure already shown in the banner: the caller shows nothing more. */
type Shown = { readonly ok: false; readonly error: Bridge.WireError; readonly shown: true }
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** What the user typed, read from the form at submit. The key is never part of it. */
export interface FormSettings {
  readonly name: string
  readonly baseUrl: string | undefined
  readonly useAuthHeader: boolean | undefined
  /** The consent checkbox's state; undefined while it is not shown. */
  readonly allowInsecureHttp: boolean | undefined
}

/** The fields a form for `provider` has, so an error naming another one is shown by the buttons. */
export const formFields = (provider: Providers.ProviderDefinition): ReadonlyArray<Store.FieldId> => {
  const fields: Array<Store.FieldId> = ["name", ...provider.fields.map((field) => field.id)]
  if (fields.includes("baseUrl")) fields.push("allowInsecureHttp")
  return fields
}

const UNSUPPORTED: Bridge.WireError = {
  _tag: "Unsupported",
  reason: "not-available-here",
  message: "This page only works inside the Fishbowl app",
  hint: "Open the settings from Fishbowl."
}

/** Reading and refreshing, page-level problems, announcements and focus: what every action uses. */
const makeCore = (store: Store.Store) => {
  const { dispatch } = store
  const announce = (text: string, tone: Store.Announcement["tone"] = "done") => dispatch({ _tag: "Announced", text, tone })
  const focus = (target: string) => dispatch({ _tag: "FocusRequested", target })
  const setHealth = (change: Partial<Store.HealthState>) => dispatch({ _tag: "HealthChanged", change })

  /** Reads the report (and backups) again; `probe` also writes, reads and deletes a test entry. */
  const loadHealth = async (options?: { readonly probe?: boolean }) => {
    const probe = options?.probe === true
    const [report, backups] = await Promise.all([
      Bridge.invokePatiently((api) => api.diagnose({ probe }), (waiting) => setHealth({ waiting }), { retry: !probe }),
      Bridge.invoke((api) => api.backups())
    ])
    setHealth({
      ...(report.ok ? { report: report.value, lastError: undefined } : { lastError: report.error }),
      backups: backups.ok ? backups.value : []
    })
  }

  /** Every result passes through here: a problem of the whole store is shown once, at the top. */
  const noticeError = (error: Bridge.WireError): boolean => {
    if (!Messages.pageLevelTags.has(error._tag)) return false
    dispatch({ _tag: "ProblemShown", error })
    // The health panel must not say "everything looks right" beside it.
    Background.run(loadHealth())
    return true
  }

  /** Reads wait for their late outcome on Timeout: the first call starts the keychain helper. */
  const read = async <A>(call: Call<A>): Promise<Bridge.Outcome<A>> => {
    const result = await Bridge.invokePatiently(call, (waiting) => dispatch({ _tag: "ListWaiting", waiting }), { retry: true })
    if (!result.ok) noticeError(result.error)
    return result
  }

  let refreshing: Promise<void> | undefined
  let refreshAgain = false

  const refreshOnce = async () => {
    const [list, status] = await Promise.all([read((api) => api.list()), read((api) => api.status())])
    if (list.ok || !Messages.pageLevelTags.has(list.error._tag)) dispatch({ _tag: "ListRead", result: list })
    if (status.ok || !Messages.pageLevelTags.has(status.error._tag)) dispatch({ _tag: "StatusRead", result: status })
  }

  /** Refetches list and status; calls arriving during a refresh coalesce into one more. */
  const refresh = (): Promise<void> => {
    if (refreshing !== undefined) {
      refreshAgain = true
      return refreshing
    }
    refreshing = (async () => {
      do {
        refreshAgain = false
        await refreshOnce()
      } while (refreshAgain)
    })().finally(() => {
      refreshing = undefined
    })
    return refreshing
  }

  /**
   * A change request. Slow calls report `onWaiting` and end with their real outcome. A problem of
   * the whole store goes to the banner (and focus moves there); the caller shows only the rest.
   */
  const change = async <A>(call: Call<A>, onWaiting: (waiting: boolean) => void = () => {}): Promise<Bridge.Outcome<A> | Shown> => {
    const result = await Bridge.invokePatiently(call, onWaiting)
    if (!result.ok && noticeError(result.error)) {
      Background.run(refresh())
      focus(Store.FocusTargets.problemBanner)
      return { ...result, shown: true as const }
    }
    // The problem in the banner is over once a change goes through (e.g. unlocked in the system's prompt).
    if (result.ok && store.get().problem !== undefined) dispatch({ _tag: "ProblemCleared" })
    return result
  }

  return { store, dispatch, announce, focus, setHealth, loadHealth, read, refresh, change }
}

type Core = ReturnType<typeof makeCore>

/** Form state: errors next to their field, busy and waiting notes, the key section. */
const makeFormActions = ({ dispatch, focus, store }: Core) => {
  const setForm = (formId: string, change: Partial<Store.FormState>) => dispatch({ _tag: "FormChanged", formId, change })
  const clearErrors = (formId: string) => setForm(formId, { fieldErrors: {}, formError: undefined, check: undefined })

  /** Shows the error next to the field it names (e.g. `patch.apiKey` → API key), else by the buttons. */
  const showError = (formId: string, fields: ReadonlyArray<Store.FieldId>, error: Bridge.WireError) => {
    const named = error._tag === "InvalidInput" ? error.field.split(".").at(-1) : undefined
    const field = fields.find((id) => id === named)
    if (field === undefined) {
      setForm(formId, { fieldErrors: {}, formError: error, check: undefined })
      focus(Store.FocusTargets.formError(formId))
      return
    }
    // An error at the key reveals the key input (an edit keeps it behind "Replace key" otherwise).
    setForm(formId, {
      fieldErrors: { [field]: error },
      formError: undefined,
      check: undefined,
      ...(field === "apiKey" ? { keyOpen: true } : {})
    })
    focus(Store.FocusTargets.field(formId, field))
  }

  return {
    setForm,
    clearErrors,
    showError,
    revealKey: (formId: string) => {
      setForm(formId, { keyOpen: true })
      focus(Store.FocusTargets.field(formId, "apiKey"))
    },
    /** Back to the stored key; the form has emptied the key input already. */
    keepStoredKey: (formId: string) => {
      const { apiKey: _dropped, ...fieldErrors } = (store.get().forms[formId] ?? Store.emptyForm).fieldErrors
      setForm(formId, { keyOpen: false, keyShown: false, fieldErrors })
      focus(Store.FocusTargets.field(formId, "replace-key"))
    },
    toggleKeyShown: (formId: string) => {
      setForm(formId, { keyShown: !(store.get().forms[formId] ?? Store.emptyForm).keyShown })
      focus(Store.FocusTargets.field(formId, "apiKey"))
    },
    /** The form has masked and emptied the key input. */
    keyCleared: (formId: string) => {
      if ((store.get().forms[formId] ?? Store.emptyForm).keyShown) setForm(formId, { keyShown: false })
    },
    baseUrlTyped: (formId: string, baseUrl: string) => {
      const consentNeeded = BaseUrlRule.needsConsent(baseUrl)
      if ((store.get().forms[formId] ?? Store.emptyForm).consentNeeded !== consentNeeded) setForm(formId, { consentNeeded })
    },
    chooseAddProvider: (providerId: string) => dispatch({ _tag: "AddProviderChosen", providerId })
  }
}

type FormActions = ReturnType<typeof makeFormActions>

/** The typed settings a create or draft check sends (consent only when given). */
const requestSettings = (settings: FormSettings) => ({
  ...(settings.baseUrl !== undefined && settings.baseUrl !== "" ? { baseUrl: settings.baseUrl } : {}),
  ...(settings.useAuthHeader !== undefined ? { useAuthHeader: settings.useAuthHeader } : {}),
  // The main process applies the same plain-http rule to a check as to saving, consent included.
  ...(settings.allowInsecureHttp === true ? { allowInsecureHttp: true } : {})
})

/** The changes an edit makes to `config`; empty when nothing changed. */
const patchFor = (config: Bridge.LlmConfigView, settings: FormSettings, apiKey: string | undefined) => {
  const patch: Mutable<Bridge.Patch> = {}
  if (settings.name !== config.name) patch.name = settings.name
  if (settings.baseUrl !== undefined && settings.baseUrl !== (config.baseUrl ?? "")) {
    patch.baseUrl = settings.baseUrl === ""
      ? null
      : settings.baseUrl
  }
  if (settings.useAuthHeader !== undefined && settings.useAuthHeader !== config.useAuthHeader) patch.useAuthHeader = settings.useAuthHeader
  if (settings.allowInsecureHttp !== undefined && settings.allowInsecureHttp !== (config.allowInsecureHttp === true)) {
    patch.allowInsecureHttp = settings.allowInsecureHttp
  }
  if (apiKey !== undefined) patch.apiKey = apiKey
  return patch
}

/** Adding, testing, editing and deleting configurations. */
const makeConfigActions = (core: Core, forms: FormActions) => {
  const { announce, change, dispatch, focus, refresh, store } = core
  const setRow = (id: string, change: Partial<Store.RowState>) => dispatch({ _tag: "RowChanged", id, change })
  const replaceConfigs = (configs: ReadonlyArray<Bridge.LlmConfigView>) =>
    dispatch({ _tag: "ListRead", result: { ok: true, value: configs } })
  const add = Store.addFormId

  const closeEdit = (id: string) => {
    setRow(id, { mode: "view" })
    dispatch({ _tag: "FormReset", formId: Store.editFormId(id) })
    focus(Store.FocusTargets.rowButton(id, "edit"))
  }

  return {
    addConfig: async (provider: Providers.ProviderDefinition, settings: FormSettings, apiKey: string | undefined) => {
      const request: Bridge.CreateRequest = {
        provider: provider.id,
        name: settings.name,
        ...requestSettings(settings),
        ...(apiKey !== undefined ? { apiKey } : {})
      }
      forms.setForm(add, { fieldErrors: {}, formError: undefined, check: undefined, busyLabel: "Adding…" })
      const result = await change((api) => api.create(request), (waiting) => forms.setForm(add, { waiting }))
      forms.setForm(add, { busyLabel: undefined, waiting: false })
      if (result.ok) {
        announce(`Added ${result.value.name}`)
        dispatch({ _tag: "AddFormRestarted" })
        await refresh()
        focus(Store.FocusTargets.addProvider)
        return
      }
      if (!("shown" in result)) forms.showError(add, formFields(provider), result.error)
    },

    /** Checks what is typed, key included; persists nothing (checkDraft reaches neither store). */
    testDraft: async (provider: Providers.ProviderDefinition, settings: FormSettings, apiKey: string | undefined) => {
      const draft: Bridge.DraftRequest = {
        provider: provider.id,
        ...requestSettings(settings),
        ...(apiKey !== undefined ? { apiKey } : {})
      }
      forms.setForm(add, { fieldErrors: {}, formError: undefined, check: undefined, testing: true })
      const result = await change((api) => api.checkDraft(draft))
      forms.setForm(add, { testing: false })
      if (result.ok) {
        forms.setForm(add, { check: { check: result.value.check } })
        const { ok, title } = Messages.checkOutcomeText(result.value.check.outcome)
        announce(title, ok ? "done" : "problem")
        return
      }
      if ("shown" in result) return
      if (result.error._tag === "InvalidInput") forms.showError(add, formFields(provider), result.error)
      else forms.setForm(add, { check: { error: result.error } })
    },

    openEdit: (id: string) => {
      setRow(id, { mode: "edit", error: undefined })
      dispatch({ _tag: "FormReset", formId: Store.editFormId(id) })
      focus(Store.FocusTargets.field(Store.editFormId(id), "name"))
    },
    closeEdit,

    saveEdit: async (
      config: Bridge.LlmConfigView,
      provider: Providers.ProviderDefinition,
      settings: FormSettings,
      apiKey: string | undefined
    ) => {
      const patch = patchFor(config, settings, apiKey)
      if (Object.keys(patch).length === 0) return closeEdit(config.id)
      const formId = Store.editFormId(config.id)
      forms.setForm(formId, { fieldErrors: {}, formError: undefined, check: undefined, busyLabel: "Saving…" })
      const result = await change((api) => api.update({ id: config.id, patch }), (waiting) => forms.setForm(formId, { waiting }))
      forms.setForm(formId, { busyLabel: undefined, waiting: false })
      if (result.ok) {
        replaceConfigs(store.get().configs.map((each) => each.id === config.id ? result.value : each))
        closeEdit(config.id)
        announce(`Saved ${result.value.name}`)
        return
      }
      if (!("shown" in result)) forms.showError(formId, formFields(provider), result.error)
    },

    askDelete: (id: string) => {
      setRow(id, { mode: "confirm", error: undefined })
      focus(Store.FocusTargets.rowButton(id, "cancel"))
    },
    cancelDelete: (id: string) => {
      setRow(id, { mode: "view", error: undefined })
      focus(Store.FocusTargets.rowButton(id, "delete"))
    },

    removeConfig: async (config: Bridge.LlmConfigView) => {
      setRow(config.id, { error: undefined, deleting: true })
      const result = await change((api) => api.remove({ id: config.id }), (waiting) => setRow(config.id, { waiting }))
      setRow(config.id, { waiting: false, deleting: false })
      if (result.ok) {
        replaceConfigs(store.get().configs.filter((each) => each.id !== config.id))
        announce(`Deleted ${config.name}`)
        await refresh()
        focus(Store.FocusTargets.addHeading)
        return
      }
      if (!("shown" in result)) {
        setRow(config.id, { error: result.error })
        focus(Store.FocusTargets.rowError(config.id))
      }
    },

    /** "Test connection" of a stored config; the outcome is recorded by main when it can be. */
    checkStored: async (config: Bridge.LlmConfigView) => {
      setRow(config.id, { checking: true, error: undefined })
      const result = await change((api) => api.check({ id: config.id }))
      setRow(config.id, { checking: false, ...(result.ok && !result.value.recorded ? { unrecorded: result.value.check } : {}) })
      if (result.ok) {
        const { ok, title } = Messages.checkOutcomeText(result.value.check.outcome)
        announce(`${config.name}: ${title}`, ok ? "done" : "problem")
        await refresh()
        focus(Store.FocusTargets.rowButton(config.id, "test"))
        return
      }
      if (!("shown" in result)) {
        setRow(config.id, { error: result.error })
        focus(Store.FocusTargets.rowError(config.id))
      }
    }
  }
}

/** The Storage health panel's actions, the restore notices' and the problem banner's. */
const makeHealthActions = ({ announce, dispatch, focus, loadHealth, refresh, setHealth, store }: Core) => {
  /** Runs a store-changing call; shows a real failure once, next to the panel's actions. */
  const act = async <A>(call: Call<A>, done: (value: A) => string) => {
    const result = await Bridge.invokePatiently(call, (waiting) => setHealth({ waiting }))
    if (result.ok) {
      announce(done(result.value))
      setHealth({ lastError: undefined })
      await refresh()
      await loadHealth()
      return
    }
    setHealth({ lastError: result.error })
    focus(Store.FocusTargets.healthError)
  }

  return {
    checkAgain: () => loadHealth(),
    testKeychain: () => loadHealth({ probe: true }),
    unlock: () => act((api) => api.authorize(), () => "Keychain unlocked"),
    finishChanges: () => act((api) => api.recover(), ViewModel.recoveryMessage),
    bringBack: () => act((api) => api.bringBack(), ViewModel.broughtBackMessage),
    openFolder: () => act((api) => api.openFolder({}), () => "Opened in your file manager"),
    checkKeys: async () => {
      const result = await Bridge.invokePatiently((api) => api.checkKeys(), (waiting) => setHealth({ waiting }))
      if (result.ok) {
        setHealth({ keyChecks: result.value })
        announce(ViewModel.keyChecksMessage(result.value))
      } else {
        setHealth({ lastError: result.error })
      }
    },
    askRestore: (name: string) => {
      setHealth({ confirming: name })
      focus(Store.FocusTargets.backupButton(name, "cancel"))
    },
    cancelRestore: (name: string) => {
      setHealth({ confirming: undefined })
      focus(Store.FocusTargets.backupButton(name, "ask"))
    },
    restore: async (name: string) => {
      await act((api) => api.restoreBackup({ name }), () => "Backup restored")
      setHealth({ confirming: undefined })
    },

    /** The banner's "Unlock keychain": on success the banner goes; else it says why it stays. */
    unlockFromBanner: async () => {
      const problem = store.get().problem
      const result = await Bridge.invokePatiently((api) => api.authorize(), (waiting) => dispatch({ _tag: "ProblemWaiting", waiting }))
      if (result.ok) {
        dispatch({ _tag: "ProblemCleared" })
        announce("Keychain unlocked")
        await refresh()
        return
      }
      const detail: Store.ProblemDetail = result.error._tag === problem?._tag
        ? { _tag: "StillLocked" }
        : { _tag: "Failed", error: result.error }
      dispatch({ _tag: "ProblemUnlockFailed", detail })
    },

    dismissNotice: async (id: string) => {
      const dismissed = await Bridge.invoke((api) => api.dismissNotice({ id }))
      if (dismissed.ok) {
        dispatch({ _tag: "NoticeDismissed", id })
        announce("Keeping the restored settings")
        return
      }
      dispatch({ _tag: "NoticeFailed", id, error: dismissed.error })
    },
    showDamagedFile: async (notice: Bridge.NoticeView) => {
      const opened = await Bridge.invoke((api) => api.openFolder({ file: ViewModel.fileName(notice.quarantinedAs) }))
      if (opened.ok) announce("Opened in your file manager")
      else dispatch({ _tag: "NoticeFailed", id: notice.id, error: opened.error })
    },
    showBackups: () => focus(Store.FocusTargets.backupsHeading)
  }
}

/** Every action of the page over `store`. */
export const make = (store: Store.Store) => {
  const core = makeCore(store)
  const forms = makeFormActions(core)
  return {
    refresh: core.refresh,
    loadHealth: core.loadHealth,
    forms,
    configs: makeConfigActions(core, forms),
    health: makeHealthActions(core),
    focusDone: (serial: number) => store.dispatch({ _tag: "FocusDone", serial }),
    announcementExpired: (serial: number) => store.dispatch({ _tag: "AnnouncementExpired", serial }),

    /** Loads the page: list, status and health, and keeps them current on every change event. */
    start: async () => {
      const api = Bridge.bridge()
      if (api === undefined) {
        store.dispatch({ _tag: "OutsideApp", error: UNSUPPORTED })
        return
      }
      Bridge.listenForLateOutcomes()
      api.onChanged(() => {
        Background.run(core.refresh())
        Background.run(core.loadHealth())
      })
      Background.run(core.loadHealth())
      await core.refresh()
      store.dispatch({ _tag: "Loaded" })
    }
  }
}

export type Actions = ReturnType<typeof make>
