import { defineProject } from "vitest/config"
import { hangLimits } from "../../vitest.shared.ts"

export default defineProject({
  test: {
    ...hangLimits,
    setupFiles: ["../../vitest.setup.ts"],
    name: "@fishbowl/desktop",
    include: ["test/**/*.test.ts"],
    // every temp path of a run lives under one folder, removed at the end (nothing left in /tmp)
    // the CLI bundle is built once per run (BuildCliForRun)
    globalSetup: ["../../packages/desktop-layer/src/testing/TempRootForRun.ts", "./src/testing/BuildCliForRun.ts"]
  }
})
