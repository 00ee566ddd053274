#!/usr/bin/env node
// Same as fishbowl-llm.cjs (the package's bin), for callers that name the .mjs path.
import { createRequire } from "node:module"

createRequire(import.meta.url)("./fishbowl-llm.cjs")
