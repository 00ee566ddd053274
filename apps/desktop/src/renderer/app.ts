/**
 * The "LLM providers" settings page. Plain DOM over `window.fishbowl.llmConfigs`: it lists
 * configurations (metadata only: the bridge never returns a key), adds, edits and deletes them,
 * and says plainly where keys live and what to do when that is not good enough.
 *
 * State is the last list and status from main; every change event refetches both, so several
 * windows (or the CLI working on the same files) stay in step.
 *
 * One message per problem: a problem of the whole store (locked keychain, unreadable settings)
 * is shown once, in the banner at the top, with its fix; field problems next to their field.
 * A call that misses its time budget says it is waiting for the keychain and ends with the real
 * outcome (see bridge.invokePatiently). Confirmations go to a live region in the page's flow,
 * so they never cover a control.
 */
import * as Bridge from "./Bridge.ts"
import * as ConfigForm from "./ConfigForm.ts"
import * as Dom from "./Dom.ts"
import * as HealthPanel from "./HealthPanel.ts"
import * as Messages from "./Messages.ts"

type RowMode = "view" | "edit" | "confirm"

interface Row {
  config: Bridge.LlmConfigView
  mode: RowMode
  element: HTMLLIElement
  /** A "Test connection" is running (the row may be re-rendered meanwhile; the busy state stays). */
  checking: boolean
  /** The last test's outcome when the store could not record it (recorded ones are `config.lastCheck`). */
  unrecorded: Bridge.CheckRecordView | undefined
}

const rows = new Map<string, Row>()

const health: HealthPanel.HealthPanel = new HealthPanel.HealthPanel({ refresh: () => refresh(), announce: (text) => announce(text) })

const statusBanner = () => Dom.byId("status-banner")
const lockedBanner = () => Dom.byId("locked-banner")
const liveRegion = () => Dom.byId("announcer")

/**
 * Announces a short confirmation to screen readers and shows it briefly, in the page's flow.
 * A "problem" (a connection test that failed) is shown without the confirmation's check mark.
 */
const announce = (text: string, tone: "done" | "problem" = "done") => {
  const region = liveRegion()
  region.dataset["tone"] = tone
  region.textContent = text
  window.setTimeout(() => {
    if (region.textContent === text) region.textContent = ""
  }, 6000)
}

// ---------------------------------------------------------------------------------------------
// errors that concern the whole page

/** Every result passes through here: a problem of the whole store is shown once, at the top. */
const noticeError = (error: Bridge.WireError): boolean => {
  if (!Messages.pageLevelTags.has(error._tag)) return false
  showProblemBanner(error)
  // The health panel must not say "everything looks right" beside it.
  void health.load()
  return true
}

/**
 * A change request. Slow calls report `onWaiting` and end with their real outcome. A problem of
 * the whole store goes to the banner (and focus moves there); the caller shows only the rest.
 */
const outcome = async <A>(
  call: Parameters<typeof Bridge.invoke<A>>[0],
  onWaiting: (waiting: boolean) => void = () => {}
): Promise<Bridge.Outcome<A> | { readonly ok: false; readonly error: Bridge.WireError; readonly shown: true }> => {
  const result = await Bridge.invokePatiently(call, onWaiting)
  if (!result.ok && noticeError(result.error)) {
    void refresh()
    const banner = lockedBanner()
    ;(banner.querySelector<HTMLElement>("button") ?? banner.querySelector<HTMLElement>(".banner-title"))?.focus()
    return { ...result, shown: true as const }
  }
  // The problem in the banner is over once a change goes through (e.g. unlocked in the system's prompt).
  if (result.ok && bannerError !== undefined) hideProblemBanner()
  return result
}

let bannerError: Bridge.WireError | undefined

