import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@fishbowl/domain",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000
  }
})
