/**
 * Which frames may call the main process. Only documents loaded from the app's own bundled
 * renderer are trusted; a navigated-away frame, an iframe from the web or a devtools extension
 * gets a refusal, so a compromised page elsewhere cannot reach stored keys.
 */

export interface SenderPolicy {
  readonly isTrusted: (frameUrl: string | undefined) => boolean
}

/**
 * Trusts URLs under `rendererRoot` (a `file://` folder URL or an `app://` origin). Query strings
 * and fragments are ignored; path traversal is resolved by the URL parser before comparison.
 */
export const bundledOriginPolicy = (rendererRoot: string): SenderPolicy => {
  const root = new URL(rendererRoot.endsWith("/") ? rendererRoot : `${rendererRoot}/`)
  return {
    isTrusted: (frameUrl) => {
      if (frameUrl === undefined || frameUrl === "") return false
      let url: URL
      try {
        url = new URL(frameUrl)
      } catch {
        return false
      }
      return url.protocol === root.protocol && url.host === root.host && url.pathname.startsWith(root.pathname)
    }
  }
}
