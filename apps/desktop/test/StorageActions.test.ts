/**
 * The Storage health panel's file actions read backups exactly as the store reads
 * preferences.json: a backup the store would refuse (a link, a FIFO, another user's or a
 * group-writable file, an inconsistent llm section) is never offered and never restored. A restore
 * follows the restore rule (Restore): it shows every URL change, asks for keys entered for another
 * URL again, deletes no key and can bring back what it left out.
 */
import { JsonFilePreferencesStore } from "@fishbowl/desktop-layer"
import { TempDirs } from "@fishbowl/desktop-layer/testing"
import { KeyBinding, Liveness, LlmConfigStore, PreferencesDocument, PreferencesStore, SecretRef, SecretStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Effect, Layer, Option, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as StorageActions from "../src/main/StorageActions.ts"

const shell: StorageActions.ShellLike = { showItemInFolder: () => {}, openPath: async () => "" }

const documentWith = (...names: ReadonlyArray<string>): PreferencesDocument.PreferencesDocument => ({
  llm: { ...PreferencesDocument.emptyLlmSection, configs: names.map(Fixtures.sampleConfig) },
  other: { theme: "dark" }
})

/** A data folder whose preferences.json holds "Current", and the actions over it. */
const setUp = (options?: { readonly restoredAsNotice?: boolean }) => {
  const dataDir = path.join(TempDirs.testTempDir("storage-actions"), "Fishbowl")
  // One keychain stand-in for the whole test (each `run` is a new "process" over it).
  const keychain = Effect.runSync(SecretStore.makeMemory({ description: { tier: "keychain", persistent: true } }))
  const layer = LlmConfigStore.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        JsonFilePreferencesStore.layer({ dataDir, ...options }),
        Layer.succeed(SecretStore.SecretStore, keychain),
        Liveness.layerMemory
      )
    )
  )
  const run = <A, E>(
    effect: Effect.Effect<A, E, PreferencesStore.PreferencesStore | LlmConfigStore.LlmConfigStore | SecretStore.SecretStore>
  ) => Effect.runPromise(effect.pipe(Effect.provide(layer)))
  const write = (name: string, text: string, mode = 0o600) => {
    fs.writeFileSync(path.join(dataDir, name), text, { mode })
    fs.chmodSync(path.join(dataDir, name), mode)
  }
  return { dataDir, run, write }
}

const actions = StorageActions.make({ shell })

describe("StorageActions: backups as the store judges them", () => {
  it("offers and restores a good backup; links, FIFOs and loose-mode files are not offered and cannot be restored", async () => {
    const { dataDir, run, write } = setUp()
    await run(
      PreferencesStore.PreferencesStore.use((store) => store.update(() => Effect.succeed([undefined, documentWith("Current")] as const)))
    )
    const good = JsonFilePreferencesStore.serializeDocument(documentWith("Old"))
    write("preferences.json.bak.1", good)
    fs.symlinkSync(path.join(dataDir, "preferences.json.bak.1"), path.join(dataDir, "preferences.json.bak.2"))
    execFileSync("mkfifo", ["-m", "600", path.join(dataDir, "preferences.json.bak.3")])
    write("preferences.json.bak.4", good, 0o666)

    const listed = await run(Effect.flatMap(actions, (storage) => storage.backups))
    expect(listed.map((backup) => backup.name)).toEqual(["preferences.json.bak.1"])
    expect(listed[0]).toMatchObject({ usable: true, configNames: ["Old"], added: ["Old"], removed: ["Current"] })

    for (const name of ["preferences.json.bak.2", "preferences.json.bak.3", "preferences.json.bak.4"]) {
      const refused = await run(Effect.flatMap(actions, (storage) => Effect.flip(storage.restoreBackup(name))))
      expect(refused._tag, name).toBe("NotFound")
    }
    const before = await run(PreferencesStore.PreferencesStore.use((store) => store.load))
    expect(before.llm.configs.map((config) => config.name)).toEqual(["Current"])

    await run(Effect.flatMap(actions, (storage) => storage.restoreBackup("preferences.json.bak.1")))
    const after = await run(PreferencesStore.PreferencesStore.use((store) => store.load))
    expect(after.llm.configs.map((config) => config.name)).toEqual(["Old"])
    expect(after.other).toEqual({ theme: "dark" })
  })

  it("a backup the store would quarantine (two configurations with one name) is listed as unusable and not restored", async () => {
    const { run, write } = setUp()
    await run(
      PreferencesStore.PreferencesStore.use((store) => store.update(() => Effect.succeed([undefined, documentWith("Current")] as const)))
    )
    // Two ids, one name: every store version refused that, so only another program writes it.
    const inconsistent = documentWith("Twin", "Twin")
    write("preferences.json.bak.1", JSON.stringify(PreferencesDocument.joinDocument(inconsistent)))

    const listed = await run(Effect.flatMap(actions, (storage) => storage.backups))
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ name: "preferences.json.bak.1", usable: false, configNames: [] })
    const refused = await run(Effect.flatMap(actions, (storage) => Effect.flip(storage.restoreBackup("preferences.json.bak.1"))))
    expect(refused._tag).toBe("InvalidInput")
    const after = await run(PreferencesStore.PreferencesStore.use((store) => store.load))
    expect(after.llm.configs.map((config) => config.name)).toEqual(["Current"])
  })
})

