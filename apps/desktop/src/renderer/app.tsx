/**
 * Entry of the settings page bundle (scripts/build.mjs): one store, its actions, and the page
 * rendered with Preact in place of index.html's loading shell.
 */
import { render } from "preact"
import * as Actions from "./Actions.ts"
import * as Background from "./Background.ts"
import * as Bridge from "./Bridge.ts"
import { App } from "./Page.tsx"
import * as Store from "./Store.ts"

const mount = () => {
  const store = Store.make(Store.initialState(Bridge.providers[0]!.id))
  const actions = Actions.make(store)
  document.body.replaceChildren()
  render(<App store={store} actions={actions} />, document.body)
  Background.run(actions.start())
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount)
else mount()
