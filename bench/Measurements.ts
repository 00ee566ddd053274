/**
 * The benchmark's measurement groups, one function each, in the order `bench/run.ts` runs them.
 * Every timed series becomes a `Row` through `Context.record` (which keeps the table order); a
 * group returns its rows by role so the report can compute aims and ratios from them. Nothing here
 * knows the aims or the output format: that is `bench/Report.ts`.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { AtomicFile, DesktopLayer, JsonFilePreferencesStore } from "@fishbowl/desktop-layer"
import { Ids, Liveness, type LlmConfig, LlmConfigStore, PreferencesStore, SecretStore } from "@fishbowl/domain"
import { Effect, type FileSystem, ManagedRuntime, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import * as lockfile from "proper-lockfile"
import * as IpcHandlers from "../apps/desktop/src/main/IpcHandlers.ts"
import * as SenderPolicy from "../apps/desktop/src/main/SenderPolicy.ts"
import * as CliBench from "./CliBench.ts"
import type * as RawKeychain from "./RawKeychain.ts"
import * as Stats from "./Stats.ts"

// ---------------------------------------------------------------------------------------------
// settings and context

/** Sample counts and fixture sizes of one run; all follow from `--n` and `--quick`. */
export interface Settings {
  readonly n: number
  readonly quick: boolean
  readonly warmup: number
  readonly listConfigs: number
  readonly coldConfigs: number
  readonly coldN: number
  readonly loopOps: number
  readonly loopRounds: number
  /** How long the idle event-loop baseline is sampled, ms. */
  readonly idleMillis: number
  /** Whole-process samples per CLI command (each is a Node start-up, ~0.1 s). */
  readonly cliSamples: number
}

export const settings = (n: number, quick: boolean): Settings => ({
  n,
  quick,
  warmup: Math.max(3, Math.min(20, Math.floor(n / 10))),
  listConfigs: quick ? 200 : 1000,
  coldConfigs: quick ? 1000 : 10_000,
  coldN: quick ? 5 : Math.max(20, Math.min(50, Math.floor(n / 4))),
  loopOps: 100,
  loopRounds: quick ? 2 : 5,
  idleMillis: quick ? 500 : 2000,
  cliSamples: quick ? 5 : 30
})

/** One timed series: a line of the table and an entry of the JSON's `operations`. */
export interface Row {
  readonly group: string
  readonly name: string
  readonly summary: Stats.Summary
}

/** What every group needs: the settings, the row recorder, progress output and temp folders. */
export interface Context {
  readonly settings: Settings
  /** Every row recorded so far, in recording order (the table's order). */
  readonly rows: ReadonlyArray<Row>
  readonly record: (group: string, name: string, samples: ReadonlyArray<number>) => Row
  readonly progress: (text: string) => void
  /** A fresh folder under the OS temp dir, removed by `removeTempDirs`. */
  readonly tempDir: (label: string) => string
  readonly removeTempDirs: () => void
}

