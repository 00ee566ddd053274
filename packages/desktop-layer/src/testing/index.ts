/**
 * @fishbowl/desktop-layer/testing: a real gnome-keyring Secret Service on a private D-Bus for
 * tests, per-test temp folders, child-process helpers and Fishbowl's legacy files written as
 * Fishbowl writes them. Imports vitest, so it is only for test code.
 */
export * as ChildProcesses from "./ChildProcesses.ts"
export * as FishbowlFiles from "./FishbowlFiles.ts"
export * as FreshDataDir from "./FreshDataDir.ts"
export * as PausedChild from "./PausedChild.ts"
export * as SecretServiceForTests from "./SecretServiceForTests.ts"
export * as SecretServiceHarness from "./SecretServiceHarness.ts"
export * as TempDirs from "./TempDirs.ts"
export * as WorkerProcesses from "./WorkerProcesses.ts"
