/**
 * A `@libsql/client` Client wrapper, under the library's own `SqlClient` (`sqlClient.ts`), closing
 * two traps of the pinned stack (docs/architecture.md §3):
 *
 * - **The wedge**: when `transaction()` rejects (BEGIN IMMEDIATE timed out on SQLITE_BUSY),
 *   `@effect/sql-libsql` 0.42 never releases its internal permit and every later statement hangs.
 *   Here `transaction()` never rejects: it resolves to a transaction whose statements fail with
 *   the original error, so the Effect client rolls back and releases normally.
 * - **The silent non-commit**: after SQLITE_BUSY (or any error that leaves the connection's state
 *   unknown) a connection can report later writes as done without committing them. Here such an
 *   error marks the connection poisoned, and it is replaced by a fresh one before the next
 *   statement. A memory database has a single private connection and is never replaced.
 *
 * All calls are serialised (FIFO): a transaction holds the queue until it settles. Per-connection
 * pragmas are applied to every new connection before its first statement.
 *
 * A replaced connection is closed and its descriptors released (see `release.ts`); with a
 * `statementTimeout` (servers), a statement that gets no answer in time fails with
 * `StatementTimeout` and its connection is abandoned; with `readOnly`, write transactions and
 * writes fail with `ReadOnlyDatabase`.
 *
 * @module
 */
import type * as Libsql from "@libsql/client"
import { LibsqlError } from "@libsql/client/sqlite3"
import { randomInt } from "node:crypto"
import { ReadOnlyDatabase, StatementTimeout } from "../errors.js"
import { isBusy, isTransactionTimeout, poisonsConnection, primaryCode } from "./errors.js"
import { executeNow, LocalClient, type NativeConnection, resultNow, type Row } from "./local.js"
import { connectionClosed } from "./release.js"

/** How to (re)create the underlying client. */
export interface GuardedClientOptions {
  readonly create: () => Libsql.Client
  /** Statements run on every new connection before anything else (e.g. `PRAGMA synchronous=NORMAL`). */
  readonly connectionPragmas: ReadonlyArray<string>
  /** How long a connection pragma waits out SQLITE_BUSY, in ms (see `applyPragma`); 0 when absent. */
  readonly busyTimeout?: number | undefined
  /** Whether a poisoned connection may be replaced (false for `:memory:`, which would lose its data). */
  readonly replaceable: boolean
  /** Whether connections hold files whose descriptors must be released after a close (local files). */
  readonly holdsFiles?: boolean | undefined
  /** How long one statement (or BEGIN, or COMMIT) may wait for an answer, in ms; none when absent. */
  readonly statementTimeout?: number | undefined
  /** Set for a read-only database: its printable name, for `ReadOnlyDatabase` errors. */
  readonly readOnly?: string | undefined
  /** The printable name of the database, for `StatementTimeout` errors. */
  readonly target?: string | undefined
}

const SQLITE_READONLY = 8

const WAL_PRAGMA = /^PRAGMA journal_mode\s*=\s*WAL$/i

/**
 * Run a connection pragma, waiting out SQLITE_BUSY for up to `busyTimeout` ms. For
 * `journal_mode=WAL`: switching a file out of its rollback journal needs the file to itself, and
 * a SQLITE_BUSY there is not always waited out by SQLite's busy handler (other projects report it
 * on concurrent first opens; test/identity.procs.test.ts once saw four processes creating one
 * file end with one "database is locked"; not reproduced since). WAL is kept in the file: once
 * set, reading the mode first makes the switch, and its lock, unneeded.
 */
export const applyPragma = async (client: Libsql.Client, pragma: string, busyTimeout: number): Promise<void> => {
  const deadline = Date.now() + busyTimeout
  for (let wait = 2;; wait = Math.min(2 * wait, 100)) {
    try {
      if (WAL_PRAGMA.test(pragma)) {
        const mode = (await client.execute("PRAGMA journal_mode")).rows[0]?.[0]
        if (typeof mode === "string" && mode.toLowerCase() === "wal") return
      }
      await client.execute(pragma)
      return
    } catch (error) {
      if (!isBusy(error) || Date.now() + wait > deadline) throw error
      // Jittered, so processes that collided do not retry in step.
      await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + randomInt(1_000) / 1_000)))
    }
  }
}

