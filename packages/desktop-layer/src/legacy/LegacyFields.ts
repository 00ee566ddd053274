/**
 * Field readers shared by the legacy formats: names cleaned of control characters, timestamps
 * normalised to ISO UTC, ids reused when they are UUIDs (else derived, so re-runs agree), and the
 * tolerant fallbacks (first of several field spellings) for files no known writer produced.
 */
import { Canonical, Ids, LlmConfig, Providers } from "@fishbowl/domain"
import { Schema } from "effect"
import { createHash } from "node:crypto"
import * as LegacyFiles from "./LegacyFiles.ts"

export const firstField = (raw: LegacyFiles.Raw, names: ReadonlyArray<string>): unknown => {
  for (const name of names) if (LegacyFiles.hasOwn(raw, name) && raw[name] !== null && raw[name] !== undefined) return raw[name]
  return undefined
}

export const textField = (raw: LegacyFiles.Raw, names: ReadonlyArray<string>): string | undefined => {
  const value = firstField(raw, names)
  if (typeof value === "string") return value
  if (typeof value === "number" && Number.isFinite(value)) return String(value)
  return undefined
}

const CONTROL = new RegExp(Canonical.CONTROL_CHARACTERS.source, "g")

/** A display name: control characters become spaces, at most 100 characters; empty is none. */
export const cleanName = (text: string | undefined): string | undefined => {
  if (text === undefined) return undefined
  const cleaned = text.replace(CONTROL, " ").trim().slice(0, 100).trim()
  return cleaned === "" ? undefined : cleaned
}

const isTimestamp = Schema.is(LlmConfig.Timestamp)

/** ISO text or epoch ms/s as an ISO UTC timestamp; `fallback` when there is none. */
export const timestampOf = (value: unknown, fallback: string): string => {
  if (isTimestamp(value)) return value
  const millis = typeof value === "number"
    ? (value < 1e12 ? value * 1000 : value)
    : typeof value === "string"
    ? Date.parse(value)
    : Number.NaN
  if (!Number.isFinite(millis)) return fallback
  const date = new Date(millis)
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString()
}

const isConfigId = Schema.is(Ids.ConfigId)

/** A legacy id that is a UUID v4 (any case) is kept, lower-cased. */
export const reusableId = (legacyId: string | undefined): Ids.ConfigId | undefined => {
  const lower = legacyId?.trim().toLowerCase()
  return lower !== undefined && isConfigId(lower) ? lower : undefined
}

/** A UUID-v4-shaped id derived from the folder and the legacy identity, so re-runs agree. */
export const derivedId = (folder: string, identity: string): Ids.ConfigId => {
  const bytes = createHash("sha256").update(`fishbowl-migration\u0000${folder}\u0000${identity}`).digest()
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const h = bytes.subarray(0, 16).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` as Ids.ConfigId
}

const PROVIDER_ALIASES: Record<string, string> = {
  gemini: "google",
  "google-gemini": "google",
  claude: "anthropic",
  custom: "openai-compatible",
  "openai-compat": "openai-compatible",
  local: "ollama"
}

/** Tolerant provider lookup (case, spaces, common aliases). */
export const tolerantProvider = (text: string | undefined): Providers.ProviderDefinition | undefined => {
  if (text === undefined) return undefined
  const slug = text.trim().toLowerCase().replace(/[\s_]+/g, "-")
  return Providers.findProvider(PROVIDER_ALIASES[slug] ?? slug)
}
