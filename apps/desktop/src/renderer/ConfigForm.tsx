/**
 * The add and edit form of one configuration, built from the provider's field definitions (data,
 * not code: a new provider needs no renderer change). What the user types stays in the inputs
 * (uncontrolled, read through refs at submit); everything else about the form is in the store.
 *
 * The key input is never in state or props: it is read once at submit and emptied in the same
 * tick, so the key stays in the DOM no longer than the user is typing it, and goes to the action
 * as an argument of the one call that sends it.
 */
import type { Providers } from "@fishbowl/domain"
import * as BaseUrlRule from "@fishbowl/domain/BaseUrlRule"
import type { ComponentChildren, RefObject } from "preact"
import { useRef } from "preact/hooks"
import * as Actions from "./Actions.ts"
import * as Background from "./Background.ts"
import type * as Bridge from "./Bridge.ts"
import { BusyButton, BusyNote, ErrorText, LabelRow } from "./Components.tsx"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"

export interface ConfigFormProps {
  /** The form's id in the store and the prefix of every element id ("add", "edit-<id>"). */
  readonly formId: string
  readonly provider: Providers.ProviderDefinition
  /** Present when editing: fields start from it and the stored key is kept unless replaced. */
  readonly config?: Bridge.LlmConfigView | undefined
  /** Extra fields shown first (the add form's provider picker). */
  readonly leading?: ComponentChildren
  readonly submitLabel: string
  readonly onSubmit: (settings: Actions.FormSettings, apiKey: string | undefined) => Promise<void>
  readonly onCancel?: (() => void) | undefined
  /** Present: a "Test connection" button that checks the typed values (and key) without saving. */
  readonly onTest?: ((settings: Actions.FormSettings, apiKey: string | undefined) => Promise<void>) | undefined
}

interface FieldProps {
  readonly formId: string
  readonly form: Store.FormState
}

const describedBy = (inputId: string, help: string | undefined) =>
  [help !== undefined ? `${inputId}-help` : undefined, `${inputId}-error`].filter(Boolean).join(" ")

const FieldError = ({ error, inputId }: { readonly inputId: string; readonly error: Bridge.WireError | undefined }) => (
  <p class="field-error" id={`${inputId}-error`} aria-live="polite">{error !== undefined && <ErrorText error={error} />}</p>
)

interface TextFieldProps extends FieldProps {
  readonly id: "name" | "baseUrl"
  readonly label: string
  readonly defaultValue: string
  readonly placeholder?: string | undefined
  readonly help?: string | undefined
  readonly required: boolean
  readonly inputRef: RefObject<HTMLInputElement | null>
}

const TextField = (props: TextFieldProps) => {
  const { actions } = Hooks.usePage()
  const inputId = `${props.formId}-${props.id}`
  const error = props.form.fieldErrors[props.id]
  const ref = Hooks.useFocusTarget(Store.FocusTargets.field(props.formId, props.id), props.inputRef)
  const onInput = props.id === "baseUrl"
    ? (event: Event) => actions.forms.baseUrlTyped(props.formId, (event.currentTarget as HTMLInputElement).value)
    : undefined
  return (
    <div class="field" data-field={props.id}>
      <LabelRow inputId={inputId} text={props.label} required={props.required} />
      <input
        ref={ref}
        id={inputId}
        name={props.id}
        {...(props.id === "baseUrl" ? { type: "url" as const } : { type: "text" as const })}
        placeholder={props.placeholder}
        aria-required={props.required ? "true" : undefined}
        aria-describedby={describedBy(inputId, props.help)}
        aria-invalid={error !== undefined ? "true" : undefined}
        autocomplete="off"
        spellcheck={false}
        maxLength={props.id === "name" ? 100 : 2048}
        defaultValue={props.defaultValue}
        onInput={onInput}
      />
      {props.help !== undefined && <p class="help" id={`${inputId}-help`}>{props.help}</p>}
      <FieldError inputId={inputId} error={error} />
    </div>
  )
}

interface CheckboxFieldProps extends FieldProps {
  readonly field: Providers.ProviderField
  readonly defaultChecked: boolean
  readonly inputRef: RefObject<HTMLInputElement | null>
}

