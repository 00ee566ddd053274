/**
 * The character classes every rule on text refers to (names, keys, base URLs). Free of Effect and
 * of any platform API, so the settings page bundles the same classes the store checks with.
 */

/** C0 and C1 control characters (NUL included). */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Characters that show as nothing or reorder text: zero-width space/joiners, word joiner and
 * invisible operators, BOM, soft hyphen, Mongolian vowel separator, bidi embeddings, overrides,
 * isolates and marks, and the line/paragraph separators.
 */
export const INVISIBLE_CHARACTERS = /[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/

/** A UTF-16 surrogate without its pair: not a character, and not encodable as UTF-8. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Printable ASCII only: none of the characters above, and already in every Unicode normal form,
 * so most names (and every name of a large settings file) skip the per-character rules.
 */
export const PRINTABLE_ASCII = /^[\u0020-\u007e]*$/
