/**
 * Our `SqlClient` over the `GuardedClient`, built on `@effect/sql`'s public API only
 * (`SqlClient.make`, `SqlClient.makeWithTransaction`, `SqlClient.TransactionConnection`,
 * `Statement.make`, the `Statement` interface). It replaces `@effect/sql-libsql`'s client (the
 * same few hundred lines of glue) so that the library owns its connection, and the fast path
 * needs nothing private — no re-declared tag, no patched statement, no hand-set context:
 *
 * - **Statements.** A template or `unsafe` statement is an object of our own implementing
 *   `Statement.Statement`: run as an effect, it compiles and executes straight on the open
 *   transaction's connection (found under the public `TransactionConnection` tag) or on the client
 *   — no span, scope or connection acquisition per statement. Everything else (`.raw`, `.values`,
 *   `.stream`, `.unprepared`, `.withoutTransform`, and any statement while a
 *   `Statement.withTransformer` is in force) is `@effect/sql`'s own statement, which looks up the
 *   same tag.
 * - **Transactions** are `SqlClient.makeWithTransaction` on that tag: `BEGIN IMMEDIATE` on the
 *   serialised client, a savepoint when one is already open (an app wrapping several commands in
 *   `sql.withTransaction` gets one transaction). Waiting for the client is interruptible.
 *   Commands use the same steps without `makeWithTransaction`'s own span (`transactionRunner`).
 * - **Local databases** (file, memory): when no one else holds the client, BEGIN, the statements
 *   and COMMIT run synchronously in the calling fiber (`GuardedClient.transactionNow`/`rowsNow`,
 *   local.ts), with no promise and no fiber suspension each; otherwise, and for servers, they go
 *   through the client's promises as before (docs/architecture.md §3, "The synchronous local path").
 *
 * Why, measured (bench/README.md, "The fast path"; `npm run bench -- statement transaction`, one
 * run, interleaved rounds): a statement through `@effect/sql`'s machinery cost 82 µs of CPU, ours
 * 35 µs — a command of three statements saves ~140 µs, as much as its whole Effect overhead
 * otherwise. A transaction opened by hand (begin, publish the connection, commit) measured no
 * cheaper than `makeWithTransaction` (288 vs 277 µs CPU), so commands use the public one.
 *
 * Errors are the same `SqlError`s as `@effect/sql-libsql`'s. What stays coupled to `@effect/sql`'s
 * behaviour rather than its types (its statements consult `TransactionConnection` before the
 * acquirer; the `SqlClient` object is the statement constructor with its helpers as own
 * properties; statements nest as fragments) is checked by test/sql-client.test.ts, whose failures
 * name the cause.
 *
 * @module
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import type * as Libsql from "@libsql/client"
import { Context, Effect, Effectable, Option, RuntimeFlags, Tracer } from "effect"
import type { Stream } from "effect"
import type { Scope } from "effect"
import { type GuardedClient, TransactionNow } from "./GuardedClient.js"

interface Executor {
  execute(stmt: Libsql.InStatement): Promise<Libsql.ResultSet>
  /**
   * The statement's rows, computed in this call; undefined when that cannot be done without
   * waiting (then `execute`). Local connections only (see local.ts).
   */
  rowsNow?(sql: string, args: ReadonlyArray<unknown>): ReadonlyArray<object> | undefined
}

// Rows as the driver returns them (objects); `@effect/sql` types them per statement.
type Rows = ReadonlyArray<object>
type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const failed = (cause: unknown, message = "Failed to execute statement") => Effect.fail(new SqlError({ cause, message }))

