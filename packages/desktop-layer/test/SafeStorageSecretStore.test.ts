/**
 * The encrypted-file tier without Electron: safeStorage is replaced by a real AES-256-GCM cipher
 * with the same shape, so envelopes, the atomic 0600 file, refusal of insecure backends and the
 * SecretStore contract are all exercised.
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { LlmConfigStore, SecretStore } from "@fishbowl/domain"
import { Fixtures, SecretStoreContract } from "@fishbowl/domain/testing"
import { Effect, Fiber, FileSystem, Layer, Option, Redacted } from "effect"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { vi } from "vitest"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as SafeStorageSecretStore from "../src/SafeStorageSecretStore.ts"
import * as SecretBackend from "../src/SecretBackend.ts"
import * as TempDirs from "../src/testing/TempDirs.ts"

/**
 * Stand-in for Electron's safeStorage, asynchronous API only, exactly as electron.d.ts (Electron
 * 45) types it: `isAsyncEncryptionAvailable(): Promise<boolean>`, `encryptStringAsync(plainText):
 * Promise<Buffer>`, `decryptStringAsync(encrypted): Promise<{ shouldReEncrypt, result }>` (rejects
 * when it cannot decrypt). AES-256-GCM under a per-instance key, like an OS-held key; `rotate()`
 * starts a new key, under which older ciphertexts still decrypt with `shouldReEncrypt: true`;
 * `hold` makes every call wait for a gate the test opens (a slow OS prompt), and `fail` rejects.
 */
const fakeSafeStorage = (options?: { available?: boolean; backend?: string }) => {
  const keys = [randomBytes(32)]
  let gate: Promise<void> = Promise.resolve()
  let pending = 0
  const failing = new Set<"available" | "encrypt" | "decrypt">()
  const seal = (key: Buffer, index: number, plainText: string) => {
    const iv = randomBytes(12)
    const cipher = createCipheriv("aes-256-gcm", key, iv)
    const body = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()])
    return Buffer.concat([Buffer.from([index]), iv, cipher.getAuthTag(), body])
  }
  const open = (encrypted: Buffer) => {
    const index = encrypted[0]!
    const key = keys[index]
    if (key === undefined) throw new Error("Error while decrypting the ciphertext provided to safeStorage.decryptString.")
    const decipher = createDecipheriv("aes-256-gcm", key, encrypted.subarray(1, 13))
    decipher.setAuthTag(encrypted.subarray(13, 29))
    return {
      shouldReEncrypt: index !== keys.length - 1,
      result: Buffer.concat([decipher.update(encrypted.subarray(29)), decipher.final()]).toString("utf8")
    }
  }
  const call = async <A>(what: "available" | "encrypt" | "decrypt", run: () => A): Promise<A> => {
    pending++
    try {
      await gate
      if (failing.has(what)) throw new Error(`safeStorage: ${what} failed`)
      return run()
    } finally {
      pending--
    }
  }
  const safeStorage: SafeStorageSecretStore.SafeStorageLike = {
    isAsyncEncryptionAvailable: () => call("available", () => options?.available ?? true),
    getSelectedStorageBackend: () => options?.backend ?? "gnome_libsecret",
    encryptStringAsync: (plainText) => call("encrypt", () => seal(keys[keys.length - 1]!, keys.length - 1, plainText)),
    decryptStringAsync: (encrypted) => call("decrypt", () => open(encrypted))
  }
  return Object.assign(safeStorage, {
    rotate: () => void keys.push(randomBytes(32)),
    /** Every call from now on waits until the returned function is called. */
    hold: () => {
      let release!: () => void
      gate = new Promise<void>((resolve) => release = resolve)
      return () => {
        gate = Promise.resolve()
        release()
      }
    },
    pending: () => pending,
    fail: (what: "available" | "encrypt" | "decrypt") => void failing.add(what)
  })
}

/** A fresh data folder per layer build. */
const freshLayer = (safeStorage: SafeStorageSecretStore.SafeStorageLike) =>
  Layer.unwrap(
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped({ prefix: "fishbowl-safe-" })
      return SafeStorageSecretStore.layer({ safeStorage, dataDir: root })
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))

SecretStoreContract.secretStoreContract("Electron safeStorage file (AES-GCM stand-in)", freshLayer(fakeSafeStorage()))

const withStore = <A, E>(
  dataDir: string,
  safeStorage: SafeStorageSecretStore.SafeStorageLike,
  body: (store: SecretStore.SecretStore["Service"]) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    return yield* body(yield* SecretStore.SecretStore)
  }).pipe(Effect.provide(SafeStorageSecretStore.layer({ safeStorage, dataDir })))

