/**
 * A temp folder that belongs to the running test and is removed when it finishes, pass or fail,
 * so a run leaves nothing in /tmp (TempRootForRun.ts catches whatever a test still forgets).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { onTestFinished } from "vitest"

/**
 * Concurrent tests pass their context's `onTestFinished`: the global one attaches to whichever test
 * vitest thinks is running, so a folder could be removed under a test that still uses it.
 */
export const testTempDir = (label: string, finished: typeof onTestFinished = onTestFinished): string => {
  const dir = mkdtempSync(NodePath.join(tmpdir(), `fishbowl-${label}-`))
  finished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
