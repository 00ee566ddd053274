/**
 * Everything of the desktop layers the commands use, behind one module that Commands.ts loads
 * with `import()` when a command first needs the store. In the bundle that module and what only
 * it imports (the Node file system, child_process, crypto, keytar's supervisor) are initialised
 * lazily, so `--help`, `providers` and usage errors do not pay for them.
 */
export { currentDataDir, DesktopLayer, Migration, secretBackendFromEnv } from "@fishbowl/desktop-layer"
export { doctor } from "./Doctor.ts"
export { inProcessKeytar } from "./InProcessKeytar.ts"
