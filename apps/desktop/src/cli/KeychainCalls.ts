/**
 * The CLI's open keychain calls, which main.ts waits for: gnome-keyring 42 can abort when a
 * client vanishes mid-request, so the process never ends before every call it started is
 * answered. A module of its own so that main.ts depends on this set, not on the keytar adapter.
 */

/** Keychain calls started by this process and not yet answered. */
export const inFlight = new Set<Promise<unknown>>()

/** Resolves once no keychain call is in flight (waiting at most `limitMillis`). */
export const settled = async (limitMillis = 30_000): Promise<void> => {
  const deadline = Date.now() + limitMillis
  while (inFlight.size > 0 && Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([...inFlight]),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))
    ])
    clearTimeout(timer)
  }
}
