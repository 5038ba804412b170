/**
 * Events: the append-only log every command writes to, readable by sequence (either way) and by
 * time window, and as a live stream.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Array as Arr, Context, DateTime, Duration, Effect, Either, Layer, Schema, Stream } from "effect"
import { InvalidInput } from "../errors.js"
import { Text } from "../schema/common.js"
import type { FleetEvent, NewEvent } from "../schema/events.js"
import type { EncodedEvent } from "../schema/events.js"
import { decodeEventRow, encodeNewEventWithData } from "../schema/events.js"
import { makeCommands } from "./internal/command.js"
import { latestSequence as selectLatest, pollAfter, selectEvents } from "./internal/eventLog.js"
import { decodeDuration, decodeInput, toInvalidInput } from "./internal/input.js"

/** A point in time given to a read: a `DateTime`, a `Date`, or epoch milliseconds. */
export type TimeInput = DateTime.DateTime | Date | number

/**
 * Options of `Events.read`. Every bound combines with the others (all must hold). Sequence bounds
 * are exclusive; the time window is half-open: `since` inclusive, `until` exclusive, compared
 * with the time each event was appended (millisecond precision).
 */
export interface ReadEventsOptions {
  /** Only events with a sequence greater than this (default: no bound). */
  readonly after?: number | undefined
  /** Only events with a sequence less than this (default: no bound). */
  readonly before?: number | undefined
  /** Only events appended at or after this time (inclusive). */
  readonly since?: TimeInput | undefined
  /** Only events appended before this time (exclusive). */
  readonly until?: TimeInput | undefined
  /** Only events of these types (an empty list means no filter). */
  readonly types?: ReadonlyArray<string> | undefined
  /**
   * `"asc"` (default): oldest first, the first `limit` matches. `"desc"`: newest first, the
   * newest `limit` matches — page further back with `before: <last sequence returned>`.
   */
  readonly order?: "asc" | "desc" | undefined
  /** At most this many events (default 1000, at most 10000). */
  readonly limit?: number | undefined
}

