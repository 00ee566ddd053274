/**
 * Packaging guarantees: src is platform-free (no React Native, no Node, no DOM), and the injected
 * module shapes match the published declarations, which are verbatim copies of the registry's files.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const packageRoot = join(import.meta.dirname, "..")
const tsc = join(packageRoot, "..", "..", "node_modules", "typescript", "bin", "tsc")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

/** Module specifiers in import/export statements, ignoring comments (JSDoc quotes app code). */
const importedModules = (source: string) =>
  Array.from(
    source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").matchAll(
      /(?:import|export)[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g
    ),
    (m) => m[1] ?? m[2]!
  )

const typecheck = (project: string) => {
  const result = spawnSync(process.execPath, [tsc, "-p", join(packageRoot, project)], { encoding: "utf8" })
  assert.strictEqual(result.status, 0, result.stdout + result.stderr)
}

describe("packaging", () => {
  it("src imports only effect, the domain and its own files (never expo or react-native)", () => {
    const files = sourceFiles(join(packageRoot, "src"))
    assert.isAbove(files.length, 8)
    for (const file of files) {
      for (const module of importedModules(readFileSync(file, "utf8"))) {
        assert.match(module, /^(effect(\/.*)?|@fishbowl\/domain|\.\.?\/.*)$/, `${file} imports ${module}`)
      }
    }
  })

  it("src type-checks against plain ES2022 with no DOM or Node globals", () => {
    const tsconfig = JSON.parse(readFileSync(join(packageRoot, "tsconfig.json"), "utf8"))
    assert.deepStrictEqual(tsconfig.compilerOptions.lib, ["ES2022"])
    assert.deepStrictEqual(tsconfig.compilerOptions.types, [])
    typecheck("tsconfig.src.json")
  })

  it("vendored declarations are byte-identical to the published files recorded in the manifest", () => {
    const root = join(packageRoot, "published-types")
    const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as {
      packages: Array<{ name: string; version: string; integrity: string; dir: string; files: Record<string, string> }>
    }
    assert.deepStrictEqual(manifest.packages.map((pkg) => `${pkg.name}@${pkg.version}`), [
      "expo-secure-store@57.0.4",
      "@react-native-async-storage/async-storage@3.1.1"
    ])
    for (const pkg of manifest.packages) {
      assert.match(pkg.integrity, /^sha512-/)
      for (const [path, expected] of Object.entries(pkg.files)) {
        const text = readFileSync(join(root, pkg.dir, path.split("/").at(-1)!))
        assert.strictEqual(createHash("sha256").update(text).digest("hex"), expected, `${pkg.name} ${path}`)
      }
    }
  })

  it("the injected shapes, the in-memory modules and the README example type-check against them", () => {
    typecheck("tsconfig.published-types.json")
  })
})
