/**
 * What the benchmark reports, from the rows `bench/Measurements.ts` recorded: the aims (each
 * defined once, with its arithmetic and verdict), the store/raw ratios, the printed tables and the
 * JSON document. bench/README.md describes both outputs; keep it true when a column or field moves.
 */
import * as os from "node:os"
import type * as Measurements from "./Measurements.ts"
import * as Stats from "./Stats.ts"

// ---------------------------------------------------------------------------------------------
// input

export interface Machine {
  readonly cpus: number
  readonly cpuModel: string
  readonly totalMemoryMiB: number
  readonly loadAverageAtStart: ReadonlyArray<number>
  readonly loadAverageAtEnd: ReadonlyArray<number>
  readonly node: string
  readonly platform: string
  readonly date: string
}

/** The machine the run happened on; call it at the end of the run (load average at end, date). */
export const machine = (loadStart: ReadonlyArray<number>): Machine => ({
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
  loadAverageAtStart: loadStart.map((x) => Math.round(x * 100) / 100),
  loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString()
})

/** Everything one run measured, group by group. */
export interface Results {
  readonly settings: Measurements.Settings
  /** Every row, in table order. */
  readonly rows: ReadonlyArray<Measurements.Row>
  readonly raw: Measurements.RawFloors
  readonly store: Measurements.StoreRows
  readonly ipc: Measurements.IpcRows
  readonly listLarge: Measurements.ListLarge
  readonly loop: Measurements.LoopDelay
  readonly cold: Measurements.ColdStart
  readonly cli: ReadonlyArray<Measurements.CliRow>
  readonly machine: Machine
  readonly elapsedSeconds: number
}

// ---------------------------------------------------------------------------------------------
// aims

/** The event-loop delay line of the table, which is not a `Row` (its figures are a histogram's). */
const EVENT_LOOP = "event-loop delay"

/** What an aim shows in the "aim" and "verdict" columns of the row it is about. */
interface Mark {
  readonly target: Measurements.Row | typeof EVENT_LOOP
  readonly text: string
  /** When several aims are about one row, the row shows the strictest (lowest limit, first on ties). */
  readonly limit: number
  readonly pass: boolean
}

/** One aim: the fields of the aims table and of the JSON's `aims`, plus its mark on the table. */
export interface Aim {
  readonly aim: string
  readonly measured: string
  readonly limit: string
  readonly pass: boolean
  readonly mark: Mark
}

interface Limit {
  readonly value: number
  /** How the limit was computed, for the aims table. */
  readonly arithmetic: string
  /** The short form for the row's aim column. */
  readonly short: string
}

/** A limit relative to a raw floor: the sum of measured medians and a fixed allowance, ms. */
const sumOf = (floorTag: string, terms: ReadonlyArray<Measurements.Row>, allowance: number): Limit => {
  const medians = terms.map((row) => row.summary.median)
  const value = medians.reduce((a, b) => a + b, 0) + allowance
  return {
    value,
    arithmetic: `${[...medians.map((m) => Stats.fmt(m)), String(allowance)].join(" + ")} = ${Stats.fmt(value)} ms`,
    short: `≤ ${Stats.fmt(value, 2)} (${floorTag})`
  }
}

/** A limit that is `factor` times the sum of measured medians of the same run, ms. */
const timesSumOf = (tag: string, terms: ReadonlyArray<Measurements.Row>, factor: number): Limit => {
  const medians = terms.map((row) => row.summary.median)
  const value = medians.reduce((a, b) => a + b, 0) * factor
  const sum = medians.map((m) => Stats.fmt(m)).join(" + ")
  return {
    value,
    arithmetic: `${terms.length > 1 ? `(${sum})` : sum} × ${factor} = ${Stats.fmt(value)} ms`,
    short: `≤ ${Stats.fmt(value, 2)} (${tag})`
  }
}

/** An aim on a row's median: measured ≤ limit. */
const medianAim = (aim: string, row: Measurements.Row, limit: Limit): Aim => {
  const pass = row.summary.median <= limit.value
  return {
    aim,
    measured: `${Stats.fmt(row.summary.median)} ms`,
    limit: limit.arithmetic,
    pass,
    mark: { target: row, text: limit.short, limit: limit.value, pass }
  }
}

