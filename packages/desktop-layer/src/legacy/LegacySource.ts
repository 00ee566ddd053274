/**
 * What every legacy format gives the migration runner, in the manner of @effect/sql's Migrator
 * loaders (a loader yields the migrations, the runner applies them): a source `load`s its entries
 * (each ready to import, or blocked with why and how to fix it) and, once the runner has imported
 * them, `finish`es by removing its plaintext — only when every entry is in the store.
 * Sources never touch the journal: the runner imports through LlmConfigStore.importConfig.
 */
import { Canonical, type Errors, Hints, type Ids, LlmConfig, type LlmConfigStore, Providers } from "@fishbowl/domain"
import { type Effect, type FileSystem, Redacted, Schema } from "effect"

/** Why an entry is not imported now, and what the user does about it. */
export interface Blocked {
  readonly reason: string
  readonly fix: string
  /** The key can only be decrypted by the desktop app (Electron safeStorage). */
  readonly needsDesktopApp?: boolean
}

export interface LegacyEntry {
  /** The file the entry came from (absolute path). */
  readonly source: string
  /** The name shown in the report (the legacy name, when it has one). */
  readonly label?: string | undefined
  readonly outcome: { readonly _tag: "Ready"; readonly entry: LlmConfigStore.ImportEntry } | ({ readonly _tag: "Blocked" } & Blocked)
}

/** A note that belongs to no entry (a refused file, a key without a config). */
export interface SourceNote {
  readonly source: string
  readonly reason: string
  readonly fix: string
  /** True when the source cannot finish until the user acts (else informational). */
  readonly blocking: boolean
}

/** What `finish` did with the files. */
export interface FinishResult {
  readonly removed: ReadonlyArray<string>
  /** Files kept under a new name (without keys). */
  readonly renamed: ReadonlyArray<{ readonly from: string; readonly to: string }>
  readonly rewritten: ReadonlyArray<string>
  /** Files kept because something in them is not migrated yet. */
  readonly kept: ReadonlyArray<string>
}

export interface LegacyBatch {
  readonly entries: ReadonlyArray<LegacyEntry>
  readonly notes: ReadonlyArray<SourceNote>
  /** Removes the plaintext once `inStore[i]` is true for every entry; else keeps (and lists) the files. */
  readonly finish: (inStore: ReadonlyArray<boolean>) => Effect.Effect<FinishResult, SourceError, FileSystem.FileSystem>
}

export type SourceError = Errors.SecretStoreError | Errors.PreferencesStoreError

/** Decrypts one value Fishbowl encrypted with safeStorage (never on the main thread's critical path: async). */
export type Decrypt = (ciphertext: Buffer) => Promise<string>

export interface SourceContext {
  /** The folder holding the legacy files. */
  readonly from: string
  /** The command that runs this migration again, exactly as printed (see `rerunCommandOf`). */
  readonly rerunCommand: string
  /**
   * Names of entries whose plain-http base URL to a private-network host the user accepted
   * (`migrate --allow-insecure-http NAME`), as `add --allow-insecure-http` records it per config.
   */
  readonly allowInsecureHttp: ReadonlyArray<string>
  /** Decrypts one secure_keys.json value (Electron: `safeStorage.decryptStringAsync`); absent in the CLI. */
  readonly decrypt?: Decrypt | undefined
  readonly lockWaitMillis: number
}

export interface LegacySource {
  readonly name: string
  /** True when `from` holds anything of this format (read-only: nothing is changed). */
  readonly detect: (context: SourceContext) => Effect.Effect<boolean, SourceError, FileSystem.FileSystem>
  /** None when the source has nothing in `from`. */
  readonly load: (context: SourceContext) => Effect.Effect<LegacyBatch | undefined, SourceError, FileSystem.FileSystem>
}

// ---------------------------------------------------------------------------------------------
// Turning legacy fields into an import entry: one set of rules for every format.

export interface LegacyFields {
  readonly configId: Ids.ConfigId
  readonly provider: Providers.ProviderDefinition | undefined
  /** The provider text as written, for the report. */
  readonly providerText: string | undefined
  readonly name: string | undefined
  readonly baseUrl: string | undefined
  readonly useAuthHeader: boolean
  readonly createdAt: string
  readonly updatedAt: string
}

export type KeySource =
  | { readonly _tag: "Key"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "NoKey" }
  | ({ readonly _tag: "Unavailable" } & Blocked)

/** The command that runs this migration again, exactly as printed: `--from` names the folder used. */
export const rerunCommandOf = (from: string) => `fishbowl-llm migrate --from ${Hints.shellWord(from)}`