describe("StorageActions: one state, shown once", () => {
  it("backups holding the same settings are listed once, newest, with the count of older copies", async () => {
    const { run, write } = setUp()
    await run(
      PreferencesStore.PreferencesStore.use((store) => store.update(() => Effect.succeed([undefined, documentWith("Current")] as const)))
    )
    const old = JsonFilePreferencesStore.serializeDocument(documentWith("Old"))
    write("preferences.json.bak.1", old)
    write("preferences.json.bak.2", old)
    write("preferences.json.bak.3", JsonFilePreferencesStore.serializeDocument(documentWith("Older")))
    const listed = await run(Effect.flatMap(actions, (storage) => storage.backups))
    expect(listed.map(({ configNames, name, olderCopies }) => ({ name, configNames, olderCopies }))).toEqual([
      { name: "preferences.json.bak.1", configNames: ["Old"], olderCopies: 1 },
      { name: "preferences.json.bak.3", configNames: ["Older"], olderCopies: 0 }
    ])
  })

  it("a restore the user chooses replaces the notice of an earlier automatic restore", async () => {
    // as the app and the CLI open it (DesktopLayer): a restore that worked is a notice, not a failure
    const { dataDir, run, write } = setUp({ restoredAsNotice: true })
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    write("preferences.json.bak.1", JsonFilePreferencesStore.serializeDocument(documentWith("Good")))
    write("preferences.json.bak.2", JsonFilePreferencesStore.serializeDocument(documentWith("Older")))
    fs.writeFileSync(path.join(dataDir, "preferences.json"), "{ \"llm\": tru", { mode: 0o600 })
    const notices = await run(
      Effect.gen(function*() {
        const preferences = yield* PreferencesStore.PreferencesStore
        // the damaged file is set aside and bak.1 put back, with a notice saying so
        expect((yield* preferences.load).llm.configs.map((config) => config.name)).toEqual(["Good"])
        const made = yield* preferences.notices!.current
        yield* Effect.flatMap(actions, (storage) => storage.restoreBackup("preferences.json.bak.2"))
        return { made, after: yield* preferences.notices!.current, names: (yield* preferences.load).llm.configs.map((c) => c.name) }
      })
    )
    expect(notices.made.map((notice) => notice.kind)).toEqual(["restored-from-backup"])
    expect(notices.names).toEqual(["Older"])
    expect(notices.after).toEqual([])
  })
})

