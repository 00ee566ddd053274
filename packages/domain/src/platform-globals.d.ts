/**
 * The only runtime facilities the domain assumes, declared by hand instead of pulling in the DOM
 * or Node type libraries: Node, Electron, browsers and Hermes (React Native) all provide them.
 * Compiling against nothing else is what keeps platform APIs out of this package.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array
}

declare class URL {
  constructor(url: string, base?: string)
  readonly href: string
  readonly protocol: string
  readonly hostname: string
  readonly username: string
  readonly password: string
  readonly hash: string
  readonly searchParams: { keys(): IterableIterator<string> }
}

declare var crypto:
  | {
    randomUUID?: () => string
    getRandomValues?: <T extends Uint8Array>(array: T) => T
  }
  | undefined
