/**
 * TrustedFile: the one trust rule (owner, mode, type) on its own, per platform, and `doctor`
 * reporting exactly what the store refuses (same message, same fix). The store's behaviour on
 * real files (second account via setpriv, FIFOs, links) is in JsonFilePreferencesStore.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Diagnostics, PreferencesStore } from "@fishbowl/domain"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fsSync from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as TrustedFile from "../src/TrustedFile.ts"

const mine = { uid: 1000, platform: "linux" } as const
const entry = (kind: TrustedFile.EntryInfo["kind"], mode: number, uid = 1000): TrustedFile.EntryInfo => ({ kind, uid, mode })

describe("TrustedFile.trustProblem (the one rule)", () => {
  it("the user's own folder 0700/0755 and file 0600/0644 are trusted", () => {
    for (const mode of [0o700, 0o755, 0o750, 0o711]) {
      assert.isUndefined(TrustedFile.trustProblem("/d", "directory", entry("directory", mode), mine))
    }
    for (const mode of [0o600, 0o644, 0o400]) {
      assert.isUndefined(TrustedFile.trustProblem("/d/preferences.json", "file", entry("file", mode), mine))
    }
  })

  it("group- or other-writable: the exact chmod", () => {
    for (const mode of [0o770, 0o707, 0o777, 0o720, 0o702]) {
      const problem = TrustedFile.trustProblem("/d", "directory", entry("directory", mode), mine)
      assert.include(problem?.message, `mode ${mode.toString(8)}`)
      assert.include(problem?.hint, `chmod 700 "/d"`)
    }
    const file = TrustedFile.trustProblem("/d/preferences.json", "file", entry("file", 0o664), mine)
    assert.include(file?.hint, `chmod 600 "/d/preferences.json"`)
  })

  it("another owner: chown (recursive for the folder) and chmod, even when the mode is private", () => {
    const folder = TrustedFile.trustProblem("/d", "directory", entry("directory", 0o700, 0), mine)
    assert.include(folder?.message, "belongs to another account (uid 0)")
    assert.match(folder?.hint ?? "", /sudo chown -R \S+ "\/d" && chmod 700 "\/d"/)
    const file = TrustedFile.trustProblem("/d/preferences.json", "file", entry("file", 0o600, 0), mine)
    assert.match(file?.hint ?? "", /sudo chown \S+ "\/d\/preferences.json" && chmod 600/)
  })

  it("the wrong type is refused whoever owns it: FIFO, socket, device, folder, link", () => {
    for (const kind of ["fifo", "socket", "device", "directory", "symlink", "unknown"] as const) {
      const problem = TrustedFile.trustProblem("/d/preferences.json", "file", entry(kind, 0o600), mine)
      assert.include(problem?.message, "not a regular file", kind)
      assert.include(problem?.hint, `mv "/d/preferences.json"`)
    }
    assert.include(TrustedFile.trustProblem("/d", "directory", entry("file", 0o600), mine)?.message, "not a folder")
  })

  it("Windows: no POSIX owners or modes (Node reports uid 0, 0o666), so only the type is checked", () => {
    const windows = { uid: 1000, platform: "win32" } as const
    assert.isUndefined(TrustedFile.trustProblem("C:\\d", "directory", entry("directory", 0o777, 0), windows))
    assert.isUndefined(TrustedFile.trustProblem("C:\\d\\preferences.json", "file", entry("file", 0o666, 0), windows))
    assert.isDefined(TrustedFile.trustProblem("C:\\d\\preferences.json", "file", entry("symlink", 0o666, 0), windows))
    assert.isDefined(TrustedFile.trustProblem("C:\\d\\preferences.json", "file", entry("directory", 0o666, 0), windows))
  })
})

describe("TrustedFile.readTrusted", () => {
  it.live("reads the user's file; a larger file than the bound is TooLarge, unread", () =>
    Effect.gen(function*() {
      const dir = fsSync.mkdtempSync(NodePath.join(tmpdir(), "fishbowl-trusted-"))
      const file = NodePath.join(dir, "preferences.json")
      fsSync.writeFileSync(file, "0123456789", { mode: 0o600 })
      const read = yield* TrustedFile.readTrusted(file, 10)
      assert.strictEqual(read._tag, "Read")
      if (read._tag === "Read") assert.strictEqual(Buffer.from(read.bytes).toString(), "0123456789")
      assert.deepStrictEqual(yield* TrustedFile.readTrusted(file, 9), { _tag: "TooLarge", bytes: 10 })
      assert.deepStrictEqual(yield* TrustedFile.readTrusted(NodePath.join(dir, "missing"), 10), { _tag: "Missing" })
      fsSync.rmSync(dir, { recursive: true })
    }))
})

describe("doctor shows the store's own trust finding", () => {
  const findingsOf = (dataDir: string) =>
    Effect.gen(function*() {
      const storeError = yield* Effect.flip((yield* PreferencesStore.PreferencesStore).load)
      const report = yield* (yield* Diagnostics.Diagnostics).diagnose()
      return { storeError, report }
    }).pipe(Effect.provide(DesktopLayer.layer({ dataDir, secretBackend: "session" })))

  it.live("a data folder others can write: an error finding with the store's message and hint", () => {
    const dataDir = fsSync.mkdtempSync(NodePath.join(tmpdir(), "fishbowl-diag-trust-"))
    fsSync.chmodSync(dataDir, 0o777)
    return Effect.gen(function*() {
      const { storeError, report } = yield* findingsOf(dataDir)
      assert.strictEqual(storeError._tag, "StorageInaccessible")
      const finding = report.findings.find((finding) => finding.id === "data-dir.trust")
      assert.deepStrictEqual(finding, { id: "data-dir.trust", severity: "error", message: storeError.message, hint: storeError.hint })
      assert.include(finding?.hint, `chmod 700 "${dataDir}"`)
      assert.isUndefined(report.findings.find((finding) => finding.id === "data-dir.mode"), "one finding, not a mode warning too")
    }).pipe(Effect.ensuring(Effect.sync(() => fsSync.rmSync(dataDir, { recursive: true }))))
  })

  it.live("a FIFO as preferences.json: an error finding (doctor never opens it, so it never hangs)", () => {
    const dataDir = fsSync.mkdtempSync(NodePath.join(tmpdir(), "fishbowl-diag-trust-"))
    assert.strictEqual(spawnSync("mkfifo", [NodePath.join(dataDir, "preferences.json")]).status, 0)
    return Effect.gen(function*() {
      const { storeError, report } = yield* findingsOf(dataDir)
      const finding = report.findings.find((finding) => finding.id === "preferences.trust")
      assert.deepStrictEqual(finding, { id: "preferences.trust", severity: "error", message: storeError.message, hint: storeError.hint })
      assert.include(finding?.message, "named pipe (FIFO)")
      assert.strictEqual(report.findings.find((finding) => finding.id === "preferences.parse")?.severity, "error")
    }).pipe(Effect.ensuring(Effect.sync(() => fsSync.rmSync(dataDir, { recursive: true }))))
  })
})