/**
 * A FIFO lock. Uncontended (the common case: one fiber at a time), taking it costs no promise
 * chain; waiters are let in strictly in arrival order.
 */
class Queue {
  #busy = false
  readonly #waiting: Array<() => void> = []

  /** Wait for every earlier holder, then return the function that lets the next one in. */
  acquire(): Promise<() => void> {
    if (!this.#busy) {
      this.#busy = true
      return Promise.resolve(this.#releaser())
    }
    return new Promise((resolve) => {
      this.#waiting.push(() => resolve(this.#releaser()))
    })
  }

  /** Take the lock if no one holds it (then no one waits either); undefined otherwise. */
  tryAcquire(): (() => void) | undefined {
    if (this.#busy) return undefined
    this.#busy = true
    return this.#releaser()
  }

  #releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiting.shift()
      if (next === undefined) this.#busy = false
      else next()
    }
  }
}

const once = (f: () => void) => {
  let done = false
  return () => {
    if (!done) {
      done = true
      f()
    }
  }
}

export class GuardedClient implements Libsql.Client {
  readonly #options: GuardedClientOptions
  readonly #queue = new Queue()
  #inner: Libsql.Client
  #needsPragmas = true
  #poisoned = false
  #replacements = 0
  #commits = 0
  closed = false

  constructor(options: GuardedClientOptions) {
    this.#options = options
    this.#inner = options.create()
  }

  get protocol(): string {
    return this.#inner.protocol
  }

  /** How many times a poisoned connection was replaced (for tests and diagnostics). */
  get replacements(): number {
    return this.#replacements
  }

  /**
   * How many transactions this client has committed. `PRAGMA data_version` tells a connection
   * about other connections' commits only; waiters add this to see their own process's too.
   */
  get commits(): number {
    return this.#commits
  }

  /** Count a committed transaction (called by this client's transactions). */
  noteCommit(): void {
    this.#commits++
  }

  /** The client currently in use (read-only access for tests). */
  get inner(): Libsql.Client {
    return this.#inner
  }

  /** Record an error from the driver; poisoning errors force a fresh connection next time. */
  noteError(error: unknown): void {
    if (this.#options.replaceable && poisonsConnection(error)) {
      this.#poisoned = true
    }
  }

