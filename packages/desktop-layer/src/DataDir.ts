/**
 * Where Fishbowl keeps its files (preferences.json, later the encrypted secrets file).
 *
 * Precedence: an explicit directory (Electron passes `app.getPath("userData")`) > the
 * `FISHBOWL_DATA_DIR` environment variable (CLI, tests, portable installs) > the OS convention for
 * an app named "Fishbowl":
 * - Linux and other Unix: `$XDG_CONFIG_HOME/Fishbowl`, else `~/.config/Fishbowl`
 *   (Electron's own userData default, so the CLI and the app agree)
 * - macOS: `~/Library/Application Support/Fishbowl`
 * - Windows: `%APPDATA%\Fishbowl`, else `<home>\AppData\Roaming\Fishbowl`
 *
 * Relative values (option or env) are resolved against the current directory; empty values are
 * ignored, as is a relative `XDG_CONFIG_HOME` (the XDG spec says to ignore it).
 */
import { StorageFiles } from "@fishbowl/domain"
import { Effect } from "effect"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

/** Folder name under the OS configuration directory. */
export const APP_DIR_NAME = "Fishbowl"

/** Environment variable that overrides the OS convention. */
export const DATA_DIR_ENV = "FISHBOWL_DATA_DIR"

/** File name of the metadata document inside the data folder. */
export const PREFERENCES_FILE_NAME = StorageFiles.PREFERENCES_FILE_NAME

export interface DataDirInput {
  /** Explicit folder, e.g. Electron's `app.getPath("userData")`; wins over everything. */
  readonly explicit?: string | undefined
  readonly env: { readonly [name: string]: string | undefined }
  /** `process.platform` value. */
  readonly platform: NodeJS.Platform
  readonly homedir: string
  /** Directory relative paths are resolved against (default `process.cwd()`). */
  readonly cwd?: string | undefined
}

const nonEmpty = (value: string | undefined): string | undefined => value !== undefined && value.trim() !== "" ? value : undefined

/** Pure: the absolute data folder for the given environment (paths use the target platform's syntax). */
export const resolveDataDir = (input: DataDirInput): string => {
  const path = input.platform === "win32" ? NodePath.win32 : NodePath.posix
  const cwd = input.cwd ?? process.cwd()
  const chosen = nonEmpty(input.explicit) ?? nonEmpty(input.env[DATA_DIR_ENV])
  if (chosen !== undefined) return path.resolve(cwd, chosen)
  switch (input.platform) {
    case "darwin":
      return path.join(input.homedir, "Library", "Application Support", APP_DIR_NAME)
    case "win32": {
      const appData = nonEmpty(input.env["APPDATA"])
      return appData !== undefined && path.isAbsolute(appData)
        ? path.join(appData, APP_DIR_NAME)
        : path.join(input.homedir, "AppData", "Roaming", APP_DIR_NAME)
    }
    default: {
      const xdg = nonEmpty(input.env["XDG_CONFIG_HOME"])
      return xdg !== undefined && path.isAbsolute(xdg)
        ? path.join(xdg, APP_DIR_NAME)
        : path.join(input.homedir, ".config", APP_DIR_NAME)
    }
  }
}

/** `<dataDir>/preferences.json`, in the syntax of the running platform. */
export const preferencesPath = (dataDir: string): string => NodePath.join(dataDir, PREFERENCES_FILE_NAME)

/**
 * The data folder of this process (reads `process.env`, `process.platform`, `os.homedir()`).
 * Does not create the folder: writers do that (AtomicFile, with mode 0700).
 */
export const currentDataDir = (options?: { readonly explicit?: string | undefined }): Effect.Effect<string> =>
  Effect.sync(() =>
    resolveDataDir({
      explicit: options?.explicit,
      env: process.env,
      platform: process.platform,
      homedir: NodeOs.homedir()
    })
  )