const CheckboxField = ({ defaultChecked, field, form, formId, inputRef }: CheckboxFieldProps) => {
  const inputId = `${formId}-${field.id}`
  const ref = Hooks.useFocusTarget(Store.FocusTargets.field(formId, field.id), inputRef)
  const error = form.fieldErrors[field.id]
  return (
    <div class="field field-checkbox" data-field={field.id}>
      <div class="checkbox-row">
        <input
          ref={ref}
          id={inputId}
          name={field.id}
          type="checkbox"
          defaultChecked={defaultChecked}
          aria-invalid={error ? "true" : undefined}
        />
        <label for={inputId}>{field.label}</label>
      </div>
      {field.helperText !== undefined && <p class="help" id={`${inputId}-help`}>{field.helperText}</p>}
      <FieldError inputId={inputId} error={error} />
    </div>
  )
}

interface ConsentFieldProps extends FieldProps {
  readonly shown: boolean
  readonly defaultChecked: boolean
  readonly inputRef: RefObject<HTMLInputElement | null>
}

/** "Allow plain http…": shown only while the typed base URL is plain http to another machine. */
const ConsentField = ({ defaultChecked, form, formId, inputRef, shown }: ConsentFieldProps) => {
  const inputId = `${formId}-allowInsecureHttp`
  const ref = Hooks.useFocusTarget(Store.FocusTargets.field(formId, "allowInsecureHttp"), inputRef)
  const error = form.fieldErrors.allowInsecureHttp
  return (
    <div class="field field-checkbox insecure-consent" data-field="allowInsecureHttp" hidden={!shown}>
      <div class="checkbox-row">
        <input
          ref={ref}
          id={inputId}
          name="allowInsecureHttp"
          type="checkbox"
          defaultChecked={defaultChecked}
          aria-describedby={`${inputId}-help ${inputId}-error`}
          aria-invalid={error ? "true" : undefined}
        />
        <label for={inputId}>Allow plain http to this private-network address (the key travels unencrypted)</label>
      </div>
      <p class="help" id={`${inputId}-help`}>Anyone on that network can read the key. Use https if the server offers it.</p>
      <FieldError inputId={inputId} error={error} />
    </div>
  )
}

interface KeyFieldProps extends FieldProps {
  readonly field: Providers.ProviderField
  readonly config: Bridge.LlmConfigView | undefined
  readonly inputRef: RefObject<HTMLInputElement | null>
  /** Empties the key input (the form owns it). */
  readonly clearKey: () => void
}

/**
 * A masked, uncontrolled input with a show/hide toggle. When editing a config that has a key, the
 * input stays hidden behind "Replace key" and an empty input keeps the stored key.
 */
const KeyField = ({ clearKey, config, field, form, formId, inputRef }: KeyFieldProps) => {
  const { actions } = Hooks.usePage()
  const replacing = config?.hasKey === true
  const inputId = `${formId}-${field.id}`
  const help = replacing ? `Leave empty to keep the stored key. ${field.helperText ?? ""}`.trim() : field.helperText
  const required = field.required && config === undefined
  const error = form.fieldErrors.apiKey
  const ref = Hooks.useFocusTarget(Store.FocusTargets.field(formId, "apiKey"), inputRef)
  const replaceRef = Hooks.useFocusTarget<HTMLButtonElement>(Store.FocusTargets.field(formId, "replace-key"))
  const keyInput = (
    <div class="field" data-field={field.id} hidden={replacing && !form.keyOpen}>
      <LabelRow inputId={inputId} text={replacing ? `New ${field.label}` : field.label} required={required} />
      <div class="secret-input">
        <input
          ref={ref}
          id={inputId}
          name={field.id}
          {...(form.keyShown ? { type: "text" as const } : { type: "password" as const })}
          placeholder={field.placeholder}
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          data-secret="true"
          aria-required={required ? "true" : undefined}
          aria-describedby={describedBy(inputId, help)}
          aria-invalid={error !== undefined ? "true" : undefined}
        />
        <button
          type="button"
          class="button small ghost toggle"
          aria-controls={inputId}
          aria-label={form.keyShown ? "Hide API key" : "Show API key"}
          onClick={() => actions.forms.toggleKeyShown(formId)}
        >
          {form.keyShown ? "Hide" : "Show"}
        </button>
        {replacing && (
          // The error says the key must be entered: offering to keep the stored one would contradict it.
          <button
            type="button"
            class="button small ghost"
            hidden={error !== undefined}
            onClick={() => {
              clearKey()
              actions.forms.keepStoredKey(formId)
            }}
          >
            Keep stored key
          </button>
        )}
      </div>
      {help !== undefined && <p class="help" id={`${inputId}-help`}>{help}</p>}
      <FieldError inputId={inputId} error={error} />
    </div>
  )
  if (!replacing) return keyInput
  return (
    <div class="key-section">
      <div class="field key-kept" hidden={form.keyOpen}>
        {/* A key held only in memory is not "stored" (it goes when Fishbowl quits). */}
        {config.keyStorage === "session"
          ? <span class="pill pill-warn">Key in memory only</span>
          : <span class="pill pill-ok">Key stored</span>}
        <span class="muted">The stored key is kept unless you replace it.</span>
        <button type="button" class="button small" ref={replaceRef} onClick={() => actions.forms.revealKey(formId)}>Replace key</button>
      </div>
      {keyInput}
    </div>
  )
}

