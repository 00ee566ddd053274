/**
 * The health panel's "Check keys": for each configuration that should have a key, whether the
 * keychain really holds it. The key is read by the store and dropped here at once; only the
 * verdict crosses IPC. Asked on demand only, since reading may make the keychain prompt.
 */
import { type HealthContract, LlmConfigStore } from "@fishbowl/domain"
import { Effect } from "effect"

export const checkKeys = Effect.gen(function*() {
  const store = yield* LlmConfigStore.LlmConfigStore
  const configs = yield* store.list
  const checks: Array<HealthContract.KeyCheck> = []
  for (const config of configs) {
    if (!config.hasKey) {
      checks.push({ id: config.id, name: config.name, state: "no-key" })
      continue
    }
    const read = yield* Effect.result(store.getApiKey(config.id).pipe(Effect.asVoid))
    checks.push(
      read._tag === "Success"
        ? { id: config.id, name: config.name, state: "present" }
        : read.failure._tag === "NotFound"
        ? { id: config.id, name: config.name, state: read.failure.reason === "key-elsewhere" ? "elsewhere" : "missing" }
        : { id: config.id, name: config.name, state: "unreadable", reason: read.failure._tag }
    )
  }
  return checks
})
