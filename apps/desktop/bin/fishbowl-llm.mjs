#!/usr/bin/env node
// fishbowl-llm: runs the prebuilt bundle (built by `npm ci` through the prepare script, or by
// `npm run build:cli`); nothing is compiled at run time.
import { existsSync } from "node:fs"

const bundle = new URL("../cli-dist/fishbowl-llm.mjs", import.meta.url)
if (!existsSync(bundle)) {
  process.stderr.write("error: fishbowl-llm is not built\nhint: Run `npm run build:cli --workspace @fishbowl/desktop` (npm ci does it too).\n")
  process.exit(1)
}
await import(bundle.href)
