/**
 * electron-builder afterPack hook: flips the fuses of scripts/fuses.mjs in the packed Electron
 * binary (before signing, so the signature covers them).
 */
const path = require("node:path")

exports.default = async function afterPack(context) {
  const fuses = await import("@electron/fuses")
  const { toFuseConfig } = await import("./fuses.mjs")
  const { electronPlatformName, appOutDir, packager } = context
  const name = packager.appInfo.productFilename
  const binary = electronPlatformName === "darwin"
    ? path.join(appOutDir, `${name}.app`)
    : electronPlatformName === "win32"
    ? path.join(appOutDir, `${name}.exe`)
    : path.join(appOutDir, packager.executableName ?? name.toLowerCase())
  await fuses.flipFuses(binary, {
    ...toFuseConfig(fuses),
    resetAdHocDarwinSignature: electronPlatformName === "darwin" && process.arch === "arm64"
  })
}
