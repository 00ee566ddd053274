/**
 * Turns schema failures at the edges (IPC, CLI, store inputs) into `InvalidInput` without ever
 * echoing the rejected value: only the path and the rule's own message reach the user.
 *
 * The path itself can come from the input: an excess property's NAME is whatever the caller sent
 * (a key pasted as a property name, `{ [apiKey]: … }`). Such a name is echoed only when it looks
 * like a field name (a short identifier, e.g. `extra`); anything else is shown as
 * `(unexpected field)`.
 */
import { Effect, Schema, SchemaIssue } from "effect"
import * as Errors from "./Errors.ts"

/** Longest excess-property name that is echoed; every key the schemas know is far shorter. */
const MAX_ECHOED_NAME = 24
const UNEXPECTED_FIELD = "(unexpected field)"

const isUnexpectedKey = (issue: SchemaIssue.Issue): boolean =>
  issue._tag === "UnexpectedKey" || (issue._tag === "Pointer" && issue.path.length === 0 && isUnexpectedKey(issue.issue))

/** A path segment safe to show: a known key, an index, or a field-name-like excess key. */
const safeSegment = (segment: PropertyKey, fromInput: boolean): string => {
  const text = String(segment)
  if (!fromInput) return text
  return typeof segment === "number" || new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${MAX_ECHOED_NAME - 1}}$`).test(text)
    ? text
    : UNEXPECTED_FIELD
}

/** The pointer's path, with the last segment (the excess key's name) made safe when it came from the input. */
const safePath = (pointer: SchemaIssue.Pointer): Array<string> =>
  pointer.path.map((segment, index) => safeSegment(segment, index === pointer.path.length - 1 && isUnexpectedKey(pointer.issue)))

/**
 * The same issue tree with every excess key's name made safe, so no formatter can echo it. The
 * copies carry no `input`, so nothing built from them holds on to the rejected request.
 */
const withSafeKeys = (issue: SchemaIssue.Issue): SchemaIssue.Issue => {
  switch (issue._tag) {
    case "Pointer":
      return new SchemaIssue.Pointer(safePath(issue), withSafeKeys(issue.issue))
    case "Composite":
      return new SchemaIssue.Composite(issue.ast, issue.issues.map(withSafeKeys) as [SchemaIssue.Issue, ...Array<SchemaIssue.Issue>])
    case "Filter":
      return new SchemaIssue.Filter(issue.filter, withSafeKeys(issue.issue))
    case "Encoding":
      return new SchemaIssue.Encoding(issue.ast, withSafeKeys(issue.issue))
    default:
      return issue
  }
}

const firstPath = (issue: SchemaIssue.Issue): ReadonlyArray<PropertyKey> => {
  switch (issue._tag) {
    case "Pointer":
      return [...safePath(issue), ...firstPath(issue.issue)]
    case "Composite":
      return issue.issues.length > 0 ? firstPath(issue.issues[0]!) : []
    case "Filter":
    case "Encoding":
      return firstPath(issue.issue)
    default:
      return []
  }
}

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Formats issues by path and expectation. Decoding never sets `reportInput`, so the formatter has
 * no access to the rejected value and cannot echo it.
 */
const describeIssue = (issue: SchemaIssue.Issue): string => {
  const lines = formatIssues(issue).issues.map((entry) => {
    const path = (entry.path ?? []).map(String).join(".")
    return path === "" ? entry.message : `${path}: ${entry.message}`
  })
  return lines.slice(0, 3).join("; ")
}

/** Builds the user-facing InvalidInput for a failed decode of `subject`. */
export const invalidInputFromSchemaError = (subject: string, error: Schema.SchemaError): Errors.InvalidInput => {
  const issue = withSafeKeys(error.issue)
  const path = firstPath(issue).map(String).join(".")
  return new Errors.InvalidInput({
    field: path === "" ? subject : path,
    message: `Invalid ${subject}: ${describeIssue(issue)}`,
    hint: "Correct the highlighted field and try again.",
    reason: "malformed"
  })
}

/** Deepest nesting copied by {@link ownDataCopy}; every request schema is far shallower. */
const MAX_COPY_DEPTH = 16

/**
 * A copy of untrusted input made only of its own enumerable data properties, in objects with no
 * prototype: an inherited property (`Object.create({ apiKey })`, a polluted `Object.prototype`)
 * or a getter never reaches a decoder. Anything nested deeper than the bound becomes `undefined`,
 * which the schemas then refuse.
 */
export const ownDataCopy = (input: unknown, depth = 0): unknown => {
  if (typeof input !== "object" || input === null) return input
  if (depth >= MAX_COPY_DEPTH) return undefined
  if (Array.isArray(input)) {
    return Array.from({ length: input.length }, (_, index) => ownDataCopy(ownValue(input, String(index)), depth + 1))
  }
  const copy: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(input)) copy[key] = ownDataCopy(ownValue(input, key), depth + 1)
  return copy
}

/** An own property's value if it is plain data; an accessor is never run. */
const ownValue = (input: object, key: string): unknown => {
  const descriptor = Object.getOwnPropertyDescriptor(input, key)
  return descriptor !== undefined && "value" in descriptor ? descriptor.value : undefined
}

/**
 * The decoded value with its plain objects re-made without a prototype (class instances such as
 * `Redacted` kept as they are), so an optional field the request left out reads as absent even
 * if `Object.prototype` was polluted, instead of as the polluted value.
 */
const withoutPrototypes = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withoutPrototypes)
  if (typeof value !== "object" || value === null) return value
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  const copy: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(value)) copy[key] = withoutPrototypes((value as Record<string, unknown>)[key])
  return copy
}

/**
 * Decodes untrusted input, failing with a value-free InvalidInput. Only the input's own data
 * properties are decoded, and the result carries no prototype (see {@link ownDataCopy}).
 */
export const decodeInput = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, subject: string) => {
  const decode = Schema.decodeUnknownEffect(schema, { onExcessProperty: "error" })
  return (input: unknown): Effect.Effect<S["Type"], Errors.InvalidInput> =>
    decode(ownDataCopy(input)).pipe(
      Effect.map((decoded) => withoutPrototypes(decoded) as S["Type"]),
      Effect.mapError((error) => invalidInputFromSchemaError(subject, error))
    )
}
