/**
 * Per-key serialisation inside one process: effects under the same key run one at a time, others
 * run freely, and a key's semaphore is dropped once nobody uses it (so keys do not accumulate).
 * Used by the store (one lock per configuration id) and by the mobile secret store (per entry).
 */
import { Effect, Semaphore } from "effect"

export type KeyedLock = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

export const make = (): KeyedLock => {
  const locks = new Map<string, { readonly semaphore: Semaphore.Semaphore; users: number }>()
  return (key, effect) =>
    Effect.suspend(() => {
      const entry = locks.get(key) ?? { semaphore: Semaphore.makeUnsafe(1), users: 0 }
      locks.set(key, entry)
      entry.users++
      return entry.semaphore.withPermits(1)(effect).pipe(
        Effect.ensuring(Effect.sync(() => {
          entry.users--
          if (entry.users === 0) locks.delete(key)
        }))
      )
    })
}
