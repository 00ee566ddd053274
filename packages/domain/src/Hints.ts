/**
 * Hint texts that more than one adapter gives for the same situation, written once so the
 * keychain, the IPC table, the store and the migration never drift apart in what they advise.
 */

/** A value too large for the secret store or the request: most likely more than the key was pasted. */
export const pasteOnlyTheKey = "Check that you pasted only the API key."

/** Keys cannot be imported into a store that forgets them at exit; nothing was read or deleted. */
export const keychainForMigration =
  "Make the system keychain available (see `fishbowl-llm doctor`) and migrate again; the legacy files are untouched."

/** Another process holds a legacy file's lock during migration. */
export const otherMigrationRunning = "Wait for the other migration or Fishbowl window to finish, then run the migration again."

/** An update whose key write failed in a way that may still land (a late keychain helper). */
export const mayStillLand =
  "The new key may still be saved: the change is finished, or undone, automatically the next time Fishbowl or fishbowl-llm starts, or with `fishbowl-llm doctor --fix` (or \"Finish interrupted changes\" in Storage health) once the keychain has had half a minute to answer."

/** An operation failed half-way and could not undo itself yet: what finishes it. */
export const leftToFinish =
  "Part of the change could not be undone yet; it is finished automatically the next time Fishbowl or fishbowl-llm starts, or now with `fishbowl-llm doctor --fix` (or \"Finish interrupted changes\" in Storage health)."

/**
 * `text` as one POSIX shell word, for commands printed in hints: bare when it is plainly safe,
 * else single-quoted with an inner quote as '\'' (bash, zsh and fish all read it back as `text`).
 */
export const shellWord = (text: string): string => /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
