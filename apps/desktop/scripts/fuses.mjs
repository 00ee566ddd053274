/**
 * Electron fuses flipped in the packaged binary (scripts/afterPack.cjs, @electron/fuses). Each
 * closes a way to make the signed app run code it did not ship:
 * - RunAsNode stays ON, on purpose: the keytar worker is Electron run as Node
 *   (ELECTRON_RUN_AS_NODE=1). Turning it off would need the worker moved to utilityProcess.
 * - NODE_OPTIONS and --inspect are ignored, so an environment cannot inject code or a debugger.
 * - The app is loaded only from app.asar, whose integrity is checked (macOS/Windows).
 * - Cookies are encrypted; file:// gets no extra privileges; no custom V8 snapshot.
 */
export const fuseSettings = {
  version: "V1",
  runAsNode: true,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  grantFileProtocolExtraPrivileges: false
}

/** The same settings as @electron/fuses' FuseV1Options map (kept here so tests can read them without the package). */
export const toFuseConfig = (fuses) => ({
  version: fuses.FuseVersion.V1,
  [fuses.FuseV1Options.RunAsNode]: fuseSettings.runAsNode,
  [fuses.FuseV1Options.EnableCookieEncryption]: fuseSettings.enableCookieEncryption,
  [fuses.FuseV1Options.EnableNodeOptionsEnvironmentVariable]: fuseSettings.enableNodeOptionsEnvironmentVariable,
  [fuses.FuseV1Options.EnableNodeCliInspectArguments]: fuseSettings.enableNodeCliInspectArguments,
  [fuses.FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: fuseSettings.enableEmbeddedAsarIntegrityValidation,
  [fuses.FuseV1Options.OnlyLoadAppFromAsar]: fuseSettings.onlyLoadAppFromAsar,
  [fuses.FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: fuseSettings.loadBrowserProcessSpecificV8Snapshot,
  [fuses.FuseV1Options.GrantFileProtocolExtraPrivileges]: fuseSettings.grantFileProtocolExtraPrivileges
})
