/**
 * Decoding rows read from the database into their models: the one way services do it. Other
 * tools write these tables too, so a row that does not decode fails the read with
 * `UndecodableRow` naming the table, the row and the column — a typed error, never a defect.
 *
 * @module
 */
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import { UndecodableRow } from "../../errors.js"

/** How a table names its rows: the `id` column, unless given otherwise. */
export type RowId = (row: Readonly<Record<string, unknown>>) => string

const byId: RowId = (row) => String(row.id)

const MAX_DETAIL = 300

/** A `message_recipients` row has no id of its own: it is named `message_id/callsign`. */
export const recipientId: RowId = (row) => `${row.message_id}/${row.callsign}`

const record = (row: unknown): Readonly<Record<string, unknown>> =>
  typeof row === "object" && row !== null ? row as Record<string, unknown> : {}

/**
 * The first issue with `row` as `schema` decodes it, or the decoded value. A decoder that throws
 * (a recursive schema meeting JSON nested too deep for the stack) is caught and blamed on the
 * first field of the model that throws or fails alone.
 */
const decodeWith = <A, I>(table: string, schema: Schema.Schema<A, I>, idOf: RowId) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "first" })
  const fields: Readonly<Record<string, unknown>> = (schema as { readonly fields?: Record<string, unknown> }).fields ?? {}
  // The detail quotes the stored value, which may be anything up to a whole body: kept short.
  const fail = (row: unknown, column: string, detail: string) =>
    new UndecodableRow({
      table,
      row_id: idOf(record(row)),
      column,
      detail: detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail
    })
  const blame = (row: unknown, thrown: unknown): UndecodableRow => {
    for (const [column, field] of Object.entries(fields)) {
      if (!Schema.isSchema(field)) continue
      try {
        if (Either.isRight(Schema.decodeUnknownEither(field as Schema.Schema<unknown>)(record(row)[column]))) continue
      } catch {
        // This column is the one the decoder cannot get through.
      }
      return fail(row, column, "cannot be decoded")
    }
    return fail(row, "?", thrown instanceof Error ? thrown.message : String(thrown))
  }
  return (row: unknown): Either.Either<A, UndecodableRow> => {
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decode(row)
    } catch (thrown) {
      return Either.left(blame(row, thrown))
    }
    if (Either.isRight(decoded)) return Either.right(decoded.right)
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
    return Either.left(fail(row, issue?.path[0] === undefined ? "?" : String(issue.path[0]), issue?.message ?? "is invalid"))
  }
}

/**
 * The decoder of one row of `table` into `schema`'s type (`idOf` names a row in the error; default:
 * its `id` column).
 */
export const decodeRow = <A, I>(table: string, schema: Schema.Schema<A, I>, idOf: RowId = byId) => {
  const decode = decodeWith(table, schema, idOf)
  return (row: unknown): Effect.Effect<A, UndecodableRow> => Either.match(decode(row), { onLeft: Effect.fail, onRight: Effect.succeed })
}

/**
 * A lookup's answer: its first row through `decode` (a `decodeRow` decoder), or `notFound()` when
 * it found none.
 */
export const found = <A, E>(decode: (row: unknown) => Effect.Effect<A, UndecodableRow>, notFound: () => E) =>
(rows: ReadonlyArray<unknown>): Effect.Effect<A, E | UndecodableRow> =>
  rows.length === 0 ? Effect.fail(notFound()) : decode(rows[0])

/** The decoder of rows of `table` into `schema`'s type, in order; fails on the first that does not decode. */
export const decodeRows = <A, I>(table: string, schema: Schema.Schema<A, I>, idOf: RowId = byId) => {
  const decode = decodeWith(table, schema, idOf)
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, UndecodableRow> =>
    Effect.suspend(() => {
      const out: Array<A> = []
      for (const row of rows) {
        const decoded = decode(row)
        if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
        out.push(decoded.right)
      }
      return Effect.succeed(out)
    })
}

/** Why a row of `table` does not decode into `schema`'s type, or undefined when it does (for diagnostics). */
export const rowProblem = <A, I>(table: string, schema: Schema.Schema<A, I>, idOf: RowId = byId) => {
  const decode = decodeWith(table, schema, idOf)
  return (row: unknown): UndecodableRow | undefined => Option.getOrUndefined(Either.getLeft(decode(row)))
}