const showProblemBanner = (error: Bridge.WireError) => {
  bannerError = error
  const banner = lockedBanner()
  const { hint, title } = Messages.friendly(error)
  const unlock = error._tag === "KeychainLocked" || error._tag === "KeychainDenied"
  const detail = Dom.h("div", { class: "banner-detail", "aria-live": "polite" })
  const button = unlock && Dom.h("button", { type: "button", class: "button primary" }, "Unlock keychain")
  if (button) {
    button.addEventListener(
      "click",
      Dom.background(async () => {
        button.disabled = true
        button.textContent = "Unlocking…"
        button.setAttribute("aria-busy", "true")
        const result = await Bridge.invokePatiently((api) => api.authorize(), (waiting) => {
          detail.textContent = waiting ? "Waiting for your keychain — it may be asking for permission or a password" : ""
        })
        if (result.ok) {
          hideProblemBanner()
          announce("Keychain unlocked")
          await refresh()
          return
        }
        button.disabled = false
        button.textContent = "Unlock keychain"
        button.removeAttribute("aria-busy")
        if (result.error._tag === error._tag) {
          Dom.replaceChildren(detail, "Still locked. Unlock it in your system's prompt, then try again.")
        } else Dom.replaceChildren(detail, ConfigForm.errorText(result.error))
      })
    )
  }
  const health = Dom.h("a", { href: "#health-heading", class: "banner-link" }, "Storage health")
  Dom.replaceChildren(
    banner,
    Dom.h(
      "div",
      { class: "banner-body" },
      Dom.h("p", { class: "banner-title", tabindex: "-1" }, title),
      Dom.h("p", {}, hint),
      !unlock && Dom.h("p", {}, "Details are in ", health, "."),
      detail
    ),
    button && Dom.h("div", { class: "banner-actions" }, button)
  )
  banner.hidden = false
}

const hideProblemBanner = () => {
  bannerError = undefined
  const banner = lockedBanner()
  banner.hidden = true
  Dom.replaceChildren(banner)
}

// ---------------------------------------------------------------------------------------------
// status banner

const tierLabels: Record<Bridge.StoreStatusView["secretStore"]["tier"], string> = {
  keychain: "OS keychain",
  "encrypted-file": "Encrypted file",
  session: "Session only"
}

/** What each tier means for the user, in their words (the precise text is in Storage health). */
const tierExplanations: Record<Bridge.StoreStatusView["secretStore"]["tier"], string> = {
  keychain: "API keys are kept in your system's keychain, encrypted and available only to you.",
  "encrypted-file": "No system keychain is available, so API keys are kept in an encrypted file in Fishbowl's data folder.",
  session: "No system keychain is in use, so API keys are kept only until Fishbowl quits — you will have to enter them again."
}

const renderStatus = (status: Bridge.StoreStatusView) => {
  const { secretStore } = status
  const banner = statusBanner()
  const sessionOnly = secretStore.tier === "session"
  const needsAttention = secretStore.tier !== "keychain"
  banner.className = `banner ${sessionOnly ? "banner-warning" : needsAttention ? "banner-caution" : "banner-ok"}`
  banner.dataset["tier"] = secretStore.tier
  Dom.replaceChildren(
    banner,
    Dom.h(
      "div",
      { class: "banner-body" },
      Dom.h("p", { class: "banner-title" }, "Key storage: ", Dom.h("span", { class: "tier" }, tierLabels[secretStore.tier])),
      Dom.h("p", {}, tierExplanations[secretStore.tier]),
      needsAttention && Dom.h("p", {}, Dom.h("a", { href: "#health-heading", class: "banner-link" }, "How to fix this in Storage health"))
    )
  )
}

// ---------------------------------------------------------------------------------------------
// notices: recoveries the storage made on its own, shown until dismissed

const noticeTitles: Record<Bridge.NoticeView["kind"], string> = { "restored-from-backup": "Your settings were restored from a backup" }

const fileName = (fullPath: string) => fullPath.split(/[\\/]/).pop() ?? fullPath

