/**
 * A plain in-memory model of LlmConfigStore's observable behaviour, and fast-check generators of
 * command sequences. The model-based suite runs both side by side and compares after every step.
 */
import * as fc from "fast-check"
import * as Canonical from "../Canonical.ts"
import type * as CrashPoints from "../CrashPoints.ts"
import * as Providers from "../Providers.ts"

export interface ModelConfig {
  readonly id: string
  readonly provider: string
  readonly name: string
  readonly baseUrl: string | undefined
  readonly useAuthHeader: boolean
  readonly key: string | undefined
}

export type Outcome = "ok" | "InvalidInput" | "Conflict" | "NotFound"

export type Command =
  | {
    readonly kind: "create"
    readonly provider: string
    readonly name: string
    readonly baseUrl: string | undefined
    readonly key: string | undefined
  }
  | {
    readonly kind: "update"
    readonly target: number
    readonly name: string | undefined
    readonly baseUrl: string | null | undefined
    readonly key: string | undefined
  }
  | { readonly kind: "remove"; readonly target: number }
  | { readonly kind: "getApiKey"; readonly target: number }
  | { readonly kind: "list" }
  | { readonly kind: "crash"; readonly command: Command & { readonly kind: "create" | "update" | "remove" }; readonly point: number }
  /**
   * A live overlap: `command` runs in one instance and waits at `point` while a second live
   * instance recovers (it must leave the first one's intent alone) and runs `other`.
   */
  | {
    readonly kind: "overlap"
    readonly command: Command & { readonly kind: "create" | "update" | "remove" }
    readonly point: number
    readonly other: Command & { readonly kind: "create" | "update" | "remove" | "list" }
  }

/** Names, with lookalikes of "Work" (case, Cyrillic "о", fullwidth) that must count as the same name. */
const names = ["Work", "work", "W\u043erk", "\uff37\uff2f\uff32\uff2b", "Home", "Lab Ω", "工作 🔑"]
const providerIds = ["openai", "anthropic", "ollama", "openai-compatible"]

/** Base URLs as typed, and the canonical form the store must keep (an oracle written out by hand). */
const canonicalUrls: Readonly<Record<string, string>> = {
  "https://llm.example.com/v1": "https://llm.example.com/v1",
  "HTTPS://LLM.Example.COM:443/v1": "https://llm.example.com/v1",
  "http://localhost:11434": "http://localhost:11434/",
  "https://proxy.example.org/openai": "https://proxy.example.org/openai",
  // plain http to a private network: fine without a key, refused with one (no acknowledgement here)
  "http://192.168.1.20:8080/v1": "http://192.168.1.20:8080/v1"
}
const privateHttpUrls = new Set(["http://192.168.1.20:8080/v1"])
const baseUrls = Object.keys(canonicalUrls)
const canonical = (url: string | undefined) => (url === undefined ? undefined : canonicalUrls[url] ?? url)

const keyArbitrary = fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/).map((body) => `sk-model-${body}`)

const createArbitrary = fc.record({
  kind: fc.constant("create" as const),
  provider: fc.constantFrom(...providerIds),
  name: fc.constantFrom(...names),
  baseUrl: fc.option(fc.constantFrom(...baseUrls), { nil: undefined }),
  key: fc.option(keyArbitrary, { nil: undefined, freq: 4 })
})

const updateArbitrary = fc.record({
  kind: fc.constant("update" as const),
  target: fc.nat(7),
  name: fc.option(fc.constantFrom(...names), { nil: undefined }),
  baseUrl: fc.option(fc.constantFrom<string | null>(null, ...baseUrls), { nil: undefined, freq: 2 }),
  key: fc.option(keyArbitrary, { nil: undefined, freq: 2 })
})

const removeArbitrary = fc.record({ kind: fc.constant("remove" as const), target: fc.nat(7) })

/** Random command sequences, weighted towards mutations and crashes. */
export const commandsArbitrary = (maxCommands: number): fc.Arbitrary<ReadonlyArray<Command>> =>
  fc.array(
    fc.oneof(
      { arbitrary: createArbitrary, weight: 4 },
      { arbitrary: updateArbitrary, weight: 3 },
      { arbitrary: removeArbitrary, weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant("getApiKey" as const), target: fc.nat(7) }), weight: 1 },
      { arbitrary: fc.constant({ kind: "list" as const }), weight: 1 },
      {
        arbitrary: fc.record({
          kind: fc.constant("crash" as const),
          command: fc.oneof(createArbitrary, updateArbitrary, removeArbitrary),
          point: fc.nat(4)
        }),
        weight: 3
      },
      {
        arbitrary: fc.record({
          kind: fc.constant("overlap" as const),
          command: fc.oneof(createArbitrary, updateArbitrary, removeArbitrary),
          point: fc.nat(4),
          other: fc.oneof(createArbitrary, updateArbitrary, removeArbitrary, fc.constant({ kind: "list" as const }))
        }),
        weight: 3
      }
    ),
    { minLength: 1, maxLength: maxCommands }
  )

