/**
 * Searching for canary keys: in text, in every file (and file name) under a folder, and in a V8
 * heap snapshot. A needle is the whole key plus its last 12 characters alone, so a key split
 * across two strings (a V8 cons string, a line wrap) is still found.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export interface Needle {
  readonly label: string
  readonly text: string
}

/** The whole key and its unique tail, for each key. */
export const needlesFor = (keys: Readonly<Record<string, string>>): ReadonlyArray<Needle> =>
  Object.entries(keys).flatMap(([label, key]) => [
    { label, text: key },
    { label: `${label} (last 12)`, text: key.slice(-12) }
  ])

/** The needles found in `haystack` (a string or bytes). */
export const foundIn = (haystack: string | Buffer, needles: ReadonlyArray<Needle>): Array<string> =>
  needles.filter((needle) => haystack.includes(needle.text)).map((needle) => needle.label)

/** Every entry under `dir` (files, directories, symlinks), recursively; `dir` may be missing. */
export const entriesUnder = (dir: string): Array<{ readonly path: string; readonly isFile: boolean }> => {
  let names: Array<string>
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => {
    const full = path.join(dir, name)
    const stat = fs.lstatSync(full)
    if (stat.isDirectory()) return [{ path: full, isFile: false }, ...entriesUnder(full)]
    return [{ path: full, isFile: stat.isFile() }]
  })
}

/** A tally of where the search looked: place → number of items. */
export class Checked {
  readonly places = new Map<string, number>()
  readonly leaks: Array<string> = []

  constructor(readonly needles: ReadonlyArray<Needle>) {}

  /** Searches each item (stringified when not text) and counts it under `place`. */
  items(place: string, items: ReadonlyArray<unknown>) {
    for (const [index, item] of items.entries()) {
      const text = typeof item === "string" || Buffer.isBuffer(item) ? item : JSON.stringify(item) ?? String(item)
      for (const label of foundIn(text, this.needles)) this.leaks.push(`${place} #${index}: ${label} in ${String(text).slice(0, 200)}`)
    }
    this.places.set(place, (this.places.get(place) ?? 0) + items.length)
  }

  /** Every file's bytes and every entry's name under `dir`. */
  folder(place: string, dir: string, options: { readonly exclude?: (file: string) => boolean } = {}) {
    let count = 0
    for (const entry of entriesUnder(dir)) {
      if (options.exclude?.(entry.path) === true) continue
      count++
      for (const label of foundIn(entry.path, this.needles)) this.leaks.push(`${place}: ${label} in the name ${entry.path}`)
      if (!entry.isFile) continue
      for (const label of foundIn(fs.readFileSync(entry.path), this.needles)) this.leaks.push(`${place}: ${label} in ${entry.path}`)
    }
    this.places.set(place, (this.places.get(place) ?? 0) + count)
  }

  summary(): string {
    const width = Math.max(...[...this.places.keys()].map((place) => place.length))
    return [...this.places].map(([place, count]) => `  ${place.padEnd(width)}  ${count}`).join("\n")
  }
}