/** The draft test's outcome beside its button (a failed call shows like any other error). */
const CheckResult = ({ check, id }: { readonly id: string; readonly check: Store.FormState["check"] }) => {
  const outcome = check !== undefined && "check" in check ? Messages.checkOutcomeText(check.check.outcome) : undefined
  const tone = check === undefined ? "" : outcome?.ok === true ? " check-ok" : " check-failed"
  return (
    <div class={`check-result${tone}`} id={id} aria-live="polite">
      {check !== undefined && "error" in check && <ErrorText error={check.error} />}
      {outcome !== undefined && (
        <span class="error-text">
          <strong>{outcome.title}</strong>
          {outcome.hint !== "" && <span class="hint">{outcome.hint}</span>}
        </span>
      )}
      {outcome !== undefined && <span class="muted">Nothing was saved.</span>}
    </div>
  )
}

/** The inputs a form reads at submit, by ref. */
const useFormInputs = () => ({
  name: useRef<HTMLInputElement | null>(null),
  baseUrl: useRef<HTMLInputElement | null>(null),
  useAuthHeader: useRef<HTMLInputElement | null>(null),
  allowInsecureHttp: useRef<HTMLInputElement | null>(null),
  apiKey: useRef<HTMLInputElement | null>(null)
})

type FormInputs = ReturnType<typeof useFormInputs>

const readSettings = (inputs: FormInputs, consentShown: boolean): Actions.FormSettings => ({
  name: inputs.name.current?.value.trim() ?? "",
  baseUrl: inputs.baseUrl.current === null ? undefined : inputs.baseUrl.current.value.trim(),
  useAuthHeader: inputs.useAuthHeader.current === null ? undefined : inputs.useAuthHeader.current.checked,
  allowInsecureHttp: inputs.allowInsecureHttp.current === null || !consentShown ? undefined : inputs.allowInsecureHttp.current.checked
})

/** The typed key, when its input is shown and not empty. */
const readKey = (inputs: FormInputs, keyVisible: boolean): string | undefined => {
  const input = inputs.apiKey.current
  return input !== null && keyVisible && input.value !== "" ? input.value : undefined
}

const ProviderFields = (
  props: FieldProps & {
    readonly provider: Providers.ProviderDefinition
    readonly config: Bridge.LlmConfigView | undefined
    readonly inputs: FormInputs
    readonly clearKey: () => void
  }
) => {
  const { clearKey, config, form, formId, inputs, provider } = props
  return (
    <>
      {provider.fields.map((field) => {
        // Keyed by provider: choosing another provider starts its fields (and the key) empty.
        const key = `${provider.id}-${field.id}`
        switch (field.kind) {
          case "secure-text":
            return (
              <KeyField key={key} formId={formId} form={form} field={field} config={config} inputRef={inputs.apiKey} clearKey={clearKey} />
            )
          case "checkbox":
            return (
              <CheckboxField
                key={key}
                formId={formId}
                form={form}
                field={field}
                defaultChecked={config?.useAuthHeader ?? field.defaultValue === true}
                inputRef={inputs.useAuthHeader}
              />
            )
          case "text": {
            const defaultNote = !field.required && provider.defaultBaseUrl !== undefined
              ? ` Leave empty for ${provider.defaultBaseUrl}.`
              : ""
            return (
              <TextField
                key={key}
                formId={formId}
                form={form}
                id="baseUrl"
                label={field.label}
                defaultValue={config?.baseUrl ?? ""}
                placeholder={field.placeholder}
                help={`${field.helperText ?? ""}${defaultNote}`.trim() || undefined}
                required={field.required}
                inputRef={inputs.baseUrl}
              />
            )
          }
        }
      })}
    </>
  )
}

