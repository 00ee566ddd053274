/**
 * Branded identifiers. Both flow into keychain service names, so their character sets are
 * deliberately narrow: a config id is a lowercase UUID v4, a provider id is a lowercase slug.
 */
import { Schema } from "effect"

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Identifies one stored configuration; random (UUID v4) so ids never collide across devices. */
export const ConfigId = Schema.String.check(
  Schema.isPattern(UUID_V4, { message: "must be a lowercase UUID v4" })
).pipe(Schema.brand("ConfigId"))
export type ConfigId = typeof ConfigId.Type

/** Identifies a provider definition (`openai`, `anthropic`, ...); a slug safe inside a keychain name. */
export const ProviderId = Schema.String.check(
  Schema.isPattern(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, {
    message: "must be 1-40 characters of a-z, 0-9 and inner '-'"
  })
).pipe(Schema.brand("ProviderId"))
export type ProviderId = typeof ProviderId.Type

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")

/**
 * A fresh random UUID v4 from the platform's cryptographically secure generator (Web Crypto,
 * present in Node, Electron and Hermes with expo-crypto's polyfill). Throws rather than fall back
 * to Math.random. Config ids, journal intent ids, store instance ids and session ids are all made
 * from it; only a config id is branded.
 */
export const randomUuid = (): string => {
  const crypto = globalThis.crypto
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID()
  if (typeof crypto?.getRandomValues !== "function") {
    throw new Error("No secure random generator (globalThis.crypto) on this platform")
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A fresh config id (see {@link randomUuid}). */
export const newConfigId = (): ConfigId => ConfigId.make(randomUuid())
