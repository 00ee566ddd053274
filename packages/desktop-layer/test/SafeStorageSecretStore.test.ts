/**
 * The encrypted-file tier without Electron: safeStorage is replaced by a real AES-256-GCM cipher
 * with the same shape, so envelopes, the atomic 0600 file, refusal of insecure backends and the
 * SecretStore contract are all exercised.
 */
import { assert, describe, it } from "@effect/vitest"
import { LlmConfigStore, SecretStore } from "@fishbowl/domain"
import { Fixtures, SecretStoreContract } from "@fishbowl/domain/testing"
import * as DesktopLayer from "../src/DesktopLayer.ts"
import * as SafeStorageSecretStore from "../src/SafeStorageSecretStore.ts"
import * as SecretBackend from "../src/SecretBackend.ts"
import * as TempDirs from "../src/testing/TempDirs.ts"
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { Effect, FileSystem, Layer, Option, Redacted } from "effect"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"

/** Stand-in for Electron's safeStorage: AES-256-GCM under a per-instance key, like an OS-held key. */
const fakeSafeStorage = (options?: { available?: boolean; backend?: string }): SafeStorageSecretStore.SafeStorageLike => {
  const key = randomBytes(32)
  return {
    isEncryptionAvailable: () => options?.available ?? true,
    getSelectedStorageBackend: () => options?.backend ?? "gnome_libsecret",
    encryptString: (plainText) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", key, iv)
      const body = Buffer.concat([cipher.update(plainText, "utf8"), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body])
    },
    decryptString: (encrypted) => {
      const decipher = createDecipheriv("aes-256-gcm", key, encrypted.subarray(0, 12))
      decipher.setAuthTag(encrypted.subarray(12, 28))
      return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString("utf8")
    }
  }
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

const withStore = <A, E>(dataDir: string, safeStorage: SafeStorageSecretStore.SafeStorageLike, body: (store: SecretStore.SecretStore["Service"]) => Effect.Effect<A, E>) =>
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

  for (const [label, options] of [
    ["basic_text backend", { backend: "basic_text" }],
    ["unknown backend", { backend: "unknown" }],
    ["encryption unavailable", { available: false }]
  ] as const) {
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
