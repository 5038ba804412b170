/**
 * The synchronous path for local databases (src/sql/local.ts, `GuardedClient.transactionNow` and
 * `rowsNow`): it must answer exactly as `@libsql/client`'s own local client does, keep the
 * driver's transaction guards, and rely only on driver pieces that still exist — each failure
 * message names what changed.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Libsql from "@libsql/client"
import { ConnectionPool, Sqlite3Client } from "@libsql/client/sqlite3"
import { Effect, Exit, Layer } from "effect"
import { join } from "node:path"
import { FleetDb, FleetProject } from "../src/index.js"
import { executeNow, LocalClient, resultNow } from "../src/sql/local.js"
import { makeWriteTransaction, WritePolicy } from "../src/sql/transaction.js"
import { applyPragma, TransactionNow } from "../src/sql/GuardedClient.js"
import { tempDir } from "./support/backends.js"

const because = (cause: string) => `@libsql/client changed: ${cause} (src/sql/local.ts relies on it)`

const fileLayer = Layer.unwrapScoped(Effect.map(tempDir, (projectPath) => FleetDb.layerFile({ projectPath })))

const statements: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
  ["CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, r REAL, b BLOB, flag INTEGER)", []],
  ["INSERT INTO t (name, n, r, b, flag) VALUES (?, ?, ?, ?, ?) RETURNING *", ["a", 9007199254740991, 1.5, new Uint8Array([1, 2, 3]).buffer, true]],
  ["INSERT INTO t (name, n, r, b, flag) VALUES (?, ?, ?, ?, ?)", ["b", 12n, null, null, false]],
  ["UPDATE t SET n = n + 1 WHERE flag = ?", [false]],
  ["SELECT t.*, t.name AS name, 1 AS one FROM t ORDER BY id", []],
  ["SELECT count(*) AS c FROM t WHERE name IN (?, ?)", ["a", "zz"]],
  ["PRAGMA data_version", []],
  ["SELECT 1 AS \"__proto__\", 2 AS \"0\", 3 AS length, 4 AS a, 5 AS a, x'00ff' AS bytes", []],
  ["DELETE FROM t WHERE name = ?", ["b"]]
]

// What a caller can observe of a result: named columns, indexes, length; the set's own fields.
const observe = (result: Libsql.ResultSet) => ({
  ...result.toJSON(),
  named: result.rows.map((row) => ({ ...row })),
  indexed: result.rows.map((row) => Array.from(row)),
  lengths: result.rows.map((row) => row.length)
})

const errorOf = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return undefined
}

const describeError = (error: unknown) =>
  error instanceof Libsql.LibsqlError
    ? { class: "LibsqlError", message: error.message, code: error.code, extendedCode: error.extendedCode, rawCode: error.rawCode }
    : { class: (error as Error).constructor.name, message: (error as Error).message }

describe("the synchronous local path", () => {
  it.effect("answers as the driver: rows, result sets and errors", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const driver = Libsql.createClient({ url: `file:${join(dir, "driver.db")}`, concurrency: 1 })
      const local = new LocalClient(join(dir, "local.db"), undefined)
      expect(local, because("Sqlite3Client is no longer a class we can extend")).toBeInstanceOf(Sqlite3Client)
      expect(typeof ConnectionPool.prototype.acquireSync, because("ConnectionPool.acquireSync is gone")).toBe("function")
      const db = local.pool.acquireSync()
      try {
        for (const [sql, args] of statements) {
          const expected = yield* Effect.promise(() => driver.execute({ sql, args: args as Array<Libsql.InValue> }))
          const actual = resultNow(db, sql, args)
          expect(observe(actual), because(`its result for ${sql} differs from executeNow's`)).toEqual(observe(expected))
          if (sql.startsWith("SELECT")) {
            expect(executeNow(db, sql, args).map((row) => ({ ...row }))).toEqual(observe(expected).named)
          }
        }
        const failing: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
          ["INSERT INTO t (name) VALUES (?)", ["a"]],
          ["SELEC 1", []],
          ["SELECT * FROM nowhere", []],
          ["SELECT ?", [undefined]],
          ["SELECT ?", [Number.NaN]],
          ["SELECT ?", [2n ** 64n]],
          ["SELECT 9223372036854775807 AS big", []]
        ]
        for (const [sql, args] of failing) {
          const expected = yield* Effect.promise(() =>
            driver.execute({ sql, args: args as Array<Libsql.InValue> }).then(() => undefined, (error: unknown) => error)
          )
          const actual = errorOf(() => executeNow(db, sql, args))
          expect(actual, `${sql} should fail`).toBeDefined()
          expect(describeError(actual), because(`its error for ${sql} differs from executeNow's`)).toEqual(describeError(expected))
        }
      } finally {
        local.pool.release(db)
        local.close()
        driver.close()
      }
    }).pipe(Effect.scoped))

  it.effect("a statement after its transaction ended by itself fails instead of running outside it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const write = makeWriteTransaction(sql, yield* WritePolicy)
      const result = yield* Effect.exit(write(Effect.gen(function*() {
        yield* sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('first', ${projectKey}, 1, '1')`
        // Ends the transaction behind the runner's back (as SQLite does itself on some errors).
        yield* sql.unsafe("ROLLBACK")
        yield* sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('second', ${projectKey}, 1, '1')`
      })))
      expect(Exit.isFailure(result)).toBe(true)
      expect(JSON.stringify(result)).toContain("TRANSACTION_CLOSED")
      const rows = yield* sql`SELECT type FROM events WHERE type IN ('first', 'second')`
      expect(rows, "the statement after the ROLLBACK ran in autocommit mode").toEqual([])
    }).pipe(Effect.provide(fileLayer)))

  it.effect("commands on a file run on the synchronous path", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const write = makeWriteTransaction(sql, yield* WritePolicy)
      const connection = yield* write(Effect.serviceOption(SqlClient.TransactionConnection))
      expect(connection._tag).toBe("Some")
      const [conn] = connection._tag === "Some" ? connection.value : [undefined]
      expect((conn as unknown as { readonly transaction: unknown }).transaction).toBeInstanceOf(TransactionNow)
    }).pipe(Effect.provide(fileLayer)))

  it.effect("a cached statement sees columns another connection added since it was prepared", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE grow (a INTEGER)`
      yield* sql`INSERT INTO grow (a) VALUES (1)`
      const before = yield* sql.unsafe("SELECT * FROM grow")
      expect(before).toEqual([{ a: 1 }])
      // Another connection (another process, e.g. a newer version migrating) changes the schema.
      const other = new LocalClient(pathOf(yield* sql`PRAGMA database_list`), 5_000)
      yield* Effect.promise(() => other.execute("ALTER TABLE grow ADD COLUMN b TEXT DEFAULT 'x'"))
      other.close()
      const after = yield* sql.unsafe("SELECT * FROM grow")
      expect(after, "a cached statement kept the column names it had when prepared").toEqual([{ a: 1, b: "x" }])
    }).pipe(Effect.provide(fileLayer)))
})

const pathOf = (rows: ReadonlyArray<object>): string => (rows[0] as { readonly file: string }).file

describe("connection pragmas (GuardedClient.applyPragma)", () => {
  const busy = () => new Libsql.LibsqlError("database is locked", "SQLITE_BUSY")
  /** A client whose `execute` answers from `answers` in turn (an Error is thrown), recording the SQL. */
  const scripted = (answers: Array<string | Error>) => {
    const seen: Array<string> = []
    const client = {
      execute: (sql: string) => {
        seen.push(sql)
        const next = answers.shift()
        if (next instanceof Error) return Promise.reject(next)
        return Promise.resolve({ rows: [[next ?? "ok"]] })
      }
    } as unknown as Libsql.Client
    return { client, seen }
  }

  it("a file already in WAL mode is not converted (no exclusive lock taken)", async () => {
    const { client, seen } = scripted(["wal"])
    await applyPragma(client, "PRAGMA journal_mode=WAL", 1_000)
    expect(seen).toEqual(["PRAGMA journal_mode"])
  })

  it("SQLITE_BUSY is waited out within the busy timeout", async () => {
    const { client, seen } = scripted(["delete", busy(), "delete", busy(), "delete", "wal"])
    await applyPragma(client, "PRAGMA journal_mode=WAL", 5_000)
    expect(seen).toEqual(["PRAGMA journal_mode", "PRAGMA journal_mode=WAL", "PRAGMA journal_mode", "PRAGMA journal_mode=WAL", "PRAGMA journal_mode", "PRAGMA journal_mode=WAL"])
  })

  it("past the busy timeout, or on any other error, the error is the caller's", async () => {
    const forever = { execute: () => Promise.reject(busy()) } as unknown as Libsql.Client
    await expect(applyPragma(forever, "PRAGMA synchronous=NORMAL", 30)).rejects.toMatchObject({ code: "SQLITE_BUSY" })
    const { client, seen } = scripted([new Libsql.LibsqlError("disk I/O error", "SQLITE_IOERR"), "ok"])
    await expect(applyPragma(client, "PRAGMA synchronous=NORMAL", 5_000)).rejects.toMatchObject({ code: "SQLITE_IOERR" })
    expect(seen).toEqual(["PRAGMA synchronous=NORMAL"])
  })
})
