/**
 * The add and edit form of one configuration, built from the provider's field definitions (data,
 * not code: a new provider needs no renderer change). Owns the key input's lifecycle: the key is
 * read once on submit and the input is emptied in the same tick, so it stays in the DOM no longer
 * than the user is typing it.
 */
import type { Providers } from "@fishbowl/domain"
import type * as Bridge from "./Bridge.ts"
import * as Dom from "./Dom.ts"
import * as Messages from "./Messages.ts"

export interface ConfigFormOptions {
  /** Prefix of every element id, unique on the page ("add", "edit-<id>"). */
  readonly idPrefix: string
  readonly provider: Providers.ProviderDefinition
  /** Present when editing: fields start from it and the stored key is kept unless replaced. */
  readonly config?: Bridge.LlmConfigView
  /** Extra fields shown first (the add form's provider picker). */
  readonly leading?: HTMLElement
  readonly submitLabel: string
  /** Saving: async work, run through Dom.background so a defect is logged, never unhandled. */
  readonly onSubmit: (form: ConfigForm) => Promise<void>
  readonly onCancel?: () => void
  /** Present: a "Test connection" button that checks the typed values (and key) without saving. */
  readonly onTest?: (form: ConfigForm) => Promise<void>
}

/** What the user entered; `apiKey` is undefined when the key input was empty or not shown. */
export interface ConfigFormValues {
  readonly name: string
  readonly baseUrl: string | undefined
  readonly useAuthHeader: boolean | undefined
  readonly apiKey: string | undefined
  /** The consent checkbox's state; undefined while it is not shown (the base URL needs none). */
  readonly allowInsecureHttp: boolean | undefined
}

/**
 * Whether a typed base URL is plain http to a host other than this machine: only then can the key
 * travel unencrypted, and only then is the consent checkbox shown. The store decides what is
 * allowed (Canonical.insecureHttpProblem); this only decides what to ask.
 */
