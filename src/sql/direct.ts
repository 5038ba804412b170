/**
 * The direct path: statements and write transactions of the services run straight on the
 * `GuardedClient` under the `SqlClient`, skipping the per-statement machinery of `@effect/sql`
 * (a span, a scope and a connection acquisition per statement, a second span and a scope per
 * transaction), which costs more than the SQLite work of a small command.
 *
 * Semantics are those of `@effect/sql-libsql`: the same SQL reaches the same client, errors are
 * the same `SqlError`s, a transaction is `BEGIN IMMEDIATE` on the serialised client. The direct
 * transaction publishes its connection under `@effect/sql-libsql`'s own transaction tag, so any
 * ordinary `sql` statement or nested `sql.withTransaction` (a savepoint) inside it joins it; and a
 * command inside a transaction opened by `sql.withTransaction` (an app wrapping several commands
 * in one transaction) becomes a savepoint of that one, its statements running on its connection.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { LibsqlClient } from "@effect/sql-libsql"
import type * as Libsql from "@libsql/client"
import { Context, Effect, Exit, FiberRef, Option, Tracer } from "effect"
import { GuardedClient } from "./GuardedClient.js"

/**
 * `@effect/sql-libsql`'s transaction tag. It is a `GenericTag`, so the same key names the same
 * tag: statements of the `SqlClient` look their transaction connection up under it.
 */
const LibsqlTransaction = Context.GenericTag<readonly [Connection, number]>(
  "@effect/sql-libsql/LibsqlClient/LibsqlTransaction"
)
/** `@effect/sql`'s generic transaction tag, consulted first by every statement. */
const TransactionConnection = Context.GenericTag<readonly [Connection, number]>(
  "@effect/sql/SqlClient/TransactionConnection"
)

interface Executor {
  execute(stmt: Libsql.InStatement): Promise<Libsql.ResultSet>
}

// Rows as the driver returns them (objects); `@effect/sql` types them per statement.
type Rows = ReadonlyArray<object>
type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const failed = (cause: unknown) => Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))

const execute = (target: Executor, sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Libsql.ResultSet, SqlError> =>
  Effect.async<Libsql.ResultSet, SqlError>((resume) => {
    target.execute({ sql, args: params as Array<Libsql.InValue> }).then(
      (result) => resume(Effect.succeed(result)),
      (cause) => resume(failed(cause))
    )
  })

/** `execute`, resuming with the rows directly (one step less per statement). */
const executeRows = (target: Executor, sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Rows, SqlError> =>
  Effect.async<Rows, SqlError>((resume) => {
    target.execute({ sql, args: params as Array<Libsql.InValue> }).then(
      (result) => resume(Effect.succeed(result.rows)),
      (cause) => resume(failed(cause))
    )
  })

/** The connection of a direct transaction, as `@effect/sql` sees it (for statements and savepoints inside it). */
class DirectConnection implements Connection {
  constructor(readonly sdk: Libsql.Transaction) {}
  execute(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    const rows = executeRows(this.sdk, sql, params)
    return transformRows === undefined ? rows : Effect.map(rows, transformRows)
  }
  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return execute(this.sdk, sql, params)
  }
  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(execute(this.sdk, sql, params), (result) => result.rows.map((row) => Array.from(row)))
  }
  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    return this.execute(sql, params, transformRows)
  }
  executeStream() {
    return Effect.dieMessage("executeStream not implemented")
  }
  // What `@effect/sql-libsql` calls on its own transaction connections; a nested transaction is a
  // savepoint (executeRaw) and never begins or ends this one.
  get beginTransaction(): Effect.Effect<never, SqlError> {
    return Effect.dieMessage("a direct transaction cannot begin another")
  }
  get commit(): Effect.Effect<void, SqlError> {
    return Effect.dieMessage("a direct transaction is committed by its runner")
  }
  get rollback(): Effect.Effect<void, SqlError> {
    return Effect.dieMessage("a direct transaction is rolled back by its runner")
  }
}

/** The `GuardedClient` under `sql`, when `sql` is the `@effect/sql-libsql` client built on one. */
export const guardedClientOf = (sql: SqlClient.SqlClient): GuardedClient | undefined => {
  if (!(LibsqlClient.TypeId in sql)) return undefined
  const config = (sql as LibsqlClient.LibsqlClient).config
  return "liveClient" in config && config.liveClient instanceof GuardedClient ? config.liveClient : undefined
}

