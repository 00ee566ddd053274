/**
 * The "LLM providers" settings page. Plain DOM over `window.fishbowl.llmConfigs`: it lists
 * configurations (metadata only: the bridge never returns a key), adds, edits and deletes them,
 * and says plainly where keys live and what to do when that is not good enough.
 *
 * State is the last list and status from main; every change event refetches both, so several
 * windows (or the CLI working on the same files) stay in step.
 */
import {
  bridge,
  type CreateRequest,
  invoke,
  type LlmConfigView,
  type Outcome,
  type Patch,
  providerById,
  providers,
  type StoreStatusView,
  type WireError
} from "./bridge.ts"
import { ConfigForm, errorText } from "./ConfigForm.ts"
import { byId, h, replaceChildren } from "./dom.ts"

type RowMode = "view" | "edit" | "confirm"

interface Row {
  config: LlmConfigView
  mode: RowMode
  element: HTMLLIElement
}

const rows = new Map<string, Row>()

const statusBanner = () => byId("status-banner")
const lockedBanner = () => byId("locked-banner")
const liveRegion = () => byId("announcer")

/** Announces a short confirmation to screen readers and shows it briefly. */
const announce = (text: string) => {
  const region = liveRegion()
  region.textContent = text
  region.hidden = false
  window.setTimeout(() => {
    if (region.textContent === text) region.hidden = true
  }, 4000)
}

// ---------------------------------------------------------------------------------------------
// errors that concern the whole page

/** Every result passes through here: a locked keychain is shown once, at the top, with its fix. */
const noticeError = (error: WireError) => {
  if (error._tag === "KeychainLocked") showLockedBanner(error)
}

/** A change request; a locked keychain also refreshes the status banner (it then says "locked"). */
const outcome = async <A>(call: Parameters<typeof invoke<A>>[0]): Promise<Outcome<A>> => {
  const result = await invoke(call)
  if (!result.ok) {
    noticeError(result.error)
    if (result.error._tag === "KeychainLocked") void refresh()
  }
  return result
}

const showLockedBanner = (error: WireError) => {
  const banner = lockedBanner()
  const button = h("button", { type: "button", class: "button primary" }, "Unlock keychain")
  const detail = h("div", { class: "banner-detail", "aria-live": "polite" })
  button.addEventListener("click", async () => {
    button.disabled = true
    button.textContent = "Unlocking…"
    const result = await invoke((api) => api.authorize())
    if (result.ok) {
      banner.hidden = true
      replaceChildren(banner)
      announce("Keychain unlocked")
      await refresh()
      return
    }
    button.disabled = false
    button.textContent = "Unlock keychain"
    replaceChildren(detail, errorText(result.error))
  })
  replaceChildren(
    banner,
    h(
      "div",
      { class: "banner-body" },
      h("p", { class: "banner-title" }, "The keychain is locked"),
      h("p", {}, errorText(error)),
      detail
    ),
    h("div", { class: "banner-actions" }, button)
  )
  banner.hidden = false
}

// ---------------------------------------------------------------------------------------------
// status banner

const tierLabels: Record<StoreStatusView["secretStore"]["tier"], string> = {
  keychain: "OS keychain",
  "encrypted-file": "Encrypted file",
  session: "Session only"
}

const renderStatus = (status: StoreStatusView) => {
  const { secretStore } = status
  const banner = statusBanner()
  const sessionOnly = secretStore.tier === "session"
  const needsAttention = secretStore.warning !== undefined || status.health === "degraded"
  banner.className = `banner ${sessionOnly ? "banner-warning" : needsAttention ? "banner-caution" : "banner-ok"}`
  banner.dataset["tier"] = secretStore.tier
  // Notes may repeat the warning; show each sentence once.
  const notes = status.notes.filter((note) => note !== secretStore.warning)
  replaceChildren(
    banner,
    h(
      "div",
      { class: "banner-body" },
      h("p", { class: "banner-title" }, "Key storage: ", h("span", { class: "tier" }, tierLabels[secretStore.tier])),
      h("p", { class: "muted" }, secretStore.detail),
      secretStore.warning !== undefined && h("p", { class: "banner-warning-text" }, secretStore.warning),
      notes.map((note) => h("p", { class: "muted" }, note))
    )
  )
}

const renderStatusError = (error: WireError) => {
  const banner = statusBanner()
  banner.className = "banner banner-caution"
  replaceChildren(banner, h("div", { class: "banner-body" }, h("p", { class: "banner-title" }, "Storage status unknown"), errorText(error)))
}

