import * as LlmConfig from "./LlmConfig.ts"

/**
 * Bounds on the JSON documents the stores read (preferences.json, Fishbowl's legacy files).
 * A file another program (or another user) wrote must never cost unbounded memory, nor a stack
 * overflow in a recursive walker (JSON.parse, Schema decoding, structural equality): the text is
 * measured and its nesting depth counted, without recursion, before anything recursive reads it
 * (before JSON.parse, or right after it where JSON.parse itself never recurses: `iterativeParse`).
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

/** Whether the quote at `quote` is escaped: an odd run of backslashes before it, after `opening`. */
const isEscaped = (text: string, quote: number, opening: number): boolean => {
  let index = quote - 1
  while (index > opening && text.charCodeAt(index) === 0x5c) index--
  return (quote - 1 - index) % 2 === 1
}

/**
 * Deepest array/object nesting in `text`, counted iteratively (brackets inside strings are
 * skipped, escapes honoured). Stops early, returning `limit + 1`, once `limit` is exceeded.
 * A settings file is mostly string content: each string is skipped with native `indexOf`
 * searches for its closing quote, and only the short runs between strings are walked character
 * by character. A quote preceded by a run of backslashes is looked at once per candidate, and
 * each backslash belongs to one run, so the walk is linear however the text is made (long
 * strings, runs of escapes, escaped quotes); nothing recurses or backtracks.
 */
export const jsonDepth = (text: string, limit: number = MAX_JSON_DEPTH): number => {
  const length = text.length
  let depth = 0
  let deepest = 0
  let at = 0
  while (at < length) {
    const opening = text.indexOf("\"", at)
    const structuralEnd = opening === -1 ? length : opening
    for (let index = at; index < structuralEnd; index++) {
      const c = text.charCodeAt(index)
      if (c === 0x7b || c === 0x5b) {
        depth++
        if (depth > deepest) {
          deepest = depth
          if (deepest > limit) return deepest
        }
      } else if (c === 0x7d || c === 0x5d) depth--
    }
    if (opening === -1) return deepest
    let closing = text.indexOf("\"", opening + 1)
    while (closing !== -1 && isEscaped(text, closing, opening)) closing = text.indexOf("\"", closing + 1)
    if (closing === -1) return deepest
    at = closing + 1
  }
  return deepest
}

/**
 * How deep a parsed JSON value nests (the root array or object is level 1) and how many arrays and
 * objects it holds, walked with a stack of its own (never recursing); stops once past `limit`.
 */
const shapeOf = (root: unknown, limit: number): { readonly deepest: number; readonly containers: number } => {
  if (typeof root !== "object" || root === null) return { deepest: 0, containers: 0 }
  const values: Array<object> = [root]
  const depths: Array<number> = [1]
  let deepest = 0
  let containers = 1
  while (values.length > 0) {
    const value = values.pop()!
    const depth = depths.pop()!
    if (depth > deepest) {
      deepest = depth
      if (deepest > limit) break
    }
    const children: ReadonlyArray<unknown> = Array.isArray(value) ? value : Object.values(value)
    for (let index = 0; index < children.length; index++) {
      const child = children[index]
      if (typeof child === "object" && child !== null) {
        containers++
        values.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return { deepest, containers }
}

/** How many `{` and `[` characters `text` holds, those inside strings included (native searches only). */
const openingBrackets = (text: string): number => {
  let count = 0
  for (const bracket of ["{", "["]) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) count++
  }
  return count
}

/**
 * Whether the parsed `value` of `text` nests deeper than `limit`, as `jsonDepth(text)` would say.
 * Every array and object of the value comes from an opening bracket of its own outside strings;
 * the text's other `{` and `[` characters are inside strings or open values a later duplicate key
 * replaced. So when the value holds as many arrays and objects as the text holds brackets, the
 * text nests exactly as the value does; otherwise the text is measured itself.
 */
const nestsTooDeep = (text: string, value: unknown, limit: number): boolean => {
  const shape = shapeOf(value, limit)
  if (shape.deepest > limit) return true
  return shape.containers !== openingBrackets(text) && jsonDepth(text, limit) > limit
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
  options: {
    readonly bytes?: number
    readonly maxBytes?: number
    readonly maxDepth?: number
    /**
     * This engine's JSON.parse never recurses, so any depth is safe to parse (V8: Node and
     * Electron). The text is then parsed first and the depth counted on the value, which costs
     * a fraction of a scan of the text; the result is the same either way.
     */
    readonly iterativeParse?: boolean
  } = {}
): BoundedJsonResult => {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH
  // A UTF-16 length above the byte bound already proves the UTF-8 length is above it too.
  const bytes = options.bytes ?? (text.length > maxBytes ? text.length : LlmConfig.utf8Length(text))
  if (bytes > maxBytes) return { _tag: "Refused", failure: { _tag: "TooLarge", bytes, maxBytes } }
  const tooDeep: BoundedJsonResult = { _tag: "Refused", failure: { _tag: "TooDeep", maxDepth } }
  if (options.iterativeParse !== true && jsonDepth(text, maxDepth) > maxDepth) return tooDeep
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // Text too deep is refused as such, whether or not it parses (as when measured first).
    if (options.iterativeParse === true && jsonDepth(text, maxDepth) > maxDepth) return tooDeep
    // V8's message may quote the text (a key, say): keep only where it failed.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined
    const reason = position === undefined ? "malformed or truncated" : `malformed at byte offset ${position}`
    return { _tag: "Refused", failure: { _tag: "NotJson", reason } }
  }
  if (options.iterativeParse === true && nestsTooDeep(text, value, maxDepth)) return tooDeep
  return { _tag: "Parsed", value }
}
