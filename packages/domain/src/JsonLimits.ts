import * as LlmConfig from "./LlmConfig.ts"

/**
 * Bounds on the JSON documents the stores read (preferences.json, Fishbowl's legacy files).
 * A file another program (or another user) wrote must never cost unbounded memory, nor a stack
 * overflow in a recursive walker (JSON.parse, Schema decoding, structural equality): the text is
 * measured and its nesting depth counted, without recursion, before anything parses it.
 */

/** Largest document read, in bytes. 10,000 configurations take about 3 MB. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

/** Deepest nesting of arrays and objects accepted; real settings nest a handful of levels. */
export const MAX_JSON_DEPTH = 100

/** Why a text was refused before parsing, or parsing itself failed. */
export type BoundedJsonFailure =
  | { readonly _tag: "TooLarge"; readonly bytes: number; readonly maxBytes: number }
  | { readonly _tag: "TooDeep"; readonly maxDepth: number }
  | { readonly _tag: "NotJson"; readonly reason: string }

export type BoundedJsonResult =
  | { readonly _tag: "Parsed"; readonly value: unknown }
  | { readonly _tag: "Refused"; readonly failure: BoundedJsonFailure }

/**
 * Outside strings only quotes and brackets matter; inside, only quotes and backslashes. Each
 * expression matches one character (no nested repetition), so no input can exhaust the
 * expression engine's backtracking stack, however long its strings or runs of escapes.
 */
const STRUCTURAL = /["{}[\]]/g
const STRING_END = /["\\]/g

/** Index just past the string whose opening quote is at `quote`; `text.length` if unterminated. */
const endOfString = (text: string, quote: number): number => {
  let at = quote + 1
  for (;;) {
    STRING_END.lastIndex = at
    const found = STRING_END.exec(text)
    if (found === null) return text.length
    // a backslash escapes the next character, whatever it is
    if (text.charCodeAt(found.index) === 0x5c) at = found.index + 2
    else return found.index + 1
  }
}

/**
 * Deepest array/object nesting in `text`, counted iteratively (brackets inside strings are
 * skipped, escapes honoured). Stops early, returning `limit + 1`, once `limit` is exceeded.
 * Jumps from one structural character to the next with native regular expressions: a settings
 * file is mostly string content, which a character-by-character loop in JavaScript would walk.
 */
export const jsonDepth = (text: string, limit: number = MAX_JSON_DEPTH): number => {
  let depth = 0
  let deepest = 0
  let at = 0
  for (;;) {
    STRUCTURAL.lastIndex = at
    const found = STRUCTURAL.exec(text)
    if (found === null) return deepest
    const c = text.charCodeAt(found.index)
    if (c === 0x22) {
      at = endOfString(text, found.index)
      continue
    }
    at = found.index + 1
    if (c === 0x7b || c === 0x5b) {
      depth++
      if (depth > deepest) {
        deepest = depth
        if (deepest > limit) return deepest
      }
    } else depth--
  }
}

/** A short description of a refusal, for messages (never quotes the text itself). */
export const describeBoundedJsonFailure = (failure: BoundedJsonFailure): string => {
  switch (failure._tag) {
    case "TooLarge":
      return `it is ${failure.bytes} bytes, more than the ${failure.maxBytes} bytes allowed`
    case "TooDeep":
      return `it nests deeper than ${failure.maxDepth} levels`
    case "NotJson":
      return `it is not valid JSON (${failure.reason})`
  }
}

/**
 * `JSON.parse` with the size and depth bounds checked first. `bytes` is the size of the file the
 * text came from (UTF-8 length when omitted).
 */
export const parseBoundedJson = (
  text: string,
  options: { readonly bytes?: number; readonly maxBytes?: number; readonly maxDepth?: number } = {}
): BoundedJsonResult => {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH
  // A UTF-16 length above the byte bound already proves the UTF-8 length is above it too.
  const bytes = options.bytes ?? (text.length > maxBytes ? text.length : LlmConfig.utf8Length(text))
  if (bytes > maxBytes) return { _tag: "Refused", failure: { _tag: "TooLarge", bytes, maxBytes } }
  if (jsonDepth(text, maxDepth) > maxDepth) return { _tag: "Refused", failure: { _tag: "TooDeep", maxDepth } }
  try {
    return { _tag: "Parsed", value: JSON.parse(text) }
  } catch (error) {
    // V8's message may quote the text (a key, say): keep only where it failed.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined
    const reason = position === undefined ? "malformed or truncated" : `malformed at byte offset ${position}`
    return { _tag: "Refused", failure: { _tag: "NotJson", reason } }
  }
}
