/**
 * The configuration names in preferences.json, for shell completion: read through the store's
 * trusted reader (no link followed, owner and type checked, size bounded), decoded leniently
 * (Restore.configsIn), and nothing else — no recovery, no backup restore, no keychain. Any
 * problem yields no names: completion must never print an error into the user's command line.
 */
import { DataDir, TrustedFile } from "@fishbowl/desktop-layer"
import { JsonLimits, Restore } from "@fishbowl/domain"
import { Effect } from "effect"

export const read = (dataDir: string): Effect.Effect<ReadonlyArray<string>> =>
  TrustedFile.readTrusted(DataDir.preferencesPath(dataDir), JsonLimits.MAX_DOCUMENT_BYTES, dataDir).pipe(
    Effect.map((file) => {
      if (file._tag !== "Read") return []
      const parsed = JsonLimits.parseBoundedJson(new TextDecoder().decode(file.bytes), { bytes: file.bytes.length })
      return parsed._tag === "Parsed" ? Restore.configsIn(parsed.value).map((config) => config.name) : []
    }),
    Effect.orElseSucceed(() => [])
  )
