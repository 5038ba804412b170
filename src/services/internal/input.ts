/**
 * Decoding service input at the boundary: a bad value becomes `InvalidInput` naming the field.
 *
 * @module
 */
import { Duration, Effect, ParseResult, Schema } from "effect"
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
  const decode = Schema.decodeUnknown(schema, { errors: "first", onExcessProperty: "ignore" })
  const memo = memoized<A>()
  return (input: unknown): Effect.Effect<A, InvalidInput> =>
    memo.lookup(input) ?? Effect.mapError(memo.remember(input, decode(input)), (error) => toInvalidInput(error, field))
}

// Callsigns, keys and TTLs repeat from call to call, and decoding them through Schema costs more
// than the SQL of a small command. Decoding is a pure function of the input, so a successful
// decode of a primitive (string, number) or of an empty object is remembered, in a small table
// per decoder. (The decoded value of an empty object is then shared between calls: services only
// read it.)
const MEMO_SIZE = 256

// An empty options object (`claimNext(callsign)`, `list()`…) decodes the same every time too.
const EMPTY = Symbol("empty")
const keyOf = (input: unknown): unknown =>
  typeof input === "string" || typeof input === "number"
    ? input
    : typeof input === "object" && input !== null && Object.getPrototypeOf(input) === Object.prototype &&
        Reflect.ownKeys(input).length === 0
    ? EMPTY
    : undefined

const memoized = <A>() => {
  const table = new Map<unknown, Effect.Effect<A>>()
  return {
    lookup: (input: unknown): Effect.Effect<A> | undefined => {
      const key = keyOf(input)
      return key === undefined ? undefined : table.get(key)
    },
    remember: <E>(input: unknown, decoded: Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const key = keyOf(input)
      return key === undefined ? decoded : Effect.tap(decoded, (value) => {
        if (table.size >= MEMO_SIZE) table.clear()
        table.set(key, Effect.succeed(value))
      })
    }
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
export const decodeDuration = (field: string) => {
  const memo = memoized<number>()
  return (input: unknown): Effect.Effect<number, InvalidInput> =>
    memo.lookup(input) ?? Effect.suspend(() => {
      let millis: number
      try {
        millis = Duration.toMillis(Duration.decode(input as Duration.DurationInput))
      } catch {
        return Effect.fail(new InvalidInput({ field, reason: "must be a duration (e.g. 30000 or \"30 seconds\")" }))
      }
      return Effect.mapError(memo.remember(input, decodeMillis(millis)), (error) => toInvalidInput(error, field))
    })
}
