export declare const fuseSettings: {
  readonly version: "V1"
  readonly runAsNode: boolean
  readonly enableCookieEncryption: boolean
  readonly enableNodeOptionsEnvironmentVariable: boolean
  readonly enableNodeCliInspectArguments: boolean
  readonly enableEmbeddedAsarIntegrityValidation: boolean
  readonly onlyLoadAppFromAsar: boolean
  readonly loadBrowserProcessSpecificV8Snapshot: boolean
  readonly grantFileProtocolExtraPrivileges: boolean
}
export declare const toFuseConfig: (fuses: unknown) => Record<string, unknown>
