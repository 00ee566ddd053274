/**
 * The second tier: keys encrypted with Electron's `safeStorage` (DPAPI, Keychain-held key, or
 * the Secret Service/KWallet-held key on Linux) in a 0600 file beside preferences.json. Used only
 * when the OS keychain is unreachable from keytar but Electron can still encrypt with a real OS
 * key. `basic_text` and `unknown` backends are refused: they would be plaintext in disguise.
 *
 * safeStorage is injected, so envelopes, the atomic file and the refusal logic are tested in
 * Node without Electron.
 */
import { NodeFileSystem } from "@effect/platform-node-shared"
import { Errors, SecretRef, SecretStore } from "@fishbowl/domain"
import { Effect, FileSystem, Layer, Option, Redacted, Schema, Semaphore } from "effect"
import * as NodePath from "node:path"
import * as AtomicFile from "./AtomicFile.ts"

/**
 * The slice of Electron's `safeStorage` this tier needs: the asynchronous API only (Electron 45's
 * electron.d.ts deprecates `encryptString`, `decryptString` and `isEncryptionAvailable`; the
 * synchronous calls can wait on a keychain prompt and freeze every window). Electron's own
 * `safeStorage` satisfies it structurally.
 */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  encryptStringAsync(plainText: string): Promise<Buffer>
  /** `shouldReEncrypt`: the OS key was rotated (or a stronger one is available): encrypt again. */
  decryptStringAsync(encrypted: Buffer): Promise<{ readonly shouldReEncrypt: boolean; readonly result: string }>
  /** Linux only in Electron: `basic_text`, `gnome_libsecret`, `kwallet`, `kwallet5`, `kwallet6`, `unknown`. */
  getSelectedStorageBackend?(): string
}

export const SECRETS_FILE_NAME = "secrets.enc.json"

/** Backends whose "encryption" uses a hard-coded key: refused. */
const INSECURE_BACKENDS = new Set(["basic_text", "unknown"])

/** Why safeStorage cannot be used, or undefined when it can (a failing availability check counts as unavailable). */
export const safeStorageProblem = (safeStorage: SafeStorageLike): Effect.Effect<string | undefined> =>
  Effect.tryPromise(() => safeStorage.isAsyncEncryptionAvailable()).pipe(
    Effect.orElseSucceed(() => false),
    Effect.map((available) => {
      if (!available) return "Electron safeStorage reports that encryption is not available"
      const backend = safeStorage.getSelectedStorageBackend?.()
      if (backend !== undefined && INSECURE_BACKENDS.has(backend)) {
        return `Electron safeStorage would use the "${backend}" backend, which is not real encryption`
      }
      return undefined
    })
  )

const SecretsFile = Schema.Struct({
  version: Schema.Literal(1),
  /** ref → base64 ciphertext of an Envelope. */
  entries: Schema.Record(Schema.String, Schema.String)
})
type SecretsFile = typeof SecretsFile.Type

/** What is encrypted: the value bound to its ref, so swapping ciphertexts between entries is detected. */
const Envelope = Schema.Struct({ v: Schema.Literal(1), ref: Schema.String, value: Schema.String })
const decodeEnvelope = Schema.decodeUnknownSync(Schema.fromJsonString(Envelope))

const refKey = (ref: SecretRef.SecretRef) => SecretRef.describeSecretRef(ref)

const decodeFile = Schema.decodeUnknownEffect(Schema.fromJsonString(SecretsFile))

export interface SafeStorageSecretStoreOptions {
  readonly safeStorage: SafeStorageLike
  readonly dataDir: string
}

const inaccessible = (path: string, code: string | undefined) =>
  new Errors.StorageInaccessible({
    message: `The encrypted key file ${path} cannot be used (${code ?? "I/O error"})`,
    hint: "Check the permissions of Fishbowl's data folder and that the disk is not full or read-only."
  })

