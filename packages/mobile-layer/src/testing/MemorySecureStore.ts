/**
 * An in-memory stand-in for expo-secure-store that enforces what the real module documents and
 * does: the key charset check of its JS wrapper, string values, items scoped by `keychainService`,
 * `isAvailableAsync`, plus the device behaviours tests need to reproduce: a value-size limit (iOS
 * may reject large items), a store that truncates, a locked device, undecryptable items after an
 * Android restore, and failures injected per operation.
 */
import type * as ExpoSecureStoreModule from "../ExpoSecureStoreModule.ts"

export type SecureStoreOperation = "getItemAsync" | "setItemAsync" | "deleteItemAsync" | "isAvailableAsync"

export interface MemorySecureStoreOptions {
  /** What `isAvailableAsync` answers (default true). */
  readonly available?: boolean
  /** The store rejects longer values (measured in UTF-16 code units, like a byte limit on ASCII keys). */
  readonly rejectAboveLength?: number
  /** A misbehaving store that silently keeps only this many characters. */
  readonly truncateAboveLength?: number
}

/** An error shaped like expo-modules' CodedException (`code` + `message`). */
export const codedError = (code: string, message: string): Error => Object.assign(new Error(message), { code })

interface Item {
  readonly value: string
  readonly keychainAccessible: number | undefined
  readonly undecryptable: boolean
}

const tick = () =>
  new Promise<void>((resolve) => {
    void Promise.resolve().then(resolve)
  })

export class MemorySecureStore implements ExpoSecureStoreModule.ExpoSecureStoreApi {
  readonly AFTER_FIRST_UNLOCK = 0
  readonly AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY = 1
  readonly WHEN_UNLOCKED = 5
  readonly WHEN_UNLOCKED_THIS_DEVICE_ONLY = 6

  available: boolean
  /** While true every call fails like iOS before the first unlock (errSecInteractionNotAllowed). */
  locked = false
  /** Every call, for assertions on keys and options. */
  readonly calls: Array<
    { readonly operation: SecureStoreOperation; readonly key?: string; readonly options?: ExpoSecureStoreModule.ExpoSecureStoreOptions }
  > = []
  private readonly items = new Map<string, Item>()
  private readonly planned: Array<{ readonly operation: SecureStoreOperation; readonly error: unknown; remaining: number }> = []
  private undecryptableMode: "reject" | "null" = "reject"

  constructor(private readonly options: MemorySecureStoreOptions = {}) {
    this.available = options.available ?? true
  }

  /** The next `times` calls of `operation` reject with `error`. */
  failNext(operation: SecureStoreOperation, error: unknown, times = 1): void {
    this.planned.push({ operation, error, remaining: times })
  }

  /** Keys present, per keychain service (`<service>:<key>`, service `default` when unset). */
  keys(): Array<string> {
    return Array.from(this.items.keys()).sort()
  }

  /** Raw item, for assertions on the stored value and options. */
  peek(key: string, keychainService?: string): Item | undefined {
    return this.items.get(this.slot(key, keychainService))
  }

  /**
   * An Android backup restore onto a new device: the encrypted items come back, the Keystore key
   * does not. `reject` is expo's DecryptException path, `null` its BadPadding path (deletes, returns null).
   */
  simulateRestoreWithoutKeystore(mode: "reject" | "null" = "reject"): void {
    this.undecryptableMode = mode
    for (const [slot, item] of this.items) this.items.set(slot, { ...item, undecryptable: true })
  }

  private slot(key: string, keychainService: string | undefined) {
    return `${keychainService ?? "default"}:${key}`
  }

  private async enter(operation: SecureStoreOperation, key?: string, options?: ExpoSecureStoreModule.ExpoSecureStoreOptions) {
    this.calls.push({ operation, ...(key !== undefined ? { key } : {}), ...(options !== undefined ? { options } : {}) })
    await tick()
    const planned = this.planned.find((entry) => entry.operation === operation && entry.remaining > 0)
    if (planned !== undefined) {
      planned.remaining--
      throw planned.error
    }
    if (operation === "isAvailableAsync") return
    if (key === undefined || !/^[\w.-]+$/.test(key)) {
      throw new Error(
        "Invalid key provided to SecureStore. Keys must not be empty and contain only alphanumeric characters, \".\", \"-\", and \"_\"."
      )
    }
    if (this.locked) throw codedError("ERR_KEY_CHAIN", "User interaction is not allowed.")
  }

  isAvailableAsync = async (): Promise<boolean> => {
    await this.enter("isAvailableAsync")
    return this.available
  }

  getItemAsync = async (key: string, options: ExpoSecureStoreModule.ExpoSecureStoreOptions = {}): Promise<string | null> => {
    await this.enter("getItemAsync", key, options)
    const slot = this.slot(key, options.keychainService)
    const item = this.items.get(slot)
    if (item === undefined) return null
    if (item.undecryptable) {
      if (this.undecryptableMode === "null") {
        this.items.delete(slot)
        return null
      }
      throw codedError(
        "ERR_DECRYPT",
        `Could not decrypt the value for key '${key}' under keychain 'key_v1'. Caused by: AEADBadTagException`
      )
    }
    return item.value
  }

  setItemAsync = async (key: string, value: string, options: ExpoSecureStoreModule.ExpoSecureStoreOptions = {}): Promise<void> => {
    await this.enter("setItemAsync", key, options)
    if (typeof value !== "string") {
      throw new Error(
        "Invalid value provided to SecureStore. Values must be strings; consider JSON-encoding your values if they are serializable."
      )
    }
    if (this.options.rejectAboveLength !== undefined && value.length > this.options.rejectAboveLength) {
      throw codedError("ERR_KEY_CHAIN", "One or more parameters passed to a function where not valid.")
    }
    const stored = this.options.truncateAboveLength !== undefined ? value.slice(0, this.options.truncateAboveLength) : value
    this.items.set(this.slot(key, options.keychainService), {
      value: stored,
      keychainAccessible: options.keychainAccessible,
      undecryptable: false
    })
  }

  deleteItemAsync = async (key: string, options: ExpoSecureStoreModule.ExpoSecureStoreOptions = {}): Promise<void> => {
    await this.enter("deleteItemAsync", key, options)
    this.items.delete(this.slot(key, options.keychainService))
  }
}
