/**
 * The command pattern shared by every service: one write transaction that reads `now` from the
 * time authority (the database's clock or `Clock`, see sql/time.ts), checks invariants, changes rows and appends its events — all or nothing — retried as
 * a whole on SQLITE_BUSY, inside a span named after the method.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { FleetProject } from "../../Project.js"
import type { EventPayload, EventType } from "../../schema/events.js"
import { storedPayload } from "../../schema/events.js"
import { nowOf, TimeAuthority } from "../../sql/time.js"
import { makeWriteTransaction, WritePolicy } from "../../sql/transaction.js"

/** What a command body works with. */
export interface CommandContext {
  readonly sql: SqlClient.SqlClient
  readonly projectKey: string
  /** Epoch milliseconds, read from the time authority at the start of this attempt (inside its transaction). */
  readonly now: number
  /** Append one event in this transaction; returns its sequence. */
  readonly emit: <T extends EventType>(type: T, data: EventPayload<T>) => Effect.Effect<number, SqlError>
}

/** The statement appending one event; `RETURNING id` gives its sequence. */
export const insertEvent = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  now: number,
  type: string,
  json: string
) =>
  Effect.map(
    sql<{ readonly id: number }>`INSERT INTO events (type, project_key, timestamp, data) VALUES (${type}, ${projectKey}, ${now}, ${json}) RETURNING id`,
    (rows) => rows[0]!.id
  )

// The stack trace a span captures by default would point here, not at the caller; it is not
// worth an Error per command.
const spanOptions = { captureStackTrace: false } as const

/** Build the command runner for a service (captures the client, the project and the retry policy). */
export const makeCommands = Effect.gen(function*() {
  // The runner decides per call whether to open a transaction or join the caller's.
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const writeTransaction = makeWriteTransaction(sql, yield* WritePolicy)
  // Without a `TimeAuthority` (services composed by hand), the fiber's `Clock` decides.
  const authority = yield* Effect.serviceOption(TimeAuthority)
  const currentTime = nowOf(authority._tag === "Some" ? authority.value.kind : "clock", sql)
  const emit = (now: number) => <T extends EventType>(type: T, data: EventPayload<T>) =>
    insertEvent(sql, projectKey, now, type, JSON.stringify(storedPayload(data)))

  /** Run `body` as one command named `span` (e.g. `"Pilots.register"`). */
  const command = <A, E>(
    span: string,
    body: (ctx: CommandContext) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | SqlError> =>
    // The command's span is the current span of the transaction and of the body (what the body
    // annotates lands there): the runner opens no span of its own, and a savepoint's span (inside
    // an app's transaction) is not made the body's parent (see `transactionRunner`).
    Effect.withSpan(
      writeTransaction(Effect.flatMap(currentTime, (now) => body({ sql, projectKey, now, emit: emit(now) }))),
      span,
      spanOptions
    )

  /**
   * Run a read-only `body` (no transaction) with `now` from the time authority, in a span. Query bodies are
   * plain reads, so the span times the body without becoming the parent span inside it (which
   * would cost more than the read).
   */
  const query = <A, E>(
    span: string,
    body: (ctx: Omit<CommandContext, "emit">) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | SqlError> =>
    Effect.useSpan(span, spanOptions, () => Effect.flatMap(currentTime, (now) => body({ sql, projectKey, now })))

  return { sql, projectKey, command, query, currentTime } as const
})
