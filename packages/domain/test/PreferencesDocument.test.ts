import { assert, describe, it } from "@effect/vitest"
import { emptyLlmSection, llmSectionProblem, nameKey } from "../src/index.ts"
import { sampleConfig } from "../src/testing/index.ts"

describe("llmSectionProblem: the llm section checked as a whole", () => {
  const section = (configs: ReadonlyArray<ReturnType<typeof sampleConfig>>) => ({ ...emptyLlmSection, configs })

  it("distinct ids and names are fine (an empty section too)", () => {
    assert.isUndefined(llmSectionProblem(emptyLlmSection))
    assert.isUndefined(llmSectionProblem(section([sampleConfig("Work"), sampleConfig("Home"), sampleConfig("Work 2")])))
  })

  it("two configurations with one id", () => {
    const first = sampleConfig("A")
    assert.strictEqual(llmSectionProblem(section([first, { ...sampleConfig("B"), id: first.id }])), "two configurations have the same id")
  })

  it("two names with one nameKey (case, NFC), compared exactly as the store compares names", () => {
    for (const [a, b] of [["Work", "WORK"], ["Caf\u00e9", "Cafe\u0301"]] as const) {
      assert.strictEqual(nameKey(a), nameKey(b))
      assert.strictEqual(llmSectionProblem(section([sampleConfig(a), sampleConfig(b)])), "two configurations have the same name")
    }
  })

  it("never echoes an id or a name", () => {
    const first = sampleConfig("Secret-looking name")
    const problem = llmSectionProblem(section([first, { ...first }])) ?? ""
    assert.notInclude(problem, first.id)
    assert.notInclude(problem, first.name)
  })
})
