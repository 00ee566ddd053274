/**
 * A temp folder that belongs to the running test and is removed when it finishes, pass or fail,
 * so a run leaves nothing in /tmp (TempRootForRun.ts catches whatever a test still forgets).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { onTestFinished } from "vitest"

export const testTempDir = (label: string): string => {
  const dir = mkdtempSync(NodePath.join(tmpdir(), `fishbowl-${label}-`))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
