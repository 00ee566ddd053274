/**
 * Provider definitions as data: the renderer builds its forms from them and the store validates
 * against them, so adding a provider is a data change, not a code change. Decoded at load so a
 * malformed definition fails at start-up, not when a user opens the form.
 */
import { Effect, Schema } from "effect"
import * as Errors from "./Errors.ts"
import * as Ids from "./Ids.ts"
import * as Suggestions from "./Suggestions.ts"

/** One input on the provider's settings form. `secure-text` fields are secrets and go to the keychain. */
export const ProviderField = Schema.Struct({
  id: Schema.Literals(["apiKey", "baseUrl", "useAuthHeader"]),
  kind: Schema.Literals(["secure-text", "text", "checkbox"]),
  label: Schema.NonEmptyString,
  placeholder: Schema.optional(Schema.String),
  required: Schema.Boolean,
  helperText: Schema.optional(Schema.String),
  defaultValue: Schema.optional(Schema.Union([Schema.String, Schema.Boolean]))
})
export type ProviderField = typeof ProviderField.Type

export const ProviderDefinition = Schema.Struct({
  id: Ids.ProviderId,
  displayName: Schema.NonEmptyString,
  defaultBaseUrl: Schema.optional(Schema.String),
  requiresApiKey: Schema.Boolean,
  /**
   * The environment variable the provider's own SDKs read the key from (OpenAI's and Anthropic's
   * clients, Google's `google-genai`, OpenRouter's docs): what a hint tells a user to export.
   */
  keyVariable: Schema.optional(Schema.String.check(Schema.isPattern(/^[A-Z][A-Z0-9_]*$/))),
  fields: Schema.Array(ProviderField)
})
export type ProviderDefinition = typeof ProviderDefinition.Type

const apiKeyField = (placeholder: string, required: boolean): typeof ProviderField.Encoded => ({
  id: "apiKey",
  kind: "secure-text",
  label: "API key",
  placeholder,
  required,
  helperText: "Kept in the key storage shown at the top of this page (normally your OS keychain); never shown again."
})

const baseUrlField = (placeholder: string, required: boolean): typeof ProviderField.Encoded => ({
  id: "baseUrl",
  kind: "text",
  label: "Base URL",
  placeholder,
  required,
  helperText:
    "HTTPS; plain HTTP only to this machine or, without a key or with your explicit consent, to a private network. Changing it requires re-entering the key."
})

const authHeaderField: typeof ProviderField.Encoded = {
  id: "useAuthHeader",
  kind: "checkbox",
  label: "Send the key in the Authorization header",
  required: false,
  defaultValue: true
}

const bundledProviders: ReadonlyArray<typeof ProviderDefinition.Encoded> = [
  {
    id: "openai",
    displayName: "OpenAI",
    defaultBaseUrl: "https://api.openai.com/v1",
    requiresApiKey: true,
    keyVariable: "OPENAI_API_KEY",
    fields: [apiKeyField("sk-...", true), baseUrlField("https://api.openai.com/v1", false)]
  },
  {
    id: "anthropic",
    displayName: "Anthropic",
    defaultBaseUrl: "https://api.anthropic.com",
    requiresApiKey: true,
    keyVariable: "ANTHROPIC_API_KEY",
    fields: [apiKeyField("sk-ant-...", true), baseUrlField("https://api.anthropic.com", false)]
  },
  {
    id: "google",
    displayName: "Google Gemini",
    defaultBaseUrl: "https://generativelanguage.googleapis.com/v1beta",
    requiresApiKey: true,
    keyVariable: "GEMINI_API_KEY",
    fields: [apiKeyField("AIza...", true), baseUrlField("https://generativelanguage.googleapis.com/v1beta", false)]
  },
  {
    id: "openrouter",
    displayName: "OpenRouter",
    defaultBaseUrl: "https://openrouter.ai/api/v1",
    requiresApiKey: true,
    keyVariable: "OPENROUTER_API_KEY",
    fields: [apiKeyField("sk-or-...", true), baseUrlField("https://openrouter.ai/api/v1", false)]
  },
  {
    id: "ollama",
    displayName: "Ollama (local)",
    defaultBaseUrl: "http://localhost:11434",
    requiresApiKey: false,
    fields: [baseUrlField("http://localhost:11434", false)]
  },
  {
    id: "openai-compatible",
    displayName: "OpenAI-compatible",
    requiresApiKey: false,
    keyVariable: "OPENAI_API_KEY",
    fields: [apiKeyField("optional", false), baseUrlField("https://llm.example.com/v1", true), authHeaderField]
  }
]

/** The bundled provider definitions, validated once at module load. */
export const providers: ReadonlyArray<ProviderDefinition> = Schema.decodeUnknownSync(
  Schema.Array(ProviderDefinition)
)(bundledProviders)

/** Looks a provider up by id; `undefined` for unknown ids (callers turn that into InvalidInput). */
export const findProvider = (id: string): ProviderDefinition | undefined => providers.find((p) => p.id === id)

/** The variable a hint tells a user to export a key of this provider into. */
export const keyVariableOf = (providerId: string): string =>
  findProvider(providerId)?.keyVariable ?? `${providerId.toUpperCase().replaceAll("-", "_")}_API_KEY`

/** Whether a configuration of this provider must name its endpoint: it has no default base URL. */
export const requiresBaseUrl = (provider: ProviderDefinition): boolean =>
  provider.fields.some((field) => field.id === "baseUrl" && field.required)

/** The refusal of a configuration that {@link requiresBaseUrl} but has none; front ends may word their own hint. */
export const missingBaseUrl = (provider: ProviderDefinition): Errors.InvalidInput =>
  new Errors.InvalidInput({
    field: "baseUrl",
    reason: "base-url-missing",
    message: `${provider.displayName} needs a base URL`,
    hint: "Enter the endpoint of your OpenAI-compatible server."
  })

/** Is this the {@link missingBaseUrl} refusal (rather than a base URL that is present but refused)? */
export const isMissingBaseUrl = (error: Errors.InvalidInput): boolean => error.reason === "base-url-missing"

/** The refusal of a provider id that is not one of {@link providers}. */
export const unknownProvider = (id: string): Errors.InvalidInput =>
  new Errors.InvalidInput({
    field: "provider",
    message: `Unknown provider "${id}"${Suggestions.didYouMean(Suggestions.closest(id, providers.map((provider) => provider.id)))}`,
    hint: "Pick one of the listed providers."
  })

/** The definition of a provider id, or the {@link unknownProvider} refusal. */
export const requireProvider = (id: string): Effect.Effect<ProviderDefinition, Errors.InvalidInput> => {
  const provider = findProvider(id)
  return provider === undefined ? Effect.fail(unknownProvider(id)) : Effect.succeed(provider)
}