// ---------------------------------------------------------------------------------------------
// list

const displayName = (providerId: string) => providerById(providerId)?.displayName ?? providerId

const endpointOf = (config: LlmConfigView) =>
  config.baseUrl ?? (providerById(config.provider)?.defaultBaseUrl !== undefined ? `${providerById(config.provider)?.defaultBaseUrl} (default)` : "—")

const formatDate = (iso: string) => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })
}

const rowError = (id: string) => h("div", { class: "row-error", id: `row-${id}-error`, "aria-live": "polite" })

const summary = (config: LlmConfigView) => {
  const nameId = `row-${config.id}-name`
  return h(
    "div",
    { class: "config-summary" },
    h("span", { class: "provider-badge" }, displayName(config.provider)),
    h("div", { class: "config-main" }, h("p", { class: "config-name", id: nameId }, config.name), h("p", { class: "config-url" }, endpointOf(config))),
    h("span", { class: config.hasKey ? "pill pill-ok" : "pill pill-none" }, config.hasKey ? "Key stored" : "No key")
  )
}

const viewRow = (row: Row) => {
  const { config } = row
  const edit = h("button", { type: "button", class: "button small", "aria-label": `Edit ${config.name}` }, "Edit")
  const remove = h("button", { type: "button", class: "button small danger-ghost", "aria-label": `Delete ${config.name}` }, "Delete")
  edit.addEventListener("click", () => setMode(row, "edit"))
  remove.addEventListener("click", () => setMode(row, "confirm"))
  return [
    summary(config),
    h("div", { class: "config-meta" }, h("span", { class: "muted" }, `Updated ${formatDate(config.updatedAt)}`), h("div", { class: "row-actions" }, edit, remove)),
    rowError(config.id)
  ]
}

const confirmRow = (row: Row) => {
  const { config } = row
  const confirm = h("button", { type: "button", class: "button danger" }, "Delete permanently")
  const cancel = h("button", { type: "button", class: "button ghost" }, "Cancel")
  const error = rowError(config.id)
  cancel.addEventListener("click", () => setMode(row, "view"))
  confirm.addEventListener("click", async () => {
    confirm.disabled = true
    const result = await outcome((api) => api.remove({ id: config.id }))
    if (result.ok) {
      rows.delete(config.id)
      row.element.remove()
      announce(`Deleted ${config.name}`)
      await refresh()
      return
    }
    confirm.disabled = false
    replaceChildren(error, errorText(result.error))
  })
  const question = h(
    "div",
    { class: "confirm", role: "group", "aria-label": `Confirm deleting ${config.name}` },
    h("p", {}, h("strong", {}, `Delete “${config.name}”?`), " Its API key is removed from secure storage too. This cannot be undone."),
    h("div", { class: "row-actions" }, confirm, cancel)
  )
  window.setTimeout(() => cancel.focus(), 0)
  return [summary(config), question, error]
}

const editRow = (row: Row) => {
  const { config } = row
  const provider = providerById(config.provider)
  if (provider === undefined) {
    return [summary(config), h("p", { class: "row-error" }, `This provider (${config.provider}) is not supported by this version of Fishbowl.`)]
  }
  const form: ConfigForm = new ConfigForm({
    idPrefix: `edit-${config.id}`,
    provider,
    config,
    submitLabel: "Save changes",
    onCancel: () => setMode(row, "view"),
    onSubmit: async () => {
      const values = form.takeValues()
      const patch: { -readonly [K in keyof Patch]: Patch[K] } = {}
      if (values.name !== config.name) patch.name = values.name
      if (values.baseUrl !== undefined && values.baseUrl !== (config.baseUrl ?? "")) {
        patch.baseUrl = values.baseUrl === "" ? null : values.baseUrl
      }
      if (values.useAuthHeader !== undefined && values.useAuthHeader !== config.useAuthHeader) patch.useAuthHeader = values.useAuthHeader
      if (values.apiKey !== undefined) patch.apiKey = values.apiKey
      if (Object.keys(patch).length === 0) {
        setMode(row, "view")
        return
      }
      form.clearErrors()
      form.setBusy(true)
      const result = await outcome((api) => api.update({ id: config.id, patch }))
      form.setBusy(false)
      if (result.ok) {
        row.config = result.value
        setMode(row, "view")
        announce(`Saved ${result.value.name}`)
        return
      }
      form.showError(result.error)
    }
  })
  window.setTimeout(() => form.focusFirst(), 0)
  return [h("div", { class: "edit-heading" }, summary(config)), form.element]
}

