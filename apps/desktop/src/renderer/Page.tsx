/**
 * The "LLM providers" settings page over `window.fishbowl.llmConfigs`: the status of key storage,
 * the configured providers, the add form and Storage health. The whole page renders from the
 * store (Store.ts) and acts through Actions.ts; `App` subscribes to the store and hands both down
 * through one context.
 */
import * as Actions from "./Actions.ts"
import { AddForm } from "./AddForm.tsx"
import { Announcer, Notices, ProblemBanner, StatusBanner } from "./Banners.tsx"
import { BusyNote } from "./Components.tsx"
import { ConfigList } from "./ConfigList.tsx"
import { HealthPanel } from "./HealthPanel.tsx"
import * as Hooks from "./Hooks.ts"
import * as Messages from "./Messages.ts"
import * as Store from "./Store.ts"

const Page = () => {
  const { state } = Hooks.usePage()
  const addHeadingRef = Hooks.useFocusTarget<HTMLHeadingElement>(Store.FocusTargets.addHeading)
  const count = state.configs.length
  return (
    <main id="app" class="page" aria-busy={state.phase === "loading" ? "true" : undefined}>
      <header class="page-header">
        <p class="eyebrow">Fishbowl settings</p>
        <h1>LLM providers</h1>
        <p class="lede">Connect the model providers Fishbowl may use. API keys go to secure storage and are never shown again.</p>
      </header>

      <StatusBanner />
      <ProblemBanner />
      {/* Confirmations: in the page's flow (never over a control), announced politely. */}
      <Announcer />
      <Notices />

      <section class="card" aria-labelledby="configs-heading">
        <div class="card-header">
          <h2 id="configs-heading">Configured providers</h2>
          <span id="config-count" class="count" aria-hidden="true">{count > 0 && String(count)}</span>
        </div>
        <ConfigList />
      </section>

      <section class="card" aria-labelledby="add-heading">
        <div class="card-header">
          <h2 id="add-heading" tabindex={-1} ref={addHeadingRef}>Add a provider</h2>
        </div>
        <div id="add-form-container">{state.phase !== "outside-app" && <AddForm />}</div>
      </section>

      <section class="card" aria-labelledby="health-heading">
        <div class="card-header">
          <h2 id="health-heading" tabindex={-1}>Storage health</h2>
        </div>
        <BusyNote id="health-busy">{state.health.waiting && Messages.WAITING_FOR_KEYCHAIN}</BusyNote>
        <div id="health-body">
          {state.phase === "outside-app" ? <p class="muted">Checking storage…</p> : <HealthPanel />}
        </div>
      </section>
    </main>
  )
}

export const App = ({ actions, store }: { readonly store: Store.Store; readonly actions: Actions.Actions }) => {
  const state = Hooks.useStoreState(store)
  return (
    <Hooks.PageContext.Provider value={{ state, actions }}>
      <Page />
    </Hooks.PageContext.Provider>
  )
}
