export declare const electronBinaryPath: () => string | undefined
export declare const packagingBlocker: () => string | undefined