/** What a paused operation holds while another instance acts: its config (busy) and the name it reserves. */
export interface Held {
  readonly busyId: string | undefined
  readonly reservedName: string | undefined
  /** The config the reservation is for (its own updates may keep the name). */
  readonly ownerId?: string | undefined
}

/** The model: configs in creation order plus every id whose secrets must be gone. */
export class LlmConfigModel {
  readonly configs: Array<ModelConfig> = []
  readonly goneIds = new Set<string>()

  target(index: number): ModelConfig | undefined {
    return this.configs.length === 0 ? undefined : this.configs[index % this.configs.length]
  }

  private nameTaken(name: string, exceptId?: string) {
    return this.configs.some((config) => config.id !== exceptId && Canonical.sameName(config.name, name))
  }

  private fieldsInvalid(provider: string, baseUrl: string | undefined, hasKey: boolean) {
    const definition = Providers.findProvider(provider)!
    const baseUrlRequired = Providers.requiresBaseUrl(definition)
    return (definition.requiresApiKey && !hasKey) || (baseUrlRequired && baseUrl === undefined) ||
      (hasKey && baseUrl !== undefined && privateHttpUrls.has(baseUrl))
  }

  expectCreate(command: Command & { kind: "create" }): Outcome {
    if (this.fieldsInvalid(command.provider, command.baseUrl, command.key !== undefined)) return "InvalidInput"
    return this.nameTaken(command.name) ? "Conflict" : "ok"
  }

  applyCreate(command: Command & { kind: "create" }, id: string) {
    this.configs.push({
      id,
      provider: command.provider,
      name: command.name,
      baseUrl: canonical(command.baseUrl),
      useAuthHeader: true,
      key: command.key
    })
  }

  /** The config an update would produce, or the error it must fail with. */
  expectUpdate(command: Command & { kind: "update" }): Outcome | ModelConfig {
    const before = this.target(command.target)
    if (before === undefined) return "NotFound"
    const baseUrl = command.baseUrl === null ? undefined : canonical(command.baseUrl) ?? before.baseUrl
    const hasKey = before.key !== undefined || command.key !== undefined
    if (before.key !== undefined && (before.baseUrl ?? "") !== (baseUrl ?? "") && command.key === undefined) {
      return "InvalidInput"
    }
    if (this.fieldsInvalid(before.provider, baseUrl, hasKey)) return "InvalidInput"
    const name = command.name ?? before.name
    if (this.nameTaken(name, before.id)) return "Conflict"
    return { ...before, name, baseUrl, key: command.key ?? before.key }
  }

  /**
   * The outcome of `command` run by another live instance while an operation holds `held`:
   * its config is busy (Conflict) and its new name is taken; otherwise as `expectCreate` /
   * `expectUpdate` / remove say.
   */
  expectBeside(command: Command & { kind: "create" | "update" | "remove" }, held: Held): Outcome | ModelConfig {
    const reserved = (name: string) => held.reservedName !== undefined && Canonical.sameName(held.reservedName, name)
    switch (command.kind) {
      case "create": {
        const outcome = this.expectCreate(command)
        return outcome === "ok" && reserved(command.name) ? "Conflict" : outcome
      }
      case "update": {
        const target = this.target(command.target)
        if (target !== undefined && target.id === held.busyId) return "Conflict"
        const after = this.expectUpdate(command)
        return typeof after !== "string" && reserved(after.name) && after.id !== held.ownerId ? "Conflict" : after
      }
      case "remove": {
        const target = this.target(command.target)
        if (target === undefined) return "NotFound"
        return target.id === held.busyId ? "Conflict" : "ok"
      }
    }
  }

  applyUpdate(after: ModelConfig) {
    const index = this.configs.findIndex((config) => config.id === after.id)
    this.configs[index] = after
  }

  applyRemove(id: string) {
    const index = this.configs.findIndex((config) => config.id === id)
    this.configs.splice(index, 1)
    this.goneIds.add(id)
  }
}

/**
 * Where a crash at `point` leaves an operation once recovered: `before` (rolled back), `after`
 * (rolled forward or committed), or `none` when the operation never reaches that point.
 */
export const crashOutcome = (
  op: "create" | "update" | "remove",
  point: CrashPoints.CrashPoint,
  updateWithKey: boolean
): "before" | "after" | "none" => {
  switch (op) {
    case "create":
      return point === "create.committed" ? "after" : "before"
    case "remove":
      return "after"
    case "update":
      // Without a key an update is one write (LlmConfigStore.updateMetadata): only its commit is reached.
      if (!updateWithKey) return point === "update.committed" ? "after" : "none"
      if (point === "update.intent-recorded") return "before"
      return "after"
  }
}
