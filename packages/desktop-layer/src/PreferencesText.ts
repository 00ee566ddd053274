/**
 * The exact text of preferences.json for a document: `JSON.stringify(joinDocument(document),
 * null, 2)` and a final newline, the format Fishbowl's own settings file uses (two-space JSON).
 *
 * Built from parts so that a write costs what changed, not the size of the file: the document is
 * serialized with an empty configuration list (its other settings and the journal: usually a few
 * hundred bytes), and each configuration's text is spliced in from a cache kept per
 * configuration object. Configurations that encoding validated are frozen
 * (`LlmConfig.makeStoredConfigReader`), so a cached text stays true for as long as its object
 * lives; a write after one change serializes that one configuration, and takes the rest of the
 * list's text from the last list's (`listText`). The result is the same
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

const SEPARATOR = ",\n"

/** A list's text with where each item starts in it. */
interface ListText {
  readonly configs: ReadonlyArray<object>
  readonly text: string
  readonly starts: ReadonlyArray<number>
}

/**
 * The last list of frozen configurations written, with its text. A write usually leaves the list
 * as it was (a journal entry, another setting) or changes one place in it (create appends, remove
 * drops, an update replaces one): the items the two lists share at their start and at their end
 * are taken from the last text in two slices, and only the items between are placed anew.
 * Joining a few hundred cached item texts one by one (copying the whole list from as many
 * strings) costs more than the rest of a write's text.
 */
let lastList: ListText | undefined
/**
 * A longer list's text is not kept: the last text stays in memory after its store is gone, and a
 * file near the 10 MB bound would hold its size again (joining is a small part of writing it).
 */
const MAX_REMEMBERED_LIST_CHARS = 1_000_000

const endOf = (list: ListText, index: number): number =>
  index + 1 < list.starts.length ? list.starts[index + 1]! - SEPARATOR.length : list.text.length

/** The text of `configs`, from `last` where they share items with it at either end. */
const listText = (configs: ReadonlyArray<object>, last: ListText | undefined): ListText => {
  const lastConfigs = last?.configs ?? []
  const shortest = Math.min(lastConfigs.length, configs.length)
  let head = 0
  while (head < shortest && lastConfigs[head] === configs[head]) head++
  let tail = 0
  while (tail < shortest - head && lastConfigs[lastConfigs.length - 1 - tail] === configs[configs.length - 1 - tail]) tail++
  if (last !== undefined && head === configs.length && lastConfigs.length === configs.length) return last
  const pieces: Array<string> = []
  const starts: Array<number> = []
  let offset = 0
  if (last !== undefined && head > 0) {
    const headEnd = endOf(last, head - 1)
    pieces.push(last.text.slice(0, headEnd))
    starts.push(...last.starts.slice(0, head))
    offset = headEnd + SEPARATOR.length
  }
  for (const config of configs.slice(head, configs.length - tail)) {
    const item = itemText(config)
    pieces.push(item)
    starts.push(offset)
    offset += item.length + SEPARATOR.length
  }
  if (last !== undefined && tail > 0) {
    const from = last.starts[lastConfigs.length - tail]!
    pieces.push(last.text.slice(from))
    for (const start of last.starts.slice(lastConfigs.length - tail)) starts.push(start - from + offset)
  }
  return { configs, text: pieces.join(SEPARATOR), starts }
}

const itemsText = (configs: ReadonlyArray<object>): string => {
  const list = listText(configs, lastList)
  // only frozen configurations: a cached text stays true for as long as its object lives
  lastList = list.text.length <= MAX_REMEMBERED_LIST_CHARS && configs.every((config) => Object.isFrozen(config)) ? list : undefined
  return list.text
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
