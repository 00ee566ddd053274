/**
 * A main-process runtime over the domain's memory ports plus the fault layer, for handler tests
 * that need to inject latency or keychain failures. Real-keychain runs use DesktopLayer (main.ts).
 */
import { Diagnostics, Liveness, LlmConfigStore } from "@fishbowl/domain"
import { FaultInjection } from "@fishbowl/domain/testing"
import { Layer, ManagedRuntime } from "effect"

export const make = () =>
  ManagedRuntime.make(
    Layer.mergeAll(LlmConfigStore.layer, Diagnostics.layerFromPorts).pipe(
      Layer.provideMerge(Layer.merge(FaultInjection.layerMemory, Liveness.layerMemory))
    )
  )
