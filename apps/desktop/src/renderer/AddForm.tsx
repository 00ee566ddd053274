/** "Add a provider": the provider picker, then that provider's form, with "Test connection". */
import * as Bridge from "./Bridge.ts"
import { ConfigForm } from "./ConfigForm.tsx"
import * as Hooks from "./Hooks.ts"
import * as Store from "./Store.ts"

const ProviderPicker = () => {
  const { actions, state } = Hooks.usePage()
  const ref = Hooks.useFocusTarget<HTMLSelectElement>(Store.FocusTargets.addProvider)
  return (
    <div class="field" data-field="provider">
      <label for="add-provider">Provider</label>
      <select
        id="add-provider"
        name="provider"
        ref={ref}
        value={state.addProvider}
        onChange={(event) => actions.forms.chooseAddProvider(event.currentTarget.value)}
      >
        {Bridge.providers.map((provider) => <option key={provider.id} value={provider.id}>{provider.displayName}</option>)}
      </select>
      <p class="field-error" id="add-provider-error" aria-live="polite" />
    </div>
  )
}

export const AddForm = () => {
  const { actions, state } = Hooks.usePage()
  const provider = Bridge.providerById(state.addProvider) ?? Bridge.providers[0]!
  return (
    <ConfigForm
      // A new generation after each add: the form starts over, every input empty.
      key={state.addFormGeneration}
      formId={Store.addFormId}
      provider={provider}
      leading={<ProviderPicker />}
      submitLabel="Add provider"
      onTest={(settings, apiKey) => actions.configs.testDraft(provider, settings, apiKey)}
      onSubmit={(settings, apiKey) => actions.configs.addConfig(provider, settings, apiKey)}
    />
  )
}