  // Called with the queue held, so nothing else is using the connection. Usually there is nothing
  // to do, and then no promise either.
  #ready(): Libsql.Client | Promise<Libsql.Client> {
    return this.#poisoned || this.#needsPragmas ? this.#refresh() : this.#inner
  }

  async #refresh(): Promise<Libsql.Client> {
    if (this.#poisoned) {
      const old = this.#inner
      this.#inner = this.#options.create()
      this.#poisoned = false
      this.#needsPragmas = true
      this.#replacements++
      try {
        old.close()
      } catch {
        // the old connection is being discarded because it is broken
      }
      if (this.#options.holdsFiles === true) await connectionClosed()
    }
    if (this.#needsPragmas) {
      for (const pragma of this.#options.connectionPragmas) {
        await applyPragma(this.#inner, pragma, this.#options.busyTimeout ?? 0)
      }
      this.#needsPragmas = false
    }
    return this.#inner
  }

  /**
   * `promise`, or a `StatementTimeout` once the statement timeout passes. A timed-out connection
   * is abandoned: the next statement gets a fresh one. Whatever the abandoned promise settles
   * with later is ignored.
   */
  bounded<A>(promise: Promise<A>, duringCommit = false): Promise<A> {
    const ms = this.#options.statementTimeout
    if (ms === undefined) return promise
    return new Promise<A>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#poisoned = true
        reject(new StatementTimeout({ target: this.#options.target ?? this.#inner.protocol, timeout_ms: ms, during_commit: duringCommit }))
      }, ms)
      promise.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        }
      )
    })
  }

  /** In read-only mode, SQLite's "attempt to write a readonly database" as `ReadOnlyDatabase`. */
  readOnlyError(error: unknown): unknown {
    const readOnly = this.#options.readOnly
    return readOnly !== undefined && primaryCode(error) === SQLITE_READONLY ? new ReadOnlyDatabase({ target: readOnly }) : error
  }

  async #run<A>(f: (client: Libsql.Client) => Promise<A>): Promise<A> {
    const release = await this.#queue.acquire()
    try {
      const ready = this.#ready()
      return await this.bounded(f(ready instanceof Promise ? await ready : ready))
    } catch (error) {
      const mapped = this.readOnlyError(error)
      if (mapped === error) this.noteError(error)
      throw mapped
    } finally {
      release()
    }
  }

  execute(stmt: Libsql.InStatement): Promise<Libsql.ResultSet>
  execute(sql: string, args?: Libsql.InArgs): Promise<Libsql.ResultSet>
  execute(stmtOrSql: Libsql.InStatement | string, args?: Libsql.InArgs): Promise<Libsql.ResultSet> {
    return this.#run((client) =>
      typeof stmtOrSql === "string" ? client.execute(stmtOrSql, args) : client.execute(stmtOrSql)
    )
  }

  batch(
    stmts: Array<Libsql.InStatement | [string, Libsql.InArgs?]>,
    mode?: Libsql.TransactionMode
  ): Promise<Array<Libsql.ResultSet>> {
    return this.#run((client) => client.batch(stmts, mode))
  }

  migrate(stmts: Array<Libsql.InStatement>): Promise<Array<Libsql.ResultSet>> {
    return this.#run((client) => client.migrate(stmts))
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#run((client) => client.executeMultiple(sql))
  }

  sync(): Promise<Libsql.Replicated> {
    return this.#run((client) => client.sync())
  }

  transaction(mode?: Libsql.TransactionMode): Promise<Libsql.Transaction> {
    return this.#queue.acquire().then(async (releaseQueue) => {
      const release = once(releaseQueue)
      if (this.#options.readOnly !== undefined && mode !== "read") {
        release()
        return new FailedTransaction(new ReadOnlyDatabase({ target: this.#options.readOnly }))
      }
      try {
        const ready = this.#ready()
        const client = ready instanceof Promise ? await ready : ready
        const pending = client.transaction(mode ?? "write")
        const tx = await this.bounded(pending).catch((error: unknown) => {
          // A transaction that opens after its timeout is closed at once.
          if (error instanceof StatementTimeout) pending.then((late) => late.close(), () => undefined)
          throw error
        })
        return new GuardedTransaction(tx, this, release)
      } catch (error) {
        this.noteError(error)
        release()
        return new FailedTransaction(error)
      }
    })
  }

  close(): void {
    this.closed = true
    this.#inner.close()
  }

  /**
   * Close, and have the connection's descriptors released by the next collection (release.ts:
   * within `RELEASE_DELAY_MS`; in the background: a process that is exiting does not wait for it).
   */
  closeAndRelease(): void {
    try {
      this.close()
    } finally {
      if (this.#options.holdsFiles === true) void connectionClosed({ background: true })
    }
  }

  reconnect(): void {
    this.#poisoned = true
  }

  // The local client, when the next call can use its connection at once: nothing to replace or
  // prepare first, and no timeout or read-only mode to enforce (those take the promise path).
  #localNow(): LocalClient | undefined {
    const inner = this.#inner
    return inner instanceof LocalClient && !this.#poisoned && !this.#needsPragmas &&
        this.#options.statementTimeout === undefined && this.#options.readOnly === undefined
      ? inner
      : undefined
  }

  /**
   * Run one statement outside a transaction now, in this call, and return its rows — when that
   * needs no waiting: a local connection that no one else holds and that is ready. Otherwise
   * undefined (use `execute`). Errors are thrown as `execute` would reject, and noted the same way.
   */
  rowsNow(sql: string, args: ReadonlyArray<unknown>): ReadonlyArray<Row> | undefined {
    const local = this.#localNow()
    if (local === undefined) return undefined
    const release = this.#queue.tryAcquire()
    if (release === undefined) return undefined
    try {
      const db = borrow(local, false)
      try {
        return executeNow(db, sql, args)
      } finally {
        local.pool.release(db)
      }
    } catch (error) {
      this.noteError(error)
      throw error
    } finally {
      release()
    }
  }

  /**
   * A write transaction (`BEGIN IMMEDIATE`) begun now, in this call, when that needs no waiting
   * (as `rowsNow`); otherwise undefined (use `transaction`). Like `transaction()` it never throws:
   * when BEGIN fails, every statement of the returned transaction fails with that error.
   */
  transactionNow(): TransactionNow | undefined {
    const local = this.#localNow()
    if (local === undefined) return undefined
    const release = this.#queue.tryAcquire()
    if (release === undefined) return undefined
    let db: NativeConnection | undefined
    try {
      db = borrow(local, true)
      executeNow(db, "BEGIN IMMEDIATE", [])
      return new TransactionNow(db, local, this, release, undefined)
    } catch (error) {
      if (db !== undefined) local.pool.release(db)
      this.noteError(error)
      release()
      return new TransactionNow(undefined, local, this, release, { error })
    }
  }
}

