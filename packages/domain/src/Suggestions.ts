/**
 * "Did you mean …?" for a mistyped configuration name or provider id: the one candidate closest
 * to what was typed, by edit distance (fastest-levenshtein) between comparison keys, when it is
 * close enough to be a typo — at most two edits, and at most half the typed length — and no other
 * candidate is as close. Every face that resolves what a person typed asks here, so they agree.
 */
import { distance } from "fastest-levenshtein"

/** Keys compared by default: case-folded (provider ids; names pass Canonical.nameKey). */
const caseFolded = (text: string) => text.toLowerCase()

/** The candidate `typed` most likely meant, or undefined when none is clearly it. */
export const closest = (
  typed: string,
  candidates: ReadonlyArray<string>,
  keyOf: (text: string) => string = caseFolded
): string | undefined => {
  const typedKey = keyOf(typed)
  const limit = Math.min(2, Math.floor(typedKey.length / 2))
  let best: { readonly candidate: string; readonly key: string; readonly edits: number } | undefined
  let tied = false
  for (const candidate of candidates) {
    const key = keyOf(candidate)
    const edits = distance(typedKey, key)
    if (best === undefined || edits < best.edits) {
      best = { candidate, key, edits }
      tied = false
    } else if (edits === best.edits && key !== best.key) {
      tied = true
    }
  }
  return best !== undefined && !tied && best.edits <= limit ? best.candidate : undefined
}

/** `; did you mean "<suggestion>"?` to end a message with, or nothing. */
export const didYouMean = (suggestion: string | undefined): string => suggestion === undefined ? "" : `; did you mean "${suggestion}"?`