/** Options of `Events.stream`. */
export interface StreamEventsOptions {
  /** Start after this sequence (default 0: the whole log, then new events). */
  readonly after?: number | undefined
  /** Only events of these types (an empty list means no filter). */
  readonly types?: ReadonlyArray<string> | undefined
  /** How often to look for new events once the backlog is drained (default 250 ms). */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/** The Events service. */
export interface EventsShape {
  /**
   * Append one event (known types are checked against their payload schema). Data must be JSON
   * nesting at most `MAX_JSON_DEPTH` levels and serialising to at most `MAX_JSON_CHARS`.
   */
  readonly append: (event: NewEvent) => Effect.Effect<FleetEvent, InvalidInput | SqlError>
  /** Append several events in one transaction, in order. */
  readonly appendAll: (events: ReadonlyArray<NewEvent>) => Effect.Effect<ReadonlyArray<FleetEvent>, InvalidInput | SqlError>
  /**
   * Events of this project matching `options`, in ascending sequence (or newest first with
   * `order: "desc"`). One indexed query whatever the combination of bounds.
   */
  readonly read: (options?: ReadEventsOptions) => Effect.Effect<ReadonlyArray<FleetEvent>, InvalidInput | SqlError>
  /** The sequence of the newest event of this project (0 when there is none). */
  readonly latestSequence: Effect.Effect<number, SqlError>
  /** A live stream: the backlog after `after`, then new events as they are appended. Never ends on its own. */
  readonly stream: (options?: StreamEventsOptions) => Stream.Stream<FleetEvent, InvalidInput | SqlError>
}

/** The Events service. */
export class Events extends Context.Tag("@fleettools/db/Events")<Events, EventsShape>() {}

const DEFAULT_LIMIT = 1_000
const MAX_LIMIT = 10_000
// 4 bound parameters a row; 250 rows stay far below SQLite's variable limit.
const INSERT_CHUNK = 250

// The multi-row INSERT for `rows` events.
const insertText = (rows: number): string =>
  `INSERT INTO events (type, project_key, timestamp, data) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?)").join(", ")} RETURNING id`

// Epoch milliseconds within the range a `Date` (and a `DateTime`) can hold.
const EpochMillis = Schema.Int.pipe(Schema.between(-8.64e15, 8.64e15, { message: () => "must be epoch milliseconds" }))
const Time = Schema.Union(
  EpochMillis,
  Schema.ValidDateFromSelf,
  Schema.DateTimeUtcFromSelf,
  Schema.DateTimeZonedFromSelf
).annotations({ message: () => "must be a DateTime, a valid Date or epoch milliseconds" })
const millisOf = (time: typeof Time.Type | undefined): number | undefined =>
  time === undefined ? undefined : typeof time === "number" ? time : time instanceof Date ? time.getTime() : DateTime.toEpochMillis(time)

const ReadOptions = Schema.Struct({
  after: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  before: Schema.optional(Schema.Int.pipe(Schema.positive())),
  since: Schema.optional(Time),
  until: Schema.optional(Time),
  types: Schema.optional(Schema.Array(Text({ min: 1, max: 200 })).pipe(Schema.maxItems(100))),
  order: Schema.optional(Schema.Literal("asc", "desc")),
  limit: Schema.optional(Schema.Int.pipe(Schema.between(1, MAX_LIMIT)))
})
const decodeReadOptions = decodeInput(ReadOptions)
// `read` is a hot path: its options (no async parts) are checked synchronously, cheaper than the
// Effect-based decoder.
const checkReadOptions = Schema.decodeUnknownEither(ReadOptions, { errors: "first", onExcessProperty: "ignore" })
const checkReadOptionsNow = (options: unknown): Effect.Effect<typeof ReadOptions.Type, InvalidInput> =>
  Either.match(checkReadOptions(options), {
    onLeft: (error) => Effect.fail(toInvalidInput(error)),
    onRight: Effect.succeed
  })
// `Text` refuses NUL, which local libSQL would store but read back only up to: a type must
// round-trip. (Data is JSON text, where NUL is escaped, so data strings may contain it.)
const EventType = Text({ min: 1, max: 200 })
const decodeEventType = decodeInput(EventType, "type")
// appendAll checks every event synchronously (an Effect per event costs more than its insert);
// a batch repeats a handful of types, so each is checked once per batch.
const checkEventType = Schema.decodeUnknownEither(EventType, { errors: "first" })

/** An event validated for appending, with its type. */
interface Encoded extends EncodedEvent {
  readonly type: string
}

/**
 * An event as appended, built from what was validated and written instead of read back and
 * decoded again: a known payload as decoded (equal to what reading the row decodes to), any other
 * data parsed from the stored JSON.
 */
const appendedEvent = (id: number, e: Encoded, projectKey: string, timestamp: DateTime.Utc): FleetEvent =>
  ({
    sequence: id,
    timestamp,
    project_key: projectKey,
    known: e.known,
    type: e.type,
    data: e.data === undefined ? JSON.parse(e.json) : e.data
  }) as FleetEvent
const decodePoll = decodeDuration("pollInterval")

/** Build the Events service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, projectKey, query, sql } = yield* makeCommands

  const encodeAll = (events: ReadonlyArray<NewEvent>) =>
    Effect.suspend(() => {
      const encoded: Array<Encoded> = []
      const validTypes = new Set<string>()
      for (let index = 0; index < events.length; index++) {
        const event = events[index]
        const type: unknown = event?.type
        if (typeof type !== "string" || !validTypes.has(type)) {
          const checked = checkEventType(type)
          if (Either.isLeft(checked)) {
            const e = toInvalidInput(checked.left, "type")
            return Effect.fail(new InvalidInput({ field: `events.${index}.${e.field}`, reason: e.reason }))
          }
          validTypes.add(checked.right)
        }
        const checked = encodeNewEventWithData({ type, data: event!.data } as NewEvent)
        if (Either.isLeft(checked)) return Effect.fail(toInvalidInput(checked.left, `events.${index}.data`))
        const { data, json, known } = checked.right
        encoded.push({ type: type as string, json, data, known })
      }
      return Effect.succeed(encoded)
    })

  const insertAll = (encoded: ReadonlyArray<Encoded>) =>
    command("Events.appendAll", ({ now, projectKey, sql }) =>
      Effect.map(
        Effect.forEach(Arr.chunksOf(encoded, INSERT_CHUNK), (chunk) =>
          // Placeholders only (every value is bound): far less to build than an insert helper
          // compiled per chunk.
          sql.unsafe<{ readonly id: number }>(
            insertText(chunk.length),
            chunk.flatMap((e) => [e.type, projectKey, now, e.json])
          )),
        (batches) => {
          // The rows of one multi-row INSERT get consecutive ids in VALUES order (we hold the write
          // lock), and chunks are inserted in order: ascending ids line up with `encoded`.
          const ids = batches.flat().map((row) => row.id).sort((a, b) => a - b)
          const timestamp = DateTime.unsafeMake(now)
          return encoded.map((e, i) => appendedEvent(ids[i]!, e, projectKey, timestamp))
        }
      ))

  const appendAll: EventsShape["appendAll"] = (events) =>
    Array.isArray(events)
      ? Effect.flatMap(encodeAll(events), (encoded) => encoded.length === 0 ? Effect.succeed([]) : insertAll(encoded))
      : Effect.fail(new InvalidInput({ field: "events", reason: "must be an array of events" }))

  const append: EventsShape["append"] = (event) =>
    Effect.flatMap(
      Effect.flatMap(decodeEventType(event?.type), (type) =>
        Either.match(encodeNewEventWithData({ type, data: event.data } as NewEvent), {
          onLeft: (error) => Effect.fail(toInvalidInput(error, "data")),
          onRight: ({ data, json, known }): Effect.Effect<Encoded> => Effect.succeed({ type, json, data, known })
        })),
      (encoded) =>
        command("Events.append", ({ now, projectKey, sql }) =>
          Effect.map(
            sql<{ readonly id: number }>`INSERT INTO events (type, project_key, timestamp, data)
                VALUES (${encoded.type}, ${projectKey}, ${now}, ${encoded.json}) RETURNING id`,
            (rows) => appendedEvent(rows[0]!.id, encoded, projectKey, DateTime.unsafeMake(now))
          ))
    )

  const read: EventsShape["read"] = (options = {}) =>
    Effect.flatMap(checkReadOptionsNow(options), (opts) =>
      query("Events.read", () =>
        Effect.map(
          selectEvents(sql, projectKey, {
            after: opts.after,
            before: opts.before,
            since: millisOf(opts.since),
            until: millisOf(opts.until),
            types: opts.types,
            order: opts.order ?? "asc",
            limit: opts.limit ?? DEFAULT_LIMIT
          }),
          (rows) => rows.map(decodeEventRow)
        )))

  const latestSequence: EventsShape["latestSequence"] = selectLatest(sql, projectKey).pipe(
    Effect.withSpan("Events.latestSequence")
  )

  const stream: EventsShape["stream"] = (raw) =>
    Stream.unwrap(Effect.gen(function*() {
      // Untyped callers may pass null; it means "no options", as for the other methods' defaults.
      const options: StreamEventsOptions = raw ?? {}
      const opts = yield* decodeReadOptions({ after: options.after, types: options.types })
      const poll = options.pollInterval === undefined ? 250 : yield* decodePoll(options.pollInterval)
      return pollAfter(sql, projectKey, {
        after: opts.after ?? 0,
        types: opts.types,
        pageSize: DEFAULT_LIMIT,
        pollMillis: poll,
        span: "Events.stream.poll"
      })
    }))

  return Events.of({ append, appendAll, read, latestSequence, stream })
})

/** The Events service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Events, make)
