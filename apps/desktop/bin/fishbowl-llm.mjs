#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx, so `npx fishbowl-llm` works right after `npm ci`.
import { register } from "tsx/esm/api"

register()
const { runCli } = await import("../src/cli/fishbowl-llm.ts")
const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env
})
process.exitCode = code
