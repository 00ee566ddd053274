/** Small pieces every part of the page uses: the busy button, error text, a field's label. */
import type { ComponentChildren } from "preact"
import { useState } from "preact/hooks"
import * as Background from "./Background.ts"
import type * as Bridge from "./Bridge.ts"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"

export interface BusyButtonProps {
  readonly label: string
  /** The text while busy ("Saving…"); the label stays when absent (it is the accessible name). */
  readonly busyLabel?: string | undefined
  /** Run on click; the button is busy until it ends. */
  readonly action?: (() => Promise<unknown>) | undefined
  /** Busy for a reason outside this button (a submit running, a row's test started elsewhere). */
  readonly busy?: boolean | undefined
  readonly disabled?: boolean | undefined
  readonly type?: "button" | "submit"
  readonly class: string
  readonly "aria-label"?: string | undefined
  readonly "aria-describedby"?: string | undefined
  readonly "data-action"?: string | undefined
  /** Registers the button as this focus target (Hooks.useFocusTarget). */
  readonly focusTarget?: string | undefined
}

/**
 * A button that shows it is busy while its action runs: disabled, `aria-busy`, and its busy label.
 * The one place the page sets those; the action's promise goes through Background.
 */
export const BusyButton = (props: BusyButtonProps) => {
  const [running, setRunning] = useState(false)
  const ref = Hooks.useFocusTarget<HTMLButtonElement>(props.focusTarget)
  const busy = running || props.busy === true
  const { action } = props
  const onClick = action === undefined ? undefined : Background.handler(async () => {
    setRunning(true)
    try {
      await action()
    } finally {
      setRunning(false)
    }
  })
  return (
    <button
      ref={ref}
      type={props.type ?? "button"}
      class={props.class}
      disabled={busy || props.disabled === true}
      aria-busy={busy ? "true" : undefined}
      aria-label={props["aria-label"]}
      aria-describedby={props["aria-describedby"]}
      data-action={props["data-action"]}
      onClick={onClick}
    >
      {busy && props.busyLabel !== undefined ? props.busyLabel : props.label}
    </button>
  )
}

/**
 * "Title. Hint." in the page's words (Messages.friendly), so the hint reads as the next step; the
 * error's own text (which may name files, paths or backends) only under Technical details.
 */
export const ErrorText = ({ error }: { readonly error: Bridge.WireError }) => {
  const { hint, title } = Messages.friendly(error)
  return (
    <span class="error-text">
      <strong>{title}</strong>
      {hint !== "" && <span class="hint">{hint}</span>}
      {error._tag !== "InvalidInput" && (
        <details class="technical">
          <summary>Technical details</summary>
          <span class="technical-text">{Messages.technicalText(error)}</span>
        </details>
      )}
    </span>
  )
}

/** The label, then a visual-only required mark (the input carries aria-required). */
export const LabelRow = (props: { readonly inputId: string; readonly text: string; readonly required: boolean }) => (
  <div class="label-row">
    <label for={props.inputId}>{props.text}</label>
    {props.required && <span class="required" aria-hidden="true">*</span>}
  </div>
)

/** "Waiting for your keychain…" while `waiting`, in a polite live region that is empty otherwise. */
export const BusyNote = (props: { readonly id?: string; readonly children?: ComponentChildren }) => (
  <p class="busy-note" id={props.id} aria-live="polite">{props.children}</p>
)