const renderNotices = (notices: ReadonlyArray<Bridge.NoticeView>) => {
  const container = Dom.byId("notices")
  const shown = new Set(Array.from(container.children, (child) => (child as HTMLElement).dataset["notice"]))
  const wanted = new Set(notices.map((notice) => notice.id))
  for (const child of Array.from(container.children) as Array<HTMLElement>) {
    if (!wanted.has(child.dataset["notice"] ?? "")) child.remove()
  }
  for (const notice of notices) {
    if (shown.has(notice.id)) continue
    const headingId = `notice-${notice.id}-title`
    const keep = Dom.h("button", { type: "button", class: "button primary small" }, "Keep the restored settings")
    const older = Dom.h("button", { type: "button", class: "button small" }, "Choose another backup")
    const folder = Dom.h("button", { type: "button", class: "button small" }, "Show the damaged file")
    const result = Dom.h("div", { class: "banner-detail", "aria-live": "polite" })
    keep.addEventListener(
      "click",
      Dom.background(async () => {
        keep.disabled = true
        const dismissed = await Bridge.invoke((api) => api.dismissNotice({ id: notice.id }))
        if (dismissed.ok) {
          section.remove()
          announce("Keeping the restored settings")
          return
        }
        keep.disabled = false
        Dom.replaceChildren(result, ConfigForm.errorText(dismissed.error))
      })
    )
    older.addEventListener("click", () => health.focusBackups())
    folder.addEventListener(
      "click",
      Dom.background(async () => {
        const opened = await Bridge.invoke((api) => api.openFolder({ file: fileName(notice.quarantinedAs) }))
        if (opened.ok) announce("Opened in your file manager")
        else Dom.replaceChildren(result, ConfigForm.errorText(opened.error))
      })
    )
    const section = Dom.h(
      "section",
      { class: "banner banner-caution notice", "data-notice": notice.id, "aria-labelledby": headingId },
      Dom.h(
        "div",
        { class: "banner-body" },
        Dom.h("h2", { class: "banner-title", id: headingId }, noticeTitles[notice.kind]),
        Dom.h(
          "p",
          {},
          `Fishbowl found its settings file damaged and put back the last good copy (${fileName(notice.restoredFrom)}). `,
          "Changes saved after that copy are missing; check your providers below."
        ),
        Dom.h("p", {}, "The damaged file is kept at ", Dom.h("code", {}, notice.quarantinedAs), "."),
        Dom.h("div", { class: "row-actions" }, keep, older, folder),
        result
      )
    )
    container.append(section)
  }
}

const renderStatusError = (error: Bridge.WireError) => {
  const banner = statusBanner()
  banner.className = "banner banner-caution"
  Dom.replaceChildren(
    banner,
    Dom.h("div", { class: "banner-body" }, Dom.h("p", { class: "banner-title" }, "Storage status unknown"), ConfigForm.errorText(error))
  )
}

// ---------------------------------------------------------------------------------------------
// list

const displayName = (providerId: string) => Bridge.providerById(providerId)?.displayName ?? providerId

const endpointOf = (config: Bridge.LlmConfigView) =>
  config.baseUrl ??
    (Bridge.providerById(config.provider)?.defaultBaseUrl !== undefined
      ? `${Bridge.providerById(config.provider)?.defaultBaseUrl} (default)`
      : "—")

const formatDate = (iso: string) => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
}

const rowError = (id: string) => Dom.h("div", { class: "row-error", id: `row-${id}-error`, "aria-live": "polite", tabindex: "-1" })

/** Where the key really is, from the metadata (a session key is gone when Fishbowl quits). */
const keyState = (config: Bridge.LlmConfigView): { readonly text: string; readonly ok: boolean } => {
  if (config.keyStorage === "session") {
    return config.hasKey
      ? { text: "Not saved (kept in memory until Fishbowl quits)", ok: false }
      : { text: "Not saved: enter the key again", ok: false }
  }
  if (!config.hasKey) return { text: "No key", ok: false }
  return config.keyStorage === "encrypted-file" ? { text: "Stored (encrypted file)", ok: true } : { text: "Key stored", ok: true }
}

