/**
 * The private Secret Service for one test file: started at module load (top-level await, so a
 * failed start fails the file with the install hint instead of skipping it), stopped after the
 * file, and awaited before every test, so that a daemon that died in one test (and was
 * restarted by the harness) never fails the next one.
 */
import { afterAll, beforeEach } from "vitest"
import * as SecretServiceHarness from "./SecretServiceHarness.ts"

export const secretServiceForThisFile = async (
  options?: SecretServiceHarness.SecretServiceOptions
): Promise<SecretServiceHarness.SecretServiceHandle> => {
  const handle = await SecretServiceHarness.startSecretService(options)
  afterAll(() => handle.stop())
  beforeEach(() => handle.ready())
  return handle
}
