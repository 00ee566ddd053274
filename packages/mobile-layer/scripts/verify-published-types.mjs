#!/usr/bin/env node
// Re-downloads the packages listed in published-types/manifest.json with `npm pack` (registry access
// needed, so this is a maintainer step, not part of `npm test`) and checks that the tarball integrity
// and every vendored declaration file are byte-identical to what the registry publishes.
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "published-types")
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"))
const sha256 = (buffer) => createHash("sha256").update(buffer).digest("hex")
const work = mkdtempSync(join(tmpdir(), "fishbowl-published-types-"))
let problems = 0
try {
  for (const pkg of manifest.packages) {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", `${pkg.name}@${pkg.version}`, "--json", "--pack-destination", work], { encoding: "utf8" })
    )
    if (packed.integrity !== pkg.integrity) {
      problems++
      console.error(`${pkg.name}@${pkg.version}: integrity ${packed.integrity} differs from the manifest`)
    }
    const unpacked = join(work, pkg.dir)
    execFileSync("mkdir", ["-p", unpacked])
    execFileSync("tar", ["xzf", join(work, packed.filename), "-C", unpacked])
    for (const [path, expected] of Object.entries(pkg.files)) {
      const published = sha256(readFileSync(join(unpacked, "package", path)))
      const vendored = sha256(readFileSync(join(root, pkg.dir, path.split("/").at(-1))))
      if (published !== expected || vendored !== expected) {
        problems++
        console.error(`${pkg.name}@${pkg.version} ${path}: published ${published}, vendored ${vendored}, manifest ${expected}`)
      } else {
        console.log(`ok ${pkg.name}@${pkg.version} ${path}`)
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
process.exit(problems === 0 ? 0 : 1)
