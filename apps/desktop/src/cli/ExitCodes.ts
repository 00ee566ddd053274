/**
 * Exit codes of fishbowl-llm, so scripts can tell "locked" (ask the user to unlock) from
 * "unavailable" (install a keychain) from "not found" without parsing messages.
 */
import type { FishbowlError } from "@fishbowl/domain"

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  lockedOrDenied: 4,
  unavailable: 5,
  corrupted: 6,
  timeout: 7,
  conflict: 8
} as const

export const exitCodeFor = (tag: FishbowlError["_tag"]): number => {
  switch (tag) {
    case "InvalidInput":
      return ExitCode.usage
    case "NotFound":
      return ExitCode.notFound
    case "KeychainLocked":
    case "KeychainDenied":
      return ExitCode.lockedOrDenied
    case "KeychainUnavailable":
    case "Unsupported":
      return ExitCode.unavailable
    case "Corrupted":
    case "StorageInaccessible":
      return ExitCode.corrupted
    case "Timeout":
      return ExitCode.timeout
    case "Conflict":
      return ExitCode.conflict
    case "Internal":
      return ExitCode.unexpected
  }
}
