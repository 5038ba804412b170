/**
 * The local (file and memory) driver, with a synchronous way in.
 *
 * `@libsql/client`'s local client runs every statement synchronously on a native `libsql`
 * connection and only hands the result back through a promise. `LocalClient` is that same client
 * (`Sqlite3Client` over a one-connection `ConnectionPool`, both exported by
 * `@libsql/client/sqlite3`), built here so that the library keeps the pool: `GuardedClient` can
 * then borrow the connection and run a transaction's statements in the same call, without a
 * promise (and a fiber suspension) per statement. The statements are executed exactly as the
 * driver executes them (`executeNow` mirrors its `executeStmt`: the same argument conversion,
 * `safeIntegers`, row objects and `LibsqlError`s), so the two ways in are interchangeable.
 *
 * Coupling: `ConnectionPool`, `Sqlite3Client`'s constructor and the `libsql` connection methods
 * used here (`prepare`, statement `reader`/`raw`/`safeIntegers`/`columns`/`all`/`run`,
 * `inTransaction`, `open`) are checked by test/sql-local.test.ts, whose failures name the change.
 *
 * @module
 */
import type * as Libsql from "@libsql/client"
// From the local driver's own entry (which re-exports the API): the CLI bundle maps
// `@libsql/client` itself to a shim that exports `createClient` only (scripts/libsql-client-lazy.mjs).
import { ConnectionPool, LibsqlError, Sqlite3Client } from "@libsql/client/sqlite3"
import { Buffer } from "node:buffer"

/** A native `libsql` connection, as the pool lends it. */
export type NativeConnection = ReturnType<ConnectionPool["acquireSync"]>

/** A row as the driver builds it: named columns (enumerable), plus indexes and `length`. */
export type Row = Libsql.Row

/** `@libsql/client`'s local client, keeping a handle on its (single) connection. */
export class LocalClient extends Sqlite3Client {
  readonly pool: ConnectionPool

  /**
   * `path`: a file path, or `":memory:"`. `timeout`: the busy timeout in ms. Fails at once when
   * the database cannot be opened (as `createClient` does).
   */
  constructor(path: string, timeout: number | undefined) {
    const memory = path === ":memory:"
    // An in-memory database exists only on its connection; a file uses one as well (the
    // connection contract, docs/architecture.md §3).
    const pool = new ConnectionPool(memory ? "file::memory:" : path, { timeout }, 1)
    const db = pool.acquireSync()
    try {
      executeNow(db, "SELECT 1 AS checkThatTheDatabaseCanBeOpened", [])
    } catch (error) {
      pool.close()
      throw error
    } finally {
      pool.release(db)
    }
    super(pool, "number")
    this.pool = pool
  }
}

const minSafe = BigInt(Number.MIN_SAFE_INTEGER)
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER)
const minInteger = -9223372036854775808n
const maxInteger = 9223372036854775807n

// As the driver's `valueToSql` (intMode "number").
const toSql = (value: unknown): unknown => {
  switch (typeof value) {
    case "number":
      if (!Number.isFinite(value)) throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments")
      return value
    case "bigint":
      if (value < minInteger || value > maxInteger) {
        throw new RangeError("bigint is too large to be represented as a 64-bit integer and passed as argument")
      }
      return value
    case "boolean":
      return value ? 1 : 0
    case "undefined":
      throw new TypeError("undefined cannot be passed as argument to the database")
    default:
      if (value instanceof ArrayBuffer) return Buffer.from(value)
      if (value instanceof Date) return value.valueOf()
      return value
  }
}

// As the driver's `valueFromSql` (intMode "number").
const fromSql = (value: unknown): unknown => {
  if (typeof value === "bigint") {
    if (value < minSafe || value > maxSafe) {
      throw new RangeError("Received integer which cannot be safely represented as a JavaScript number")
    }
    return Number(value)
  }
  if (value instanceof Buffer) return value.buffer
  return value
}

// As the driver's `rowFromSql`: the first column of a name wins.
const rowFrom = (values: ReadonlyArray<unknown>, columns: ReadonlyArray<string>): Row => {
  const row = {}
  Object.defineProperty(row, "length", { value: values.length })
  for (let i = 0; i < values.length; i++) {
    const value = fromSql(values[i])
    Object.defineProperty(row, i, { value })
    const column = columns[i]!
    if (!Object.hasOwn(row, column)) {
      // An assignment makes the same enumerable, writable, configurable property, cheaper; but
      // would set the prototype for `__proto__`.
      if (column === "__proto__") {
        Object.defineProperty(row, column, { value, enumerable: true, configurable: true, writable: true })
      } else {
        ;(row as Record<string, unknown>)[column] = value
      }
    }
  }
  return row as Row
}

const baseCodes: Record<number, string> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  12: "SQLITE_NOTFOUND",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
  16: "SQLITE_EMPTY",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  22: "SQLITE_NOLFS",
  23: "SQLITE_AUTH",
  24: "SQLITE_FORMAT",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
  27: "SQLITE_NOTICE",
  28: "SQLITE_WARNING"
}

