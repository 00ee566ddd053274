/**
 * An in-memory AsyncStorage (v3 interface) for tests: values are strings, each `setItem` replaces
 * one value atomically, every call yields to other fibers (so a missing lock shows up as lost
 * updates), and failures or a per-value size limit can be injected.
 */
export type AppStorageOperation = "getItem" | "setItem" | "removeItem"

const tick = () =>
  new Promise<void>((resolve) => {
    void Promise.resolve().then(resolve)
  })

export class MemoryAppStorage {
  readonly calls: Array<{ readonly operation: AppStorageOperation; readonly key: string }> = []
  private readonly values = new Map<string, string>()
  private readonly planned: Array<{ readonly operation: AppStorageOperation; readonly error: unknown; remaining: number }> = []

  /** `maxValueLength`: `setItem` rejects longer values, as a full disk or a platform limit would. */
  constructor(private readonly options: { readonly maxValueLength?: number } = {}) {}

  failNext(operation: AppStorageOperation, error: unknown, times = 1): void {
    this.planned.push({ operation, error, remaining: times })
  }

  /** Raw stored text, for assertions and for planting corrupt documents. */
  raw(key: string): string | undefined {
    return this.values.get(key)
  }

  plant(key: string, text: string): void {
    this.values.set(key, text)
  }

  private async enter(operation: AppStorageOperation, key: string) {
    this.calls.push({ operation, key })
    await tick()
    const planned = this.planned.find((entry) => entry.operation === operation && entry.remaining > 0)
    if (planned !== undefined) {
      planned.remaining--
      throw planned.error
    }
  }

  getItem = async (key: string): Promise<string | null> => {
    await this.enter("getItem", key)
    return this.values.get(key) ?? null
  }

  setItem = async (key: string, value: string): Promise<void> => {
    await this.enter("setItem", key)
    if (this.options.maxValueLength !== undefined && value.length > this.options.maxValueLength) {
      throw new Error("database or disk is full (code 13 SQLITE_FULL)")
    }
    await tick()
    this.values.set(key, value)
  }

  removeItem = async (key: string): Promise<void> => {
    await this.enter("removeItem", key)
    this.values.delete(key)
  }

  getMany = async (keys: Array<string>): Promise<Record<string, string | null>> =>
    Object.fromEntries(keys.map((key) => [key, this.values.get(key) ?? null]))

  setMany = async (entries: Record<string, string>): Promise<void> => {
    for (const [key, value] of Object.entries(entries)) this.values.set(key, value)
  }

  removeMany = async (keys: Array<string>): Promise<void> => {
    for (const key of keys) this.values.delete(key)
  }

  getAllKeys = async (): Promise<Array<string>> => Array.from(this.values.keys())

  clear = async (): Promise<void> => {
    this.values.clear()
  }
}
