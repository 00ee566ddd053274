/**
 * Test-side time limits, one set for every project. They exist only to catch a hang: work is sized
 * by count and seed, never by what fits in a limit, and every limit is far above what the work takes
 * on a slow, loaded machine (DEVELOPERS.md, "Tests that pass wherever they run").
 */
export const hangLimits = {
  /** A whole test or hook; the slowest test takes ~90 s on a machine three times slower than usual. */
  testTimeout: 600_000,
  hookTimeout: 600_000,
  /** `expect.poll` waits for a state; its default (1 s) is a wall-clock bound, so it is raised. */
  expect: { poll: { timeout: 60_000, interval: 50 } }
} as const
