/**
 * An update killed before its new key landed, seen through the real `fishbowl-llm` on the real
 * keychain: the dead process's keychain helper could still write the key (it drains after its
 * parent dies), so `doctor --fix` leaves the change "settling" and says to run it again; the config
 * is busy meanwhile and keeps its old key; once the bound has passed (`settledAfter`, recorded in
 * preferences.json by that first recovery) the next `doctor --fix` undoes it.
 */
import { ChildProcesses, SecretServiceForTests, SecretServiceHarness, TempDirs } from "@fishbowl/desktop-layer/testing"
import { readFileSync } from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const secretService = await SecretServiceForTests.secretServiceForThisFile()
const env = { ...SecretServiceHarness.childEnv(secretService.env), PATH: process.env["PATH"] ?? "" }
const BIN = fileURLToPath(new URL("../bin/fishbowl-llm.cjs", import.meta.url))

const cli = (dataDir: string, args: ReadonlyArray<string>) =>
  ChildProcesses.runChild(process.execPath, [BIN, "--data-dir", dataDir, ...args], { env })

const storeChild = async (args: ReadonlyArray<string>) => {
  const result = await ChildProcesses.runChild(process.execPath, ["--import", "tsx", ChildProcesses.STORE_CHILD, ...args], { env })
  return { ...result, output: result.stdout.trim() === "" ? undefined : JSON.parse(result.stdout.trim().split("\n").at(-1)!) }
}

type Finding = { readonly id: string; readonly severity: string; readonly message: string; readonly hint?: string }

const doctorFix = async (dataDir: string) => {
  const doctor = await cli(dataDir, ["doctor", "--fix", "--json"])
  const findings = JSON.parse(doctor.stdout).findings as ReadonlyArray<Finding>
  return { code: doctor.code, findings, byId: (id: string) => findings.find((finding) => finding.id === id) }
}

/** The journal as preferences.json holds it (what the first recovery recorded). */
const journalOf = (dataDir: string): ReadonlyArray<{ readonly settledAfter?: string }> =>
  JSON.parse(readFileSync(NodePath.join(dataDir, "preferences.json"), "utf8")).llm.journal

describe("an update killed before its key landed, through the CLI", () => {
  it("doctor --fix leaves it settling and says to run again; the next --fix after the bound undoes it", async ({ onTestFinished }) => {
    const dataDir = TempDirs.testTempDir("settling", onTestFinished)
    const seeded = await storeChild([dataDir, "create-many", "seed", "1"])
    const id = seeded.output.ids[0] as string
    const crashed = await storeChild([dataDir, "crash", "update", "update.intent-recorded", id])
    expect(crashed.signal, crashed.stderr).toBe("SIGKILL")

    const first = await doctorFix(dataDir)
    expect(first.byId("journal.fix")?.message).toBe("--fix: finished 0, undid 0")
    const settling = first.byId("journal.settling")
    expect(settling?.message).toMatch(
      /^--fix left 1 change to finish later: the keychain helper of process \d+ on .+, which stopped, may still be saving a key$/
    )
    expect(settling?.hint).toBe("Run `fishbowl-llm doctor --fix` again in a minute: each is then finished or undone.")
    expect(first.byId("preferences.journal")?.message, "the unfinished change says when it can be finished").toMatch(
      /; one can be finished only after .+, as the keychain may still be saving its key$/
    )
    const [waiting] = journalOf(dataDir)
    const settledAfter = Date.parse(waiting!.settledAfter!)

    // Meanwhile the config keeps its old metadata and key, and another change to it is refused as busy.
    const busy = await cli(dataDir, ["update", id, "--name", "Meanwhile"])
    expect(busy.code, busy.stderr).toBe(8)
    expect((await cli(dataDir, ["key", "seed 0"])).stdout).toBe("sk-seed-0\n")

    // The hint, as printed, once the time the first recovery recorded has passed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, settledAfter - Date.now()) + 10))
    const second = await doctorFix(dataDir)
    expect(second.byId("journal.fix")?.message).toBe("--fix: finished 0, undid 1")
    expect(second.byId("journal.settling")).toBeUndefined()
    expect(journalOf(dataDir)).toEqual([])
    const listed = JSON.parse((await cli(dataDir, ["list", "--json"])).stdout) as ReadonlyArray<{ readonly name: string }>
    expect(listed.map((config) => config.name)).toEqual(["seed 0"])
    expect((await cli(dataDir, ["key", "seed 0"])).stdout).toBe("sk-seed-0\n")
  })
})
