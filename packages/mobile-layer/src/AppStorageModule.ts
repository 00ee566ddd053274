/**
 * The app's key-value storage, injected: AsyncStorage (`@react-native-async-storage/async-storage`)
 * or anything with its shape (expo-sqlite's kv-store, MMKV behind an adapter). The layer only needs
 * single-key reads and writes: the whole metadata document is one value, written by one `setItem`.
 * `type-tests/published-shapes.ts` proves the published AsyncStorage fits.
 */
import { Context } from "effect"

export interface AppStorageApi {
  readonly getItem: (key: string) => Promise<string | null>
  readonly setItem: (key: string, value: string) => Promise<void>
  readonly removeItem: (key: string) => Promise<void>
}

/** The injected storage module. */
export class AppStorage extends Context.Service<AppStorage, AppStorageApi>()("@fishbowl/mobile-layer/AppStorage") {}
