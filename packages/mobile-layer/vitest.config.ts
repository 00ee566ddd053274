import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@fishbowl/mobile-layer",
    include: ["test/**/*.test.ts"],
    testTimeout: 60000
  }
})
