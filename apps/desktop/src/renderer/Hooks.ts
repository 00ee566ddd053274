/**
 * How components reach the store: one context holding the current state and the actions, and
 * focus by refs. An element that may need focus registers under a `Store.FocusTargets` name; an
 * action asks for that name, and the element takes focus once it is rendered and enabled.
 */
import { createContext, type RefObject } from "preact"
import { useContext, useLayoutEffect, useRef, useState } from "preact/hooks"
import type * as Actions from "./Actions.ts"
import type * as Store from "./Store.ts"

export interface PageContextValue {
  readonly state: Store.PageState
  readonly actions: Actions.Actions
}

export const PageContext = createContext<PageContextValue | undefined>(undefined)

export const usePage = (): PageContextValue => {
  const page = useContext(PageContext)
  if (page === undefined) throw new Error("a page component was rendered outside PageContext")
  return page
}

/**
 * The store's current state, re-rendering on every change. Subscribed in a layout effect, which
 * runs within `render`: actions started right after the first render are never missed.
 */
export const useStoreState = (store: Store.Store): Store.PageState => {
  const [state, setState] = useState(store.get())
  useLayoutEffect(() => {
    setState(store.get())
    return store.subscribe(setState)
  }, [store])
  return state
}

const canTakeFocus = (element: HTMLElement) => !(element instanceof HTMLButtonElement && element.disabled) && !element.closest("[hidden]")

/**
 * A ref (or `ref`, given) for the element registered as `target`. When the store asks for focus
 * there, the element takes it as soon as it is rendered and can take it (a busy button is
 * disabled until its action ends), and the request is done.
 */
export const useFocusTarget = <T extends HTMLElement>(target: string | undefined, ref?: RefObject<T | null>): RefObject<T | null> => {
  const own = useRef<T | null>(null)
  const element = ref ?? own
  const { actions, state } = usePage()
  const request = state.focus
  useLayoutEffect(() => {
    if (target === undefined || request?.target !== target || element.current === null || !canTakeFocus(element.current)) return
    element.current.focus()
    actions.focusDone(request.serial)
  })
  return element
}