export const makeContext = (settings: Settings, progress: (text: string) => void): Context => {
  const rows: Array<Row> = []
  const tempDirs: Array<string> = []
  return {
    settings,
    rows,
    progress,
    record: (group, name, samples) => {
      const row: Row = { group, name, summary: Stats.summarize(samples) }
      rows.push(row)
      progress(`${group} ${name}: median ${Stats.fmt(row.summary.median)} ms (n=${row.summary.n})`)
      return row
    },
    tempDir: (label) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fishbowl-bench-${label}-`))
      tempDirs.push(dir)
      return dir
    },
    removeTempDirs: () => {
      for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

export type Runtime = ManagedRuntime.ManagedRuntime<DesktopLayer.DesktopServices, never>

// ---------------------------------------------------------------------------------------------
// small helpers

const benchKey = () => `sk-bench-${randomBytes(24).toString("hex")}`
const openai = Ids.ProviderId.make("openai")
const anthropic = Ids.ProviderId.make("anthropic")
const TRUSTED = { frameUrl: "file:///app/renderer/index.html" }
const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`bench: sanity check failed: ${what}`)
}

/** Synthetic metadata, as the store itself would write it. */
const syntheticConfigs = (count: number, prefix: string): Array<LlmConfig.LlmConfig> => {
  const now = new Date().toISOString()
  return Array.from({ length: count }, (_, i): LlmConfig.LlmConfig => ({
    id: Ids.newConfigId(),
    provider: i % 2 === 0 ? openai : anthropic,
    name: `${prefix} ${i}`,
    ...(i % 3 === 0 ? { baseUrl: "https://proxy.example.com/v1" } : {}),
    useAuthHeader: true,
    createdAt: now,
    updatedAt: now,
    hasKey: true
  }))
}

// ---------------------------------------------------------------------------------------------
// groups

/** One raw keytar floor: the set, get and delete rows. */
export interface RawFloor {
  readonly set: Row
  readonly get: Row
  readonly del: Row
}

export interface RawFloors {
  readonly inProcess: RawFloor
  readonly worker: RawFloor
}

/**
 * Raw keytar, in this process and through one keytar-worker.cjs child, INTERLEAVED call by call
 * (in-process i, worker i, in-process i+1, ...) so both floors see the same machine load and the
 * same keyring population: set N new entries each, get them, delete them. The store run below
 * then works with the same number of entries.
 */
export const raw = async (
  context: Context,
  keytar: RawKeychain.RawKeytar,
  worker: RawKeychain.WorkerClient
): Promise<RawFloors> => {
  const { n: N, warmup: WARMUP } = context.settings
  const { record } = context
  const inGroup = "raw keytar (in-process)"
  const wGroup = "raw keytar (worker round trip)"
  const inService = (i: number) => `fishbowl.bench-raw.${i}`
  const wService = (i: number) => `fishbowl.bench-worker.${i}`
  const inValues = Array.from({ length: N }, benchKey)
  const wValues = Array.from({ length: N }, benchKey)
  for (let i = 0; i < WARMUP; i++) {
    await keytar.setPassword("fishbowl.bench-warm", `w${i}`, benchKey())
    await keytar.getPassword("fishbowl.bench-warm", `w${i}`)
    await keytar.deletePassword("fishbowl.bench-warm", `w${i}`)
    await worker.call({ op: "set", service: "fishbowl.bench-warm", account: `w${i}`, secret: benchKey() })
    await worker.call({ op: "get", service: "fishbowl.bench-warm", account: `w${i}` })
    await worker.call({ op: "delete", service: "fishbowl.bench-warm", account: `w${i}` })
  }
  Stats.collectGarbage()
  const pair = async (
    inOp: (i: number) => Promise<boolean>,
    wOp: (i: number) => Promise<boolean>,
    what: string
  ) => {
    const inSamples: Array<number> = []
    const wSamples: Array<number> = []
    let bad = 0
    for (let i = 0; i < N; i++) {
      let t = performance.now()
      if (!(await inOp(i))) bad++
      inSamples.push(performance.now() - t)
      t = performance.now()
      if (!(await wOp(i))) bad++
      wSamples.push(performance.now() - t)
    }
    check(bad === 0, `${bad} raw ${what} calls returned an unexpected value`)
    return [inSamples, wSamples] as const
  }
  const [inSet, wSet] = await pair(
    async (i) => (await keytar.setPassword(inService(i), "apiKey", inValues[i]!), true),
    async (i) => (await worker.call({ op: "set", service: wService(i), account: "apiKey", secret: wValues[i]! })) === true,
    "set"
  )
  const [inGet, wGet] = await pair(
    async (i) => (await keytar.getPassword(inService(i), "apiKey")) === inValues[i],
    async (i) => (await worker.call({ op: "get", service: wService(i), account: "apiKey" })) === wValues[i],
    "get"
  )
  const [inDel, wDel] = await pair(
    (i) => keytar.deletePassword(inService(i), "apiKey"),
    async (i) => (await worker.call({ op: "delete", service: wService(i), account: "apiKey" })) === true,
    "delete"
  )
  return {
    inProcess: {
      set: record(inGroup, "setPassword", inSet),
      get: record(inGroup, "getPassword", inGet),
      del: record(inGroup, "deletePassword", inDel)
    },
    worker: {
      set: record(wGroup, "set", wSet),
      get: record(wGroup, "get", wGet),
      del: record(wGroup, "delete", wDel)
    }
  }
}

export interface StoreRows {
  readonly create: Row
  readonly prefsUpdate: Row
  readonly getApiKey: Row
  readonly list: Row
  readonly update: Row
  readonly rename: Row
  readonly remove: Row
  readonly atomic: Row
  /** A bare atomic write of exactly the bytes `prefsUpdate` writes: the base of the write aim. */
  readonly atomicSameBytes: Row
  /** proper-lockfile's lock and release alone, as every writer takes it: part of any write's floor. */
  readonly lockAlone: Row
}

/** The store through the real desktop layers: create N → getApiKey → list → update → remove. */
export const store = async (
  context: Context,
  runtime: Runtime,
  fsRuntime: ManagedRuntime.ManagedRuntime<FileSystem.FileSystem, never>
): Promise<StoreRows> => {
  const { n: N, warmup: WARMUP } = context.settings
  const { record } = context
  const run = <A, E>(effect: Effect.Effect<A, E, DesktopLayer.DesktopServices>) => runtime.runPromise(effect)
  const group = "LlmConfigStore (DesktopLayer)"
  // warm-up: worker start, module JIT, first file creation
  for (let i = 0; i < WARMUP; i++) {
    const c = await run(
      LlmConfigStore.LlmConfigStore.use((s) => s.create({ provider: openai, name: `Warm ${i}`, apiKey: Redacted.make(benchKey()) }))
    )
    await run(LlmConfigStore.LlmConfigStore.use((s) => s.getApiKey(c.id)))
    await run(LlmConfigStore.LlmConfigStore.use((s) => s.update(c.id, { apiKey: Redacted.make(benchKey()) })))
    await run(LlmConfigStore.LlmConfigStore.use((s) => s.list))
    await run(LlmConfigStore.LlmConfigStore.use((s) => s.remove(c.id)))
  }
  Stats.collectGarbage()
  const keys = Array.from({ length: N }, benchKey)
  const ids: Array<Ids.ConfigId> = []
  const location = await run(PreferencesStore.PreferencesStore.use((p) => Effect.succeed(p.location)))
  let midpointText = ""
  const create = record(
    group,
    "create",
    await Stats.timeSequential(
      N,
      async (i) => {
        const c = await run(
          LlmConfigStore.LlmConfigStore.use((s) => s.create({ provider: openai, name: `Bench ${i}`, apiKey: Redacted.make(keys[i]!) }))
        )
        ids.push(c.id)
      },
      (i) => {
        if (i === Math.floor(N / 2)) midpointText = fs.readFileSync(location, "utf8")
      }
    )
  )
  // Timing breakdown of create: one PreferencesStore.update that changes the document (in-process
  // semaphore + proper-lockfile lock, read + validate, serialize, atomic fsync'd write, backup
  // staging and rotation, unlock). create = 2 of these (intent, commit) + one keychain set.
  const prefsUpdate = record(
    "preferences file",
    `PreferencesStore.update (${N} configs; lock, read, write, backups)`,
    await Stats.timeSequential(
      N,
      (i) =>
        run(
          PreferencesStore.PreferencesStore.use((p) =>
            p.update((document) => Effect.succeed([undefined, { ...document, other: { ...document.other, benchCounter: i } }] as const))
          )
        )
    )
  )
  // The same bytes the last PreferencesStore.update wrote, through a bare atomic, fsync'd replace
  // beside the real file, straight after it: the "bare atomic write of the same bytes" of the aim.
  const atomicTarget = path.join(path.dirname(location), "bench-atomic.json")
  const fullText = fs.readFileSync(location, "utf8")
  const atomicSameBytes = record(
    "preferences file",
    `AtomicFile.writeFileAtomic (${Buffer.byteLength(fullText)} B, the bytes of the row above)`,
    await Stats.timeSequential(N, () => fsRuntime.runPromise(AtomicFile.writeFileAtomic(atomicTarget, fullText, { mode: 0o600 })))
  )
  // The cross-process lock by itself (proper-lockfile, the options FileLock passes): a write
  // cannot cost less than the bare atomic write plus this.
  const lockTarget = path.join(path.dirname(location), "bench-lock.json")
  const lockAlone = record(
    "preferences file",
    "proper-lockfile lock + release (the cross-process lock alone)",
    await Stats.timeSequential(N, async () => {
      const release = await lockfile.lock(lockTarget, { realpath: false, stale: 5000, retries: 0 })
      await release()
    })
  )
  let wrong = 0
  const getApiKey = record(
    group,
    "getApiKey",
    await Stats.timeSequential(N, async (i) => {
      const key = await run(LlmConfigStore.LlmConfigStore.use((s) => s.getApiKey(ids[i]!)))
      if (Redacted.value(key) !== keys[i]) wrong++
    })
  )
  check(wrong === 0, `getApiKey returned ${wrong} wrong keys`)
  const list = record(
    group,
    `list (${N} configs)`,
    await Stats.timeSequential(N, async () => {
      const all = await run(LlmConfigStore.LlmConfigStore.use((s) => s.list))
      if (all.length !== N) wrong++
    })
  )
  check(wrong === 0, "list returned the wrong number of configs")
  const update = record(
    group,
    "update (new key)",
    await Stats.timeSequential(
      N,
      (i) => run(LlmConfigStore.LlmConfigStore.use((s) => s.update(ids[i]!, { apiKey: Redacted.make(benchKey()) })))
    )
  )
  const rename = record(
    group,
    "update (name only)",
    await Stats.timeSequential(N, (i) => run(LlmConfigStore.LlmConfigStore.use((s) => s.update(ids[i]!, { name: `Bench ${i} renamed` }))))
  )
  const remove = record(
    group,
    "remove",
    await Stats.timeSequential(N, (i) => run(LlmConfigStore.LlmConfigStore.use((s) => s.remove(ids[i]!))))
  )
  check((await run(LlmConfigStore.LlmConfigStore.use((s) => s.list))).length === 0, "store not empty after remove")

  // One atomic, fsync'd replace of a preferences file of the size create writes (the file at the
  // midpoint of the create run), next to the real file: the "+ one atomic write" term of the aim.
  Stats.collectGarbage()
  const atomic = record(
    "preferences file",
    `AtomicFile.writeFileAtomic (${Buffer.byteLength(midpointText)} B)`,
    await Stats.timeSequential(N, () => fsRuntime.runPromise(AtomicFile.writeFileAtomic(atomicTarget, midpointText, { mode: 0o600 })))
  )
  fs.rmSync(atomicTarget, { force: true })
  return { create, prefsUpdate, getApiKey, list, update, rename, remove, atomic, atomicSameBytes, lockAlone }
}

export interface IpcRows {
  readonly create: Row
  readonly get: Row
  readonly list: Row
  /** Replies with ok: false, by channel and error tag (only Timeout is tolerated). */
  readonly failures: Record<string, Record<string, number>>
}

/** The IPC handler table: sender check → decode → effect under its budget → encode. */
export const ipc = async (context: Context, runtime: Runtime): Promise<IpcRows> => {
  const { n: N, warmup: WARMUP } = context.settings
  const { progress, record } = context
  const handlers = IpcHandlers.make(runtime, { senderPolicy: SenderPolicy.bundledOriginPolicy("file:///app/renderer/") })
  const group = "IPC handler (main process)"
  type Reply = { ok: boolean; value?: any; error?: { _tag: string; message: string } }
  // A reply with ok: false (e.g. Timeout: the 200 ms storage budget ran out on a busy machine) is
  // what the renderer would see: its latency is kept and the failure is counted and reported.
  const failures: Record<string, Record<string, number>> = {}
  const call = async (channel: "llm-config:create" | "llm-config:get" | "llm-config:list", payload: unknown) => {
    const reply = (await handlers[channel](TRUSTED, payload)) as Reply
    if (!reply.ok) {
      const tag = reply.error?._tag ?? "unknown"
      const byTag = (failures[channel] ??= {})
      byTag[tag] = (byTag[tag] ?? 0) + 1
      if (tag !== "Timeout") throw new Error(`bench: IPC ${channel} failed: ${tag}: ${reply.error?.message}`)
    }
    return reply.value
  }
  const removeAll = async () => {
    // creates that answered Timeout still finish in the background; let them land first
    await new Promise((resolve) => setTimeout(resolve, 500))
    const all = await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((s) => s.list))
    for (const c of all) await runtime.runPromise(LlmConfigStore.LlmConfigStore.use((s) => s.remove(c.id)))
  }
  for (let i = 0; i < WARMUP; i++) {
    const c = await call("llm-config:create", { provider: "openai", name: `IpcWarm ${i}`, apiKey: benchKey() })
    if (c) await call("llm-config:get", { id: c.id })
    await call("llm-config:list", {})
  }
  await removeAll()
  Stats.collectGarbage()
  const ids: Array<string> = []
  const create = record(
    group,
    "create",
    await Stats.timeSequential(N, async (i) => {
      const c = await call("llm-config:create", { provider: "openai", name: `Ipc ${i}`, apiKey: benchKey() })
      if (c) ids.push(c.id)
    })
  )
  check(ids.length > 0, "every IPC create timed out")
  const get = record(group, "get (metadata)", await Stats.timeSequential(N, (i) => call("llm-config:get", { id: ids[i % ids.length] })))
  const list = record(group, `list (${N} configs)`, await Stats.timeSequential(N, () => call("llm-config:list", {})))
  if (Object.keys(failures).length > 0) progress(`IPC failures: ${JSON.stringify(failures)}`)
  progress("IPC: removing the configs it created (untimed)")
  await removeAll()
  return { create, get, list, failures }
}

export interface ListLarge {
  readonly row: Row
  /** Calls the store made to its SecretStore while listing: the aim is 0. */
  readonly secretStoreCalls: number
  readonly calls: Record<string, number>
  readonly fileBytes: number
}

/** list over 1,000 configs through a store whose SecretStore counts every call. */
export const listLarge = async (context: Context, runtime: Runtime): Promise<ListLarge> => {
  const { n: N, warmup: WARMUP, listConfigs: LIST_CONFIGS } = context.settings
  const { progress, record } = context
  const dataDir = path.join(context.tempDir("list"), "Fishbowl")
  const prefsRuntime = ManagedRuntime.make(JsonFilePreferencesStore.layer({ dataDir }))
  try {
    const configs = syntheticConfigs(LIST_CONFIGS, "Listed")
    await prefsRuntime.runPromise(
      PreferencesStore.PreferencesStore.use((p) =>
        p.update((document) => Effect.succeed([undefined, { ...document, llm: { ...document.llm, configs } }] as const))
      )
    )
    const real = await runtime.runPromise(Effect.gen(function*() {
      return yield* SecretStore.SecretStore
    }))
    const calls = { get: 0, set: 0, delete: 0, describe: 0, authorize: 0, placement: 0 }
    const counting: SecretStore.SecretStoreService = SecretStore.SecretStore.of({
      get: (ref) => Effect.suspend(() => (calls.get++, real.get(ref))),
      set: (ref, value) => Effect.suspend(() => (calls.set++, real.set(ref, value))),
      delete: (ref) => Effect.suspend(() => (calls.delete++, real.delete(ref))),
      describe: Effect.suspend(() => (calls.describe++, real.describe)),
      authorize: Effect.suspend(() => (calls.authorize++, real.authorize)),
      placement: Effect.suspend(() => (calls.placement++, real.placement)),
      sessionId: real.sessionId,
      lateWriteMillis: real.lateWriteMillis
    })
    const store = await prefsRuntime.runPromise(
      LlmConfigStore.make().pipe(
        Effect.provideService(SecretStore.SecretStore, counting),
        Effect.provide(Liveness.layerMemory)
      )
    )
    for (let i = 0; i < WARMUP; i++) await Effect.runPromise(store.list)
    Stats.collectGarbage()
    let wrong = 0
    const row = record(
      "LlmConfigStore (counting SecretStore)",
      `list (${LIST_CONFIGS} configs)`,
      await Stats.timeSequential(N, async () => {
        if ((await Effect.runPromise(store.list)).length !== LIST_CONFIGS) wrong++
      })
    )
    check(wrong === 0, `list did not return ${LIST_CONFIGS} configs`)
    const secretStoreCalls = Object.values(calls).reduce((a, b) => a + b, 0)
    progress(`list (${LIST_CONFIGS}): secret-store calls = ${secretStoreCalls} ${JSON.stringify(calls)}`)
    return { row, secretStoreCalls, calls, fileBytes: fs.statSync(path.join(dataDir, "preferences.json")).size }
  } finally {
    await prefsRuntime.dispose()
  }
}

/** Percentiles of an event-loop delay histogram, ms. */
export interface Delay {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly samples: number
}

export interface LoopDelay {
  readonly delay: Delay & { readonly mean: number }
  readonly idleDelay: Delay
  /** Latency of each concurrent store operation. */
  readonly ops: Row
  /** Wall time of each round of concurrent operations. */
  readonly batches: Stats.Summary
  readonly failures: number
}

/** Main-thread event-loop delay while 100 store operations run at once, a few rounds. */
export const loopDelay = async (context: Context, runtime: Runtime): Promise<LoopDelay> => {
  const { loopOps: LOOP_OPS, loopRounds: LOOP_ROUNDS, idleMillis } = context.settings
  const { progress, record } = context
  const run = <A, E>(effect: Effect.Effect<A, E, DesktopLayer.DesktopServices>) => runtime.runPromise(effect)
  const seeded: Array<Ids.ConfigId> = []
  for (let i = 0; i < 20; i++) {
    seeded.push(
      (await run(
        LlmConfigStore.LlmConfigStore.use((s) => s.create({ provider: openai, name: `Loop seed ${i}`, apiKey: Redacted.make(benchKey()) }))
      )).id
    )
  }
  Stats.collectGarbage()
  // Baseline: the same histogram with nothing running, as long as the rounds below take roughly,
  // so OS scheduling noise from other processes on this machine can be told apart.
  const idle = monitorEventLoopDelay({ resolution: 1 })
  idle.enable()
  await new Promise((resolve) => setTimeout(resolve, idleMillis))
  idle.disable()
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  const batchMillis: Array<number> = []
  const opMillis: Array<number> = []
  const created: Array<Ids.ConfigId> = []
  let failures = 0
  histogram.enable()
  for (let round = 0; round < LOOP_ROUNDS; round++) {
    const started = performance.now()
    await Promise.all(Array.from({ length: LOOP_OPS }, async (_, i) => {
      const t0 = performance.now()
      try {
        if (i % 3 === 0) await run(LlmConfigStore.LlmConfigStore.use((s) => s.getApiKey(seeded[i % seeded.length]!)))
        else if (i % 3 === 1) await run(LlmConfigStore.LlmConfigStore.use((s) => s.list))
        else {
          created.push(
            (await run(
              LlmConfigStore.LlmConfigStore.use((s) =>
                s.create({ provider: openai, name: `Loop ${round}-${i}`, apiKey: Redacted.make(benchKey()) })
              )
            )).id
          )
        }
      } catch (error) {
        failures++
        if (failures === 1) progress(`concurrent op failed: ${error instanceof Error ? error.message : String(error)}`)
      }
      opMillis.push(performance.now() - t0)
    }))
    batchMillis.push(performance.now() - started)
  }
  histogram.disable()
  const ms = (ns: number) => ns / 1e6
  const delay = {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
    samples: histogram.count
  }
  const idleDelay = { p50: ms(idle.percentile(50)), p99: ms(idle.percentile(99)), max: ms(idle.max), samples: idle.count }
  progress(`loop delay idle baseline: p50 ${Stats.fmt(idleDelay.p50)} p99 ${Stats.fmt(idleDelay.p99)} max ${Stats.fmt(idleDelay.max)} ms`)
  progress(
    `loop delay: p50 ${Stats.fmt(delay.p50)} p99 ${Stats.fmt(delay.p99)} max ${Stats.fmt(delay.max)} ms over ${delay.samples} samples`
  )
  const ops = record("concurrent (100 at once)", "store op latency (getApiKey/list/create mix)", opMillis)
  const batches = Stats.summarize(batchMillis)
  progress("loop delay: removing the configs it created (untimed)")
  for (const id of [...seeded, ...created]) await run(LlmConfigStore.LlmConfigStore.use((s) => s.remove(id)))
  return { delay, idleDelay, ops, batches, failures }
}

export interface ColdStart {
  readonly row: Row
  /** A bare `JSON.parse` of the same text: the floor the cold start is compared with. */
  readonly parse: Row
  /** The first (JIT-cold) load, ms. */
  readonly first: number
  readonly fileBytes: number
}

/** Fresh JsonFilePreferencesStore + load of a file holding 10,000 configs. */
export const coldStart = async (context: Context): Promise<ColdStart> => {
  const { coldConfigs: COLD_CONFIGS, coldN: COLD_N } = context.settings
  const dataDir = path.join(context.tempDir("cold"), "Fishbowl")
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const text = JsonFilePreferencesStore.serializeDocument({
    llm: { version: 1, configs: syntheticConfigs(COLD_CONFIGS, "Cold"), journal: [] },
    other: { theme: "dark" }
  })
  fs.writeFileSync(path.join(dataDir, "preferences.json"), text, { mode: 0o600 })
  const once = Effect.gen(function*() {
    const store = yield* JsonFilePreferencesStore.make({ dataDir })
    const document = yield* store.load
    return document.llm.configs.length
  }).pipe(Effect.provide(NodeFileSystem.layer))
  Stats.collectGarbage()
  let wrong = 0
  const samples = await Stats.timeSequential(COLD_N, async () => {
    if ((await Effect.runPromise(once)) !== COLD_CONFIGS) wrong++
  })
  check(wrong === 0, `cold load did not return ${COLD_CONFIGS} configs`)
  const row = context.record("cold start", `new JsonFilePreferencesStore + load (${COLD_CONFIGS} configs)`, samples)
  let parsedConfigs = 0
  const parseSamples = await Stats.timeSequential(COLD_N, () => {
    parsedConfigs = (JSON.parse(text) as { llm: { configs: ReadonlyArray<unknown> } }).llm.configs.length
    return Promise.resolve()
  })
  check(parsedConfigs === COLD_CONFIGS, `JSON.parse did not see ${COLD_CONFIGS} configs`)
  const parse = context.record("cold start", `bare JSON.parse of the same text (${COLD_CONFIGS} configs)`, parseSamples)
  return { row, parse, first: samples[0]!, fileBytes: Buffer.byteLength(text) }
}

/** A CLI start-up row and its aim on the median, ms (none for the `node -e 0` baseline). */
export interface CliRow {
  readonly row: Row
  /** Aim: median ≤ this many times the `node -e 0` row's median (none for that row). */
  readonly timesBaseline?: number
}

/** Whole-process start-up of the bundled CLI (`bench/CliBench.ts`); `env` reaches the private Secret Service. */
export const cli = async (context: Context, env: Record<string, string>): Promise<ReadonlyArray<CliRow>> => {
  const cliRows = await CliBench.benchCli({
    env,
    dataDir: context.tempDir("cli"),
    samples: context.settings.cliSamples,
    progress: context.progress
  })
  return cliRows.map((cliRow) => ({
    row: context.record("CLI start-up (whole process)", cliRow.name, cliRow.samples),
    ...(cliRow.timesBaseline !== undefined ? { timesBaseline: cliRow.timesBaseline } : {})
  }))
}
