/**
 * Explains a key found in a V8 heap snapshot: for each string node holding the needle, the chain
 * of retainers (object ← property ← object …) up towards the GC roots, shortest first. Used only
 * when the heap check fails, so the failure says what keeps the key alive.
 */
import * as fs from "node:fs"

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: ReadonlyArray<string>
      readonly node_types: readonly [ReadonlyArray<string>, ...Array<unknown>]
      readonly edge_fields: ReadonlyArray<string>
      readonly edge_types: readonly [ReadonlyArray<string>, ...Array<unknown>]
    }
  }
  readonly nodes: ReadonlyArray<number>
  readonly edges: ReadonlyArray<number>
  readonly strings: ReadonlyArray<string>
}

export const explainRetainers = (snapshotPath: string, needle: string, options: { maxPaths?: number; maxDepth?: number } = {}): string => {
  const heap = JSON.parse(fs.readFileSync(snapshotPath, "utf8")) as Snapshot
  const { edge_fields, edge_types, node_fields, node_types } = heap.snapshot.meta
  const nodeSize = node_fields.length
  const edgeSize = edge_fields.length
  const [typeAt, nameAt, edgeCountAt] = ["type", "name", "edge_count"].map((field) => node_fields.indexOf(field)) as [
    number,
    number,
    number
  ]
  const [edgeTypeAt, edgeNameAt, toAt] = ["type", "name_or_index", "to_node"].map((field) => edge_fields.indexOf(field)) as [
    number,
    number,
    number
  ]
  const nodeCount = heap.nodes.length / nodeSize

  // retainers[node] = [fromNode, edgeOffset, …]
  const retainers: Array<Array<number>> = Array.from({ length: nodeCount }, () => [])
  for (let node = 0, edge = 0; node < nodeCount; node++) {
    const count = heap.nodes[node * nodeSize + edgeCountAt]!
    for (let index = 0; index < count; index++, edge += edgeSize) {
      const to = heap.edges[edge + toAt]! / nodeSize
      retainers[to]!.push(node, edge)
    }
  }
  const describeNode = (node: number) =>
    `${node_types[0][heap.nodes[node * nodeSize + typeAt]!]} ${
      JSON.stringify(heap.strings[heap.nodes[node * nodeSize + nameAt]!]?.slice(0, 80))
    }`
  const describeEdge = (edge: number) => {
    const type = edge_types[0][heap.edges[edge + edgeTypeAt]!]
    const name = heap.edges[edge + edgeNameAt]!
    return type === "element" || type === "hidden" ? `${type}[${name}]` : `${type} ${heap.strings[name]}`
  }

  const targets: Array<number> = []
  for (let node = 0; node < nodeCount; node++) {
    const type = node_types[0][heap.nodes[node * nodeSize + typeAt]!]
    if (type === "string" || type === "concatenated string" || type === "sliced string") {
      if (heap.strings[heap.nodes[node * nodeSize + nameAt]!]?.includes(needle)) targets.push(node)
    }
  }
  // V8's string tables list every internalized string; they hold nothing alive, so a path through them explains nothing.
  const weakTables = new Set<number>()
  for (let node = 0; node < nodeCount; node++) {
    if (/^\((Internalized|External) strings\)$/.test(heap.strings[heap.nodes[node * nodeSize + nameAt]!] ?? "")) weakTables.add(node)
  }
  const maxDepth = options.maxDepth ?? 12
  const paths = targets.slice(0, options.maxPaths ?? 5).map((target) => {
    // breadth-first towards the roots (node 0 is the synthetic root), skipping weak edges
    const previous = new Map<number, [number, number]>([[target, [-1, -1]]])
    let frontier = [target]
    let reached: number | undefined
    for (let depth = 0; depth < maxDepth && reached === undefined && frontier.length > 0; depth++) {
      const next: Array<number> = []
      for (const node of frontier) {
        const list = retainers[node]!
        for (let index = 0; index < list.length; index += 2) {
          const [from, edge] = [list[index]!, list[index + 1]!]
          if (previous.has(from) || edge_types[0][heap.edges[edge + edgeTypeAt]!] === "weak" || weakTables.has(from)) continue
          previous.set(from, [node, edge])
          if (from === 0) reached = from
          next.push(from)
        }
      }
      frontier = next
    }
    const end = reached ?? frontier[0] ?? target
    const chain: Array<string> = []
    for (let node = end; node !== target && previous.has(node);) {
      const [child, edge] = previous.get(node)!
      if (child < 0) break
      chain.push(`${describeNode(node)} --${describeEdge(edge)}-->`)
      node = child
    }
    chain.push(describeNode(target))
    return chain.join("\n    ")
  })
  return `${targets.length} string(s) hold it in the heap; retainers:\n  ${paths.join("\n  ---\n  ")}`
}
