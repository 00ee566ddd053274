/** Types of build-cli.mjs, for tests that build the CLI before running it. */
export declare const appRoot: string
export declare const cliOutDir: string
/** Bundles src/cli/main.ts (and copies the keytar worker) into `outDir` (default cli-dist); resolves to it. */
export declare const buildCli: (options?: { readonly outDir?: string }) => Promise<string>
