/** Types of build.mjs, for tests that build the app before driving it. */
export declare const appRoot: string
export declare const defaultOutDir: string
export declare const buildMain: (outDir?: string) => Promise<void>
export declare const buildPreload: (outDir?: string, defines?: Record<string, string>) => Promise<void>
/** Builds dist/renderer into `outDir`/renderer; resolves to that folder. */
export declare const buildRenderer: (outDir?: string, defines?: Record<string, string>) => Promise<string>
/** Builds main, preload and renderer into `outDir` (default apps/desktop/dist); resolves to it. */
export declare const build: (options?: { readonly outDir?: string }) => Promise<string>