export const make = Effect.fnUntraced(function*(options: SafeStorageSecretStoreOptions) {
  const fs = yield* FileSystem.FileSystem
  const { safeStorage } = options
  const path = NodePath.join(options.dataDir, SECRETS_FILE_NAME)
  const lock = yield* Semaphore.make(1)

  /** The last availability answer, for `describe` (which must not wait on the OS). */
  let lastProblem = yield* safeStorageProblem(safeStorage)
  const refuseIfUnusable = Effect.gen(function*() {
    lastProblem = yield* safeStorageProblem(safeStorage)
    if (lastProblem === undefined) return
    return yield* new Errors.Unsupported({
      reason: "no-secure-storage",
      message: lastProblem,
      hint: "Install and unlock gnome-keyring or KWallet so Electron can protect keys with an OS key."
    })
  })

  const encrypt = (ref: SecretRef.SecretRef, text: string) =>
    Effect.tryPromise({
      try: () => safeStorage.encryptStringAsync(JSON.stringify({ v: 1, ref: refKey(ref), value: text })),
      catch: () => new Errors.InvalidInput({ field: ref.account, message: "The key could not be encrypted", hint: "Try again." })
    }).pipe(Effect.map((buffer) => buffer.toString("base64")))

  const read: Effect.Effect<SecretsFile, Errors.StorageInaccessible> = fs.readFileString(path).pipe(
    Effect.flatMap((text) => decodeFile(text).pipe(Effect.mapError(() => inaccessible(path, "unreadable contents")))),
    Effect.catchTag(
      "PlatformError",
      (error) =>
        error.reason._tag === "NotFound"
          ? Effect.succeed({ version: 1 as const, entries: {} })
          : Effect.fail(inaccessible(path, AtomicFile.errnoCode(error)))
    )
  )

  const write = (file: SecretsFile) =>
    AtomicFile.writeFileAtomic(path, JSON.stringify(file), { mode: 0o600 }).pipe(
      Effect.mapError((error) => inaccessible(path, AtomicFile.errnoCode(error))),
      Effect.provideService(FileSystem.FileSystem, fs)
    )

  /**
   * Writes `ciphertext` for `ref` again when the file still holds `previous` there (a value that
   * was re-encrypted after a key rotation): atomic, under the lock, never over a newer write.
   */
  const replaceIfUnchanged = (ref: SecretRef.SecretRef, previous: string, ciphertext: string) =>
    lock.withPermits(1)(Effect.gen(function*() {
      const file = yield* read
      if (file.entries[refKey(ref)] !== previous) return
      yield* write({ version: 1, entries: { ...file.entries, [refKey(ref)]: ciphertext } })
    }))

  const get = Effect.fn("SafeStorageSecretStore.get")(function*(ref: SecretRef.SecretRef) {
    yield* refuseIfUnusable
    const file = yield* read
    const ciphertext = file.entries[refKey(ref)]
    if (ciphertext === undefined) return Option.none<Redacted.Redacted<string>>()
    const undecryptable = new Errors.Unsupported({
      reason: "key-undecryptable",
      message: `The encrypted value of ${SecretRef.spokenName(ref)} cannot be decrypted on this machine`,
      hint: "It was encrypted under another user or OS key. Edit the configuration and replace the key."
    })
    const decrypted = yield* Effect.tryPromise({
      try: () => safeStorage.decryptStringAsync(Buffer.from(ciphertext, "base64")),
      catch: () => undecryptable
    })
    const envelope = yield* Effect.try({ try: () => decodeEnvelope(decrypted.result), catch: () => undecryptable })
    if (envelope.ref !== refKey(ref)) {
      return yield* new Errors.Unsupported({
        reason: "key-undecryptable",
        message: `The encrypted value of ${SecretRef.spokenName(ref)} belongs to another entry`,
        hint: "The key file was altered. Edit the configuration and replace the key."
      })
    }
    if (decrypted.shouldReEncrypt) {
      // The OS key was rotated: the value is written again under the new key. A failure here
      // loses nothing (the old ciphertext still decrypts), so the read succeeds regardless.
      yield* encrypt(ref, envelope.value).pipe(
        Effect.flatMap((fresh) => replaceIfUnchanged(ref, ciphertext, fresh)),
        Effect.ignore
      )
    }
    return Option.some(Redacted.make(envelope.value))
  })

  const set = Effect.fn("SafeStorageSecretStore.set")(function*(ref: SecretRef.SecretRef, value: Redacted.Redacted<string>) {
    const text = yield* SecretStore.checkSecretValue(ref, value)
    yield* refuseIfUnusable
    const ciphertext = yield* encrypt(ref, text)
    yield* lock.withPermits(1)(
      Effect.flatMap(read, (file) => write({ version: 1, entries: { ...file.entries, [refKey(ref)]: ciphertext } }))
    )
  })

  const remove = Effect.fn("SafeStorageSecretStore.delete")(function*(ref: SecretRef.SecretRef) {
    yield* refuseIfUnusable
    return yield* lock.withPermits(1)(
      Effect.gen(function*() {
        const file = yield* read
        if (!(refKey(ref) in file.entries)) return false
        const { [refKey(ref)]: _removed, ...entries } = file.entries
        yield* write({ version: 1, entries })
        return true
      })
    )
  })

  return SecretStore.SecretStore.of({
    get,
    set,
    delete: remove,
    describe: Effect.sync(() => ({
      backend: `electron-safe-storage${safeStorage.getSelectedStorageBackend ? `:${safeStorage.getSelectedStorageBackend()}` : ""}`,
      tier: "encrypted-file" as const,
      persistent: true,
      secure: lastProblem === undefined,
      distinguishesLockedFromAbsent: true,
      detail: `Keys are encrypted with an OS-protected key (Electron safeStorage) in ${path}`,
      warning: "The OS keychain was not reachable, so keys are kept in an encrypted file instead."
    })),
    authorize: refuseIfUnusable,
    placement: Effect.succeed("encrypted-file" as const),
    sessionId: SecretStore.newSessionId(),
    // An atomic replace of a file in this process: nothing outlives it.
    lateWriteMillis: 0
  })
})

/** The encrypted-file tier as the domain's SecretStore. */
export const layer = (options: SafeStorageSecretStoreOptions): Layer.Layer<SecretStore.SecretStore> =>
  Layer.effect(SecretStore.SecretStore, make(options)).pipe(Layer.provide(NodeFileSystem.layer))
