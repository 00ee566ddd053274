import { defineProject } from "vitest/config"
import { hangLimits } from "../../vitest.shared.ts"

export default defineProject({
  test: {
    ...hangLimits,
    setupFiles: ["../../vitest.setup.ts"],
    name: "@fishbowl/domain",
    include: ["test/**/*.test.ts"]
  }
})