// As the driver's checks before it uses a connection (a closed client, a connection closed under
// the call).
const borrow = (local: LocalClient, forTransaction: boolean): NativeConnection => {
  if (local.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED")
  const db = local.pool.acquireSync(forTransaction)
  if (!db.open) {
    local.pool.release(db)
    throw new LibsqlError("The connection was closed while this operation was in flight", "CLIENT_CLOSED")
  }
  return db
}

/**
 * A write transaction on a local connection whose statements run synchronously (`rowsNow`,
 * `commitNow`, `rollbackNow`), with the guarantees of `GuardedTransaction` and of the driver's own
 * transaction: errors are noted (a poisoning one retires the connection once the transaction is
 * over); a statement after the transaction ended by itself (SQLite rolls back on some errors)
 * fails with `TRANSACTION_CLOSED` instead of running outside it, and so does the commit; settling
 * returns the connection (rolled back if still open) and lets the next caller in. It also answers
 * the promise interface, for the statements that take `@effect/sql`'s own path.
 */
export class TransactionNow implements Libsql.Transaction {
  #db: NativeConnection | undefined
  readonly #local: LocalClient
  readonly #client: GuardedClient
  readonly #release: () => void
  readonly #failed: { readonly error: unknown } | undefined

  constructor(
    db: NativeConnection | undefined,
    local: LocalClient,
    client: GuardedClient,
    release: () => void,
    failed: { readonly error: unknown } | undefined
  ) {
    this.#db = db
    this.#local = local
    this.#client = client
    this.#release = release
    this.#failed = failed
  }

  #open(): NativeConnection {
    if (this.#failed !== undefined) throw this.#failed.error
    const db = this.#db
    if (db === undefined || !db.open || !db.inTransaction) throw new LibsqlError("The transaction is closed", "TRANSACTION_CLOSED")
    return db
  }

  #noted<A>(f: () => A): A {
    try {
      return f()
    } catch (error) {
      if (error !== this.#failed?.error) this.#client.noteError(error)
      throw error
    }
  }

  // Give the connection back (rolled back by the pool if still in a transaction), let the next
  // caller in. Idempotent.
  #settle(): void {
    const db = this.#db
    if (db === undefined) return
    this.#db = undefined
    try {
      this.#local.pool.release(db)
    } finally {
      this.#release()
    }
  }

  /** Run one statement of this transaction now; its rows. */
  rowsNow(sql: string, args: ReadonlyArray<unknown>): ReadonlyArray<Row> {
    return this.#noted(() => executeNow(this.#open(), sql, args))
  }

  /** Commit now (a transaction whose BEGIN failed wrote nothing: nothing to commit). */
  commitNow(): void {
    if (this.#failed !== undefined) return
    try {
      this.#noted(() => executeNow(this.#open(), "COMMIT", []))
      this.#client.noteCommit()
    } finally {
      this.#settle()
    }
  }

  /** Roll back now. */
  rollbackNow(): void {
    if (this.#failed !== undefined) return
    const db = this.#db
    try {
      if (db !== undefined && db.open && db.inTransaction) this.#noted(() => executeNow(db, "ROLLBACK", []))
    } finally {
      this.#settle()
    }
  }

  execute(stmt: Libsql.InStatement): Promise<Libsql.ResultSet> {
    return new Promise((resolve) => {
      const sql = typeof stmt === "string" ? stmt : stmt.sql
      const args = typeof stmt === "string" || stmt.args === undefined ? [] : stmt.args
      if (!Array.isArray(args)) throw new TypeError("named arguments are not supported here")
      resolve(this.#noted(() => resultNow(this.#open(), sql, args)))
    })
  }
  batch(stmts: Array<Libsql.InStatement>): Promise<Array<Libsql.ResultSet>> {
    return Promise.all(stmts.map((stmt) => this.execute(stmt)))
  }
  executeMultiple(sql: string): Promise<void> {
    return new Promise((resolve) => {
      this.#noted(() => this.#open().exec(sql))
      resolve()
    })
  }
  commit(): Promise<void> {
    return new Promise((resolve) => {
      this.commitNow()
      resolve()
    })
  }
  rollback(): Promise<void> {
    return new Promise((resolve) => {
      this.rollbackNow()
      resolve()
    })
  }
  close(): void {
    this.#settle()
  }
  get closed(): boolean {
    const db = this.#db
    return db === undefined || !db.open || !db.inTransaction
  }
}

/**
 * A live transaction: errors are noted; settling lets the next caller in.
 *
 * A libSQL server may kill a transaction that holds the write lock too long (TRANSACTION_TIMEOUT).
 * Over HTTP the stream then carries on in autocommit mode: a later statement of this transaction
 * would be committed on its own. So once killed, every later statement and the commit fail with
 * the kill, and rollback (already done by the server) just closes the transaction.
 */
class GuardedTransaction implements Libsql.Transaction {
  readonly #tx: Libsql.Transaction
  readonly #client: GuardedClient
  readonly #release: () => void
  #killed: { readonly error: unknown } | undefined

  constructor(tx: Libsql.Transaction, client: GuardedClient, release: () => void) {
    this.#tx = tx
    this.#client = client
    this.#release = release
  }

  // The caller gets the driver's own promise (one step less per statement than wrapping it); a
  // failure is noted by a handler registered first, so before the caller sees it.
  #guard<A>(f: () => Promise<A>, duringCommit = false): Promise<A> {
    if (this.#killed !== undefined) return Promise.reject(this.#killed.error)
    let promise: Promise<A>
    try {
      promise = this.#client.bounded(f(), duringCommit)
    } catch (error) {
      this.#failed(error)
      return Promise.reject(error)
    }
    promise.then(undefined, (error: unknown) => this.#failed(error))
    return promise
  }

  // A statement timeout abandons the transaction like a server kill: nothing later of it may run.
  #failed(error: unknown): void {
    if (isTransactionTimeout(error) || error instanceof StatementTimeout) this.#killed = { error }
    this.#client.noteError(error)
  }

  async #settle(f: () => Promise<void>, duringCommit: boolean): Promise<void> {
    try {
      await this.#guard(f, duringCommit)
    } finally {
      if (this.#killed !== undefined) this.close()
      else this.#release()
    }
  }

  execute(stmt: Libsql.InStatement): Promise<Libsql.ResultSet> {
    return this.#guard(() => this.#tx.execute(stmt))
  }
  batch(stmts: Array<Libsql.InStatement>): Promise<Array<Libsql.ResultSet>> {
    return this.#guard(() => this.#tx.batch(stmts))
  }
  executeMultiple(sql: string): Promise<void> {
    return this.#guard(() => this.#tx.executeMultiple(sql))
  }
  commit(): Promise<void> {
    return this.#settle(async () => {
      await this.#tx.commit()
      this.#client.noteCommit()
    }, true)
  }
  rollback(): Promise<void> {
    if (this.#killed !== undefined) {
      this.close()
      return Promise.resolve()
    }
    return this.#settle(() => this.#tx.rollback(), false)
  }
  close(): void {
    try {
      this.#tx.close()
    } finally {
      this.#release()
    }
  }
  get closed(): boolean {
    return this.#tx.closed
  }
}

/**
 * Stands in for a transaction whose BEGIN failed: every statement fails with the original error,
 * so the Effect client rolls back and releases its permit. Commit succeeds: a body that ran no
 * statement wrote nothing (and `@effect/sql` turns a failed commit into a defect).
 */
class FailedTransaction implements Libsql.Transaction {
  readonly #error: unknown
  constructor(error: unknown) {
    this.#error = error
  }
  execute(): Promise<Libsql.ResultSet> {
    return Promise.reject(this.#error)
  }
  batch(): Promise<Array<Libsql.ResultSet>> {
    return Promise.reject(this.#error)
  }
  executeMultiple(): Promise<void> {
    return Promise.reject(this.#error)
  }
  commit(): Promise<void> {
    return Promise.resolve()
  }
  rollback(): Promise<void> {
    return Promise.resolve()
  }
  close(): void {}
  readonly closed = true
}