/**
 * The driver transaction behind a transaction connection: ours, or `@effect/sql-libsql`'s own
 * (opened by an app's `sql.withTransaction`), which keeps it as `sdk` and runs each statement as
 * `sdk.execute({ sql, args })` — exactly what the direct path does.
 */
const transactionOf = (connection: Connection): Executor | undefined => {
  if (connection instanceof DirectConnection) return connection.sdk
  const sdk = (connection as { readonly sdk?: unknown }).sdk
  return typeof sdk === "object" && sdk !== null && typeof (sdk as Executor).execute === "function" &&
      typeof (sdk as Libsql.Transaction).commit === "function"
    ? sdk as Executor
    : undefined
}

interface StatementInternals {
  compile(): readonly [string, ReadonlyArray<unknown>]
  readonly transformRows: TransformRows
  commit(): Effect.Effect<Rows, SqlError>
}

/**
 * A `SqlClient` whose template and `unsafe` statements run directly: on the open direct transaction, or on the
 * client when there is none. Everything else (helpers, `withTransaction`, `.raw`,
 * `.values`…) is the underlying client's. Returns `sql` itself when it is not built on a
 * `GuardedClient`.
 */
export const directClient = (sql: SqlClient.SqlClient): SqlClient.SqlClient => {
  const guarded = guardedClientOf(sql)
  if (guarded === undefined) return sql
  const ordinary = (statement: StatementInternals) => Object.getPrototypeOf(statement).commit.call(statement)

  function commit(this: StatementInternals): Effect.Effect<Rows, SqlError> {
    return Effect.withFiberRuntime((fiber) => {
      const context = fiber.currentContext
      let target: Executor = guarded!
      if (Option.isSome(Context.getOption(context, TransactionConnection))) return ordinary(this)
      const tx = Context.getOption(context, LibsqlTransaction)
      if (Option.isSome(tx)) {
        const open = transactionOf(tx.value[0])
        if (open === undefined) return ordinary(this)
        target = open
      }
      const [text, params] = this.compile()
      const rows = executeRows(target, text, params)
      return this.transformRows === undefined ? rows : Effect.map(rows, this.transformRows)
    })
  }

  const template = function(strings: unknown, ...args: Array<unknown>): unknown {
    const made = (sql as unknown as (strings: unknown, ...args: Array<unknown>) => unknown)(strings, ...args)
    // Only template statements; `sql("name")` is an identifier.
    if (Array.isArray(strings) && "raw" in strings) (made as StatementInternals).commit = commit
    return made
  }
  // `sql.unsafe` statements (text built from placeholders, values bound) run directly too.
  const unsafe = (text: string, params?: ReadonlyArray<unknown>): unknown => {
    const made = (sql.unsafe as (text: string, params?: ReadonlyArray<unknown>) => unknown)(text, params)
    ;(made as StatementInternals).commit = commit
    return made
  }
  return Object.assign(template, sql, { unsafe }) as unknown as SqlClient.SqlClient
}

/**
 * Run `effect` as one write transaction directly on `guarded` (`BEGIN IMMEDIATE`): commit on
 * success, roll back on failure or interruption. A failed commit is a `SqlError` failure. The
 * body is interruptible, beginning and ending are not; waiting for the client is. `context` is the
 * fiber's context when the transaction starts (the body sees it plus the transaction).
 */
export const directTransaction = <A, E, R>(
  guarded: GuardedClient,
  effect: Effect.Effect<A, E, R>,
  context: Context.Context<never>,
  span?: Tracer.AnySpan | undefined
): Effect.Effect<A, E | SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(begin(guarded)), (tx) =>
      // The context is set and put back by hand rather than with `provideService`, whose
      // acquire/use/release costs more than the rest of the transaction's bookkeeping: this region
      // is uninterruptible and `exit` catches every outcome of the body, so it is always put back.
      // The command's span becomes the parent span in the same update.
      Effect.zipRight(
        FiberRef.set(
          FiberRef.currentContext,
          withSpanContext(Context.add(context, LibsqlTransaction, [new DirectConnection(tx), 0] as const), span)
        ),
        Effect.flatMap(Effect.exit(restore(effect)), (exit) =>
          Effect.zipRight(
            FiberRef.set(FiberRef.currentContext, context),
            Exit.isSuccess(exit)
              ? Effect.as(settle(tx.commit(), "Failed to commit transaction"), exit.value)
              : Effect.zipRight(
                Effect.orDie(settle(tx.rollback(), "Failed to rollback transaction")),
                exit as Exit.Exit<A, E | SqlError>
              )
          ))
      ))
  )

