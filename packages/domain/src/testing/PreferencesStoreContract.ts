/**
 * The behaviour every PreferencesStore layer must show: atomic read-modify-write, no lost
 * updates under concurrency, and other settings preserved exactly.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Errors from "../Errors.ts"
import * as Ids from "../Ids.ts"
import type * as PreferencesDocument from "../PreferencesDocument.ts"
import * as PreferencesStore from "../PreferencesStore.ts"
import * as Fixtures from "./Fixtures.ts"

const otherSettings = {
  theme: "dark",
  window: { width: 1280, height: 800, maximised: false },
  recentFiles: ["/tmp/a.md", "C:\\Users\\ünï\\b.md"],
  nothing: null,
  "weird key \u00e9": [1, 2.5, { deep: true }]
}

export const preferencesStoreContract = (name: string, layer: Layer.Layer<PreferencesStore.PreferencesStore, unknown>) => {
  const run = <A, E>(effect: Effect.Effect<A, E, PreferencesStore.PreferencesStore>) => effect.pipe(Effect.provide(layer))
  const write = (f: (document: PreferencesDocument.PreferencesDocument) => PreferencesDocument.PreferencesDocument) =>
    Effect.flatMap(
      PreferencesStore.PreferencesStore,
      (store) => store.update((document) => Effect.succeed([undefined, f(document)] as const))
    )

  describe(`PreferencesStore contract: ${name}`, () => {
    it.live("a fresh store has an empty llm section", () =>
      run(Effect.gen(function*() {
        const document = yield* (yield* PreferencesStore.PreferencesStore).load
        assert.deepStrictEqual(document.llm.configs, [])
        assert.deepStrictEqual(document.llm.journal, [])
        assert.strictEqual(document.llm.version, 1)
      })))

    it.live("update persists what it returns and hands back its result", () =>
      run(Effect.gen(function*() {
        const store = yield* PreferencesStore.PreferencesStore
        const config = Fixtures.sampleConfig("Ünïcödé — 工作")
        const result = yield* store.update((document) =>
          Effect.succeed(["done", { ...document, llm: { ...document.llm, configs: [config] } }] as const)
        )
        assert.strictEqual(result, "done")
        assert.deepStrictEqual((yield* store.load).llm.configs, [config])
      })))

    it.live("a failing update writes nothing", () =>
      run(Effect.gen(function*() {
        const store = yield* PreferencesStore.PreferencesStore
        yield* write((document) => ({ ...document, other: { marker: 1 } }))
        const error = yield* Effect.flip(
          store.update(() => Effect.fail(new Errors.Conflict({ message: "no", hint: "no", reason: "busy" })))
        )
        assert.strictEqual(error._tag, "Conflict")
        assert.deepStrictEqual((yield* store.load).other, { marker: 1 })
      })))

    it.live("other settings survive every llm update exactly", () =>
      run(Effect.gen(function*() {
        const store = yield* PreferencesStore.PreferencesStore
        yield* write((document) => ({ ...document, other: otherSettings }))
        for (const configName of ["One", "Two", "Three"]) {
          yield* write((document) => ({
            ...document,
            llm: { ...document.llm, configs: [...document.llm.configs, Fixtures.sampleConfig(configName)] }
          }))
        }
        const document = yield* store.load
        assert.deepStrictEqual(document.other, otherSettings)
        assert.deepStrictEqual(document.llm.configs.map((config) => config.name), ["One", "Two", "Three"])
      })))

    it.live("40 concurrent read-modify-writes lose nothing", () =>
      run(Effect.gen(function*() {
        const store = yield* PreferencesStore.PreferencesStore
        yield* Effect.forEach(
          Array.from({ length: 40 }, (_, index) => index),
          (index) =>
            write((document) => ({
              ...document,
              other: { ...document.other, [`key${index}`]: index, counter: Number(document.other["counter"] ?? 0) + 1 }
            })),
          { concurrency: "unbounded" }
        )
        const document = yield* store.load
        assert.strictEqual(document.other["counter"], 40)
        assert.strictEqual(Object.keys(document.other).length, 41)
      })))

    it.live("the journal round-trips", () =>
      run(Effect.gen(function*() {
        const store = yield* PreferencesStore.PreferencesStore
        const config = Fixtures.sampleConfig("Journaled")
        const intent = {
          id: Ids.randomUuid(),
          owner: Ids.randomUuid(),
          startedAt: "2026-01-02T03:04:05.678Z",
          op: "update" as const,
          configId: config.id,
          provider: config.provider,
          before: config,
          after: { ...config, name: "Renamed" },
          keyChange: "set" as const,
          phase: "committed" as const
        }
        yield* write((document) => ({ ...document, llm: { ...document.llm, journal: [intent] } }))
        assert.deepStrictEqual((yield* store.load).llm.journal, [intent])
      })))
  })
}