export const needsInsecureConsent = (baseUrl: string): boolean => {
  if (!/^http:\/\//i.test(baseUrl.trim())) return false
  let host: string
  try {
    host = new URL(baseUrl.trim()).hostname.toLowerCase()
  } catch {
    return false
  }
  // `*.localhost` is not this machine: the resolver may ask DNS for it (Canonical.hostReach).
  return !(host === "localhost" || /^127\./.test(host) || host === "[::1]")
}

type FieldId = "name" | Providers.ProviderField["id"] | "allowInsecureHttp"

export class ConfigForm {
  readonly element: HTMLFormElement
  private readonly inputs = new Map<FieldId, HTMLInputElement>()
  private readonly errorSlots = new Map<FieldId, HTMLElement>()
  private readonly formError: HTMLElement
  private readonly submitButton: HTMLButtonElement
  private readonly busyNote: HTMLElement
  private keepButton: HTMLButtonElement | undefined
  private readonly testButton: HTMLButtonElement | undefined
  private readonly checkResult: HTMLElement
  private insecureField: HTMLElement | undefined
  private keySection: { readonly field: HTMLElement; readonly replaceRow: HTMLElement; readonly toggle: HTMLButtonElement } | undefined

  constructor(private readonly options: ConfigFormOptions) {
    const { config, idPrefix, provider } = options
    this.formError = Dom.h("div", { class: "form-error", id: `${idPrefix}-form-error`, "aria-live": "polite", tabindex: "-1" })
    this.submitButton = Dom.h("button", { type: "submit", class: "button primary" }, options.submitLabel)
    this.busyNote = Dom.h("p", { class: "busy-note", id: `${idPrefix}-busy`, "aria-live": "polite" })
    const nameField = this.textField("name", {
      label: "Name",
      value: config?.name ?? "",
      placeholder: `e.g. ${provider.displayName} (work)`,
      help: "A label you will recognise; unique across your providers.",
      required: true
    })
    const providerFields = provider.fields.map((field) => this.providerField(field))
    const insecure = this.inputs.has("baseUrl") ? this.insecureConsentField() : undefined
    this.checkResult = Dom.h("div", { class: "check-result", id: `${idPrefix}-check-result`, "aria-live": "polite" })
    this.testButton = options.onTest &&
      Dom.h(
        "button",
        { type: "button", class: "button", "data-action": "test", "aria-describedby": this.checkResult.id },
        "Test connection"
      )
    this.element = Dom.h(
      "form",
      { class: "config-form", novalidate: true, "aria-label": config ? `Edit ${config.name}` : `Add ${provider.displayName}` },
      options.leading,
      nameField,
      providerFields,
      insecure,
      this.formError,
      Dom.h(
        "div",
        { class: "form-actions" },
        this.submitButton,
        this.testButton,
        options.onCancel &&
          Dom.h("button", { type: "button", class: "button ghost", "data-action": "cancel" }, "Cancel"),
        this.busyNote
      ),
      this.checkResult
    )
    const onTest = options.onTest
    if (onTest !== undefined) this.testButton?.addEventListener("click", Dom.background(() => onTest(this)))
    // Escape cancels an edit (the add form has nothing to cancel to).
    this.element.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || options.onCancel === undefined || this.element.getAttribute("aria-busy") === "true") return
      event.preventDefault()
      this.clearSecrets()
      options.onCancel()
    })
    this.element.addEventListener("submit", (event) => {
      event.preventDefault()
      Dom.background(() => options.onSubmit(this))()
    })
    this.element.querySelector<HTMLButtonElement>("[data-action=cancel]")?.addEventListener("click", () => {
      this.clearSecrets()
      options.onCancel?.()
    })
  }

  /** Reads the form and empties the key input at once (success or failure, it is not kept). */
  takeValues(): ConfigFormValues {
    const keyInput = this.inputs.get("apiKey")
    const keyVisible = keyInput !== undefined && this.keySection?.field.hidden !== true
    const apiKey = keyVisible && keyInput.value !== "" ? keyInput.value : undefined
    this.clearSecrets()
    return { ...this.settings(), apiKey }
  }

  /**
   * The values to test, key included, WITHOUT emptying the key input: the user tests before
   * adding, and adding must still have the key they typed.
   */
  readDraft(): ConfigFormValues {
    const keyInput = this.inputs.get("apiKey")
    const keyVisible = keyInput !== undefined && this.keySection?.field.hidden !== true
    return { ...this.settings(), apiKey: keyVisible && keyInput.value !== "" ? keyInput.value : undefined }
  }

  private settings(): Omit<ConfigFormValues, "apiKey"> {
    const text = (id: FieldId) => this.inputs.get(id)?.value.trim()
    const authHeader = this.inputs.get("useAuthHeader")
    const insecure = this.inputs.get("allowInsecureHttp")
    return {
      name: text("name") ?? "",
      baseUrl: this.inputs.has("baseUrl") ? text("baseUrl") : undefined,
      useAuthHeader: authHeader === undefined ? undefined : authHeader.checked,
      allowInsecureHttp: insecure === undefined || this.insecureField?.hidden === true ? undefined : insecure.checked
    }
  }

  /** Busy state of "Test connection": disabled, says it is testing, and why the page waits. */
  setTesting(testing: boolean) {
    if (this.testButton === undefined) return
    this.testButton.disabled = testing
    this.submitButton.disabled = testing
    this.testButton.textContent = testing ? "Testing…" : "Test connection"
    if (testing) this.testButton.setAttribute("aria-busy", "true")
    else this.testButton.removeAttribute("aria-busy")
    this.busyNote.textContent = testing ? Messages.CHECKING_PROVIDER : ""
    if (testing) Dom.replaceChildren(this.checkResult)
  }

  /** The test's outcome beside its button (a failed call shows like any other error). */
  showCheck(result: { readonly check: Bridge.CheckRecordView } | { readonly error: Bridge.WireError }) {
    if ("error" in result) {
      this.checkResult.className = "check-result check-failed"
      Dom.replaceChildren(this.checkResult, errorText(result.error))
      return
    }
    const { hint, ok, title } = Messages.checkOutcomeText(result.check.outcome)
    this.checkResult.className = `check-result ${ok ? "check-ok" : "check-failed"}`
    Dom.replaceChildren(
      this.checkResult,
      Dom.h("span", { class: "error-text" }, Dom.h("strong", {}, title), hint !== "" ? Dom.h("span", { class: "hint" }, hint) : null),
      Dom.h("span", { class: "muted" }, "Nothing was saved.")
    )
  }

  /** Empties the key input and masks it again. */
  clearSecrets() {
    const keyInput = this.inputs.get("apiKey")
    if (keyInput === undefined) return
    keyInput.value = ""
    keyInput.type = "password"
    if (this.keySection !== undefined) this.setToggle(this.keySection.toggle, false)
  }

  clearErrors() {
    Dom.replaceChildren(this.formError)
    Dom.replaceChildren(this.checkResult)
    if (this.keepButton !== undefined) this.keepButton.hidden = false
    for (const [id, slot] of this.errorSlots) {
      Dom.replaceChildren(slot)
      this.inputs.get(id)?.removeAttribute("aria-invalid")
    }
  }

  /** Shows the error next to the field it names (e.g. `patch.apiKey` → API key), else by the buttons. */
  showError(error: Bridge.WireError) {
    this.clearErrors()
    const fieldId = error.field?.split(".").at(-1) as FieldId | undefined
    const slot = fieldId !== undefined ? this.errorSlots.get(fieldId) : undefined
    const input = fieldId !== undefined ? this.inputs.get(fieldId) : undefined
    if (slot === undefined || input === undefined || fieldId === undefined) {
      Dom.replaceChildren(this.formError, errorText(error))
      this.formError.focus()
      return
    }
    if (fieldId === "apiKey") {
      this.revealKey({ focus: false })
      // The error says the key must be entered: offering to keep the stored one would contradict it.
      if (this.keepButton !== undefined) this.keepButton.hidden = true
    }
    Dom.replaceChildren(slot, errorText(error))
    input.setAttribute("aria-invalid", "true")
    input.focus()
  }

  /** Disables submitting and says what is going on ("Saving…") while a call runs. */
  setBusy(busy: boolean, label?: string) {
    this.submitButton.disabled = busy
    this.submitButton.textContent = busy && label !== undefined ? label : this.options.submitLabel
    this.element.setAttribute("aria-busy", String(busy))
    if (!busy) this.busyNote.textContent = ""
  }

  /** The call missed its budget and is still running: say why the page waits. */
  setWaiting(waiting: boolean) {
    this.busyNote.textContent = waiting ? Messages.WAITING_FOR_KEYCHAIN : ""
  }

  /**
   * "Allow plain http…": shown only while the typed base URL is plain http to another machine,
   * starting from the config's stored consent.
   */
  private insecureConsentField() {
    const baseUrl = this.inputs.get("baseUrl")!
    const id = this.fieldId("allowInsecureHttp")
    const input = Dom.h("input", { id, name: "allowInsecureHttp", type: "checkbox", "aria-describedby": `${id}-help ${id}-error` })
    input.checked = this.options.config?.allowInsecureHttp === true
    this.inputs.set("allowInsecureHttp", input)
    const field = Dom.h(
      "div",
      { class: "field field-checkbox insecure-consent", "data-field": "allowInsecureHttp" },
      Dom.h(
        "div",
        { class: "checkbox-row" },
        input,
        Dom.h("label", { for: id }, "Allow plain http to this private-network address (the key travels unencrypted)")
      ),
      Dom.h("p", { class: "help", id: `${id}-help` }, "Anyone on that network can read the key. Use https if the server offers it."),
      this.errorSlot("allowInsecureHttp")
    )
    this.insecureField = field
    const update = () => {
      field.hidden = !needsInsecureConsent(baseUrl.value)
    }
    baseUrl.addEventListener("input", update)
    update()
    return field
  }

  focusFirst() {
    this.inputs.get("name")?.focus()
  }

  // ------------------------------------------------------------------------------------------
  // fields

  private fieldId(id: FieldId) {
    return `${this.options.idPrefix}-${id}`
  }

  private errorSlot(id: FieldId) {
    const slot = Dom.h("p", { class: "field-error", id: `${this.fieldId(id)}-error`, "aria-live": "polite" })
    this.errorSlots.set(id, slot)
    return slot
  }

  private describedBy(id: FieldId, help: string | undefined) {
    return [help !== undefined ? `${this.fieldId(id)}-help` : undefined, `${this.fieldId(id)}-error`].filter(Boolean).join(" ")
  }

  private textField(
    id: FieldId,
    spec: { label: string; value: string; placeholder?: string | undefined; help?: string | undefined; required: boolean; type?: string }
  ) {
    const input = Dom.h("input", {
      id: this.fieldId(id),
      name: id,
      type: spec.type ?? "text",
      placeholder: spec.placeholder,
      "aria-required": spec.required ? "true" : undefined,
      "aria-describedby": this.describedBy(id, spec.help),
      autocomplete: "off",
      spellcheck: "false",
      maxlength: id === "name" ? "100" : "2048"
    })
    input.value = spec.value
    this.inputs.set(id, input)
    return Dom.h(
      "div",
      { class: "field", "data-field": id },
      labelRow(input.id, spec.label, spec.required),
      input,
      spec.help !== undefined && Dom.h("p", { class: "help", id: `${input.id}-help` }, spec.help),
      this.errorSlot(id)
    )
  }

  private providerField(field: Providers.ProviderField): HTMLElement {
    const { config, provider } = this.options
    switch (field.kind) {
      case "secure-text":
        return this.keyField(field)
      case "checkbox": {
        const input = Dom.h("input", { id: this.fieldId(field.id), name: field.id, type: "checkbox" })
        input.checked = config?.useAuthHeader ?? field.defaultValue === true
        this.inputs.set(field.id, input)
        return Dom.h(
          "div",
          { class: "field field-checkbox", "data-field": field.id },
          Dom.h("div", { class: "checkbox-row" }, input, Dom.h("label", { for: input.id }, field.label)),
          field.helperText !== undefined && Dom.h("p", { class: "help", id: `${input.id}-help` }, field.helperText),
          this.errorSlot(field.id)
        )
      }
      case "text": {
        const defaultNote = !field.required && provider.defaultBaseUrl !== undefined
          ? ` Leave empty for ${provider.defaultBaseUrl}.`
          : ""
        return this.textField(field.id, {
          label: field.label,
          value: field.id === "baseUrl" ? config?.baseUrl ?? "" : "",
          placeholder: field.placeholder,
          help: `${field.helperText ?? ""}${defaultNote}`.trim() || undefined,
          required: field.required,
          type: field.id === "baseUrl" ? "url" : "text"
        })
      }
    }
  }

  /**
   * A masked input with a show/hide toggle. When editing a config that has a key, the input stays
   * hidden behind "Replace key" and an empty input keeps the stored key.
   */
  private keyField(field: Providers.ProviderField) {
    const { config } = this.options
    const replacing = config?.hasKey === true
    const id = this.fieldId(field.id)
    const help = replacing ? `Leave empty to keep the stored key. ${field.helperText ?? ""}`.trim() : field.helperText
    const input = Dom.h("input", {
      id,
      name: field.id,
      type: "password",
      placeholder: field.placeholder,
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      "data-secret": "true",
      "aria-required": field.required && config === undefined ? "true" : undefined,
      "aria-describedby": this.describedBy(field.id, help)
    })
    this.inputs.set(field.id, input)
    const toggle = Dom.h("button", { type: "button", class: "button small ghost toggle", "aria-controls": id }, "Show")
    this.setToggle(toggle, false)
    toggle.addEventListener("click", () => {
      const show = input.type === "password"
      input.type = show ? "text" : "password"
      this.setToggle(toggle, show)
      input.focus()
    })
    const label = replacing ? `New ${field.label}` : field.label
    const required = field.required && config === undefined
    const fieldElement = Dom.h(
      "div",
      { class: "field", "data-field": field.id },
      labelRow(id, label, required),
      Dom.h("div", { class: "secret-input" }, input, toggle),
      help !== undefined && Dom.h("p", { class: "help", id: `${id}-help` }, help),
      this.errorSlot(field.id)
    )
    const replaceButton = Dom.h("button", { type: "button", class: "button small" }, "Replace key")
    const replaceRow = Dom.h(
      "div",
      { class: "field key-kept" },
      // A key held only in memory is not "stored" (it goes when Fishbowl quits).
      config?.keyStorage === "session"
        ? Dom.h("span", { class: "pill pill-warn" }, "Key in memory only")
        : Dom.h("span", { class: "pill pill-ok" }, "Key stored"),
      Dom.h("span", { class: "muted" }, "The stored key is kept unless you replace it."),
      replaceButton
    )
    const keepButton = Dom.h("button", { type: "button", class: "button small ghost" }, "Keep stored key")
    this.keepButton = keepButton
    keepButton.addEventListener("click", () => {
      this.clearSecrets()
      Dom.replaceChildren(this.errorSlots.get("apiKey")!)
      fieldElement.hidden = true
      replaceRow.hidden = false
      replaceButton.focus()
    })
    replaceButton.addEventListener("click", () => this.revealKey({ focus: true }))
    this.keySection = { field: fieldElement, replaceRow, toggle }
    if (!replacing) return fieldElement
    fieldElement.hidden = true
    fieldElement.querySelector(".secret-input")?.append(keepButton)
    return Dom.h("div", { class: "key-section" }, replaceRow, fieldElement)
  }

  private revealKey(options: { readonly focus: boolean }) {
    if (this.keySection === undefined) return
    this.keySection.field.hidden = false
    this.keySection.replaceRow.hidden = true
    if (options.focus) this.inputs.get("apiKey")?.focus()
  }

  private setToggle(toggle: HTMLButtonElement, shown: boolean) {
    toggle.textContent = shown ? "Hide" : "Show"
    toggle.setAttribute("aria-label", shown ? "Hide API key" : "Show API key")
  }
}

/** The label, then a visual-only required mark (the input carries aria-required). */
const labelRow = (inputId: string, text: string, required: boolean) =>
  Dom.h(
    "div",
    { class: "label-row" },
    Dom.h("label", { for: inputId }, text),
    required && Dom.h("span", { class: "required", "aria-hidden": "true" }, "*")
  )

/** "Message. Hint." as two spans, so the hint reads as the next step. */
export const errorText = (error: Bridge.WireError) => {
  const { hint, title } = Messages.friendly(error)
  // Field errors (InvalidInput) are already written for people and name no internals.
  const shown = error._tag === "InvalidInput" ? { title: error.message, hint: error.hint } : { title, hint }
  return Dom.h(
    "span",
    { class: "error-text" },
    Dom.h("strong", {}, shown.title),
    shown.hint !== "" ? Dom.h("span", { class: "hint" }, shown.hint) : null
  )
}
