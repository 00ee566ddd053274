import { assert, describe, it } from "@effect/vitest"
import * as Canonical from "../src/Canonical.ts"
import * as PreferencesDocument from "../src/PreferencesDocument.ts"
import * as Fixtures from "../src/testing/Fixtures.ts"

describe("llmSectionProblem: the llm section checked as a whole", () => {
  const section = (configs: ReadonlyArray<ReturnType<typeof Fixtures.sampleConfig>>) => ({
    ...PreferencesDocument.emptyLlmSection,
    configs
  })

  it("distinct ids and names are fine (an empty section too)", () => {
    assert.isUndefined(PreferencesDocument.llmSectionProblem(PreferencesDocument.emptyLlmSection))
    assert.isUndefined(
      PreferencesDocument.llmSectionProblem(
        section([Fixtures.sampleConfig("Work"), Fixtures.sampleConfig("Home"), Fixtures.sampleConfig("Work 2")])
      )
    )
  })

  it("two configurations with one id", () => {
    const first = Fixtures.sampleConfig("A")
    assert.strictEqual(
      PreferencesDocument.llmSectionProblem(section([first, { ...Fixtures.sampleConfig("B"), id: first.id }])),
      "two configurations have the same id"
    )
  })

  it("two names with one nameKey (case, NFC), compared exactly as the store compares names", () => {
    for (const [a, b] of [["Work", "WORK"], ["Caf\u00e9", "Cafe\u0301"]] as const) {
      assert.strictEqual(Canonical.nameKey(a), Canonical.nameKey(b))
      assert.strictEqual(
        PreferencesDocument.llmSectionProblem(section([Fixtures.sampleConfig(a), Fixtures.sampleConfig(b)])),
        "two configurations have the same name"
      )
    }
  })

  it("never echoes an id or a name", () => {
    const first = Fixtures.sampleConfig("Secret-looking name")
    const problem = PreferencesDocument.llmSectionProblem(section([first, { ...first }])) ?? ""
    assert.notInclude(problem, first.id)
    assert.notInclude(problem, first.name)
  })
})