const summary = (config: Bridge.LlmConfigView) => {
  const nameId = `row-${config.id}-name`
  const key = keyState(config)
  return Dom.h(
    "div",
    { class: "config-summary" },
    Dom.h("span", { class: "provider-badge" }, displayName(config.provider)),
    Dom.h(
      "div",
      { class: "config-main" },
      Dom.h("p", { class: "config-name", id: nameId }, config.name),
      Dom.h("p", { class: "config-url" }, endpointOf(config))
    ),
    Dom.h("span", { class: key.ok ? "pill pill-ok" : config.keyStorage === "session" ? "pill pill-warn" : "pill pill-none" }, key.text)
  )
}

/** The last test, when and what: the stored `lastCheck`, or this session's unrecorded one. */
const lastCheckLine = (row: Row) => {
  const record =
    row.unrecorded !== undefined && (row.config.lastCheck === undefined || row.unrecorded.checkedAt > row.config.lastCheck.checkedAt)
      ? row.unrecorded
      : row.config.lastCheck
  const id = `row-${row.config.id}-check`
  if (row.checking) return Dom.h("p", { class: "check-result busy-note", id, "aria-live": "polite" }, Messages.CHECKING_PROVIDER)
  if (record === undefined) return Dom.h("p", { class: "check-result muted", id, "aria-live": "polite" }, "Not tested yet")
  const { hint, ok, title } = Messages.checkOutcomeText(record.outcome)
  return Dom.h(
    "p",
    { class: `check-result ${ok ? "check-ok" : "check-failed"}`, id, "aria-live": "polite" },
    Dom.h("span", { class: "check-when" }, `Last test, ${formatDate(record.checkedAt)}: `),
    Dom.h("strong", {}, title),
    hint !== "" && Dom.h("span", { class: "hint" }, ` ${hint}`)
  )
}

const runStoredCheck = async (row: Row) => {
  const { config } = row
  row.checking = true
  if (row.mode === "view") setMode(row, "view")
  const result = await outcome((api) => api.check({ id: config.id }))
  row.checking = false
  const current = rows.get(config.id)
  if (result.ok) {
    if (!result.value.recorded) row.unrecorded = result.value.check
    const { ok, title } = Messages.checkOutcomeText(result.value.check.outcome)
    announce(`${config.name}: ${title}`, ok ? "done" : "problem")
  }
  if (current === row && row.mode === "view") setMode(row, "view")
  if (result.ok) {
    await refresh()
    row.element.querySelector<HTMLElement>(`[aria-label="Test connection to ${CSS.escape(config.name)}"]`)?.focus()
    return
  }
  if (!("shown" in result)) {
    const error = row.element.querySelector<HTMLElement>(".row-error")
    if (error !== null) {
      Dom.replaceChildren(error, ConfigForm.errorText(result.error))
      error.focus()
    }
  }
}

const viewRow = (row: Row) => {
  const { config } = row
  const edit = Dom.h("button", { type: "button", class: "button small", "aria-label": `Edit ${config.name}` }, "Edit")
  const remove = Dom.h("button", { type: "button", class: "button small danger-ghost", "aria-label": `Delete ${config.name}` }, "Delete")
  const test = Dom.h(
    "button",
    {
      type: "button",
      class: "button small",
      "aria-label": `Test connection to ${config.name}`,
      "aria-describedby": `row-${config.id}-check`
    },
    // The text stays (it is part of the accessible name); busy shows as disabled, a spinner and the note.
    "Test connection"
  )
  if (row.checking) {
    test.disabled = true
    test.setAttribute("aria-busy", "true")
  }
  edit.disabled = row.checking
  remove.disabled = row.checking
  edit.addEventListener("click", () => setMode(row, "edit"))
  remove.addEventListener("click", () => setMode(row, "confirm"))
  test.addEventListener("click", () => void runStoredCheck(row))
  return [
    summary(config),
    config.allowInsecureHttp === true &&
    Dom.h("p", { class: "insecure-note" }, "Plain http allowed to this private-network address: the key travels unencrypted."),
    lastCheckLine(row),
    Dom.h(
      "div",
      { class: "config-meta" },
      Dom.h("span", { class: "muted" }, `Updated ${formatDate(config.updatedAt)}`),
      Dom.h("div", { class: "row-actions" }, test, edit, remove)
    ),
    rowError(config.id)
  ]
}

