/**
 * vitest globalSetup of the desktop project: the CLI bundle users run is built once from the
 * current sources before any test file starts, so files that spawn `fishbowl-llm` (and may run in
 * parallel) never race each other rewriting cli-dist.
 */
import { buildCli } from "../../scripts/build-cli.mjs"

export default async function setup(): Promise<void> {
  await buildCli()
}
