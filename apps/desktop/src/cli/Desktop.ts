/**
 * Everything of the desktop layers the commands use, behind one module that Commands.ts loads
 * with `import()` when a command first needs the store. In the bundle that module and what only
 * it imports (the Node file system, child_process, crypto, keytar's supervisor) are initialised
 * lazily, so `--help`, `providers` and usage errors do not pay for them.
 */
export { DataDir, DesktopLayer, Migration, SecretBackend } from "@fishbowl/desktop-layer"
export * as ConfigNames from "./ConfigNames.ts"
export * as Doctor from "./Doctor.ts"
export * as InProcessKeytar from "./InProcessKeytar.ts"