export const ConfigForm = (props: ConfigFormProps) => {
  const { actions, state } = Hooks.usePage()
  const { config, formId, onCancel, onTest, provider } = props
  const form = state.forms[formId] ?? Store.emptyForm
  const inputs = useFormInputs()
  const formErrorRef = Hooks.useFocusTarget<HTMLDivElement>(Store.FocusTargets.formError(formId))
  const hasBaseUrl = provider.fields.some((field) => field.id === "baseUrl")
  const consentShown = hasBaseUrl && (form.consentNeeded ?? BaseUrlRule.needsConsent(config?.baseUrl ?? ""))
  const keyVisible = config?.hasKey !== true || form.keyOpen
  const busy = form.busyLabel !== undefined

  /** Empties the key input and masks it again. */
  const clearKey = () => {
    if (inputs.apiKey.current !== null) inputs.apiKey.current.value = ""
    actions.forms.keyCleared(formId)
  }
  const submit = Background.handler(async (event: Event) => {
    event.preventDefault()
    const settings = readSettings(inputs, consentShown)
    const apiKey = readKey(inputs, keyVisible)
    // Success or failure, the key is not kept in the page.
    clearKey()
    await props.onSubmit(settings, apiKey)
  })
  const cancel = () => {
    clearKey()
    onCancel?.()
  }
  // Escape cancels an edit (the add form has nothing to cancel to).
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || onCancel === undefined || busy) return
    event.preventDefault()
    cancel()
  }
  const test = onTest === undefined ? undefined : () => onTest(readSettings(inputs, consentShown), readKey(inputs, keyVisible))

  return (
    <form
      class="config-form"
      novalidate
      aria-label={config !== undefined ? `Edit ${config.name}` : `Add ${provider.displayName}`}
      aria-busy={busy ? "true" : undefined}
      onSubmit={submit}
      onKeyDown={onKeyDown}
    >
      {props.leading}
      <TextField
        formId={formId}
        form={form}
        id="name"
        label="Name"
        defaultValue={config?.name ?? ""}
        placeholder={`e.g. ${provider.displayName} (work)`}
        help="A label you will recognise; unique across your providers."
        required
        inputRef={inputs.name}
      />
      <ProviderFields formId={formId} form={form} provider={provider} config={config} inputs={inputs} clearKey={clearKey} />
      {hasBaseUrl && (
        <ConsentField
          key={`${provider.id}-allowInsecureHttp`}
          formId={formId}
          form={form}
          shown={consentShown}
          defaultChecked={config?.allowInsecureHttp === true}
          inputRef={inputs.allowInsecureHttp}
        />
      )}
      <div class="form-error" id={`${formId}-form-error`} aria-live="polite" tabindex={-1} ref={formErrorRef}>
        {form.formError !== undefined && <ErrorText error={form.formError} />}
      </div>
      <div class="form-actions">
        <BusyButton
          type="submit"
          class="button primary"
          label={props.submitLabel}
          busyLabel={form.busyLabel}
          busy={busy}
          disabled={form.testing}
        />
        {test !== undefined && (
          <BusyButton
            class="button"
            data-action="test"
            aria-describedby={`${formId}-check-result`}
            label="Test connection"
            busyLabel="Testing…"
            busy={form.testing}
            disabled={busy}
            action={test}
          />
        )}
        {onCancel !== undefined && <button type="button" class="button ghost" data-action="cancel" onClick={cancel}>Cancel</button>}
        <BusyNote id={`${formId}-busy`}>
          {form.testing ? Messages.CHECKING_PROVIDER : form.waiting ? Messages.WAITING_FOR_KEYCHAIN : null}
        </BusyNote>
      </div>
      <CheckResult id={`${formId}-check-result`} check={form.check} />
    </form>
  )
}