const confirmRow = (row: Row) => {
  const { config } = row
  const confirm = Dom.h("button", { type: "button", class: "button danger" }, "Delete permanently")
  const cancel = Dom.h("button", { type: "button", class: "button ghost" }, "Cancel")
  const error = rowError(config.id)
  cancel.addEventListener("click", () => {
    setMode(row, "view")
    row.element.querySelector<HTMLElement>(`[aria-label="Delete ${CSS.escape(config.name)}"]`)?.focus()
  })
  const waitNote = Dom.h("p", { class: "busy-note", "aria-live": "polite" })
  confirm.addEventListener(
    "click",
    Dom.background(async () => {
      confirm.disabled = true
      cancel.disabled = true
      confirm.textContent = "Deleting…"
      confirm.setAttribute("aria-busy", "true")
      const result = await outcome((api) => api.remove({ id: config.id }), (waiting) => {
        waitNote.textContent = waiting ? "Waiting for your keychain — it may be asking for permission or a password" : ""
      })
      if (result.ok) {
        rows.delete(config.id)
        row.element.remove()
        announce(`Deleted ${config.name}`)
        await refresh()
        Dom.byId("add-heading").focus()
        return
      }
      confirm.disabled = false
      cancel.disabled = false
      confirm.textContent = "Delete permanently"
      confirm.removeAttribute("aria-busy")
      waitNote.textContent = ""
      if (!("shown" in result)) {
        Dom.replaceChildren(error, ConfigForm.errorText(result.error))
        error.focus()
      }
    })
  )
  const question = Dom.h(
    "div",
    { class: "confirm", role: "group", "aria-label": `Confirm deleting ${config.name}` },
    Dom.h(
      "p",
      {},
      Dom.h("strong", {}, `Delete “${config.name}”?`),
      " Its API key is removed from secure storage too. This cannot be undone."
    ),
    Dom.h("div", { class: "row-actions" }, confirm, cancel, waitNote)
  )
  question.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !cancel.disabled) {
      event.preventDefault()
      cancel.click()
    }
  })
  window.setTimeout(() => cancel.focus(), 0)
  return [summary(config), question, error]
}

const editRow = (row: Row) => {
  const { config } = row
  const provider = Bridge.providerById(config.provider)
  if (provider === undefined) {
    return [
      summary(config),
      Dom.h("p", { class: "row-error" }, `This provider (${config.provider}) is not supported by this version of Fishbowl.`)
    ]
  }
  const form: ConfigForm.ConfigForm = new ConfigForm.ConfigForm({
    idPrefix: `edit-${config.id}`,
    provider,
    config,
    submitLabel: "Save changes",
    onCancel: () => {
      setMode(row, "view")
      row.element.querySelector<HTMLElement>("button")?.focus()
    },
    onSubmit: async () => {
      const values = form.takeValues()
      const patch: { -readonly [K in keyof Bridge.Patch]: Bridge.Patch[K] } = {}
      if (values.name !== config.name) patch.name = values.name
      if (values.baseUrl !== undefined && values.baseUrl !== (config.baseUrl ?? "")) {
        patch.baseUrl = values.baseUrl === "" ? null : values.baseUrl
      }
      if (values.useAuthHeader !== undefined && values.useAuthHeader !== config.useAuthHeader) patch.useAuthHeader = values.useAuthHeader
      if (values.allowInsecureHttp !== undefined && values.allowInsecureHttp !== (config.allowInsecureHttp === true)) {
        patch.allowInsecureHttp = values.allowInsecureHttp
      }
      if (values.apiKey !== undefined) patch.apiKey = values.apiKey
      if (Object.keys(patch).length === 0) {
        setMode(row, "view")
        return
      }
      form.clearErrors()
      form.setBusy(true, "Saving…")
      const result = await outcome((api) => api.update({ id: config.id, patch }), (waiting) => form.setWaiting(waiting))
      form.setBusy(false)
      if (result.ok) {
        row.config = result.value
        setMode(row, "view")
        row.element.querySelector<HTMLElement>("button")?.focus()
        announce(`Saved ${result.value.name}`)
        return
      }
      if (!("shown" in result)) form.showError(result.error)
    }
  })
  window.setTimeout(() => form.focusFirst(), 0)
  return [Dom.h("div", { class: "edit-heading" }, summary(config)), form.element]
}

