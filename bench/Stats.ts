/**
 * Timing helpers for the benchmark: sample collection, percentiles and table formatting.
 * Plain TypeScript, no dependencies.
 */
import { performance } from "node:perf_hooks"

export interface Summary {
  readonly n: number
  readonly median: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly min: number
  readonly mean: number
}

/** Nearest-rank percentile of ascending-sorted samples (p in 0..100). */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
    mean
  }
}

/** Runs `op(i)` n times sequentially, timing each call (ms). `setup(i)` runs untimed before each call. */
export const timeSequential = async (
  n: number,
  op: (i: number) => Promise<unknown> | unknown,
  setup?: (i: number) => Promise<unknown> | unknown
): Promise<Array<number>> => {
  const samples: Array<number> = []
  for (let i = 0; i < n; i++) {
    if (setup) await setup(i)
    const started = performance.now()
    await op(i)
    samples.push(performance.now() - started)
  }
  return samples
}

/** Runs the garbage collector when the process was started with --expose-gc. */
export const collectGarbage = () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (typeof gc === "function") gc()
}

export const fmt = (ms: number, digits = 3): string => (Number.isFinite(ms) ? ms.toFixed(digits) : "n/a")

/** A plain text table: first row is the header; columns are padded, numbers right-aligned. */
export const renderTable = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  const numeric = (cell: string) => /^[-+]?[\d.]+x?$|^n\/a$/.test(cell)
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, i) => (numeric(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()
  const out = [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  ")]
  for (const row of rows.slice(1)) out.push(line(row))
  return out.join("\n")
}
