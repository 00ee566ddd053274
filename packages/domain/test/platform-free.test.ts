import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const sourceRoot = join(import.meta.dirname, "..", "src")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

const importedModules = (source: string) =>
  Array.from(source.matchAll(/(?:import|export)[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g), (m) => m[1] ?? m[2]!)

describe("the domain package is platform-free", () => {
  // ipaddr.js, unhomoglyph and fastest-levenshtein are pure JavaScript over strings (IP ranges,
  // Unicode confusables, edit distance), @noble/hashes pure-JS SHA-256 (KeyBinding): no platform
  // API, so they run in Node, Electron and Hermes alike (React Native has no WebCrypto digest).
  it("imports only effect, four pure-JS libraries, its own files and (in testing/) the test libraries", () => {
    const files = sourceFiles(sourceRoot)
    assert.isAbove(files.length, 10)
    for (const file of files) {
      const allowed = file.includes(`${join("src", "testing")}`)
        ? /^(effect(\/.*)?|\.\.?\/.*|@effect\/vitest|fast-check)$/
        : /^(effect(\/.*)?|\.\.?\/.*|ipaddr\.js|unhomoglyph|fastest-levenshtein|@noble\/hashes\/(sha2|utils)\.js)$/
      for (const module of importedModules(readFileSync(file, "utf8"))) {
        assert.match(module, allowed, `${file} imports ${module}`)
      }
    }
  })

  it("the modules the settings page bundles (its package subpaths) reach no Effect, however indirectly", () => {
    const exported = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")).exports as Record<string, string>
    const pageModules = ["./BaseUrlRule", "./Plural"].map((subpath) => join(import.meta.dirname, "..", exported[subpath]!))
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      for (const module of importedModules(readFileSync(file, "utf8"))) {
        assert.notMatch(module, /^effect(\/|$)/, `${file} imports ${module}`)
        if (module.startsWith(".")) visit(join(file, "..", module))
      }
    }
    for (const file of pageModules) visit(file)
    assert.isAbove(seen.size, 2, "BaseUrlRule's own imports were followed")
  })

  it("type-checks against plain ES2022 with no DOM or Node globals", () => {
    const packageRoot = join(import.meta.dirname, "..")
    const tsconfig = JSON.parse(readFileSync(join(packageRoot, "tsconfig.json"), "utf8"))
    assert.deepStrictEqual(tsconfig.compilerOptions.lib, ["ES2022"])
    assert.deepStrictEqual(tsconfig.compilerOptions.types, [])
    // With no DOM or @types/node, any use of window, document, Buffer, process or require fails here.
    const tsc = join(packageRoot, "..", "..", "node_modules", "typescript", "bin", "tsc")
    const result = spawnSync(process.execPath, [tsc, "-p", join(packageRoot, "tsconfig.src.json")], { encoding: "utf8" })
    assert.strictEqual(result.status, 0, result.stdout + result.stderr)
  })
})
