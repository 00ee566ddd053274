/**
 * Which secrets this app may have written to expo-secure-store. The store cannot enumerate its
 * keys, so the orphan sweep needs a list; it lives in the secure store itself (pages under
 * `fishbowl._index.<n>`) because it must share the keychain's fate: after an iOS reinstall the
 * keychain and this index survive while app storage is gone, which is exactly when the sweep runs.
 *
 * The index holds names only (`fishbowl.<provider>.<config-id>` services), never values, and is
 * a superset: a service is recorded before its first secret is written and forgotten only after
 * the sweep deleted its secrets, so a crash can leave an extra name but never an unlisted secret.
 */
import type { Errors, SecretRef } from "@fishbowl/domain"
import { Context, Effect, Layer, Option, Schema, Semaphore } from "effect"
import * as ExpoSecureStoreModule from "./ExpoSecureStoreModule.ts"
import * as SecureStoreKey from "./SecureStoreKey.ts"

export interface SecretKeyIndexService {
  /** Records the ref's service; called before the secret is written. */
  readonly record: (ref: SecretRef.SecretRef) => Effect.Effect<void, Errors.SecretStoreError>
  /** Every recorded service, read from the store once per instance and then kept in memory. */
  readonly services: Effect.Effect<ReadonlyArray<string>, Errors.SecretStoreError>
  /** Drops services whose secrets are gone. */
  readonly forget: (services: ReadonlyArray<string>) => Effect.Effect<void, Errors.SecretStoreError>
  /** Index pages that existed but could not be read (e.g. not decryptable after an Android restore). */
  readonly unreadablePages: Effect.Effect<number, Errors.SecretStoreError>
}

/** Key of index page `n`; `_` is not allowed in a service, so it never equals a secret's key. */
export const indexPageKey = (page: number) => `${SecureStoreKey.RESERVED_KEY_PREFIX}index.${page}`

const Page = Schema.fromJsonString(Schema.Array(Schema.String.check(Schema.isPattern(/^fishbowl\.[a-z0-9.-]+$/))))
const decodePage = Schema.decodeUnknownOption(Page)

/** Upper bound on pages read, so a corrupted store cannot make the load loop forever. */
const MAX_PAGES = 256

export class SecretKeyIndex extends Context.Service<SecretKeyIndex, SecretKeyIndexService>()(
  "@fishbowl/mobile-layer/SecretKeyIndex"
) {}

/** The index over the injected expo-secure-store module, with the same options as the secrets. */
export const layer = (settings: ExpoSecureStoreModule.ExpoSecureStoreSettings = {}) => Layer.effect(SecretKeyIndex, make(settings))

export const make = Effect.fnUntraced(function*(settings: ExpoSecureStoreModule.ExpoSecureStoreSettings = {}) {
  const native = yield* ExpoSecureStoreModule.ExpoSecureStore
  const options = ExpoSecureStoreModule.nativeOptions(native, settings)
  const pageBytes = settings.maxValueBytes ?? ExpoSecureStoreModule.DEFAULT_MAX_VALUE_BYTES
  const lock = yield* Semaphore.make(1)
  let cache: { pages: Array<ReadonlyArray<string>>; unreadable: number } | undefined

  const label = (page: number) => `the key index (page ${page})`

  /** A page's services; `undefined` past the last page; `"unreadable"` when it cannot be decrypted or parsed. */
  const readPage = (page: number): Effect.Effect<ReadonlyArray<string> | "unreadable" | undefined, Errors.SecretStoreError> =>
    Effect.tryPromise({ try: () => native.getItemAsync(indexPageKey(page), options), catch: ExpoSecureStoreModule.rejected }).pipe(
      Effect.map((text) => text === null ? undefined : Option.getOrElse(decodePage(text), () => "unreadable" as const)),
      Effect.catchTag("NativeRejection", ({ cause }) =>
        ExpoSecureStoreModule.classifyNativeFailure(cause) === "undecryptable"
          ? Effect.succeed("unreadable" as const)
          : Effect.fail(ExpoSecureStoreModule.nativeFailure("read", label(page), cause)))
    )

  const writePage = (page: number, services: ReadonlyArray<string>) =>
    Effect.tryPromise({
      try: () => native.setItemAsync(indexPageKey(page), JSON.stringify(services), options),
      catch: (cause) => ExpoSecureStoreModule.nativeFailure("write", label(page), cause)
    })

  const deletePage = (page: number) =>
    Effect.tryPromise({
      try: () => native.deleteItemAsync(indexPageKey(page), options),
      catch: (cause) => ExpoSecureStoreModule.nativeFailure("delete", label(page), cause)
    })

  const load = Effect.gen(function*() {
    if (cache !== undefined) return cache
    const pages: Array<ReadonlyArray<string>> = []
    let unreadable = 0
    for (let page = 0; page < MAX_PAGES; page++) {
      const content = yield* readPage(page)
      if (content === undefined) break
      if (content === "unreadable") unreadable++
      pages.push(content === "unreadable" ? [] : content)
    }
    cache = { pages, unreadable }
    return cache
  })

  const fits = (services: ReadonlyArray<string>) => JSON.stringify(services).length <= pageBytes

  const record = Effect.fn("SecretKeyIndex.record")(function*(ref: SecretRef.SecretRef) {
    yield* lock.withPermits(1)(Effect.gen(function*() {
      const state = yield* load
      if (state.pages.some((services) => services.includes(ref.service))) return
      const last = state.pages.length - 1
      const target = last >= 0 && fits([...state.pages[last]!, ref.service]) ? last : state.pages.length
      const next = [...(state.pages[target] ?? []), ref.service]
      yield* writePage(target, next)
      state.pages[target] = next
    }))
  })

  const forget = Effect.fn("SecretKeyIndex.forget")(function*(services: ReadonlyArray<string>) {
    yield* lock.withPermits(1)(Effect.gen(function*() {
      const state = yield* load
      const dropped = new Set(services)
      for (const [page, current] of state.pages.entries()) {
        const next = current.filter((service) => !dropped.has(service))
        if (next.length === current.length) continue
        yield* writePage(page, next)
        state.pages[page] = next
      }
      // Trailing empty pages go last, so a crash here leaves at worst an empty page, never a gap.
      while (state.pages.length > 0 && state.pages[state.pages.length - 1]!.length === 0) {
        yield* deletePage(state.pages.length - 1)
        state.pages.pop()
      }
    }))
  })

  return SecretKeyIndex.of({
    record,
    services: lock.withPermits(1)(load).pipe(Effect.map((state) => Array.from(new Set(state.pages.flat())))),
    forget,
    unreadablePages: lock.withPermits(1)(load).pipe(Effect.map((state) => state.unreadable))
  })
})
