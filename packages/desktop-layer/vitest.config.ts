import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@fishbowl/desktop-layer",
    include: ["test/**/*.test.ts"],
    testTimeout: 30000,
    hookTimeout: 30000
  }
})