const GET_ALLOWANCE = 0.5
const CREATE_ALLOWANCE = 2
const LIST_LIMIT = 5
const LOOP_P99_LIMIT = 5
/** Protocol aims (issue 24): each operation near the floor of the steps it must take. */
const WRITE_VS_ATOMIC = 1.3
const RENAME_VS_WRITE = 1.2
const PROTOCOL_SLACK = 1.1
const COLD_VS_PARSE = 6

/** The two raw floors every store operation is compared with. */
const floors = (raw: Measurements.RawFloors) =>
  [
    { label: "worker", tag: "wkr", rows: raw.worker },
    { label: "in-process", tag: "in-proc", rows: raw.inProcess }
  ] as const

/** Every aim of the run, in the order of the aims table (bench/README.md lists them). */
export const aims = (results: Results): ReadonlyArray<Aim> => {
  const { cli, cold, listLarge, loop, raw, settings, store } = results
  const listPass = listLarge.row.summary.median <= LIST_LIMIT
  return [
    ...floors(raw).map((floor) =>
      medianAim(
        `store getApiKey ≤ raw ${floor.rows.get.name} (${floor.label}) + ${GET_ALLOWANCE} ms`,
        store.getApiKey,
        sumOf(floor.tag, [floor.rows.get], GET_ALLOWANCE)
      )
    ),
    ...floors(raw).map((floor) =>
      medianAim(
        `store create ≤ raw ${floor.rows.set.name} (${floor.label}) + one atomic write + ${CREATE_ALLOWANCE} ms`,
        store.create,
        sumOf(floor.tag, [floor.rows.set, store.atomic], CREATE_ALLOWANCE)
      )
    ),
    {
      aim: `list of ${settings.listConfigs} configs ≤ ${LIST_LIMIT} ms, 0 secret-store calls`,
      measured: `${Stats.fmt(listLarge.row.summary.median)} ms, ${listLarge.secretStoreCalls} calls`,
      limit: `${LIST_LIMIT} ms, 0 calls`,
      pass: listPass && listLarge.secretStoreCalls === 0,
      mark: listLarge.secretStoreCalls === 0
        ? { target: listLarge.row, text: `≤ ${LIST_LIMIT}`, limit: LIST_LIMIT, pass: listPass }
        : { target: listLarge.row, text: `0 calls (saw ${listLarge.secretStoreCalls})`, limit: 0, pass: false }
    },
    {
      aim: `event-loop delay p99 ≤ ${LOOP_P99_LIMIT} ms (${settings.loopOps} concurrent store ops)`,
      measured: `${Stats.fmt(loop.delay.p99)} ms`,
      limit: `${LOOP_P99_LIMIT} ms`,
      pass: loop.delay.p99 <= LOOP_P99_LIMIT,
      mark: { target: EVENT_LOOP, text: `p99 ≤ ${LOOP_P99_LIMIT}`, limit: LOOP_P99_LIMIT, pass: loop.delay.p99 <= LOOP_P99_LIMIT }
    },
    medianAim(
      `a preferences write ≤ ${WRITE_VS_ATOMIC}× a bare atomic write of the same bytes`,
      store.prefsUpdate,
      timesSumOf("atomic", [store.atomicSameBytes], WRITE_VS_ATOMIC)
    ),
    medianAim(
      `update (name only) ≤ ${RENAME_VS_WRITE}× one preferences write`,
      store.rename,
      timesSumOf("write", [store.prefsUpdate], RENAME_VS_WRITE)
    ),
    medianAim(
      `remove ≤ (raw delete (worker) + one preferences write) × ${PROTOCOL_SLACK}`,
      store.remove,
      timesSumOf("wkr", [raw.worker.del, store.prefsUpdate], PROTOCOL_SLACK)
    ),
    medianAim(
      `update (new key) ≤ (raw set + raw delete (worker) + two preferences writes) × ${PROTOCOL_SLACK}`,
      store.update,
      timesSumOf("wkr", [raw.worker.set, raw.worker.del, store.prefsUpdate, store.prefsUpdate], PROTOCOL_SLACK)
    ),
    medianAim(
      `cold start (${settings.coldConfigs} configs) ≤ ${COLD_VS_PARSE}× a bare JSON.parse of the same text`,
      cold.row,
      timesSumOf("parse", [cold.parse], COLD_VS_PARSE)
    ),
    ...cliAims(cli)
  ]
}