const ref = { service: "fishbowl.openai.0f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", account: "apiKey" as const }
const otherRef = { service: "fishbowl.openai.1f8b5a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b", account: "apiKey" as const }

describe("SafeStorageSecretStore", () => {
  it.live("writes only ciphertext, in a 0600 file, and leaves no temp files", () => {
    const dataDir = TempDirs.testTempDir("safe")
    const canary = Fixtures.makeCanaryKey("safe")
    return withStore(dataDir, fakeSafeStorage(), (store) =>
      Effect.gen(function*() {
        yield* store.set(ref, Redacted.make(canary))
        const path = NodePath.join(dataDir, SafeStorageSecretStore.SECRETS_FILE_NAME)
        assert.notInclude(readFileSync(path, "utf8"), canary)
        assert.notInclude(readFileSync(path).toString("latin1"), canary.slice(-12))
        assert.strictEqual(statSync(path).mode & 0o777, 0o600)
        assert.deepStrictEqual(readdirSync(dataDir), [SafeStorageSecretStore.SECRETS_FILE_NAME])
        assert.deepStrictEqual(Option.map(yield* store.get(ref), Redacted.value), Option.some(canary))
      }))
  })

  it.live("detects a ciphertext moved to another entry", () => {
    const dataDir = TempDirs.testTempDir("safe")
    const safeStorage = fakeSafeStorage()
    return withStore(dataDir, safeStorage, (store) =>
      Effect.gen(function*() {
        yield* store.set(ref, Redacted.make("sk-one"))
        const path = NodePath.join(dataDir, SafeStorageSecretStore.SECRETS_FILE_NAME)
        const file = JSON.parse(readFileSync(path, "utf8"))
        const moved = { version: 1, entries: { [`${otherRef.service}/${otherRef.account}`]: Object.values(file.entries)[0] } }
        writeFileSync(path, JSON.stringify(moved))
        const error = yield* Effect.flip(store.get(otherRef))
        assert.strictEqual(error._tag, "Unsupported")
        assert.include(error.hint, "replace the key")
      }))
  })

  it.live("a key encrypted under another OS key cannot be read and says how to recover", () => {
    const dataDir = TempDirs.testTempDir("safe")
    return Effect.gen(function*() {
      yield* withStore(dataDir, fakeSafeStorage(), (store) => store.set(ref, Redacted.make("sk-one")))
      const error = yield* Effect.flip(withStore(dataDir, fakeSafeStorage(), (store) => store.get(ref)))
      assert.strictEqual(error._tag, "Unsupported")
      assert.include(error.message, "cannot be decrypted")
    })
  })

  for (
    const [label, options] of [
      ["basic_text backend", { backend: "basic_text" }],
      ["unknown backend", { backend: "unknown" }],
      ["encryption unavailable", { available: false }]
    ] as const
  ) {
    it.live(`refuses to store anything with ${label}`, () => {
      const dataDir = TempDirs.testTempDir("safe")
      return withStore(dataDir, fakeSafeStorage(options), (store) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(store.set(ref, Redacted.make("sk-never")))
          assert.strictEqual(error._tag, "Unsupported")
          assert.deepStrictEqual(readdirSync(dataDir), [], "nothing was written")
          assert.isFalse((yield* store.describe).secure)
        }))
    })
  }
})

const noKeychain = { workerEnv: { PATH: process.env["PATH"] ?? "", HOME: tmpdir() } }

describe("tier selection with safeStorage", () => {
  it.live("auto falls back to the encrypted file when the keychain is unreachable and safeStorage is real", () =>
    Effect.gen(function*() {
      const store = yield* LlmConfigStore.LlmConfigStore
      const status = yield* store.status
      assert.strictEqual(status.secretStore.tier, "encrypted-file")
      assert.isTrue(status.secretStore.persistent)
      assert.isDefined(status.secretStore.warning)
      const config = yield* store.create(Fixtures.configInput({ provider: "openai", name: "Enc", apiKey: "sk-encrypted" }))
      assert.strictEqual(Redacted.value(yield* store.getApiKey(config.id)), "sk-encrypted")
    }).pipe(Effect.provide(DesktopLayer.layer({
      dataDir: TempDirs.testTempDir("tier"),
      safeStorage: fakeSafeStorage(),
      keytar: noKeychain
    }))))

  it.live("auto skips a basic_text safeStorage and uses the session tier, with a warning", () =>
    Effect.gen(function*() {
      const status = yield* (yield* LlmConfigStore.LlmConfigStore).status
      assert.strictEqual(status.secretStore.tier, "session")
      assert.include(status.secretStore.warning ?? "", "not saved")
    }).pipe(Effect.provide(DesktopLayer.layer({
      dataDir: TempDirs.testTempDir("tier"),
      safeStorage: fakeSafeStorage({ backend: "basic_text" }),
      keytar: noKeychain
    }))))

  it.live("forcing safe-storage outside Electron fails loudly", () =>
    Effect.gen(function*() {
      const store = yield* SecretStore.SecretStore
      const error = yield* Effect.flip(store.set(ref, Redacted.make("sk-x")))
      assert.strictEqual(error._tag, "Unsupported")
      assert.include(error.hint, "FISHBOWL_SECRET_BACKEND")
    }).pipe(Effect.provide(SecretBackend.layer({
      dataDir: TempDirs.testTempDir("tier"),
      preference: "safe-storage",
      keytar: noKeychain
    }))))
})

