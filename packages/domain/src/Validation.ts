/**
 * Turns schema failures at the edges (IPC, CLI, store inputs) into `InvalidInput` without ever
 * echoing the rejected value: only the path and the rule's own message reach the user.
 */
import { Effect, Schema, SchemaIssue } from "effect"
import { InvalidInput } from "./Errors.ts"

const firstPath = (issue: SchemaIssue.Issue): ReadonlyArray<PropertyKey> => {
  switch (issue._tag) {
    case "Pointer":
      return [...issue.path, ...firstPath(issue.issue)]
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
export const invalidInputFromSchemaError = (subject: string, error: Schema.SchemaError): InvalidInput => {
  const path = firstPath(error.issue).map(String).join(".")
  return new InvalidInput({
    field: path === "" ? subject : path,
    message: `Invalid ${subject}: ${describeIssue(error.issue)}`,
    hint: "Correct the highlighted field and try again."
  })
}

/** Decodes untrusted input, failing with a value-free InvalidInput. */
export const decodeInput = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, subject: string) => {
  const decode = Schema.decodeUnknownEffect(schema, { onExcessProperty: "error" })
  return (input: unknown): Effect.Effect<S["Type"], InvalidInput> =>
    decode(input).pipe(Effect.mapError((error) => invalidInputFromSchemaError(subject, error)))
}
