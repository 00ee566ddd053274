import { defineConfig } from "vitest/config"

// Vitest 4 ignores vitest.workspace.ts: each package is a project with its own defineProject config.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "apps/*/vitest.config.ts"]
  }
})
