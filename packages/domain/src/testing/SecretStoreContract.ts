/**
 * The behaviour every SecretStore layer must show, as one exported suite. Each implementation
 * (memory, keytar on a real Secret Service, safeStorage file, expo-secure-store) runs it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Ids from "../Ids.ts"
import * as SecretRef from "../SecretRef.ts"
import * as SecretStore from "../SecretStore.ts"
import * as Fixtures from "./Fixtures.ts"

export interface SecretStoreContractOptions {
  /** Largest value the backend accepts, in UTF-8 bytes (defaults to the domain's 16 KiB). */
  readonly maxValueBytes?: number
}

const freshRef = (field: "apiKey" | "apiKey.staged" = "apiKey") =>
  SecretRef.secretRefFor(Fixtures.providerId("openai"), Ids.newConfigId(), field)

const reveal = (value: Option.Option<Redacted.Redacted<string>>) => Option.map(value, Redacted.value)

export const secretStoreContract = (
  name: string,
  layer: Layer.Layer<SecretStore.SecretStore, unknown>,
  options?: SecretStoreContractOptions
) => {
  const maxValueBytes = options?.maxValueBytes ?? 16 * 1024
  const run = <A, E>(effect: Effect.Effect<A, E, SecretStore.SecretStore>) => effect.pipe(Effect.provide(layer))

  describe(`SecretStore contract: ${name}`, () => {
    it.live("get of an entry that was never written is None", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        assert.isTrue(Option.isNone(yield* store.get(freshRef())))
      })))

    it.live("set then get round-trips ASCII and unicode values", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        for (const value of [Fixtures.makeCanaryKey(), "clé-🔑-ключ-鍵-" + Fixtures.makeCanaryKey("unicode")]) {
          const ref = freshRef()
          yield* store.set(ref, Fixtures.secret(value))
          assert.deepStrictEqual(reveal(yield* store.get(ref)), Option.some(value))
          yield* store.delete(ref)
        }
      })))

    it.live("set overwrites, delete removes and reports whether anything was there", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const ref = freshRef()
        yield* store.set(ref, Fixtures.secret("first-value"))
        yield* store.set(ref, Fixtures.secret("second-value"))
        assert.deepStrictEqual(reveal(yield* store.get(ref)), Option.some("second-value"))
        assert.isTrue(yield* store.delete(ref))
        assert.isTrue(Option.isNone(yield* store.get(ref)))
        assert.isFalse(yield* store.delete(ref))
      })))

    it.live("fields of one service are independent entries", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const primary = freshRef()
        const staged = { ...primary, account: "apiKey.staged" as const }
        yield* store.set(primary, Fixtures.secret("primary-value"))
        yield* store.set(staged, Fixtures.secret("staged-value"))
        yield* store.delete(staged)
        assert.deepStrictEqual(reveal(yield* store.get(primary)), Option.some("primary-value"))
        assert.isTrue(Option.isNone(yield* store.get(staged)))
        yield* store.delete(primary)
      })))

    it.live(`accepts a value of exactly ${maxValueBytes} bytes and rejects one byte more`, () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const ref = freshRef()
        const largest = "k".repeat(maxValueBytes)
        yield* store.set(ref, Fixtures.secret(largest))
        assert.strictEqual(Option.getOrThrow(reveal(yield* store.get(ref))).length, maxValueBytes)
        const error = yield* Effect.flip(store.set(ref, Fixtures.secret(largest + "k")))
        assert.strictEqual(error._tag, "InvalidInput")
        assert.strictEqual(Option.getOrThrow(reveal(yield* store.get(ref))).length, maxValueBytes, "kept the old value")
        yield* store.delete(ref)
      })))

    it.live("rejects NUL, control characters and empty values with InvalidInput that does not echo them", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const canary = Fixtures.makeCanaryKey("nul")
        for (const value of [`${canary}\u0000tail`, `${canary}\n`, `${canary}\u001b[0m`, ""]) {
          const ref = freshRef()
          const error = yield* Effect.flip(store.set(ref, Fixtures.secret(value)))
          assert.strictEqual(error._tag, "InvalidInput")
          assert.notInclude(JSON.stringify(error) + error.message, canary)
          assert.isTrue(Option.isNone(yield* store.get(ref)), "nothing was stored")
        }
      })))

    it.live("describe reports a well-formed tier", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const description = yield* store.describe
        assert.isTrue(Schema.is(SecretStore.SecretStoreDescription)(description))
        if (description.tier === "session") assert.isFalse(description.persistent)
      })))

    it.live("20 concurrent writes to distinct entries are all readable", () =>
      run(Effect.gen(function*() {
        const store = yield* SecretStore.SecretStore
        const entries = Array.from({ length: 20 }, (_, index) => ({ ref: freshRef(), value: `value-${index}` }))
        yield* Effect.forEach(entries, ({ ref, value }) => store.set(ref, Fixtures.secret(value)), { concurrency: "unbounded" })
        for (const { ref, value } of entries) {
          assert.deepStrictEqual(reveal(yield* store.get(ref)), Option.some(value))
        }
        yield* Effect.forEach(entries, ({ ref }) => store.delete(ref), { concurrency: 4 })
      })))
  })
}