const withSpanContext = (context: Context.Context<never>, span: Tracer.AnySpan | undefined): Context.Context<never> =>
  span === undefined ? context : Context.add(context, Tracer.ParentSpan, span)

const settle = (promise: Promise<void>, message: string): Effect.Effect<void, SqlError> =>
  Effect.async<void, SqlError>((resume) => {
    promise.then(
      () => resume(Effect.void),
      (cause) => resume(Effect.fail(new SqlError({ cause, message })))
    )
  })

// `GuardedClient.transaction` never rejects (a failed BEGIN yields a transaction whose statements
// fail). If the waiter is interrupted first, the transaction it was queued for is rolled back as
// soon as it arrives, so the client's queue moves on.
const begin = (guarded: GuardedClient): Effect.Effect<Libsql.Transaction> =>
  Effect.async<Libsql.Transaction>((resume) => {
    let interrupted = false
    guarded.transaction("write").then(
      (tx) => {
        if (interrupted) {
          tx.rollback().catch(() => tx.close())
        } else {
          resume(Effect.succeed(tx))
        }
      },
      (error: unknown) => resume(Effect.die(error))
    )
    return Effect.sync(() => {
      interrupted = true
    })
  })

/** True when the fiber is inside a transaction of `@effect/sql` (direct or not). */
const inTransaction = (context: Context.Context<never>): boolean =>
  Option.isSome(Context.getOption(context, LibsqlTransaction)) ||
  Option.isSome(Context.getOption(context, TransactionConnection))

/**
 * How to run one write transaction on `sql`: directly when `sql` is built on a `GuardedClient` and
 * no transaction is open; otherwise `sql.withTransaction` (joining an open transaction as a
 * savepoint). A failed commit is a `SqlError` failure either way. With `span`, the transaction
 * runs with it as its parent span.
 */
export const transactionRunner = (sql: SqlClient.SqlClient) => {
  const guarded = guardedClientOf(sql)
  const ordinary = <A, E, R>(effect: Effect.Effect<A, E, R>, span?: Tracer.AnySpan): Effect.Effect<A, E | SqlError, R> => {
    const run = sql.withTransaction(effect).pipe(
      // @effect/sql turns a failed COMMIT into a defect; it is a database failure like any other.
      Effect.catchSomeDefect((defect) => defect instanceof SqlError ? Option.some(Effect.fail(defect)) : Option.none())
    )
    return span === undefined ? run : Effect.withParentSpan(run, span)
  }
  if (guarded === undefined) return ordinary
  return <A, E, R>(effect: Effect.Effect<A, E, R>, span?: Tracer.AnySpan): Effect.Effect<A, E | SqlError, R> =>
    Effect.withFiberRuntime((fiber) =>
      inTransaction(fiber.currentContext)
        ? ordinary(effect, span)
        : directTransaction(guarded, effect, fiber.currentContext, span)
    )
}

/**
 * For waiters: an effect whose value changes whenever the database may have changed — the
 * connection's `PRAGMA data_version` (bumped by other connections' commits) with the number of
 * transactions this client committed itself. Comparing two values costs one trivial statement and
 * no table read. Only for local databases (file or memory: one connection per client); undefined
 * for a server, whose requests may each use another connection.
 */
export const changeProbe = (sql: SqlClient.SqlClient): Effect.Effect<string, SqlError> | undefined => {
  const guarded = guardedClientOf(sql)
  if (guarded === undefined || guarded.protocol !== "file") return undefined
  const direct = directClient(sql)
  return Effect.map(
    direct<{ readonly data_version: number }>`PRAGMA data_version`,
    (rows) => `${rows[0]?.data_version ?? 0}:${guarded.commits}`
  )
}
