import { assert, describe, it } from "@effect/vitest"
import { Diagnostics, LlmConfigStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { Effect } from "effect"
import { chmodSync, writeFileSync } from "node:fs"
import * as NodePath from "node:path"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as TempDirs from "../src/testing/TempDirs.ts"

const findingIds = (findings: ReadonlyArray<{ id: string; severity: string }>) =>
  Object.fromEntries(findings.map((finding) => [finding.id, finding.severity]))

describe("desktop diagnostics", () => {
  it.live("reports the tier, file modes, quarantined files and a probe, each with a fix", () => {
    const dataDir = TempDirs.testTempDir("diag")
    return Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      yield* store.create(Fixtures.configInput({ provider: "ollama", name: "Local" }))
      chmodSync(NodePath.join(dataDir, "preferences.json"), 0o644)
      chmodSync(dataDir, 0o755)
      writeFileSync(NodePath.join(dataDir, "preferences.json.corrupt-2026-01-01T00-00-00.000Z"), "{")
      const report = yield* (yield* Diagnostics.Diagnostics).diagnose({ probe: true })
      assert.strictEqual(report.tier, "session")
      assert.isTrue(report.probed)
      assert.strictEqual(report.dataDir, dataDir)
      const severities = findingIds(report.findings)
      assert.deepInclude(severities, {
        "secrets.tier": "error",
        "data-dir.mode": "warning",
        "preferences.mode": "warning",
        "preferences.parse": "ok",
        "preferences.quarantine": "warning",
        "secrets.probe": "ok"
      })
      for (const finding of report.findings.filter((finding) => finding.severity !== "ok")) {
        assert.isString(finding.hint, `${finding.id} has a fix`)
      }
      assert.include(report.findings.find((finding) => finding.id === "preferences.mode")!.hint!, "chmod 600")
    }).pipe(Effect.provide(DesktopLayer.layer({ dataDir, secretBackend: "session" })))
  })

  it.live("a fresh machine: no data folder yet is fine, and no probe unless asked", () => {
    const dataDir = NodePath.join(TempDirs.testTempDir("diag"), "Fishbowl")
    return Effect.gen(function*() {
      const report = yield* (yield* Diagnostics.Diagnostics).diagnose()
      assert.isFalse(report.probed)
      assert.strictEqual(findingIds(report.findings)["data-dir.exists"], "ok")
      assert.isUndefined(findingIds(report.findings)["secrets.probe"])
    }).pipe(Effect.provide(DesktopLayer.layer({ dataDir, secretBackend: "session" })))
  })
})
