/**
 * vitest globalSetup: one temp folder per run of a project, made the TMPDIR of the test workers
 * (and so of every process they start without a TMPDIR of their own), removed at teardown.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"

export default function setup(): () => void {
  const previous = process.env["TMPDIR"]
  const root = mkdtempSync(NodePath.join(tmpdir(), "fishbowl-test-run-"))
  // sticky and world-writable like /tmp itself: tests run children as a second uid (setpriv)
  chmodSync(root, 0o1777)
  process.env["TMPDIR"] = root
  return () => {
    if (previous === undefined) delete process.env["TMPDIR"]
    else process.env["TMPDIR"] = previous
    rmSync(root, { recursive: true, force: true })
  }
}
