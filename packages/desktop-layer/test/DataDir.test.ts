import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodePath from "node:path"
import * as DataDir from "../src/DataDir.ts"

describe("resolveDataDir", () => {
  const base = { env: {}, homedir: "/home/ann", cwd: "/work" } as const

  it("explicit option beats FISHBOWL_DATA_DIR and the OS convention", () => {
    assert.strictEqual(
      DataDir.resolveDataDir({ ...base, platform: "linux", explicit: "/opt/ud", env: { FISHBOWL_DATA_DIR: "/env/dir" } }),
      "/opt/ud"
    )
  })

  it("FISHBOWL_DATA_DIR beats the OS convention; relative values resolve against cwd; empty is ignored", () => {
    assert.strictEqual(DataDir.resolveDataDir({ ...base, platform: "darwin", env: { FISHBOWL_DATA_DIR: "/env/dir" } }), "/env/dir")
    assert.strictEqual(DataDir.resolveDataDir({ ...base, platform: "linux", env: { FISHBOWL_DATA_DIR: "rel/x" } }), "/work/rel/x")
    assert.strictEqual(
      DataDir.resolveDataDir({ ...base, platform: "linux", explicit: "  ", env: { FISHBOWL_DATA_DIR: "" } }),
      "/home/ann/.config/Fishbowl"
    )
  })

  it("Linux: $XDG_CONFIG_HOME/Fishbowl, else ~/.config/Fishbowl; a relative XDG_CONFIG_HOME is ignored", () => {
    assert.strictEqual(DataDir.resolveDataDir({ ...base, platform: "linux", env: { XDG_CONFIG_HOME: "/x/cfg" } }), "/x/cfg/Fishbowl")
    assert.strictEqual(DataDir.resolveDataDir({ ...base, platform: "linux" }), "/home/ann/.config/Fishbowl")
    assert.strictEqual(DataDir.resolveDataDir({ ...base, platform: "freebsd" }), "/home/ann/.config/Fishbowl")
    assert.strictEqual(
      DataDir.resolveDataDir({ ...base, platform: "linux", env: { XDG_CONFIG_HOME: "cfg" } }),
      "/home/ann/.config/Fishbowl"
    )
  })

  it("macOS: ~/Library/Application Support/Fishbowl", () => {
    assert.strictEqual(
      DataDir.resolveDataDir({ ...base, platform: "darwin", homedir: "/Users/ann", env: { XDG_CONFIG_HOME: "/x" } }),
      "/Users/ann/Library/Application Support/Fishbowl"
    )
  })

  it("Windows: %APPDATA%\\Fishbowl, else <home>\\AppData\\Roaming\\Fishbowl", () => {
    const win = { platform: "win32", homedir: "C:\\Users\\Ann", cwd: "C:\\work" } as const
    assert.strictEqual(
      DataDir.resolveDataDir({ ...win, env: { APPDATA: "C:\\Users\\Ann\\AppData\\Roaming" } }),
      "C:\\Users\\Ann\\AppData\\Roaming\\Fishbowl"
    )
    assert.strictEqual(DataDir.resolveDataDir({ ...win, env: {} }), "C:\\Users\\Ann\\AppData\\Roaming\\Fishbowl")
    assert.strictEqual(DataDir.resolveDataDir({ ...win, env: { FISHBOWL_DATA_DIR: "D:\\fb" } }), "D:\\fb")
  })

  it("preferencesPath is <dataDir>/preferences.json", () => {
    assert.strictEqual(DataDir.preferencesPath("/a/Fishbowl"), NodePath.join("/a/Fishbowl", "preferences.json"))
  })

  it.effect("currentDataDir uses this process (explicit option wins)", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* DataDir.currentDataDir({ explicit: "/explicit/dir" }), "/explicit/dir")
      assert.isTrue(NodePath.isAbsolute(yield* DataDir.currentDataDir()))
    }))
})
