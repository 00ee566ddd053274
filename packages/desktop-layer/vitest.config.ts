import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@fishbowl/desktop-layer",
    include: ["test/**/*.test.ts"],
    // every temp path of a run lives under one folder, removed at the end (nothing left in /tmp)
    globalSetup: ["./src/testing/TempRootForRun.ts"],
    testTimeout: 30000,
    hookTimeout: 30000
  }
})