const setMode = (row: Row, mode: RowMode) => {
  row.mode = mode
  row.element.dataset["mode"] = mode
  Dom.replaceChildren(row.element, mode === "edit" ? editRow(row) : mode === "confirm" ? confirmRow(row) : viewRow(row))
}

/** Keyed update: rows being edited or confirmed keep their DOM (and what the user typed). */
const renderList = (configs: ReadonlyArray<Bridge.LlmConfigView>) => {
  const list = Dom.byId<HTMLUListElement>("config-list")
  const seen = new Set<string>()
  const ordered: Array<HTMLLIElement> = []
  for (const config of configs) {
    seen.add(config.id)
    let row = rows.get(config.id)
    if (row === undefined) {
      row = {
        config,
        mode: "view",
        checking: false,
        unrecorded: undefined,
        element: Dom.h("li", { class: "config-row", "aria-labelledby": `row-${config.id}-name` })
      }
      rows.set(config.id, row)
      setMode(row, "view")
    } else if (row.mode === "view" && JSON.stringify(row.config) !== JSON.stringify(config)) {
      row.config = config
      setMode(row, "view")
    } else {
      row.config = config
    }
    ordered.push(row.element)
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.element.remove()
      rows.delete(id)
    }
  }
  list.replaceChildren(...ordered)
  Dom.byId("empty-state").hidden = configs.length > 0
  Dom.byId("config-count").textContent = configs.length === 0 ? "" : String(configs.length)
}

// ---------------------------------------------------------------------------------------------
// add form

const providerPicker = (selected: string, onChange: (providerId: string) => void) => {
  const select = Dom.h(
    "select",
    { id: "add-provider", name: "provider" },
    Bridge.providers.map((provider) => Dom.h("option", { value: provider.id, selected: provider.id === selected }, provider.displayName))
  )
  select.addEventListener("change", () => onChange(select.value))
  return Dom.h(
    "div",
    { class: "field", "data-field": "provider" },
    Dom.h("label", { for: "add-provider" }, "Provider"),
    select,
    Dom.h("p", { class: "field-error", id: "add-provider-error", "aria-live": "polite" })
  )
}

