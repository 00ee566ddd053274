/**
 * The packaged app's layout, simulated: electron-builder (electron-builder.json) puts the app in
 * resources/app.asar and unpacks `main/keytar-worker.cjs` and `node_modules/keytar/**` to
 * resources/app.asar.unpacked/. Packaging cannot run here (no Electron binary), so this builds the
 * app's files into a temp folder shaped like that and checks that main's resolution code
 * (PackagedPaths) finds the unpacked worker and keytar, and that the worker forked from there
 * really loads that keytar and stores and reads a key on a real Secret Service.
 */
import { DesktopLayer } from "@fishbowl/desktop-layer"
import { SecretServiceHarness } from "@fishbowl/desktop-layer/testing"
import { LlmConfigStore } from "@fishbowl/domain"
import { Fixtures } from "@fishbowl/domain/testing"
import { ManagedRuntime, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildMain } from "../scripts/build.mjs"
import { packagingBlocker } from "../scripts/package.mjs"
import * as PackagedPaths from "../src/main/PackagedPaths.ts"

const require = createRequire(import.meta.url)
const builderConfig = JSON.parse(
  await fs.readFile(fileURLToPath(new URL("../electron-builder.json", import.meta.url)), "utf8")
) as {
  asarUnpack: Array<string>
  linux: { target: Array<string> }
  mac: { target: Array<string> }
  win: { target: Array<string> }
  directories: { app: string }
  afterPack: string
}

let tempDir: string
let resources: string
let secretService: SecretServiceHarness.SecretServiceHandle

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "fishbowl-packaged-"))
  resources = path.join(tempDir, "resources")
  // What electron-builder makes of dist/: the archive (a folder stands in for it; nothing is
  // read from inside) and, beside it, the unpacked files with the same relative paths.
  const asar = path.join(resources, "app.asar")
  await buildMain(asar)
  const unpacked = path.join(resources, "app.asar.unpacked")
  await fs.mkdir(path.join(unpacked, "main"), { recursive: true })
  await fs.rename(path.join(asar, "main", "keytar-worker.cjs"), path.join(unpacked, "main", "keytar-worker.cjs"))
  const keytarDir = path.dirname(require.resolve("keytar/package.json"))
  await fs.cp(keytarDir, path.join(unpacked, "node_modules", "keytar"), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}src${path.sep}`)
  })
  secretService = await SecretServiceHarness.startSecretService()
})

afterAll(async () => {
  await secretService?.stop()
  if (tempDir !== undefined) await fs.rm(tempDir, { recursive: true, force: true })
})

describe("packaged layout (resources/app.asar + app.asar.unpacked)", () => {
  it("electron-builder.json unpacks exactly what main resolves, for AppImage, deb, dmg and nsis, and flips fuses after packing", () => {
    expect(builderConfig.asarUnpack).toEqual(expect.arrayContaining(["main/keytar-worker.cjs", "node_modules/keytar/**"]))
    expect(builderConfig.linux.target).toEqual(["AppImage", "deb"])
    expect(builderConfig.mac.target).toEqual(["dmg"])
    expect(builderConfig.win.target).toEqual(["nsis"])
    expect(builderConfig.directories.app).toBe("dist")
    expect(builderConfig.afterPack).toBe("scripts/afterPack.cjs")
  })

  it("main's resolution finds the unpacked worker and keytar; development paths are left alone", async () => {
    const mainDir = path.join(resources, "app.asar", "main")
    const paths = PackagedPaths.resolveKeytarPaths(mainDir)
    expect(paths.packaged).toBe(true)
    expect(paths.workerPath).toBe(path.join(resources, "app.asar.unpacked", "main", "keytar-worker.cjs"))
    expect(paths.keytarModule).toBe(path.join(resources, "app.asar.unpacked", "node_modules", "keytar"))
    expect(PackagedPaths.toUnpacked("/opt/Fishbowl/resources/app.asar/main/x.cjs")).toBe(
      "/opt/Fishbowl/resources/app.asar.unpacked/main/x.cjs"
    )
    expect(PackagedPaths.toUnpacked("/home/me/app.asarx/main/x.cjs")).toBe("/home/me/app.asarx/main/x.cjs")
    const dev = PackagedPaths.resolveKeytarPaths(path.join(tempDir, "dist", "main"))
    expect(dev).toEqual({ workerPath: path.join(tempDir, "dist", "main", "keytar-worker.cjs"), keytarModule: undefined, packaged: false })
    // Nothing unpacked (a broken package): keep the in-archive path rather than invent one.
    const broken = PackagedPaths.resolveKeytarPaths(path.join(tempDir, "elsewhere", "app.asar", "main"))
    expect(broken.keytarModule).toBeUndefined()
    expect(broken.workerPath).toBe(path.join(tempDir, "elsewhere", "app.asar", "main", "keytar-worker.cjs"))
  })

  it("the worker forked from app.asar.unpacked loads the unpacked keytar and stores and reads a key", async () => {
    const paths = PackagedPaths.resolveKeytarPaths(path.join(resources, "app.asar", "main"))
    const key = Fixtures.makeCanaryKey("packaged")
    // As main.ts does for a packaged app: FISHBOWL_KEYTAR_MODULE names the unpacked keytar.
    const env = { ...SecretServiceHarness.childEnv(secretService.env), FISHBOWL_KEYTAR_MODULE: paths.keytarModule! }
    const runtime = ManagedRuntime.make(
      DesktopLayer.layer({
        dataDir: path.join(tempDir, "data"),
        secretBackend: "keychain",
        keytar: { workerPath: paths.workerPath, workerEnv: env }
      })
    )
    try {
      const status = await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.status))
      expect(status.secretStore.tier).toBe("keychain")
      const config = await runtime.runPromise(
        LlmConfigStore.LlmConfigStore.use((store) =>
          store.create({ provider: "openai", name: "Packaged", apiKey: Redacted.make(key) } as never)
        )
      )
      const read = await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((store) => store.getApiKey(config.id))).then(Redacted.value)
      expect(read).toBe(key)
    } finally {
      await runtime.dispose()
    }
    // And a keytar path that is not there is refused (the worker does not quietly find another).
    const missing = ManagedRuntime.make(
      DesktopLayer.layer({
        dataDir: path.join(tempDir, "data-missing"),
        secretBackend: "keychain",
        keytar: { workerPath: paths.workerPath, workerEnv: { ...env, FISHBOWL_KEYTAR_MODULE: path.join(tempDir, "no-keytar") } }
      })
    )
    try {
      const failed = await missing.runPromiseExit(
        LlmConfigStore.LlmConfigStore.use((store) =>
          store.create({ provider: "openai", name: "Nope", apiKey: Redacted.make(Fixtures.makeCanaryKey("nope")) } as never)
        )
      )
      expect(failed._tag).toBe("Failure")
    } finally {
      await missing.dispose()
    }
  })

  const blocker = packagingBlocker()
  it.skipIf(blocker === undefined)(
    blocker === undefined
      ? "packaging can run here (skipped: the refusal is tested where Electron is missing)"
      : "npm run package refuses with the reason when Electron's binary is missing",
    () => {
      const result = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../scripts/package.mjs", import.meta.url))], {
        encoding: "utf8"
      })
      expect(result.status).toBe(1)
      expect(result.stderr).toContain(`error: cannot package the desktop app: ${blocker}`)
      expect(blocker).toMatch(/Electron's binary is missing|electron-builder is not installed/)
    }
  )
})
