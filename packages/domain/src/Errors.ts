/**
 * Typed, serialisable failures of the secure-storage domain.
 *
 * Every error carries a user-facing `message` and a `hint` (what to do next) so the renderer,
 * the CLI and logs can show something actionable. No error has a field that can hold key
 * material: constructors take only descriptions, ids and names, never values of secrets.
 */
import { Cause, Option, Schema } from "effect"

const Text = Schema.String

/** The OS refused access to the keychain item (user clicked "Deny", ACL mismatch, policy). */
export class KeychainDenied extends Schema.TaggedError<KeychainDenied>()("KeychainDenied", {
  message: Text,
  hint: Text
}) {}

/**
 * Why a keychain counts as locked: `locked` it says so; `locked-or-missing` a read found nothing
 * on a keyring that reports a locked collection as empty, so the entry may also have been
 * deleted; `lock-state-unknown` a remove found nothing there and could not prove the keyring
 * unlocked, so the key may still be stored.
 */
export const KeychainLockedReason = Schema.Literals(["locked", "locked-or-missing", "lock-state-unknown"])
export type KeychainLockedReason = typeof KeychainLockedReason.Type

/** The keychain exists but is locked; reading now would look like "absent", so we refuse instead. */
export class KeychainLocked extends Schema.TaggedError<KeychainLocked>()("KeychainLocked", {
  message: Text,
  hint: Text,
  reason: KeychainLockedReason
}) {}

/**
 * Why a keychain was unavailable. `not-reachable`: no service answered, so nothing was written;
 * the others may have reached the keychain (a request that timed out can still complete).
 */
export const KeychainUnavailableReason = Schema.Literals(["not-reachable", "no-answer", "helper-lost", "session-lost", "error"])
export type KeychainUnavailableReason = typeof KeychainUnavailableReason.Type

/** No keychain service can be reached (no D-Bus session, no Secret Service, missing libsecret). */
export class KeychainUnavailable extends Schema.TaggedError<KeychainUnavailable>()("KeychainUnavailable", {
  message: Text,
  hint: Text,
  reason: Schema.optional(KeychainUnavailableReason)
}) {}

/**
 * Why the platform cannot do what was asked: `no-secure-storage` nothing here can keep keys
 * securely; `key-undecryptable` a stored key cannot be decrypted here (another user or OS key, an
 * altered file); `keys-not-kept` keys would be moved into storage that forgets them at exit;
 * `needs-migration` the settings come from an older Fishbowl; `newer-version` they come from a
 * newer one; `not-available-here` this build or window does not offer it.
 */
export const UnsupportedReason = Schema.Literals([
  "no-secure-storage",
  "key-undecryptable",
  "keys-not-kept",
  "needs-migration",
  "newer-version",
  "not-available-here"
])
export type UnsupportedReason = typeof UnsupportedReason.Type

/** The platform cannot do what was asked (e.g. secure storage not available on this device). */
export class Unsupported extends Schema.TaggedError<Unsupported>()("Unsupported", {
  message: Text,
  hint: Text,
  reason: UnsupportedReason
}) {}

/** Stored data could not be read as written; says what was quarantined and what was restored. */
export class Corrupted extends Schema.TaggedError<Corrupted>()("Corrupted", {
  message: Text,
  hint: Text,
  quarantinedAs: Schema.optional(Text),
  restoredFrom: Schema.optional(Text)
}) {}

/**
 * A change was refused before anything was written: the settings it would write break a rule
 * every reader checks (size, nesting, one id and one name per configuration). Not `Corrupted`:
 * nothing stored is damaged.
 */
export class WriteRefused extends Schema.TaggedError<WriteRefused>()("WriteRefused", {
  message: Text,
  hint: Text
}) {}

/**
 * The caller may not use the store at all (a window other than Fishbowl's own settings page).
 * Not `KeychainDenied`: the keychain was never asked.
 */
export class NotPermitted extends Schema.TaggedError<NotPermitted>()("NotPermitted", {
  message: Text,
  hint: Text
}) {}

/** An operation exceeded its time budget; the journal keeps the stores consistent regardless. */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  message: Text,
  hint: Text,
  operation: Text,
  budgetMillis: Schema.Number
}) {}

/**
 * What was not found. `key-elsewhere`: the keychain holds a key for the config, but it was
 * entered for another provider or base URL (KeyBinding), so it is not handed out. `file`: a
 * backup or other file of the data folder is no longer there; `folder`: the data folder could
 * not be opened in the file manager.
 */
export const NotFoundReason = Schema.Literals([
  "config",
  "no-key",
  "key-missing",
  "key-elsewhere",
  "key-lost-with-session",
  "file",
  "folder"
])
export type NotFoundReason = typeof NotFoundReason.Type

