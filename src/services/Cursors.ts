/**
 * Cursors: durable positions of named consumers in the event log, for at-least-once processing
 * that survives restarts.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Duration } from "effect"
import { Context, Effect, Layer, Schema, Stream } from "effect"
import { InvalidInput } from "../errors.js"
import type { UndecodableRow } from "../errors.js"
import { ConsumerId, Text } from "../schema/common.js"
import type { FleetEvent } from "../schema/events.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { latestSequence, pollAfter } from "./internal/eventLog.js"
import { decodeDuration, decodeInput } from "./internal/input.js"
import { decodeRow } from "./internal/rows.js"

/** Options of `Cursors.consume`. */
export interface ConsumeOptions {
  /** Only events of these types (the others are skipped; committing a later event moves past them). */
  readonly types?: ReadonlyArray<string> | undefined
  /** How often to look for new events once the backlog is drained (default 250 ms). */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/** One delivered event and the effect that commits the consumer's cursor to it. */
export interface Consumed {
  readonly event: FleetEvent
  /** Advance the cursor to `event.sequence` (never backwards); returns the cursor's position. */
  readonly commit: Effect.Effect<number, UndecodableRow | SqlError>
}

/**
 * The Cursors service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface CursorsShape {
  /** The consumer's position: the sequence of the last event it committed (0 for a new consumer). */
  readonly get: (consumer_id: string) => Effect.Effect<number, InvalidInput | UndecodableRow | SqlError>
  /**
   * Advance the cursor to `position`. Never moves backwards: a lower position changes nothing.
   * Returns the resulting position. Writes no event (cursor moves are event-free). A position
   * beyond this project's newest event is refused (`InvalidInput`), since it would skip events
   * not written yet.
   */
  readonly commit: (consumer_id: string, position: number) => Effect.Effect<number, InvalidInput | UndecodableRow | SqlError>
  /**
   * Move the cursor to `position`, backwards or forwards (to replay or skip). Appends
   * `cursor_moved` when the position changes. Returns the new position.
   */
  readonly reset: (consumer_id: string, position: number) => Effect.Effect<number, InvalidInput | UndecodableRow | SqlError>
  /**
   * A live stream of the events after the consumer's cursor (read when the stream starts), each
   * with a `commit` effect. At-least-once: events after the last commit are delivered again to
   * the next stream of this consumer. Never ends on its own.
   */
  readonly consume: (consumer_id: string, options?: ConsumeOptions) => Stream.Stream<Consumed, InvalidInput | UndecodableRow | SqlError>
}

/** The Cursors service. */
export class Cursors extends Context.Tag("@fleettools/db/Cursors")<Cursors, CursorsShape>() {}

const PAGE_SIZE = 1_000

const Position = Schema.Int.pipe(Schema.nonNegative({ message: () => "must be a non-negative integer" }))
const Types = Schema.Array(Text({ min: 1, max: 200 })).pipe(Schema.maxItems(100))

const decodeConsumer = decodeInput(ConsumerId, "consumer_id")
const decodePosition = decodeInput(Position, "position")
const decodeTypes = decodeInput(Schema.UndefinedOr(Types), "types")
const decodePoll = decodeDuration("pollInterval")
const decodeCursorRow = decodeRow("cursors", Schema.Struct({ position: Schema.Int }))
const decodePositionRow = (row: unknown) => Effect.map(decodeCursorRow(row), (cursor) => cursor.position)

/** Build the Cursors service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, projectKey, query, sql } = yield* makeCommands

  const selectPosition = (consumer_id: string) =>
    Effect.flatMap(
      sql`SELECT id, position FROM cursors WHERE project_key = ${projectKey} AND consumer_id = ${consumer_id}`,
      (rows) => rows.length === 0 ? Effect.succeed(0) : decodePositionRow(rows[0])
    )

  const checkInLog = (ctx: CommandContext, position: number) =>
    Effect.flatMap(latestSequence(ctx.sql, ctx.projectKey), (latest) =>
      position > latest
        ? Effect.fail(
          new InvalidInput({ field: "position", reason: `must not exceed the newest event's sequence (${latest})` })
        )
        : Effect.void)

  const decodeMove = (rawConsumer: string, rawPosition: number) =>
    Effect.all([decodeConsumer(rawConsumer), decodePosition(rawPosition)])

  const get: CursorsShape["get"] = (raw) =>
    Effect.flatMap(decodeConsumer(raw), (consumer_id) => query("Cursors.get", () => selectPosition(consumer_id)))

  const advance = (consumer_id: string, position: number) =>
    command("Cursors.commit", (ctx) =>
      Effect.zipRight(
        checkInLog(ctx, position),
        // An upsert on the unique (project_key, consumer_id) index; MAX keeps it monotonic even
        // if two processes commit out of order.
        Effect.flatMap(
          ctx.sql`INSERT INTO cursors (project_key, consumer_id, position, updated_at)
              VALUES (${ctx.projectKey}, ${consumer_id}, ${position}, ${ctx.now})
              ON CONFLICT (project_key, consumer_id) DO UPDATE SET
                updated_at = CASE WHEN excluded.position > cursors.position THEN excluded.updated_at ELSE cursors.updated_at END,
                position = MAX(cursors.position, excluded.position)
              RETURNING id, position`,
          (rows) => decodePositionRow(rows[0])
        )
      ))

  const commit: CursorsShape["commit"] = (rawConsumer, rawPosition) =>
    Effect.flatMap(decodeMove(rawConsumer, rawPosition), ([consumer_id, position]) => advance(consumer_id, position))

  const reset: CursorsShape["reset"] = (rawConsumer, rawPosition) =>
    Effect.flatMap(decodeMove(rawConsumer, rawPosition), ([consumer_id, position]) =>
      command("Cursors.reset", (ctx) =>
        Effect.gen(function*() {
          yield* checkInLog(ctx, position)
          const from = yield* selectPosition(consumer_id)
          yield* ctx.sql`INSERT INTO cursors (project_key, consumer_id, position, updated_at)
              VALUES (${ctx.projectKey}, ${consumer_id}, ${position}, ${ctx.now})
              ON CONFLICT (project_key, consumer_id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`
          if (from !== position) yield* ctx.emit("cursor_moved", { consumer_id, from, to: position })
          return position
        })))

  const consume: CursorsShape["consume"] = (rawConsumer, raw) =>
    Stream.unwrap(Effect.gen(function*() {
      // Untyped callers may pass null: it means "no options".
      const options: ConsumeOptions = raw ?? {}
      const consumer_id = yield* decodeConsumer(rawConsumer)
      const types = yield* decodeTypes(options.types)
      const pollMillis = options.pollInterval === undefined ? 250 : yield* decodePoll(options.pollInterval)
      const after = yield* query("Cursors.consume", () => selectPosition(consumer_id))
      return pollAfter(sql, projectKey, { after, types, pageSize: PAGE_SIZE, pollMillis, span: "Cursors.consume.poll" }).pipe(
        Stream.map((event): Consumed => ({
          event,
          commit: Effect.catchTag(
            advance(consumer_id, event.sequence),
            // The event exists, so its sequence is within the log.
            "InvalidInput",
            (error) => Effect.die(error)
          )
        }))
      )
    }))

  return Cursors.of({ get, commit, reset, consume })
})

/** The Cursors service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Cursors, make)