/** CLI start-up aims: each command's median ≤ a multiple of the `node -e 0` row of the same run. */
const cliAims = (cli: ReadonlyArray<Measurements.CliRow>): ReadonlyArray<Aim> => {
  const baseline = cli.find((entry) => entry.timesBaseline === undefined)
  if (baseline === undefined) return []
  return cli.flatMap(({ row, timesBaseline }) =>
    timesBaseline === undefined
      ? []
      : [medianAim(`${row.name} ≤ ${timesBaseline}× node -e 0 (spawn to exit)`, row, timesSumOf("node", [baseline.row], timesBaseline))]
  )
}

/** The mark a table line shows: the strictest of the aims about it. */
const markOf = (all: ReadonlyArray<Aim>, target: Mark["target"]): Mark | undefined =>
  all.reduce<Mark | undefined>(
    (best, { mark }) => mark.target !== target || (best !== undefined && mark.limit >= best.limit) ? best : mark,
    undefined
  )

const verdict = (pass: boolean) => (pass ? "PASS" : "MISS")

// ---------------------------------------------------------------------------------------------
// ratios

export interface Ratio {
  readonly store: string
  readonly raw: string
  readonly vsWorker: number
  readonly vsInProcess: number
}

/** Store median ÷ raw median of the keytar call it wraps, against both floors. */
export const ratios = ({ ipc, raw, store }: Results): ReadonlyArray<Ratio> => {
  const pairs: ReadonlyArray<{ store: string; raw: string; row: Measurements.Row; op: keyof Measurements.RawFloor }> = [
    { store: "getApiKey", raw: "get", row: store.getApiKey, op: "get" },
    { store: "create", raw: "set", row: store.create, op: "set" },
    { store: "IPC create", raw: "set", row: ipc.create, op: "set" },
    { store: "update (new key)", raw: "set", row: store.update, op: "set" },
    { store: "remove", raw: "delete", row: store.remove, op: "del" }
  ]
  return pairs.map((pair) => {
    const ratio = (floor: Measurements.RawFloor) => pair.row.summary.median / floor[pair.op].summary.median
    return { store: pair.store, raw: pair.raw, vsWorker: ratio(raw.worker), vsInProcess: ratio(raw.inProcess) }
  })
}

// ---------------------------------------------------------------------------------------------
// text and JSON

const mainTable = (results: Results, all: ReadonlyArray<Aim>): string => {
  const { loop, settings } = results
  const loopMark = markOf(all, EVENT_LOOP)
  return Stats.renderTable([
    ["group", "operation", "n", "median", "p95", "p99", "max", "aim (median, ms)", "verdict"],
    ...results.rows.map((r) => {
      const mark = markOf(all, r)
      return [
        r.group,
        r.name,
        String(r.summary.n),
        Stats.fmt(r.summary.median),
        Stats.fmt(r.summary.p95),
        Stats.fmt(r.summary.p99),
        Stats.fmt(r.summary.max),
        mark?.text ?? "",
        mark ? verdict(mark.pass) : ""
      ]
    }),
    [
      EVENT_LOOP,
      `monitorEventLoopDelay(1 ms), ${settings.loopRounds}x${settings.loopOps} ops`,
      String(loop.delay.samples),
      Stats.fmt(loop.delay.p50),
      "",
      Stats.fmt(loop.delay.p99),
      Stats.fmt(loop.delay.max),
      loopMark?.text ?? "",
      loopMark ? verdict(loopMark.pass) : ""
    ],
    [
      EVENT_LOOP,
      "idle baseline (same process, nothing running)",
      String(loop.idleDelay.samples),
      Stats.fmt(loop.idleDelay.p50),
      "",
      Stats.fmt(loop.idleDelay.p99),
      Stats.fmt(loop.idleDelay.max),
      "",
      ""
    ]
  ])
}

/** The floor of a locked write (a bare atomic write of the same bytes plus the lock alone) beside the measured write. */
const floorLine = (store: Results["store"]): string => {
  const bare = store.atomicSameBytes.summary.median
  const floor = bare + store.lockAlone.summary.median
  const measured = store.prefsUpdate.summary.median
  return `floor of a locked write (medians): bare atomic write of the same bytes ${Stats.fmt(bare)} + lock and release ${
    Stats.fmt(store.lockAlone.summary.median)
  } = ${Stats.fmt(floor)} (${(floor / bare).toFixed(2)}x the bare write; measured PreferencesStore.update ${Stats.fmt(measured)}, ${
    (measured / bare).toFixed(2)
  }x)`
}

