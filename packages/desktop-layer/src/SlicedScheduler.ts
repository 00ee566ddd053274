/**
 * The scheduler of the desktop runtime: it keeps the main process's event loop turning while many
 * store operations run at once (the health panel checking every config, a burst of IPC calls).
 *
 * Effect's default scheduler gives each fiber a queue of its own and runs everything queued in one
 * `setImmediate` turn, and a fiber resumed by an I/O callback (a keychain reply, a file read) runs
 * on until its next wait. A hundred operations started together therefore hold the loop for one
 * long turn, and every timer and IPC message behind them waits (bench: event-loop p99).
 *
 * Here the fibers of the runtime share one queue, run in slices of at most `sliceMillis` per turn
 * of the loop; the rest waits for the next turn, after timers and I/O have had theirs. A fiber
 * yields to that queue when the turn it runs in has already spent a slice on fiber work, whether
 * it was started by a caller, resumed by an I/O callback or taken from the queue: it checks when
 * it starts or resumes and every `CHECK_EVERY` operations after that.
 */
import { type Fiber, Layer, Scheduler } from "effect"

/** Fiber work one turn of the event loop may take before the rest waits for the next turn, ms. */
export const SLICE_MILLIS = 1

/** Operations between two looks at the clock (a power of two: checked with a mask). */
const CHECK_EVERY = 32

const now = () => globalThis.performance.now()

/** Tasks of one priority, first in first out, without `Array.shift`'s copying. */
class TaskQueue {
  private tasks: Array<() => void> = []
  private head = 0
  constructor(readonly priority: number) {}
  get size() {
    return this.tasks.length - this.head
  }
  push(task: () => void) {
    this.tasks.push(task)
  }
  take(): (() => void) | undefined {
    if (this.head === this.tasks.length) return undefined
    const task = this.tasks[this.head]!
    this.tasks[this.head++] = undefined as never
    if (this.head === this.tasks.length) {
      this.tasks = []
      this.head = 0
    }
    return task
  }
}

export class SlicedScheduler implements Scheduler.Scheduler {
  readonly executionMode = "async" as const
  /** One queue per priority, lowest (first to run) first; shared by every fiber's dispatcher. */
  private readonly queues: Array<TaskQueue> = []
  private runScheduled = false
  /** When fiber work began in the current turn of the loop; undefined: none yet. */
  private turnStartedAt: number | undefined = undefined
  /** A slice has begun and its first fiber has not yet looked at the clock. */
  private sliceOpening = false

  constructor(readonly sliceMillis: number = SLICE_MILLIS) {}

  shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    const ops = fiber.currentOpCount
    if (ops >= fiber.cache.maxOpsBeforeYield) return true
    if (ops === 1 && this.sliceOpening) {
      // The first task of a slice always gets CHECK_EVERY operations: every slice makes progress.
      this.sliceOpening = false
      return false
    }
    return (ops === 1 || (ops & (CHECK_EVERY - 1)) === 0) && this.turnElapsed() >= this.sliceMillis
  }

  makeDispatcher(): Scheduler.SchedulerDispatcher {
    return {
      scheduleTask: (task, priority) => this.schedule(task, priority),
      flush: () => this.drain(Infinity)
    }
  }

  /** Fiber work already done in this turn, ms; the first look starts the count, which ends with the turn. */
  private turnElapsed(): number {
    const at = now()
    if (this.turnStartedAt === undefined) {
      this.turnStartedAt = at
      setImmediate(this.endTurn)
      return 0
    }
    return at - this.turnStartedAt
  }

  private readonly endTurn = () => {
    this.turnStartedAt = undefined
  }

  private schedule(task: () => void, priority: number) {
    this.queueOf(priority).push(task)
    if (!this.runScheduled) {
      this.runScheduled = true
      setImmediate(this.runSlice)
    }
  }

  private queueOf(priority: number): TaskQueue {
    let index = 0
    while (index < this.queues.length && this.queues[index]!.priority < priority) index++
    const found = this.queues[index]
    if (found?.priority === priority) return found
    const created = new TaskQueue(priority)
    this.queues.splice(index, 0, created)
    return created
  }

  /** One slice: tasks run until the slice is spent; what is left runs in a later turn. */
  private readonly runSlice = () => {
    this.runScheduled = false
    this.turnStartedAt = now()
    this.sliceOpening = true
    this.drain(this.sliceMillis)
    this.sliceOpening = false
    if (this.queues.some((queue) => queue.size > 0) && !this.runScheduled) {
      this.runScheduled = true
      setImmediate(this.runSlice)
    }
  }

  /** Runs queued tasks, lowest priority number first, until none is left or `millis` have passed. */
  private drain(millis: number) {
    const started = now()
    for (let task = this.next(); task !== undefined; task = this.next()) {
      task()
      if (now() - started >= millis) return
    }
  }

  private next(): (() => void) | undefined {
    for (const queue of this.queues) {
      const task = queue.take()
      if (task !== undefined) return task
    }
    return undefined
  }
}

/** A runtime's fibers on one sliced queue (each build of the layer has its own). */
export const layer = Layer.sync(Scheduler.Scheduler, () => new SlicedScheduler())
