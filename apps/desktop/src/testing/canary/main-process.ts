/**
 * "The Electron main process" of the canary suite, as a plain Node child:
 *
 *   node --expose-gc --import tsx main-process.ts <dataDir> <outDir>
 *
 * Receives the canary keys on stdin (never argv/env, which would end up in the heap and the
 * process list), builds the real desktop runtime over the harness keychain with every log line
 * captured at the most verbose level, runs the migration and recovery the app runs at start, then
 * drives the IPC handler table, change forwarding and main-side key access through the whole
 * lifecycle, invalid requests and faults in the middle of operations (keychain locked, daemon
 * killed and restarted, time budgets missed). Everything it saw goes to `<outDir>/records.json`.
 * Then it drops every reference to a key, forces GC and writes a V8 heap snapshot to
 * `<outDir>/main.heapsnapshot` while the runtime (and its keytar worker) is still alive.
 *
 * The runtime is the real DesktopLayer; its CrashPoints hook can ask the driver to break the
 * keychain at a named step of an operation.
 */
import { DesktopLayer, Migration } from "@fishbowl/desktop-layer"
import { CrashPoints, Errors, type Ids, IpcContract, LlmConfigStore } from "@fishbowl/domain"
import { Cause, Effect, Exit, Layer, Logger, ManagedRuntime, Option, Redacted, References, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as v8 from "node:v8"
import * as IpcHandlers from "../../main/IpcHandlers.ts"
import * as KeyAccess from "../../main/KeyAccess.ts"
import * as SenderPolicy from "../../main/SenderPolicy.ts"
import * as Protocol from "./Protocol.ts"

const [dataDir, outDir] = process.argv.slice(2)
if (dataDir === undefined || outDir === undefined) throw new Error("usage: main-process.ts <dataDir> <outDir>")
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

// ---------------------------------------------------------------------------------------------
// stdin: lines out of Buffers that are zeroed as soon as they are consumed

let pendingBytes: Buffer = Buffer.alloc(0)
const lineWaiters: Array<(line: string) => void> = []
const readyLines: Array<string> = []
process.stdin.on("data", (chunk: Buffer) => {
  const joined = Buffer.concat([pendingBytes, chunk])
  pendingBytes.fill(0)
  chunk.fill(0)
  let start = 0
  for (let index = joined.indexOf(10); index >= 0; index = joined.indexOf(10, start)) {
    const line = joined.toString("utf8", start, index)
    start = index + 1
    const waiter = lineWaiters.shift()
    if (waiter !== undefined) waiter(line)
    else readyLines.push(line)
  }
  pendingBytes = Buffer.from(joined.subarray(start))
  joined.fill(0)
})
const nextLine = () =>
  new Promise<string>((resolve) => {
    const ready = readyLines.shift()
    if (ready !== undefined) resolve(ready)
    else lineWaiters.push(resolve)
  })

let requestNumber = 0
/** Asks the driver to do something to the keychain and waits until it is done. */
const askDriver = async (action: Protocol.KeychainAction) => {
  const n = ++requestNumber
  process.stdout.write(`${Protocol.PROTOCOL_PREFIX}REQ ${n} ${action}\n`)
  const answer = await nextLine()
  if (answer !== `ACK ${n}`) throw new Error(`driver answered ${JSON.stringify(answer.slice(0, 40))} to request ${n}`)
}

// ---------------------------------------------------------------------------------------------
// records

const records: Protocol.ChildRecords = {
  responses: [],
  events: [],
  errors: [],
  effectLogs: [],
  ipcLogs: [],
  checks: [],
  faults: [],
  ids: {}
}
const encodeError = Schema.encodeSync(Errors.FishbowlError)
const recordError = (step: string, error: unknown) => {
  if (!Errors.isFishbowlError(error)) {
    records.errors.push({ step, encoded: { notAFishbowlError: String(error) }, message: String(error), pretty: String(error) })
    return
  }
  records.errors.push({ step, encoded: encodeError(error), message: error.message, pretty: String(error) })
}
const check = (step: string, ok: boolean, detail?: string) => records.checks.push({ step, ok, ...(detail !== undefined ? { detail } : {}) })

// ---------------------------------------------------------------------------------------------
// runtime: DesktopLayer's wiring, crash-point hooks, every log line at the most verbose level

const armed = new Map<CrashPoints.CrashPoint, ReadonlyArray<Protocol.KeychainAction>>()
const crashHooks = CrashPoints.layerWith((point) =>
  Effect.promise(async () => {
    const actions = armed.get(point)
    if (actions === undefined) return
    armed.delete(point)
    records.faults.push(`${point}: ${actions.join(", ")}`)
    for (const action of actions) await askDriver(action)
  })
)

const captureLogger = Logger.make((options) => {
  records.effectLogs.push(Logger.formatJson.log(options))
  if (options.cause.reasons.length > 0) records.effectLogs.push(Cause.pretty(options.cause))
})
const logging = Layer.mergeAll(
  Logger.layer([captureLogger, Logger.consoleLogFmt]),
  Layer.succeed(References.MinimumLogLevel, "All"),
  Layer.succeed(References.UnhandledLogLevel, "Debug")
)

const desktop: Layer.Layer<DesktopLayer.DesktopServices> = DesktopLayer.layer({
  dataDir,
  secretBackend: "keychain",
  crashPoints: crashHooks
})
const runtime = ManagedRuntime.make(Layer.mergeAll(desktop, logging))

const ipcLog: IpcHandlers.IpcLogger = (entry) => {
  records.ipcLogs.push(entry)
  console.info(`[ipc] ${entry.channel} ${entry.outcome} ${entry.millis}ms${entry.origin !== undefined ? ` from ${entry.origin}` : ""}`)
}
const RENDERER = "file:///opt/fishbowl/renderer/"
const trusted = { frameUrl: `${RENDERER}index.html` }
// This child looks for where keys go, not for how fast they get there: its ordinary table has
// budgets no loaded machine misses, so every step's outcome is the operation's own. Missed
// budgets are tested on purpose with the `hurried` table; speed is the benchmark's job.
const RELAXED_MILLIS = 30_000
const handlers = IpcHandlers.make(runtime, {
  senderPolicy: SenderPolicy.bundledOriginPolicy(RENDERER),
  log: ipcLog,
  budgets: { storageMillis: RELAXED_MILLIS, keyRetrievalMillis: RELAXED_MILLIS }
})
/** Late outcomes of the `hurried` table: the operations it answered Timeout for, once they end. */
const lateOutcomes: Array<string> = []
const hurried = IpcHandlers.make(runtime, {
  senderPolicy: SenderPolicy.bundledOriginPolicy(RENDERER),
  log: ipcLog,
  budgets: { storageMillis: 1 },
  onLateOutcome: (outcome) => void lateOutcomes.push(outcome.requestId)
})
const keyAccess = KeyAccess.make(runtime, { keyRetrievalMillis: RELAXED_MILLIS })
const hurriedKeyAccess = KeyAccess.make(runtime, { keyRetrievalMillis: 1 })
const stopForwarding = IpcHandlers.forwardChanges(runtime, (change) => {
  records.events.push(change)
  console.debug(`[changes] ${change._tag}`)
})

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
/** Polls `done` until it holds; no deadline here: the test's kill timer catches a hang. */
const until = async (done: () => boolean) => {
  while (!done()) await sleep(20)
}

const call = async (
  step: string,
  channel: IpcContract.InvokeChannel,
  payload: unknown,
  options: { table?: IpcHandlers.IpcHandlerTable; frameUrl?: string | undefined } = {}
) => {
  const sender = "frameUrl" in options ? { frameUrl: options.frameUrl } : trusted
  const response = await (options.table ?? handlers)[channel](sender, payload) as
    | { ok: true; value: any }
    | { ok: false; error: { _tag: string } }
  records.responses.push({ step, channel, response })
  return response
}
const expectOk = (step: string, response: { ok: boolean }) => check(step, response.ok === true, JSON.stringify(response).slice(0, 300))
const expectError = (step: string, response: { ok: boolean; error?: { _tag: string } }, tags: ReadonlyArray<string>) =>
  check(step, response.ok === false && tags.includes(response.error!._tag), JSON.stringify(response).slice(0, 300))

/** Runs a store effect directly (as main-process code would), recording a failure's encoded error. */
const direct = async <A>(step: string, effect: Effect.Effect<A, unknown, DesktopLayer.DesktopServices>) => {
  const exit = await runtime.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return Option.some(exit.value)
  const failure = Cause.findErrorOption(exit.cause)
  recordError(step, Option.isSome(failure) ? failure.value : Cause.squash(exit.cause))
  records.errors.push({ step: `${step} (cause)`, encoded: null, message: "", pretty: Cause.pretty(exit.cause) })
  return Option.none<A>()
}

/** main-side key access; compares with the expected key here, so no key goes into the records. */
const keyMatches = async (step: string, id: string, expected: string | undefined, access = keyAccess) => {
  try {
    const key = await access.getApiKey(id as Ids.ConfigId)
    check(step, expected !== undefined && Redacted.value(key) === expected, "key differs")
    return true
  } catch (error) {
    recordError(step, error)
    if (expected !== undefined) check(step, false, `getApiKey failed: ${String(error)}`)
    return false
  }
}

const storeRecover = (step: string) =>
  direct(step, LlmConfigStore.LlmConfigStore.use((store) => store.recover())).then((report) => {
    if (Option.isSome(report)) records.responses.push({ step, channel: "recover", response: report.value })
    check(step, Option.isSome(report) && report.value.failed.length === 0, JSON.stringify(report))
  })

// ---------------------------------------------------------------------------------------------
// the run

/** Reads the keys from stdin and runs everything; nothing of it stays reachable once it returns. */
const drive = async () => {
  const { canary, canary2 } = JSON.parse(await nextLine()) as { canary: string; canary2: string }

  // Start-up, as Electron main does it: migration of legacy files, then recovery.
  const migrated = await direct("startup.migrate", Migration.migrateNode({}))
  records.responses.push({ step: "startup.migrate", channel: "migrate", response: Option.getOrNull(migrated) })
  check("startup.migrate", Option.isSome(migrated))
  await storeRecover("startup.recover")
  // proves the capture runs at the most verbose level
  await runtime.runPromise(Effect.logTrace("main process started").pipe(Effect.andThen(Effect.logDebug("drive"))))

  // The lifecycle over IPC.
  const created = await call("create", IpcContract.IpcChannel.create, { provider: "openai", name: "Canary", apiKey: canary })
  expectOk("create", created)
  const id = created.ok ? String(created.value.id) : ""
  records.ids["canary2Config"] = id
  expectOk("get", await call("get", IpcContract.IpcChannel.get, { id }))
  expectOk("list", await call("list", IpcContract.IpcChannel.list, {}))
  expectOk("status", await call("status", IpcContract.IpcChannel.status, {}))
  expectOk("diagnose", await call("diagnose", IpcContract.IpcChannel.diagnose, { probe: true }))
  expectOk("authorize", await call("authorize", IpcContract.IpcChannel.authorize, {}))
  await keyMatches("getApiKey after create", id, canary)
  expectOk(
    "update replaces the key",
    await call("update", IpcContract.IpcChannel.update, { id, patch: { name: "Canary 2", apiKey: canary2 } })
  )
  await keyMatches("getApiKey after update", id, canary2)

  // Invalid requests carrying the key.
  const invalid: Array<[string, IpcContract.InvokeChannel, unknown, string | undefined, string]> = [
    [
      "invalid.nul",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Nul", apiKey: `${canary}\u0000` },
      trusted.frameUrl,
      "InvalidInput"
    ],
    [
      "invalid.control",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Ctl", apiKey: `${canary}\u0007x` },
      trusted.frameUrl,
      "InvalidInput"
    ],
    [
      "invalid.oversize",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Big", apiKey: canary + "k".repeat(16 * 1024) },
      trusted.frameUrl,
      "InvalidInput"
    ],
    [
      "invalid.huge",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Huge", apiKey: canary + "k".repeat(70 * 1024) },
      trusted.frameUrl,
      "InvalidInput"
    ],
    [
      "invalid.extra",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Extra", apiKey: canary, [canary2]: canary },
      trusted.frameUrl,
      "InvalidInput"
    ],
    ["invalid.type", IpcContract.IpcChannel.create, { provider: canary, name: 7, apiKey: canary }, trusted.frameUrl, "InvalidInput"],
    ["invalid.update-nul", IpcContract.IpcChannel.update, { id, patch: { apiKey: `${canary2}\u0000` } }, trusted.frameUrl, "InvalidInput"],
    [
      "invalid.update-extra",
      IpcContract.IpcChannel.update,
      { id, patch: { apiKey: canary2, secret: canary } },
      trusted.frameUrl,
      "InvalidInput"
    ],
    ["invalid.get-id", IpcContract.IpcChannel.get, { id: canary }, trusted.frameUrl, "InvalidInput"],
    [
      "invalid.untrusted",
      IpcContract.IpcChannel.create,
      { provider: "openai", name: "Evil", apiKey: canary },
      "https://evil.example.com/",
      "NotPermitted"
    ],
    [
      "invalid.untrusted-update",
      IpcContract.IpcChannel.update,
      { id, patch: { apiKey: canary } },
      `https://evil.example.com/?k=${canary}`,
      "NotPermitted"
    ]
  ]
  for (const [step, channel, payload, frameUrl, tag] of invalid) {
    expectError(step, await call(step, channel, payload, { frameUrl }), [tag])
  }
  await keyMatches("getApiKey after invalid requests", id, canary2)

  // A second config, removed later.
  const scratch = await call("create scratch", IpcContract.IpcChannel.create, { provider: "anthropic", name: "Scratch", apiKey: canary })
  expectOk("create scratch", scratch)
  const scratchId = scratch.ok ? String(scratch.value.id) : ""

  // Fault: keychain locked between steps.
  await askDriver("lock")
  expectError(
    "locked.create",
    await call("locked.create", IpcContract.IpcChannel.create, { provider: "openai", name: "Locked", apiKey: canary }),
    ["KeychainLocked"]
  )
  expectError("locked.update", await call("locked.update", IpcContract.IpcChannel.update, { id, patch: { apiKey: canary } }), [
    "KeychainLocked"
  ])
  await keyMatches("locked.getApiKey", id, undefined)
  await direct(
    "locked.direct-update",
    LlmConfigStore.LlmConfigStore.use((store) => store.update(id as Ids.ConfigId, { apiKey: Redacted.make(canary) } as never))
  )
  await call("locked.diagnose", IpcContract.IpcChannel.diagnose, { probe: true })
  await call("locked.authorize", IpcContract.IpcChannel.authorize, {})
  await call("locked.status", IpcContract.IpcChannel.status, {})
  await askDriver("unlock")
  await keyMatches("unlocked.getApiKey", id, canary2)

  // Fault in the middle of an update: the keychain locks after the intent is recorded, before the key is written.
  armed.set("update.intent-recorded", ["lock"])
  const midUpdate = await call("mid.update-locked", IpcContract.IpcChannel.update, { id: scratchId, patch: { apiKey: canary2 } })
  records.faults.push(`mid.update-locked answered ${midUpdate.ok ? "ok" : midUpdate.error._tag}`)
  await askDriver("unlock")
  await storeRecover("mid.update-locked.recover")

  // Fault in the middle of a create: the keyring daemon dies after the intent is recorded.
  armed.set("create.intent-recorded", ["kill-daemon"])
  const midCreate = await call("mid.create-daemon-killed", IpcContract.IpcChannel.create, {
    provider: "openai",
    name: "Orphan",
    apiKey: canary
  })
  records.faults.push(`mid.create-daemon-killed answered ${midCreate.ok ? "ok" : midCreate.error._tag}`)
  await keyMatches("daemon-dead.getApiKey", id, undefined)
  await call("daemon-dead.diagnose", IpcContract.IpcChannel.diagnose, { probe: true })
  await askDriver("restart-daemon")
  await storeRecover("mid.create-daemon-killed.recover")
  await keyMatches("daemon-restarted.getApiKey", id, canary2)

  // Fault in the middle of an update after the key was written: daemon restarted under it.
  armed.set("update.secret-written", ["restart-daemon"])
  const midRestart = await call("mid.update-daemon-restarted", IpcContract.IpcChannel.update, {
    id: scratchId,
    patch: { name: "Scratch 2", apiKey: canary }
  })
  records.faults.push(`mid.update-daemon-restarted answered ${midRestart.ok ? "ok" : midRestart.error._tag}`)
  await storeRecover("mid.update-daemon-restarted.recover")

  // Kill and restart the daemon between steps: the next call needs a fresh worker.
  await askDriver("restart-daemon")
  await keyMatches("restart.getApiKey", id, canary2)
  expectOk(
    "restart.create",
    await call("restart.create", IpcContract.IpcChannel.create, { provider: "google", name: "After restart", apiKey: canary })
  )

  // Missed time budgets.
  const late = await call("timeout.create", IpcContract.IpcChannel.create, { provider: "openai", name: "Late", apiKey: canary }, {
    table: hurried
  })
  expectError("timeout.create", late, ["Timeout"])
  const lateUpdate = await call("timeout.update", IpcContract.IpcChannel.update, { id, patch: { apiKey: canary2 } }, { table: hurried })
  expectError("timeout.update", lateUpdate, ["Timeout"])
  await keyMatches("timeout.getApiKey", id, undefined, hurriedKeyAccess)
  // The detached operations finish in the background: wait for their late outcomes (by event,
  // not by a guess of how long they take), so they are neither racing the steps below nor still
  // holding a key when the heap snapshot is taken. (The getApiKey above has no late outcome; it
  // goes to the same keytar worker before the later calls, which answers them in order.)
  const lateIds = [late, lateUpdate].flatMap((answer) => {
    const requestId = answer.ok ? undefined : (answer.error as { requestId?: string }).requestId
    return requestId !== undefined ? [requestId] : []
  })
  await until(() => lateIds.every((requestId) => lateOutcomes.includes(requestId)))

  // Remove the second config; recover; final state.
  const removed = await call("remove", IpcContract.IpcChannel.remove, { id: scratchId })
  expectOk("remove scratch", removed)
  // Its change event is recorded before forwarding stops (the driver expects a Removed event).
  if (removed.ok) {
    await until(() =>
      records.events.some((event) =>
        (event as { _tag: string; id?: string })._tag === "Removed" && (event as { id?: string }).id === scratchId
      )
    )
  }
  expectError("get removed", await call("get removed", IpcContract.IpcChannel.get, { id: scratchId }), ["NotFound"])
  await keyMatches("removed.getApiKey", scratchId, undefined)
  await storeRecover("final.recover")
  const final = await call("final.list", IpcContract.IpcChannel.list, {})
  expectOk("final.list", final)
  expectOk("final.status", await call("final.status", IpcContract.IpcChannel.status, {}))
  await keyMatches("final.getApiKey", id, canary2)
}

const main = async () => {
  await drive()
  stopForwarding()
  await sleep(50)

  const recordsPath = path.join(outDir, "records.json")
  fs.writeFileSync(recordsPath, JSON.stringify(records, null, 1))
  // Drop what the records hold before the snapshot (they are on disk now).
  for (
    const list of [records.responses, records.events, records.errors, records.effectLogs, records.ipcLogs, records.checks, records.faults]
  ) {
    list.length = 0
  }

  for (let round = 0; round < 4; round++) {
    gc!()
    await new Promise((resolve) => setImmediate(resolve))
    await sleep(20)
  }
  const snapshotPath = v8.writeHeapSnapshot(path.join(outDir, "main.heapsnapshot"))
  process.stdout.write(`${Protocol.PROTOCOL_PREFIX}DONE ${JSON.stringify({ records: recordsPath, snapshot: snapshotPath })}\n`)
  await runtime.dispose()
  process.stdin.destroy()
}

main().catch((error) => {
  process.stderr.write(`main-process failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