interface NativeError {
  readonly name: string
  readonly message: string
  readonly code: string
  readonly rawCode: number | undefined
}

const isNativeError = (error: unknown): error is NativeError =>
  error instanceof Error && error.name === "SqliteError" && typeof (error as { code?: unknown }).code === "string"

// As the driver's `mapSqliteError`: a `libsql` error becomes a `LibsqlError` with the base code,
// the extended code and the raw code.
const mapError = (error: unknown): unknown => {
  if (!isNativeError(error)) return error
  const raw = error.rawCode
  const code = raw === undefined ? "SQLITE_UNKNOWN" : baseCodes[raw & 0xff] ?? `SQLITE_UNKNOWN_${(raw & 0xff).toString()}`
  return new LibsqlError(error.message, code, error.code, raw, error)
}

const noRows: ReadonlyArray<Row> = []

type NativeStatement = ReturnType<NativeConnection["prepare"]>

interface Prepared {
  readonly stmt: NativeStatement
  readonly reader: boolean
}

// Prepared statements per connection, by SQL text (a command's statements are the same few texts
// every time). SQLite resets a statement before each run and re-prepares it after a schema change
// (see `run` for its column names). A statement whose run failed is dropped. Kept with the
// connection: a retired connection's statements go with it.
const statements = new WeakMap<NativeConnection, Map<string, Prepared>>()
const STATEMENTS_PER_CONNECTION = 256

const prepare = (db: NativeConnection, sql: string): Prepared => {
  let cache = statements.get(db)
  if (cache === undefined) {
    cache = new Map()
    statements.set(db, cache)
  }
  const cached = cache.get(sql)
  if (cached !== undefined) return cached
  const stmt = db.prepare(sql)
  stmt.safeIntegers(true)
  // What the driver learns from `raw(true)` throwing (an exception per write statement).
  const reader = stmt.reader
  if (reader) stmt.raw(true)
  const prepared = { stmt, reader }
  if (cache.size >= STATEMENTS_PER_CONNECTION) cache.delete(cache.keys().next().value!)
  cache.set(sql, prepared)
  return prepared
}

const run = <A>(
  db: NativeConnection,
  sql: string,
  args: ReadonlyArray<unknown>,
  onRows: (rows: Array<Row>, columns: Array<string>, described: ReadonlyArray<{ readonly type: string | null }>) => A,
  onRun: (changes: number, lastInsertRowid: number | bigint) => A
): A => {
  let prepared: Prepared | undefined
  try {
    const values = args.map(toSql)
    prepared = prepare(db, sql)
    const stmt = prepared.stmt
    if (!prepared.reader) {
      const info = stmt.run(values)
      return onRun(info.changes, info.lastInsertRowid)
    }
    const raw = stmt.all(values) as unknown as ReadonlyArray<ReadonlyArray<unknown>>
    // Described after the run: a statement prepared before another connection changed the schema
    // (`SELECT *` once a column was added) is re-prepared by its first step, and only then
    // describes its new columns. (The driver describes it before, and names the new column
    // `undefined` once.)
    const described = stmt.columns()
    const columns = described.map((column) => column.name)
    const rows = raw.map((values) => rowFrom(values, columns))
    return onRows(rows, columns, described)
  } catch (error) {
    if (prepared !== undefined) statements.get(db)?.delete(sql)
    throw mapError(error)
  }
}

/**
 * Run one statement on `db` now, as the driver's `execute` would, and return its rows (none for a
 * statement that returns none). Throws what the driver's promise would reject with.
 */
export const executeNow = (db: NativeConnection, sql: string, args: ReadonlyArray<unknown>): ReadonlyArray<Row> =>
  run(db, sql, args, (rows) => rows, () => noRows)

/** `executeNow` with the whole result set the driver's `execute` resolves to. */
export const resultNow = (db: NativeConnection, sql: string, args: ReadonlyArray<unknown>): Libsql.ResultSet =>
  run(
    db,
    sql,
    args,
    (rows, columns, described) => new Result(columns, described.map((column) => column.type ?? ""), rows, 0, undefined),
    (changes, rowid) => new Result([], [], [], changes, BigInt(rowid))
  )

// The driver's `ResultSetImpl`.
class Result implements Libsql.ResultSet {
  constructor(
    readonly columns: Array<string>,
    readonly columnTypes: Array<string>,
    readonly rows: Array<Row>,
    readonly rowsAffected: number,
    readonly lastInsertRowid: bigint | undefined
  ) {}
  toJSON() {
    return {
      columns: this.columns,
      columnTypes: this.columnTypes,
      rows: this.rows.map((row) => Array.from(row, (value) => typeof value === "bigint" ? value.toString() : value instanceof ArrayBuffer ? Buffer.from(value).toString("base64") : value)),
      rowsAffected: this.rowsAffected,
      lastInsertRowid: this.lastInsertRowid === undefined ? null : this.lastInsertRowid.toString()
    }
  }
}