/** "`<command>` (or restart Fishbowl)": the desktop app runs the migration at start. */
export const rerunText = (command: string) => `\`${command}\` (or restart Fishbowl)`

/** A URL for messages: credentials (which our rules refuse anyway) are never echoed. */
const shownUrl = (text: string) => {
  try {
    const url = new URL(text)
    url.username = ""
    url.password = ""
    return JSON.stringify(url.toString().slice(0, 200))
  } catch {
    return "(not a URL)"
  }
}

/** Validates fields and key against the current rules; a refusal says exactly what to change. */
export const toImportEntry = (
  fields: LegacyFields,
  key: KeySource,
  where: { readonly file: string; readonly field: string } & Pick<SourceContext, "rerunCommand" | "allowInsecureHttp">
): LegacyEntry["outcome"] => {
  const rerun = `then run ${rerunText(where.rerunCommand)}`
  const label = fields.name !== undefined ? `"${fields.name}"` : "the entry"
  const { provider } = fields
  if (provider === undefined) {
    return {
      _tag: "Blocked",
      reason: fields.providerText === undefined ? "no provider" : `unknown provider "${fields.providerText.slice(0, 40)}"`,
      fix: `Set "provider" of ${label} in ${where.file} to one of the supported providers, ${rerun}.`
    }
  }
  if (key._tag === "Unavailable") return { ...key, _tag: "Blocked" }
  const apiKey = key._tag === "Key" ? key.value : undefined
  if (apiKey !== undefined && !Schema.is(LlmConfig.ApiKeyText)(Redacted.value(apiKey))) {
    return {
      _tag: "Blocked",
      reason: "invalid key (empty, contains control characters or is too long)",
      fix: `Add the configuration by hand with \`fishbowl-llm add\`, then delete the key from ${where.file}.`
    }
  }
  const baseUrl = fields.baseUrl?.trim() === "" ? undefined : fields.baseUrl?.trim()
  const required = Providers.requiresBaseUrl(provider)
  const consented = fields.name !== undefined && where.allowInsecureHttp.some((name) => Canonical.sameName(name, fields.name!))
  if (baseUrl !== undefined) {
    const check = Canonical.checkBaseUrl(baseUrl)
    const hasKey = apiKey !== undefined
    const problem = LlmConfig.baseUrlProblem(baseUrl) ??
      (check._tag === "Ok" ? Canonical.insecureHttpProblem(check.url, { hasKey, allowInsecureHttp: consented }) : undefined)
    if (problem !== undefined) {
      // Plain http to a private-network host with a key: the one case the user may accept.
      const mayConsent = check._tag === "Ok" && Canonical.insecureHttpProblem(check.url, { hasKey, allowInsecureHttp: true }) === undefined
      const consent = mayConsent && fields.name !== undefined
        ? `; or, to send the key there unencrypted anyway, run \`${where.rerunCommand} --allow-insecure-http ${
          Hints.shellWord(fields.name)
        }\``
        : ""
      return {
        _tag: "Blocked",
        reason: `invalid base URL: ${problem}`,
        fix: `Change "${where.field}" of ${label} in ${where.file} from ${
          shownUrl(baseUrl)
        } to an https:// URL (plain http carries the key unencrypted: it is accepted for this machine, and for a private network only without a key or with your consent)${
          required ? "" : `, or delete it to use ${provider.defaultBaseUrl ?? "the provider default"}`
        }, ${rerun}${consent}. The entry and its key are kept until then.`
      }
    }
  }
  if (baseUrl === undefined && required) {
    return {
      _tag: "Blocked",
      reason: `${provider.displayName} needs a base URL and the entry has none`,
      fix: `Add "${where.field}": "https://…" to ${label} in ${where.file}, ${rerun}.`
    }
  }
  const config = {
    id: fields.configId,
    provider: provider.id,
    name: fields.name ?? `${provider.displayName} (imported)`,
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    useAuthHeader: fields.useAuthHeader,
    createdAt: fields.createdAt,
    updatedAt: fields.updatedAt,
    hasKey: apiKey !== undefined,
    ...(consented && baseUrl !== undefined && apiKey !== undefined ? { allowInsecureHttp: true } : {})
  }
  if (!Schema.is(LlmConfig.LlmConfig)(config)) {
    return {
      _tag: "Blocked",
      reason: "the entry cannot be represented as a configuration",
      fix: `Add the configuration by hand with \`fishbowl-llm add\`, then delete it from ${where.file}.`
    }
  }
  return { _tag: "Ready", entry: { config, ...(apiKey !== undefined ? { apiKey } : {}) } }
}
