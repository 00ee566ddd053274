/**
 * preferences.json in a brand-new temp folder for every layer build, removed with the layer, so
 * each contract test and each model-based sequence starts from nothing.
 */
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import { PreferencesStore } from "@fishbowl/domain"
import { Effect, FileSystem, Layer, type PlatformError } from "effect"
import * as NodePath from "node:path"
import * as JsonFilePreferencesStore from "../JsonFilePreferencesStore.ts"

export const freshJsonFileStore: Layer.Layer<PreferencesStore.PreferencesStore, PlatformError.PlatformError> = Layer.effect(
  PreferencesStore.PreferencesStore,
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "fishbowl-prefs-" })
    return yield* JsonFilePreferencesStore.make({ dataDir: NodePath.join(root, "Fishbowl") })
  })
).pipe(Layer.provide(NodeFileSystem.layer))