const execute = (target: Executor, sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Libsql.ResultSet, SqlError> =>
  Effect.async<Libsql.ResultSet, SqlError>((resume) => {
    target.execute({ sql, args: params as Array<Libsql.InValue> }).then(
      (result) => resume(Effect.succeed(result)),
      (cause) => resume(failed(cause))
    )
  })

/**
 * The rows of one statement: on a local connection that is free, synchronously (no promise, no
 * fiber suspension); otherwise `execute`, resuming with the rows directly.
 */
const executeRows = (target: Executor, sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Rows, SqlError> =>
  target.rowsNow === undefined ? executeRowsLater(target, sql, params) : Effect.suspend(() => {
    let rows: Rows | undefined
    try {
      rows = target.rowsNow!(sql, params)
    } catch (cause) {
      return failed(cause)
    }
    return rows === undefined ? executeRowsLater(target, sql, params) : Effect.succeed(rows)
  })

const executeRowsLater = (target: Executor, sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Rows, SqlError> =>
  Effect.async<Rows, SqlError>((resume) => {
    target.execute({ sql, args: params as Array<Libsql.InValue> }).then(
      (result) => resume(Effect.succeed(result.rows)),
      (cause) => resume(failed(cause))
    )
  })

const settleNow = (f: () => void, message: string): Effect.Effect<void, SqlError> =>
  Effect.suspend(() => {
    try {
      f()
      return Effect.void
    } catch (cause) {
      return failed(cause, message)
    }
  })

const settle = (promise: () => Promise<void>, message: string): Effect.Effect<void, SqlError> =>
  Effect.async<void, SqlError>((resume) => {
    promise().then(
      () => resume(Effect.void),
      (cause) => resume(failed(cause, message))
    )
  })

/** A connection: the client itself, or one of its write transactions. */
class LibsqlConnection implements Connection {
  constructor(readonly sdk: Executor, readonly transaction: Libsql.Transaction | undefined) {}
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
  get commit(): Effect.Effect<void, SqlError> {
    const tx = this.transaction
    return tx === undefined
      ? Effect.dieMessage("not a transaction")
      : tx instanceof TransactionNow
      ? settleNow(() => tx.commitNow(), "Failed to commit transaction")
      : settle(() => tx.commit(), "Failed to commit transaction")
  }
  get rollback(): Effect.Effect<void, SqlError> {
    const tx = this.transaction
    return tx === undefined
      ? Effect.dieMessage("not a transaction")
      : tx instanceof TransactionNow
      ? settleNow(() => tx.rollbackNow(), "Failed to rollback transaction")
      : settle(() => tx.rollback(), "Failed to rollback transaction")
  }
}

// Transactions of our client only ever hold our connections.
const settleWith = (connection: Connection, settle: (connection: LibsqlConnection) => Effect.Effect<void, SqlError>) =>
  connection instanceof LibsqlConnection
    ? settle(connection)
    : Effect.dieMessage("a transaction of this client holds a connection of another client")

// A local client that no one else holds begins in this call (`transactionNow`); otherwise the
// transaction is waited for. Neither throws (a failed BEGIN yields a transaction whose statements
// fail).
const begin = (guarded: GuardedClient): Effect.Effect<LibsqlConnection> =>
  Effect.suspend(() => {
    const now = guarded.transactionNow()
    return now === undefined ? beginLater(guarded) : Effect.succeed(new LibsqlConnection(now, now))
  })

// If the waiter is interrupted first, the transaction it was queued for is rolled back as soon as
// it arrives, so the client's queue moves on.
const beginLater = (guarded: GuardedClient): Effect.Effect<LibsqlConnection> =>
  Effect.async<LibsqlConnection>((resume) => {
    let interrupted = false
    guarded.transaction("write").then(
      (tx) => {
        if (interrupted) {
          tx.rollback().catch(() => tx.close())
        } else {
          resume(Effect.succeed(new LibsqlConnection(tx, tx)))
        }
      },
      (error: unknown) => resume(Effect.die(error))
    )
    return Effect.sync(() => {
      interrupted = true
    })
  })

/**
 * A template or `unsafe` statement: `@effect/sql`'s own statement (`inner`) for everything but
 * running it as an effect, which goes straight to the connection.
 */
class DirectStatement<A> extends Effectable.Class<ReadonlyArray<A>, SqlError> implements Statement.Statement<A> {
  constructor(readonly inner: Statement.Statement<A>, readonly client: LibsqlConnection) {
    super()
  }
  get [Statement.FragmentId]() {
    return this.inner[Statement.FragmentId]
  }
  get segments() {
    return this.inner.segments
  }
  get raw() {
    return this.inner.raw
  }
  get withoutTransform() {
    return this.inner.withoutTransform
  }
  get stream(): Stream.Stream<A, SqlError> {
    return this.inner.stream
  }
  get values() {
    return this.inner.values
  }
  get unprepared() {
    return this.inner.unprepared
  }
  compile(withoutTransform?: boolean | undefined) {
    return this.inner.compile(withoutTransform)
  }
  commit(): Effect.Effect<ReadonlyArray<A>, SqlError> {
    return Effect.withFiberRuntime((fiber) => {
      if (Option.isSome(fiber.getFiberRef(Statement.currentTransformer))) return this.inner
      const open = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
      const connection = open._tag === "Some" ? open.value[0] : this.client
      if (!(connection instanceof LibsqlConnection)) return this.inner
      const [text, params] = this.inner.compile()
      return executeRows(connection.sdk, text, params) as Effect.Effect<ReadonlyArray<A>, SqlError>
    })
  }
  toJSON() {
    return this.inner
  }
}

// The client each of our `SqlClient`s is built on (for the transaction runner, the change probe
// and the Replica service).
const guardedClients = new WeakMap<SqlClient.SqlClient, GuardedClient>()

// Each of our clients' transaction runner for commands (see `transactionRunner`).
const ownTransactions = new WeakMap<SqlClient.SqlClient, <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>>()

/** The `GuardedClient` under `sql`, when `sql` is one of ours (see `make`). */
export const guardedClientOf = (sql: SqlClient.SqlClient): GuardedClient | undefined => guardedClients.get(sql)

const spanAttributes: ReadonlyArray<readonly [string, unknown]> = [["db.system.name", "sqlite"]]

/** A `SqlClient` over `guarded` (SQLite dialect, no name transforms). */
export const make = (guarded: GuardedClient): Effect.Effect<SqlClient.SqlClient, never, Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const root = new LibsqlConnection(guarded, undefined)
    // `guarded` serialises every call (a transaction holds it until it settles): no semaphore.
    const acquirer: Effect.Effect<Connection> = Effect.succeed(root)
    const base = yield* SqlClient.make({ acquirer, compiler: Statement.makeCompilerSqlite(), spanAttributes })
    // `makeWithTransaction` acquires the connection inside its uninterruptible region. Waiting for
    // the client may be interrupted when the caller could be (an abandoned command must not wait
    // for someone else's long transaction), but not otherwise: a finalizer's command (releasing a
    // lock on interruption) must run, not be cut short by the interruption it cleans up after.
    const transactions = (acquire: (wait: Effect.Effect<LibsqlConnection>) => Effect.Effect<LibsqlConnection>) =>
      SqlClient.makeWithTransaction({
        transactionTag: SqlClient.TransactionConnection,
        spanAttributes,
        acquireConnection: Effect.map(
          acquire(begin(guarded)),
          (connection): readonly [Scope.CloseableScope | undefined, Connection] => [undefined, connection]
        ),
        begin: () => Effect.void, // begun by `acquireConnection`
        savepoint: (conn, id) => conn.executeRaw(`SAVEPOINT effect_sql_${id};`, []),
        commit: (conn) => settleWith(conn, (own) => own.commit),
        rollback: (conn) => settleWith(conn, (own) => own.rollback),
        rollbackSavepoint: (conn, id) => conn.executeRaw(`ROLLBACK TO SAVEPOINT effect_sql_${id};`, [])
      })
    const interruptibleWait = transactions(Effect.interruptible)
    const uninterruptibleWait = transactions((wait) => wait)
    const withTransaction = <R, E, A>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.checkInterruptible((interruptible) => interruptible ? interruptibleWait(effect) : uninterruptibleWait(effect))
    const template = function(strings: unknown, ...args: Array<unknown>): unknown {
      const made = (base as unknown as (strings: unknown, ...args: Array<unknown>) => unknown)(strings, ...args)
      // `sql("name")` is an identifier, not a statement.
      return Array.isArray(strings) && "raw" in strings ? new DirectStatement(made as Statement.Statement<object>, root) : made
    }
    const unsafe = <A extends object>(text: string, params?: ReadonlyArray<unknown>) =>
      new DirectStatement(base.unsafe<A>(text, params), root)
    const client = Object.assign(template, base, { unsafe, withTransaction }) as unknown as SqlClient.SqlClient
    Object.assign(client, { safe: client, withoutTransforms: () => client })
    guardedClients.set(client, guarded)
    // A command's own transaction, as `makeWithTransaction` runs it (begin, the body with the
    // connection under `TransactionConnection`, commit or roll back, uninterruptible but for the
    // wait and the body) without its `sql.transaction` span: the command's span times it.
    const own = <A, E, R>(effect: Effect.Effect<A, E, R>, interruptible: boolean): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(interruptible ? Effect.interruptible(begin(guarded)) : begin(guarded), (connection) =>
          Effect.matchCauseEffect(restore(Effect.provideService(effect, SqlClient.TransactionConnection, [connection, 0])), {
            onFailure: (cause) => Effect.zipRight(connection.rollback, Effect.failCause(cause)),
            onSuccess: (value) => Effect.as(connection.commit, value)
          }))
      )
    ownTransactions.set(client, <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.withFiberRuntime<A, E | SqlError, R>((fiber, status) =>
        Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)._tag === "Some"
          ? viaWithTransaction(client)(effect) // a savepoint of the caller's transaction
          : own(effect, RuntimeFlags.interruptible(status.runtimeFlags))
      ))
    return client
  })

