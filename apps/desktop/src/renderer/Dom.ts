/**
 * A tiny element builder. Text always goes in through `textContent` (never innerHTML), so names
 * and URLs coming back from storage can never become markup.
 */
type Attributes = Readonly<Record<string, string | boolean | undefined>>
type Child = Node | string | null | undefined | false

export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: ReadonlyArray<Child | ReadonlyArray<Child>>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (name === "class") element.className = String(value)
    else element.setAttribute(name, value === true ? "" : value)
  }
  append(element, children)
  return element
}

const append = (parent: Element, children: ReadonlyArray<Child | ReadonlyArray<Child>>) => {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === "string" ? document.createTextNode(child) : child)
  }
}

/** Replaces every child of `parent`. */
export const replaceChildren = (parent: Element, ...children: ReadonlyArray<Child | ReadonlyArray<Child>>) => {
  parent.replaceChildren()
  append(parent, children)
}

/** Looks an element up by id and fails loudly if index.html and app.ts disagree. */
export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`index.html has no #${id}`)
  return element as T
}

/**
 * An event handler that starts async work: the bridge answers with results and never throws, so
 * a rejection here is a defect; it is logged, never left unhandled (no-misused-promises).
 */
export const background = (work: () => Promise<void>) => (): void => {
  work().catch((error: unknown) => console.error(error))
}