describe("safeStorage through the asynchronous API only (issue 25)", () => {
  const ref = { service: "fishbowl", account: "openai.6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b" } as never
  const entries = (dataDir: string) =>
    JSON.parse(readFileSync(NodePath.join(dataDir, SafeStorageSecretStore.SECRETS_FILE_NAME), "utf8")).entries

  it.live("a value whose decrypt says shouldReEncrypt is encrypted again under the new key and written back atomically", () => {
    const dataDir = TempDirs.testTempDir("safe-rotate")
    const safeStorage = fakeSafeStorage()
    return withStore(dataDir, safeStorage, (store) =>
      Effect.gen(function*() {
        yield* store.set(ref, Redacted.make("sk-rotate-me"))
        const before = entries(dataDir)
        safeStorage.rotate()
        assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.get(ref))), "sk-rotate-me")
        const after = entries(dataDir)
        assert.notDeepEqual(after, before, "rewritten under the new key")
        const decrypted = yield* Effect.promise(() =>
          safeStorage.decryptStringAsync(Buffer.from(Object.values(after)[0] as string, "base64"))
        )
        assert.isFalse(decrypted.shouldReEncrypt, "the stored value is under the current key")
        assert.deepStrictEqual(readdirSync(dataDir).filter((name) => name.endsWith(".tmp")), [], "no temp file left")
      }))
  })

  it.live("the event loop keeps turning while an encrypt or a decrypt waits (a slow OS prompt)", () => {
    const dataDir = TempDirs.testTempDir("safe-slow")
    const safeStorage = fakeSafeStorage()
    return withStore(dataDir, safeStorage, (store) =>
      Effect.gen(function*() {
        for (const operation of [store.set(ref, Redacted.make("sk-slow")), store.get(ref)]) {
          const release = safeStorage.hold()
          const fiber = yield* Effect.forkChild(operation)
          // Wait for the call to reach safeStorage, then count turns of the loop while it waits:
          // with a synchronous API none could happen until it returned.
          yield* Effect.promise(() => vi.waitUntil(() => safeStorage.pending() > 0, { timeout: 60_000 }))
          let turns = 0
          for (let index = 0; index < 5; index++) {
            yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => resolve(void turns++))))
          }
          assert.strictEqual(turns, 5)
          assert.isAbove(safeStorage.pending(), 0, "the call is still waiting")
          release()
          yield* Fiber.join(fiber)
        }
      }))
  })

  it.live("failures of the asynchronous calls are typed: encrypt → InvalidInput, decrypt → Unsupported, availability → refused", () => {
    const dataDir = TempDirs.testTempDir("safe-fail")
    return Effect.gen(function*() {
      const encrypting = fakeSafeStorage()
      encrypting.fail("encrypt")
      assert.strictEqual(
        (yield* Effect.flip(withStore(dataDir, encrypting, (store) => store.set(ref, Redacted.make("sk-x")))))._tag,
        "InvalidInput"
      )
      const decrypting = fakeSafeStorage()
      yield* withStore(dataDir, decrypting, (store) => store.set(ref, Redacted.make("sk-y")))
      decrypting.fail("decrypt")
      assert.strictEqual((yield* Effect.flip(withStore(dataDir, decrypting, (store) => store.get(ref))))._tag, "Unsupported")
      const unavailable = fakeSafeStorage()
      unavailable.fail("available")
      const refused = yield* Effect.flip(withStore(dataDir, unavailable, (store) => store.set(ref, Redacted.make("sk-z"))))
      assert.strictEqual(refused._tag, "Unsupported")
      assert.include(refused.message, "encryption is not available")
    })
  })
})