const mountAddForm = (providerId: string, keepName?: string) => {
  const provider = Bridge.providerById(providerId) ?? Bridge.providers[0]!
  const container = Dom.byId("add-form-container")
  const form: ConfigForm.ConfigForm = new ConfigForm.ConfigForm({
    idPrefix: "add",
    provider,
    leading: providerPicker(provider.id, (next) => mountAddForm(next, form.takeValues().name)),
    submitLabel: "Add provider",
    // Checks what is typed, key included; persists nothing (checkDraft reaches neither store).
    onTest: async () => {
      const values = form.readDraft()
      const draft: { -readonly [K in keyof Bridge.DraftRequest]: Bridge.DraftRequest[K] } = { provider: provider.id }
      if (values.baseUrl !== undefined && values.baseUrl !== "") draft.baseUrl = values.baseUrl
      if (values.useAuthHeader !== undefined) draft.useAuthHeader = values.useAuthHeader
      if (values.apiKey !== undefined) draft.apiKey = values.apiKey
      // The main process applies the same plain-http rule as saving, consent included.
      if (values.allowInsecureHttp === true) draft.allowInsecureHttp = true
      form.clearErrors()
      form.setTesting(true)
      const result = await outcome((api) => api.checkDraft(draft))
      form.setTesting(false)
      if (result.ok) {
        form.showCheck({ check: result.value.check })
        const { ok, title } = Messages.checkOutcomeText(result.value.check.outcome)
        announce(title, ok ? "done" : "problem")
        return
      }
      if ("shown" in result) return
      if (result.error.field !== undefined) form.showError(result.error)
      else form.showCheck({ error: result.error })
    },
    onSubmit: async () => {
      const values = form.takeValues()
      const request: { -readonly [K in keyof Bridge.CreateRequest]: Bridge.CreateRequest[K] } = { provider: provider.id, name: values.name }
      if (values.baseUrl !== undefined && values.baseUrl !== "") request.baseUrl = values.baseUrl
      if (values.useAuthHeader !== undefined) request.useAuthHeader = values.useAuthHeader
      if (values.allowInsecureHttp === true) request.allowInsecureHttp = true
      if (values.apiKey !== undefined) request.apiKey = values.apiKey
      form.clearErrors()
      form.setBusy(true, "Adding…")
      const result = await outcome((api) => api.create(request), (waiting) => form.setWaiting(waiting))
      form.setBusy(false)
      if (result.ok) {
        announce(`Added ${result.value.name}`)
        mountAddForm(provider.id)
        await refresh()
        Dom.byId<HTMLSelectElement>("add-provider").focus()
        return
      }
      if (!("shown" in result)) form.showError(result.error)
    }
  })
  const nameInput = form.element.querySelector<HTMLInputElement>("#add-name")
  if (nameInput !== null && keepName !== undefined) nameInput.value = keepName
  Dom.replaceChildren(container, form.element)
}

// ---------------------------------------------------------------------------------------------
// refresh

/**
 * Reads wait for their late outcome on Timeout: the first status call starts the keychain
 * helper, which can take longer than the 200 ms budget.
 */
const read = async <A>(call: Parameters<typeof Bridge.invoke<A>>[0]): Promise<Bridge.Outcome<A>> => {
  const result = await Bridge.invokePatiently(call, (waiting) => {
    Dom.byId("list-busy").textContent = waiting ? "Waiting for your keychain — it may be asking for permission or a password" : ""
  }, { retry: true })
  if (!result.ok) noticeError(result.error)
  return result
}

let refreshing: Promise<void> | undefined
let refreshAgain = false

/** Refetches list and status; calls arriving during a refresh coalesce into one more. */
const refresh = async (): Promise<void> => {
  if (refreshing !== undefined) {
    refreshAgain = true
    return refreshing
  }
  refreshing = (async () => {
    do {
      refreshAgain = false
      const [list, status] = await Promise.all([read((api) => api.list()), read((api) => api.status())])
      const listError = Dom.byId("list-error")
      if (list.ok) {
        Dom.replaceChildren(listError)
        renderList(list.value)
      } else if (!Messages.pageLevelTags.has(list.error._tag)) {
        Dom.replaceChildren(listError, ConfigForm.errorText(list.error))
      }
      if (status.ok) {
        renderStatus(status.value)
        renderNotices(status.value.notices)
        health.setStatus(status.value)
      } else if (!Messages.pageLevelTags.has(status.error._tag)) {
        renderStatusError(status.error)
      }
    } while (refreshAgain)
  })().finally(() => {
    refreshing = undefined
  })
  return refreshing
}

const start = async () => {
  const api = Bridge.bridge()
  const page = Dom.byId("app")
  if (api === undefined) {
    renderStatusError({
      _tag: "Unsupported",
      message: "This page only works inside the Fishbowl app",
      hint: "Open the settings from Fishbowl."
    })
    page.removeAttribute("aria-busy")
    return
  }
  Bridge.listenForLateOutcomes()
  mountAddForm(Bridge.providers[0]!.id)
  api.onChanged(() => {
    void refresh()
    void health.load()
  })
  void health.load()
  await refresh()
  page.removeAttribute("aria-busy")
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void start())
else void start()