describe("StorageActions: a restore never sends a key where it was not entered, and loses no key", () => {
  const A = "https://a.example.com/v1"
  const B = "https://b.example.com/v1"
  const keyOf = (name: string) =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const config = (yield* store.list).find((candidate) => candidate.name === name)!
      return yield* Effect.result(store.getApiKey(config.id))
    })

  it("a backup with an older URL is listed with that change; once restored the config asks for its key again, and the newer key is not deleted", async () => {
    const { dataDir, run } = setUp()
    const work = await run(
      LlmConfigStore.LlmConfigStore.use((store) =>
        store.create(Fixtures.configInput({ provider: "openai", name: "Work", baseUrl: A, apiKey: "sk-entered-for-a" }))
      )
    )
    await run(
      LlmConfigStore.LlmConfigStore.use((store) => store.update(work.id, Fixtures.configPatch({ baseUrl: B, apiKey: "sk-entered-for-b" })))
    )
    const listed = await run(Effect.flatMap(actions, (storage) => storage.backups))
    // Backups hold only states without unfinished changes: the one before the update.
    expect(listed.map((backup) => backup.name)).toEqual(["preferences.json.bak.1"])
    expect(listed[0]!.changed).toEqual([{
      name: "Work",
      from: { provider: "openai", baseUrl: `${B}` },
      to: { provider: "openai", baseUrl: `${A}` }
    }])

    await run(Effect.flatMap(actions, (storage) => storage.restoreBackup("preferences.json.bak.1")))
    const restored = await run(LlmConfigStore.LlmConfigStore.use((store) => store.get(work.id)))
    expect(restored.baseUrl).toBe(A)
    expect(restored.hasKey, "the restored config asks for its key again").toBe(false)
    const refused = await run(keyOf("Work"))
    expect(refused._tag === "Failure" && refused.failure._tag).toBe("NotFound")
    // The key entered for B is still in the keychain (bound to B): restoring the newer state brings it back.
    const raw = await run(SecretStore.SecretStore.use((secrets) => secrets.get(SecretRef.secretRefFor(work.provider, work.id))))
    expect(Option.map(raw, (value) => KeyBinding.open(value, { provider: "openai", baseUrl: B })._tag)).toEqual(Option.some("Bound"))
    const replaced = fs.readdirSync(dataDir).filter((name) => name.startsWith("preferences.json.replaced-"))
    expect(replaced).toHaveLength(1)
    expect(fs.statSync(path.join(dataDir, replaced[0]!)).mode & 0o777).toBe(0o600)
  })

  it("a hand edit that points a config at another URL never gets its key handed out there", async () => {
    const { dataDir, run } = setUp()
    await run(
      LlmConfigStore.LlmConfigStore.use((store) =>
        store.create(Fixtures.configInput({ provider: "openai", name: "Work", baseUrl: A, apiKey: "sk-entered-for-a" }))
      )
    )
    const file = path.join(dataDir, "preferences.json")
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(A, "https://attacker.example.net/v1"))
    const refused = await run(keyOf("Work"))
    expect(refused._tag === "Failure" && refused.failure).toMatchObject({ _tag: "NotFound", reason: "key-elsewhere" })
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("https://attacker.example.net/v1", A))
    const back = await run(keyOf("Work"))
    expect(back._tag === "Success" && Redacted.value(back.success)).toBe("sk-entered-for-a")
  })

  it("configs a restore leaves out keep their keys and are brought back; a removed one is not", async () => {
    const { run } = setUp()
    const store = LlmConfigStore.LlmConfigStore
    await run(store.use((s) => s.create(Fixtures.configInput({ provider: "openai", name: "Old", apiKey: "sk-old" }))))
    await run(store.use((s) => s.create(Fixtures.configInput({ provider: "anthropic", name: "Newer", apiKey: "sk-newer" }))))
    const gone = await run(store.use((s) => s.create(Fixtures.configInput({ provider: "openai", name: "Gone", apiKey: "sk-gone" }))))
    const listed = await run(Effect.flatMap(actions, (storage) => storage.backups))
    const oldest = listed.find((backup) => backup.configNames.length === 1)!
    expect([...oldest.removed].sort()).toEqual(["Gone", "Newer"])
    await run(Effect.flatMap(actions, (storage) => storage.restoreBackup(oldest.name)))
    expect((await run(store.use((s) => s.list))).map((config) => config.name)).toEqual(["Old"])
    // "Gone" is removed for good afterwards (its key with it): it must not come back.
    await run(store.use((s) => s.bringBack(gone).pipe(Effect.andThen(s.remove(gone.id)))))
    const brought = await run(Effect.flatMap(actions, (storage) => storage.bringBack))
    expect(brought.map(({ name, outcome }) => [name, outcome]).sort()).toEqual([["Gone", "not-brought-back"], ["Newer", "brought-back"]])
    expect((await run(store.use((s) => s.list))).map((config) => config.name).sort()).toEqual(["Newer", "Old"])
    const newer = await run(keyOf("Newer"))
    expect(newer._tag === "Success" && Redacted.value(newer.success)).toBe("sk-newer")
  })
})
