/**
 * Events: the append-only log every command writes to, readable by sequence and as a live stream.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Chunk, Context, Duration, Effect, Either, Layer, Option, Schedule, Schema, Stream } from "effect"
import { InvalidInput } from "../errors.js"
import { Text } from "../schema/common.js"
import type { FleetEvent, NewEvent } from "../schema/events.js"
import { decodeEventRow, encodeNewEvent } from "../schema/events.js"
import { makeCommands } from "./internal/command.js"
import { decodeDuration, decodeInput, toInvalidInput } from "./internal/input.js"

/** Options of `Events.read`. */
export interface ReadEventsOptions {
  /** Only events with a sequence greater than this (default 0: from the start). */
  readonly after?: number | undefined
  /** Only events of these types. */
  readonly types?: ReadonlyArray<string> | undefined
  /** At most this many events (default 1000, at most 10000). */
  readonly limit?: number | undefined
}

/** Options of `Events.stream`. */
export interface StreamEventsOptions {
  readonly after?: number | undefined
  readonly types?: ReadonlyArray<string> | undefined
  /** How often to look for new events once the backlog is drained (default 250 ms). */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/** The Events service. */
export interface EventsShape {
  /** Append one event (known types are checked against their payload schema). */
  readonly append: (event: NewEvent) => Effect.Effect<FleetEvent, InvalidInput | SqlError>
  /** Append several events in one transaction, in order. */
  readonly appendAll: (events: ReadonlyArray<NewEvent>) => Effect.Effect<ReadonlyArray<FleetEvent>, InvalidInput | SqlError>
  /** Events of this project in ascending sequence. */
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

const ReadOptions = Schema.Struct({
  after: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  types: Schema.optional(Schema.Array(Text({ min: 1, max: 200 })).pipe(Schema.maxItems(100))),
  limit: Schema.optional(Schema.Int.pipe(Schema.between(1, MAX_LIMIT)))
})
const decodeReadOptions = decodeInput(ReadOptions)
const decodeEventType = decodeInput(Text({ min: 1, max: 200 }), "type")
const decodePoll = decodeDuration("pollInterval")

interface EventRowData {
  readonly id: number
  readonly type: string
  readonly project_key: string
  readonly timestamp: number
  readonly data: string
}

/** Build the Events service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, projectKey, query, sql } = yield* makeCommands

  const encodeAll = (events: ReadonlyArray<NewEvent>) =>
    Effect.forEach(events, (event, index) =>
      Effect.flatMap(decodeEventType(event?.type), (type) =>
        Either.match(encodeNewEvent({ type, data: event.data } as NewEvent), {
          onLeft: (error) => Effect.fail(toInvalidInput(error, `events.${index}.data`)),
          onRight: (json) => Effect.succeed({ type, json })
        })))

  const insertAll = (encoded: ReadonlyArray<{ readonly type: string; readonly json: string }>) =>
    command("Events.appendAll", ({ now, projectKey, sql }) =>
      Effect.map(
        Effect.forEach(Chunk.chunksOf(Chunk.fromIterable(encoded), INSERT_CHUNK), (chunk) =>
          sql<EventRowData>`INSERT INTO events (type, project_key, timestamp, data) VALUES ${
            sql.csv(Chunk.toReadonlyArray(chunk).map((e) => sql`(${e.type}, ${projectKey}, ${now}, ${e.json})`))
          } RETURNING id, type, project_key, timestamp, data`),
        (batches) => batches.flat().sort((a, b) => a.id - b.id).map(decodeEventRow)
      ))

  const appendAll: EventsShape["appendAll"] = (events) =>
    Array.isArray(events)
      ? Effect.flatMap(encodeAll(events), (encoded) => encoded.length === 0 ? Effect.succeed([]) : insertAll(encoded))
      : Effect.fail(new InvalidInput({ field: "events", reason: "must be an array of events" }))

  const append: EventsShape["append"] = (event) =>
    Effect.flatMap(
      Effect.flatMap(decodeEventType(event?.type), (type) =>
        Either.match(encodeNewEvent({ type, data: event.data } as NewEvent), {
          onLeft: (error) => Effect.fail(toInvalidInput(error, "data")),
          onRight: (json) => Effect.succeed({ type, json })
        })),
      ({ json, type }) =>
        command("Events.append", ({ now, projectKey, sql }) =>
          Effect.map(
            sql<EventRowData>`INSERT INTO events (type, project_key, timestamp, data)
                VALUES (${type}, ${projectKey}, ${now}, ${json}) RETURNING id, type, project_key, timestamp, data`,
            (rows) => decodeEventRow(rows[0]!)
          ))
    )

  const selectAfter = (after: number, types: ReadonlyArray<string> | undefined, limit: number) =>
    types === undefined || types.length === 0
      ? sql<EventRowData>`SELECT id, type, project_key, timestamp, data FROM events
          WHERE project_key = ${projectKey} AND id > ${after} ORDER BY id LIMIT ${limit}`
      : sql<EventRowData>`SELECT id, type, project_key, timestamp, data FROM events
          WHERE project_key = ${projectKey} AND id > ${after} AND ${sql.in("type", types)} ORDER BY id LIMIT ${limit}`

  const read: EventsShape["read"] = (options = {}) =>
    Effect.flatMap(decodeReadOptions(options), (opts) =>
      query("Events.read", () =>
        Effect.map(
          selectAfter(opts.after ?? 0, opts.types, opts.limit ?? DEFAULT_LIMIT),
          (rows) => rows.map(decodeEventRow)
        )))

  const latest = sql<{ readonly seq: number | null }>`SELECT MAX(id) AS seq FROM events WHERE project_key = ${projectKey}`.pipe(
    Effect.map((rows) => rows[0]?.seq ?? 0)
  )
  const latestSequence: EventsShape["latestSequence"] = latest.pipe(Effect.withSpan("Events.latestSequence"))

  const stream: EventsShape["stream"] = (options = {}) =>
    Stream.unwrap(Effect.gen(function*() {
      const opts = yield* decodeReadOptions({ after: options.after, types: options.types })
      const poll = options.pollInterval === undefined ? 250 : yield* decodePoll(options.pollInterval)
      // Each step reads the next page; an empty page waits for the newest sequence to move
      // (one indexed MAX lookup per poll) before reading rows again.
      return Stream.paginateChunkEffect(opts.after ?? 0, (after) =>
        selectAfter(after, opts.types, DEFAULT_LIMIT).pipe(
          Effect.flatMap((rows) =>
            rows.length > 0
              ? Effect.succeed([Chunk.fromIterable(rows.map(decodeEventRow)), Option.some(rows[rows.length - 1]!.id)] as const)
              : waitForNewer(after, poll).pipe(
                Effect.as([Chunk.empty<FleetEvent>(), Option.some(after)] as const)
              )
          ),
          Effect.withSpan("Events.stream.poll")
        ))
    }))

  const waitForNewer = (after: number, pollMillis: number) =>
    Effect.repeat(latest, {
      schedule: Schedule.spaced(Duration.millis(pollMillis)),
      until: (seq) => seq > after
    })

  return Events.of({ append, appendAll, read, latestSequence, stream })
})

/** The Events service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Events, make)
