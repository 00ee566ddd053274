/**
 * Every property test of a run draws from one fixed seed, so the suite does the same work on every
 * machine and a failure replays. `FISHBOWL_PROPERTY_SEED=<n>` explores other inputs (the soak
 * script passes a new seed per run and prints it); `FISHBOWL_PROPERTY_RUNS` sizes the model-based
 * suites (LlmConfigStoreContract).
 */
import * as fc from "fast-check"

export const DEFAULT_PROPERTY_SEED = 20261202

const fromEnv = Number.parseInt(process.env["FISHBOWL_PROPERTY_SEED"] ?? "", 10)
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number.isSafeInteger(fromEnv) ? fromEnv : DEFAULT_PROPERTY_SEED })
