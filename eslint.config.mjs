// ESLint with typescript-eslint's type-aware rules, over every TypeScript file that a tsconfig
// covers. Formatting is dprint's (dprint.json), never ESLint's.
// The rules are the ones that catch what types alone do not: a call of a deprecated API (reads
// `@deprecated` in typings such as electron.d.ts), a promise nobody awaits or handles, a promise
// where a callback's result is ignored, and a switch that misses a case of a union.
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/cli-dist/**", "**/dist/**", "**/out/**", "**/*.d.ts", "**/*.cjs", "**/*.mjs", "**/*.js"]
  },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parser: tseslint.parser,
      // The same projects `npm run typecheck` checks, so every linted file is typed as it compiles.
      parserOptions: {
        project: [
          "./packages/domain/tsconfig.json",
          "./packages/desktop-layer/tsconfig.json",
          "./packages/mobile-layer/tsconfig.json",
          "./packages/mobile-layer/tsconfig.published-types.json",
          "./apps/desktop/tsconfig.json",
          "./tsconfig.tools.json"
        ],
        tsconfigRootDir: import.meta.dirname
      }
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-deprecated": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }]
    }
  }
)
