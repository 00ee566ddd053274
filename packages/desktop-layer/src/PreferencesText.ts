/**
 * The exact text of preferences.json for a document: `JSON.stringify(joinDocument(document),
 * null, 2)` and a final newline, the format Fishbowl's own settings file uses (two-space JSON).
 *
 * Built from parts so that a write costs what changed, not the size of the file: the document is
 * serialized with an empty configuration list (its other settings and the journal: usually a few
 * hundred bytes), and each configuration's text is spliced in from a cache kept per
 * configuration object. Configurations that encoding validated are frozen
 * (`LlmConfig.makeStoredConfigReader`), so a cached text stays true for as long as its object
 * lives; a write after one change serializes that one configuration. The result is the same
 * string `JSON.stringify` gives, character for character (a property test holds them equal).
 */
import { PreferencesDocument } from "@fishbowl/domain"

/** A document's text, with the part before its llm section (the other settings) on its own. */
export interface DocumentText {
  readonly text: string
  /** The other settings' part of `text`: the only part whose nesting is not fixed by a schema. */
  readonly otherSettings: string
}

/** Items of the configuration list sit three levels deep (document, llm, configs). */
const ITEM_INDENT = "      "
const EMPTY_LIST = `\n    "configs": []`
const SECTION_START = `\n  "llm": `

/** The text of each frozen configuration as an item of the list (indented), once. */
const itemTexts = new WeakMap<object, string>()

const itemText = (config: object): string => {
  const cached = itemTexts.get(config)
  if (cached !== undefined) return cached
  const text = ITEM_INDENT + JSON.stringify(config, null, 2).replaceAll("\n", `\n${ITEM_INDENT}`)
  if (Object.isFrozen(config)) itemTexts.set(config, text)
  return text
}

/**
 * The last list's text, reused while the list holds the very same frozen configurations: most
 * writes leave the list as it was (a journal entry, another setting), and joining a few hundred
 * cached item texts (copying the whole list) costs more than the rest of a write's text.
 */
let lastList: { readonly configs: ReadonlyArray<object>; readonly text: string } | undefined

const itemsText = (configs: ReadonlyArray<object>): string => {
  const last = lastList
  if (last !== undefined && last.configs.length === configs.length && last.configs.every((config, index) => config === configs[index])) {
    return last.text
  }
  const text = configs.map(itemText).join(",\n")
  if (configs.every((config) => Object.isFrozen(config))) lastList = { configs, text }
  return text
}

/** Other settings never hold an `llm` key (splitDocument drops it); one that does would not stay last. */
const withoutLlm = ({ llm: _llm, ...other }: PreferencesDocument.PreferencesDocument["other"]) => other

/**
 * The text of `document` (encoding validates its llm section and throws a SchemaError when it
 * is not valid; `JSON.stringify` throws on a setting that contains itself or nests thousands deep).
 */
export const serialize = (document: PreferencesDocument.PreferencesDocument): DocumentText => {
  const section = PreferencesDocument.encodeLlmSection(document.llm)
  const other = Object.hasOwn(document.other, "llm") ? withoutLlm(document.other) : document.other
  const skeleton = `${JSON.stringify({ ...other, llm: { ...section, configs: [] } }, null, 2)}\n`
  // `llm` is the last top-level key (joinDocument) and JSON escapes every newline inside a string,
  // so the last raw newline followed by two spaces and `"llm"` starts the section, and its
  // `"configs"` key is the only key four spaces in after it (the journal's values sit deeper).
  const sectionAt = skeleton.lastIndexOf(SECTION_START)
  const otherSettings = skeleton.slice(0, sectionAt)
  if (section.configs.length === 0) return { text: skeleton, otherSettings }
  const listAt = skeleton.indexOf(EMPTY_LIST, sectionAt)
  const items = itemsText(section.configs)
  const text = `${skeleton.slice(0, listAt)}\n    "configs": [\n${items}\n    ]${skeleton.slice(listAt + EMPTY_LIST.length)}`
  return { text, otherSettings }
}
