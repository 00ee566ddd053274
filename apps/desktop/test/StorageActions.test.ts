/**
 * The Storage health panel's file actions read backups exactly as the store reads
 * preferences.json: a backup the store would refuse (a link, a FIFO, another user's or a
 * group-writable file, an inconsistent llm section) is never offered and never restored.
 */
import { JsonFilePreferencesStore } from "@fishbowl/desktop-layer"
import { TempDirs } from "@fishbowl/desktop-layer/testing"
import { PreferencesDocument, PreferencesStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Effect } from "effect"
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
const setUp = () => {
  const dataDir = path.join(TempDirs.testTempDir("storage-actions"), "Fishbowl")
  const layer = JsonFilePreferencesStore.layer({ dataDir })
  const run = <A, E>(effect: Effect.Effect<A, E, PreferencesStore.PreferencesStore>) => Effect.runPromise(effect.pipe(Effect.provide(layer)))
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
    await run(PreferencesStore.PreferencesStore.use((store) => store.update(() => Effect.succeed([undefined, documentWith("Current")] as const))))
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
    await run(PreferencesStore.PreferencesStore.use((store) => store.update(() => Effect.succeed([undefined, documentWith("Current")] as const))))
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
