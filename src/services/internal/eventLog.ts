/**
 * Reading the `events` table: shared by the Events and Cursors services so that neither depends
 * on the other's Tag. Always filtered by `project_key`, always ordered and paged by `id`
 * (= `sequence`), never by timestamp.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import { Chunk, Duration, Effect, Option, Stream } from "effect"
import type { FleetEvent } from "../../schema/events.js"
import { decodeEventRow } from "../../schema/events.js"
import { isBusy } from "../../sql/errors.js"
import { retryInRealTime } from "../../sql/transaction.js"

/** An `events` row as selected (without the generated `sequence`, which equals `id`). */
export interface EventRowData {
  readonly id: number
  readonly type: string
  readonly project_key: string
  readonly timestamp: number
  readonly data: string
}

/** Rows of the project with `id > after`, optionally of the given types, ascending, at most `limit`. */
export const selectAfter = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  after: number,
  types: ReadonlyArray<string> | undefined,
  limit: number
): Effect.Effect<ReadonlyArray<EventRowData>, SqlError> =>
  types === undefined || types.length === 0
    ? sql<EventRowData>`SELECT id, type, project_key, timestamp, data FROM events
        WHERE project_key = ${projectKey} AND id > ${after} ORDER BY id LIMIT ${limit}`
    : sql<EventRowData>`SELECT id, type, project_key, timestamp, data FROM events
        WHERE project_key = ${projectKey} AND id > ${after} AND ${sql.in("type", types)} ORDER BY id LIMIT ${limit}`

/** A read of the log: bounds by sequence and by stored time (epoch ms), types, order and size. */
export interface EventQuery {
  /** Sequence strictly greater than this. */
  readonly after?: number | undefined
  /** Sequence strictly less than this. */
  readonly before?: number | undefined
  /** Timestamp at or after this (inclusive). */
  readonly since?: number | undefined
  /** Timestamp strictly before this (exclusive). */
  readonly until?: number | undefined
  readonly types?: ReadonlyArray<string> | undefined
  readonly order: "asc" | "desc"
  readonly limit: number
}

/**
 * Rows of the project matching `query`, ordered by `id` (= sequence), at most `limit`. One
 * statement; every bound is a bound parameter. The indexes on `(project_key, type)` and
 * `(project_key[, type], timestamp)` (migrations 0001, 0006) serve each combination: the row id is
 * the trailing key of every index, so "newest of a type" walks `(project_key, type)` backwards.
 */
export const selectEvents = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  query: EventQuery
): Statement.Statement<EventRowData> => {
  // Plain text with placeholders (every value bound), not composed fragments: a page read is
  // cheap enough that compiling fragments would be a visible share of it.
  const clauses = ["project_key = ?"]
  const params: Array<string | number> = [projectKey]
  const bound = (clause: string, value: number | undefined) => {
    if (value === undefined) return
    clauses.push(clause)
    params.push(value)
  }
  bound("id > ?", query.after)
  bound("id < ?", query.before)
  bound("timestamp >= ?", query.since)
  bound("timestamp < ?", query.until)
  const typed = query.types !== undefined && query.types.length > 0
  if (typed) {
    clauses.push(`type IN (${query.types!.map(() => "?").join(", ")})`)
    params.push(...query.types!)
  }
  params.push(query.limit)
  // A time window names its index: otherwise the planner prefers walking the project's events in
  // id order (no sort needed), checking every timestamp — the whole log for a recent window.
  const from = query.since === undefined && query.until === undefined
    ? "events"
    : `events INDEXED BY ${typed ? "idx_events_project_type_timestamp" : "idx_events_project_timestamp"}`
  return sql.unsafe<EventRowData>(
    `SELECT id, type, project_key, timestamp, data FROM ${from} WHERE ${clauses.join(" AND ")} ` +
      `ORDER BY id ${query.order === "desc" ? "DESC" : "ASC"} LIMIT ?`,
    params
  )
}

/** The sequence of the project's newest event (0 when there is none). */
export const latestSequence = (sql: SqlClient.SqlClient, projectKey: string): Effect.Effect<number, SqlError> =>
  sql<{ readonly seq: number | null }>`SELECT MAX(id) AS seq FROM events WHERE project_key = ${projectKey}`.pipe(
    Effect.map((rows) => rows[0]?.seq ?? 0)
  )

/** Options of `pollAfter`. */
export interface PollOptions {
  readonly after: number
  readonly types: ReadonlyArray<string> | undefined
  /** Rows read per page. */
  readonly pageSize: number
  /** Wait between looks for new events once the backlog is drained. */
  readonly pollMillis: number
  /** The span of each page read, e.g. `"Events.stream.poll"`. */
  readonly span: string
}

/** A live stream of the project's events after `after`: the backlog, then new events. Never ends on its own. */
export const pollAfter = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  options: PollOptions
): Stream.Stream<FleetEvent, SqlError> => {
  const latest = latestSequence(sql, projectKey)
  // Not `Effect.repeat(latest, { schedule })`: that yields the schedule's output (a repetition
  // count), not the sequence, and a wrong `seen` makes the stream spin without sleeping.
  const waitBeyond = (seen: number): Effect.Effect<number, SqlError> =>
    Effect.flatMap(latest, (seq) =>
      seq > seen
        ? Effect.succeed(seq)
        : Effect.zipRight(Effect.sleep(Duration.millis(options.pollMillis)), Effect.suspend(() => waitBeyond(seen))))
  // State: `after` = last delivered sequence; `seen` = newest sequence known to be covered by a
  // page read. An empty page waits for the log to grow beyond `seen` (one indexed MAX lookup per
  // poll) — not beyond `after`, or newer events of other types would make it spin without sleeping.
  // A live stream outlives other processes' checkpoints and WAL resets: a read that meets
  // SQLITE_BUSY is retried a few times rather than ending the stream.
  const busyRetry = { times: 8, base: Duration.millis(20), isRetryable: isBusy }
  return Stream.paginateChunkEffect({ after: options.after, seen: options.after }, ({ after, seen }) =>
    selectAfter(sql, projectKey, after, options.types, options.pageSize).pipe(
      (read) => retryInRealTime(read, busyRetry),
      Effect.flatMap((rows) => {
        if (rows.length > 0) {
          const last = rows[rows.length - 1]!.id
          return Effect.succeed(
            [Chunk.fromIterable(rows.map(decodeEventRow)), Option.some({ after: last, seen: Math.max(seen, last) })] as const
          )
        }
        return retryInRealTime(waitBeyond(Math.max(seen, after)), busyRetry).pipe(
          Effect.map((newest) => [Chunk.empty<FleetEvent>(), Option.some({ after, seen: newest })] as const)
        )
      }),
      Effect.withSpan(options.span)
    ))
}
