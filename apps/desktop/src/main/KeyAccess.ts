/**
 * How main-process code (the LLM client, never the renderer) obtains a key: through the store's
 * `getApiKey`, under the key-retrieval budget (100 ms by default), so a hung keychain turns into a
 * typed Timeout instead of a frozen request.
 */
import { Budget, type Ids, LlmConfigStore } from "@fishbowl/domain"
import type { ManagedRuntime } from "effect"
import type { Redacted } from "effect"

export interface KeyAccess {
  /** Resolves with the key or rejects with a domain error (NotFound, KeychainLocked, Timeout, ...). */
  readonly getApiKey: (id: Ids.ConfigId) => Promise<Redacted.Redacted<string>>
}

export const make = (
  runtime: ManagedRuntime.ManagedRuntime<LlmConfigStore.LlmConfigStore, unknown>,
  options?: { readonly keyRetrievalMillis?: number }
): KeyAccess => {
  const millis = options?.keyRetrievalMillis ?? Budget.budgets.keyRetrievalMillis
  return {
    getApiKey: (id) =>
      runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.getApiKey(id)).pipe(Budget.withBudget("getApiKey", millis)))
  }
}