const setMode = (row: Row, mode: RowMode) => {
  row.mode = mode
  row.element.dataset["mode"] = mode
  replaceChildren(row.element, mode === "edit" ? editRow(row) : mode === "confirm" ? confirmRow(row) : viewRow(row))
}

/** Keyed update: rows being edited or confirmed keep their DOM (and what the user typed). */
const renderList = (configs: ReadonlyArray<LlmConfigView>) => {
  const list = byId<HTMLUListElement>("config-list")
  const seen = new Set<string>()
  const ordered: Array<HTMLLIElement> = []
  for (const config of configs) {
    seen.add(config.id)
    let row = rows.get(config.id)
    if (row === undefined) {
      row = { config, mode: "view", element: h("li", { class: "config-row", "aria-labelledby": `row-${config.id}-name` }) }
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
  byId("empty-state").hidden = configs.length > 0
  byId("config-count").textContent = configs.length === 0 ? "" : String(configs.length)
}

// ---------------------------------------------------------------------------------------------
// add form

const providerPicker = (selected: string, onChange: (providerId: string) => void) => {
  const select = h(
    "select",
    { id: "add-provider", name: "provider" },
    providers.map((provider) => h("option", { value: provider.id, selected: provider.id === selected }, provider.displayName))
  )
  select.addEventListener("change", () => onChange(select.value))
  return h(
    "div",
    { class: "field", "data-field": "provider" },
    h("label", { for: "add-provider" }, "Provider"),
    select,
    h("p", { class: "field-error", id: "add-provider-error", "aria-live": "polite" })
  )
}

const mountAddForm = (providerId: string, keepName?: string) => {
  const provider = providerById(providerId) ?? providers[0]!
  const container = byId("add-form-container")
  const form: ConfigForm = new ConfigForm({
    idPrefix: "add",
    provider,
    leading: providerPicker(provider.id, (next) => mountAddForm(next, form.takeValues().name)),
    submitLabel: "Add provider",
    onSubmit: async () => {
      const values = form.takeValues()
      const request: { -readonly [K in keyof CreateRequest]: CreateRequest[K] } = { provider: provider.id, name: values.name }
      if (values.baseUrl !== undefined && values.baseUrl !== "") request.baseUrl = values.baseUrl
      if (values.useAuthHeader !== undefined) request.useAuthHeader = values.useAuthHeader
      if (values.apiKey !== undefined) request.apiKey = values.apiKey
      form.clearErrors()
      form.setBusy(true)
      const result = await outcome((api) => api.create(request))
      form.setBusy(false)
      if (result.ok) {
        announce(`Added ${result.value.name}`)
        mountAddForm(provider.id)
        await refresh()
        return
      }
      form.showError(result.error)
    }
  })
  const nameInput = form.element.querySelector<HTMLInputElement>("#add-name")
  if (nameInput !== null && keepName !== undefined) nameInput.value = keepName
  replaceChildren(container, form.element)
}

// ---------------------------------------------------------------------------------------------
// refresh

/**
 * Reads retried on Timeout: the first status call starts the keychain helper, which can take
 * longer than the 200 ms budget; the late answer warms it, so the retry is quick.
 */
const readWithRetry = async <A>(call: Parameters<typeof invoke<A>>[0], attempts = 3): Promise<Outcome<A>> => {
  for (let attempt = 1; ; attempt++) {
    const result = await invoke(call)
    if (result.ok || result.error._tag !== "Timeout" || attempt >= attempts) {
      if (!result.ok) noticeError(result.error)
      return result
    }
    await new Promise((resolve) => window.setTimeout(resolve, 250 * attempt))
  }
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
      const [list, status] = await Promise.all([readWithRetry((api) => api.list()), readWithRetry((api) => api.status())])
      const listError = byId("list-error")
      if (list.ok) {
        replaceChildren(listError)
        renderList(list.value)
      } else {
        replaceChildren(listError, errorText(list.error))
      }
      if (status.ok) renderStatus(status.value)
      else renderStatusError(status.error)
    } while (refreshAgain)
  })().finally(() => {
    refreshing = undefined
  })
  return refreshing
}

const start = async () => {
  const api = bridge()
  const page = byId("app")
  if (api === undefined) {
    renderStatusError({
      _tag: "Unsupported",
      message: "This page only works inside the Fishbowl app",
      hint: "Open the settings from Fishbowl."
    })
    page.removeAttribute("aria-busy")
    return
  }
  mountAddForm(providers[0]!.id)
  api.onChanged(() => void refresh())
  await refresh()
  page.removeAttribute("aria-busy")
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void start())
else void start()