/** The printed report: header, the rows table, notes, the ratios table and the aims table. */
const text = (results: Results, all: ReadonlyArray<Aim>, ratioRows: ReadonlyArray<Ratio>): string => {
  const { cold, ipc, listLarge, loop, machine: info, raw, settings, store } = results
  const ratioTable = Stats.renderTable([
    ["store operation", "raw op", "÷ worker raw", "÷ in-process raw"],
    ...ratioRows.map((r) => [r.store, r.raw, `${r.vsWorker.toFixed(2)}x`, `${r.vsInProcess.toFixed(2)}x`])
  ])
  const aimTable = Stats.renderTable([
    ["aim", "measured (median)", "limit", "verdict"],
    ...all.map((a) => [a.aim, a.measured, a.limit, verdict(a.pass)])
  ])
  return [
    "",
    `Fishbowl store benchmark — ${info.date}`,
    `node ${info.node}, ${info.platform}, ${info.cpus} x ${info.cpuModel}, load average ${info.loadAverageAtStart.join(" ")} (start) → ${
      info.loadAverageAtEnd.join(" ")
    } (end), ${results.elapsedSeconds.toFixed(1)} s`,
    `all times in ms; N=${settings.n} per operation after ${settings.warmup} warm-up calls; sequential unless noted\n`,
    mainTable(results, all),
    `\nconcurrent batches of ${settings.loopOps}: median ${Stats.fmt(loop.batches.median, 1)} ms wall, max ${
      Stats.fmt(loop.batches.max, 1)
    } ms, ${loop.failures} failed`,
    `create breakdown (medians): worker set ${Stats.fmt(raw.worker.set.summary.median)} + 2 x PreferencesStore.update ${
      Stats.fmt(store.prefsUpdate.summary.median)
    } = ${Stats.fmt(raw.worker.set.summary.median + 2 * store.prefsUpdate.summary.median)} (measured create ${
      Stats.fmt(store.create.summary.median)
    })`,
    floorLine(store),
    `IPC replies with ok: false (counted in the rows above): ${JSON.stringify(ipc.failures)}`,
    `list (${settings.listConfigs}): secret-store calls ${listLarge.secretStoreCalls} ${
      JSON.stringify(listLarge.calls)
    }, file ${listLarge.fileBytes} B`,
    `cold start: first (JIT-cold) load ${Stats.fmt(cold.first)} ms, file ${cold.fileBytes} B`,
    `\nratios (store median ÷ raw median)\n${ratioTable}`,
    `\naims\n${aimTable}\n`
  ].join("\n")
}

/** The JSON document (bench/results.json): the same figures as the text, plus machine and options. */
const document = (results: Results, all: ReadonlyArray<Aim>, ratioRows: ReadonlyArray<Ratio>) => {
  const { cold, ipc, listLarge, loop, settings } = results
  return {
    machine: results.machine,
    options: {
      n: settings.n,
      quick: settings.quick,
      warmup: settings.warmup,
      listConfigs: settings.listConfigs,
      coldConfigs: settings.coldConfigs,
      coldN: settings.coldN,
      loopOps: settings.loopOps,
      loopRounds: settings.loopRounds
    },
    elapsedSeconds: results.elapsedSeconds,
    unit: "ms",
    operations: results.rows.map((r) => {
      const mark = markOf(all, r)
      return { group: r.group, operation: r.name, ...r.summary, ...(mark ? { aim: mark.text, pass: mark.pass } : {}) }
    }),
    eventLoopDelay: {
      ...loop.delay,
      idleBaseline: loop.idleDelay,
      failures: loop.failures,
      rounds: settings.loopRounds,
      opsPerRound: settings.loopOps,
      batchWallMillis: loop.batches
    },
    listLarge: {
      configs: settings.listConfigs,
      secretStoreCalls: listLarge.secretStoreCalls,
      calls: listLarge.calls,
      fileBytes: listLarge.fileBytes
    },
    ipcFailures: ipc.failures,
    coldStart: { configs: settings.coldConfigs, firstMillis: cold.first, fileBytes: cold.fileBytes },
    ratios: ratioRows,
    aims: all.map(({ aim, limit, measured, pass }) => ({ aim, measured, limit, pass }))
  }
}

export type Document = ReturnType<typeof document>

/** The printed text and the JSON document of one run. */
export const make = (results: Results): { readonly text: string; readonly document: Document } => {
  const all = aims(results)
  const ratioRows = ratios(results)
  return { text: text(results, all, ratioRows), document: document(results, all, ratioRows) }
}