/** The configuration, or the keychain entry that should back it, does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message: Text,
  hint: Text,
  id: Schema.optional(Text),
  reason: NotFoundReason
}) {}

/**
 * Why input was rejected, for faces that word it themselves (the CLI's flags, the page's
 * buttons): `malformed` failed its schema; `base-url-refused` is not a usable endpoint (or plain
 * http to a public host); `base-url-missing` has none where the provider has no default;
 * `insecure-http-needs-consent` is plain http to a private network with a key and no consent;
 * `key-required` has no key where the provider needs one; `key-required-for-new-destination`
 * changes where a stored key would go without entering it again. Absent: words in the message.
 */
export const InvalidInputReason = Schema.Literals([
  "malformed",
  "base-url-refused",
  "base-url-missing",
  "insecure-http-needs-consent",
  "key-required",
  "key-required-for-new-destination"
])
export type InvalidInputReason = typeof InvalidInputReason.Type

/** Input was rejected; `field` names what was wrong, the message never echoes the value. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  message: Text,
  hint: Text,
  field: Text,
  reason: Schema.optional(InvalidInputReason)
}) {}

/**
 * Why a change conflicted: `name-taken` another configuration has the name; `busy` another
 * operation on the same configuration has not finished; `settings-replaced` another process
 * replaced the settings while this change was saved (nothing was changed); `unfinished-changes`
 * the settings hold changes still running, which a restore must not undo.
 */
export const ConflictReason = Schema.Literals(["name-taken", "busy", "settings-replaced", "unfinished-changes"])
export type ConflictReason = typeof ConflictReason.Type

/** A name is taken, or another process is in the middle of changing the same configuration. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Text,
  hint: Text,
  reason: ConflictReason
}) {}

/** The storage medium refused or failed (EACCES, EIO, ENOSPC): an error, never read as "empty". */
export class StorageInaccessible extends Schema.TaggedError<StorageInaccessible>()("StorageInaccessible", {
  message: Text,
  hint: Text
}) {}

/** A bug or an unexpected platform failure; reported without details that could hold secrets. */
export class Internal extends Schema.TaggedError<Internal>()("Internal", {
  message: Text,
  hint: Text
}) {}

/** Failures a secret store may report. */
export type SecretStoreError =
  | KeychainDenied
  | KeychainLocked
  | KeychainUnavailable
  | Unsupported
  | InvalidInput
  | StorageInaccessible

/** Failures the metadata document store may report. */
export type PreferencesStoreError = Corrupted | WriteRefused | StorageInaccessible | Unsupported

/** Every failure the domain can report: the one list the union and the tags below are made from. */
const errorClasses = [
  KeychainDenied,
  KeychainLocked,
  KeychainUnavailable,
  Unsupported,
  Corrupted,
  WriteRefused,
  NotPermitted,
  Timeout,
  NotFound,
  InvalidInput,
  Conflict,
  StorageInaccessible,
  Internal
] as const

/** Every failure the domain can report, as one schema for IPC and CLI encoding. */
export const FishbowlError = Schema.Union(errorClasses)
export type FishbowlError = typeof FishbowlError.Type

/** Tags of every domain error, for exhaustive handling (exit codes, UI placement). */
export const errorTags: ReadonlyArray<FishbowlError["_tag"]> = errorClasses.map((error) => error.fields._tag.schema.literal)

/** Recognises a domain error among arbitrary failures (e.g. to map defects at a boundary). */
export const isFishbowlError = Schema.is(FishbowlError)

/**
 * The domain error a failed run reports at a boundary (IPC, CLI): its failure when that is a
 * FishbowlError, else `internal`. Defects, interruptions and foreign errors are never passed on as
 * they are: they may say anything, a key included. Each boundary words its own `internal`.
 */
export const fromCause = (cause: Cause.Cause<unknown>, internal: Internal): FishbowlError => {
  const failure = Cause.findErrorOption(cause)
  return Option.isSome(failure) && isFishbowlError(failure.value) ? failure.value : internal
}

/**
 * `error` with `extra` appended to its hint, as the same class (a domain error's fields are its
 * own properties); anything without a hint is returned as it is.
 */
export const withHint = <E extends { readonly _tag: string }>(error: E, extra: string): E => {
  const hint = (error as { readonly hint?: unknown }).hint
  if (typeof hint !== "string" || !isFishbowlError(error)) return error
  const { _tag: _, ...fields } = error as unknown as Record<string, unknown>
  const Class = error.constructor as new(fields: Record<string, unknown>) => E
  return new Class({ ...fields, message: (error as { readonly message: string }).message, hint: `${hint} ${extra}` })
}