/**
 * How to run one write transaction on `sql`: `BEGIN IMMEDIATE`, or a savepoint of the transaction
 * already open, with a failed commit (or rollback) as a `SqlError` failure rather than the defect
 * `@effect/sql` makes of it. On our client a new transaction skips `makeWithTransaction`'s
 * `sql.transaction` span (the command's span covers it); on any other client, and for a
 * savepoint, it is `sql.withTransaction`.
 */
export const transactionRunner = (sql: SqlClient.SqlClient) => ownTransactions.get(sql) ?? viaWithTransaction(sql)

// `sql.withTransaction` makes its `sql.transaction` span the body's parent span; the body keeps
// the caller's current span instead (a command's annotations land on the command's span).
const viaWithTransaction = (sql: SqlClient.SqlClient) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
  Effect.withFiberRuntime<A, E | SqlError, R>((fiber) => {
    const caller = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
    return sql.withTransaction(caller._tag === "Some" ? Effect.withParentSpan(effect, caller.value) : effect).pipe(
      Effect.catchSomeDefect((defect) => defect instanceof SqlError ? Option.some(Effect.fail(defect)) : Option.none())
    )
  })

/**
 * For waiters: an effect whose value changes whenever the database may have changed — the
 * connection's `PRAGMA data_version` (bumped by other connections' commits) with the number of
 * transactions this client committed itself. Comparing two values costs one trivial statement and
 * no table read. Only for local databases (file or memory: one connection per client); undefined
 * for a server, whose requests may each use another connection, and for other clients.
 */
export const changeProbe = (sql: SqlClient.SqlClient): Effect.Effect<string, SqlError> | undefined => {
  const guarded = guardedClientOf(sql)
  if (guarded === undefined || guarded.protocol !== "file") return undefined
  return Effect.map(
    sql<{ readonly data_version: number }>`PRAGMA data_version`,
    (rows) => `${rows[0]?.data_version ?? 0}:${guarded.commits}`
  )
}
