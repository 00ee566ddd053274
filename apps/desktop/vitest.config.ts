import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@fishbowl/desktop",
    include: ["test/**/*.test.ts"],
    // every temp path of a run lives under one folder, removed at the end (nothing left in /tmp)
    globalSetup: ["../../packages/desktop-layer/src/testing/TempRootForRun.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
