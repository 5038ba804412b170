/**
 * Decoding service input at the boundary: a bad value becomes `InvalidInput` naming the field.
 *
 * @module
 */
import { Duration, Effect, Either, ParseResult, Schema } from "effect"
import { InvalidInput } from "../../errors.js"

/** `InvalidInput` for the first issue of a parse error, with its path as the field name. */
export const toInvalidInput = (error: ParseResult.ParseError, field?: string): InvalidInput => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  const path = first?.path.map(String).join(".") ?? ""
  return new InvalidInput({
    field: field === undefined ? (path === "" ? "input" : path) : path === "" ? field : `${field}.${path}`,
    reason: first?.message ?? "is invalid"
  })
}

/**
 * Decode unknown input with `schema`; failures name the field (`field` prefixes the path, for
 * single-argument methods such as `get(callsign)`).
 */
export const decodeInput = <A, I>(schema: Schema.Schema<A, I>, field?: string) => {
  const options = { errors: "first", onExcessProperty: "ignore" } as const
  // Every command decodes its input: valid input is checked synchronously (measured ~2.5× cheaper
  // than the Effect-based decoder). Anything else — invalid input, or a schema that cannot be
  // decided synchronously — goes through the Effect-based decoder, whose answer is the same.
  const check = Schema.decodeUnknownEither(schema, options)
  const decode = Schema.decodeUnknown(schema, options)
  return (input: unknown): Effect.Effect<A, InvalidInput> => {
    const checked = check(input)
    return Either.isRight(checked)
      ? Effect.succeed(checked.right)
      : Effect.mapError(decode(input), (error) => toInvalidInput(error, field))
  }
}

const PositiveMillis = Schema.Number.pipe(
  Schema.filter((n) => Number.isFinite(n) || "must be finite"),
  Schema.int({ message: () => "must be a whole number of milliseconds" }),
  Schema.between(1, 31_536_000_000, { message: () => "must be from 1 ms to one year" })
)
const decodeMillis = Schema.decodeUnknown(PositiveMillis)

/**
 * Decode a duration given as a `Duration`, a number of milliseconds or a string such as
 * `"30 seconds"` into whole milliseconds from 1 ms to one year.
 */
export const decodeDuration = (field: string) => (input: unknown): Effect.Effect<number, InvalidInput> =>
  Effect.suspend(() => {
    let millis: number
    try {
      millis = Duration.toMillis(Duration.decode(input as Duration.DurationInput))
    } catch {
      return Effect.fail(new InvalidInput({ field, reason: "must be a duration (e.g. 30000 or \"30 seconds\")" }))
    }
    return Effect.mapError(decodeMillis(millis), (error) => toInvalidInput(error, field))
  })

/** The largest page of a bounded `list` (pilots, locks, reservations, missions). */
export const MAX_LIST_LIMIT = 10_000

/** The optional `limit` of a bounded `list`: an integer from 1 to `MAX_LIST_LIMIT`. */
export const ListLimit = Schema.Number.pipe(
  Schema.int({ message: () => `must be an integer from 1 to ${MAX_LIST_LIMIT}` }),
  Schema.between(1, MAX_LIST_LIMIT, { message: () => `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
)

/** Decode the optional `limit` of a bounded `list` (InvalidInput on field `limit`). */
export const decodeListLimit = decodeInput(Schema.UndefinedOr(ListLimit), "limit")
