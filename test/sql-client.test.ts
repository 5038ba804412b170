/**
 * Guards for what src/sql/sqlClient.ts relies on in `@effect/sql` beyond its types: if an upgrade
 * changes one of these behaviours, a test here fails and its message names the cause (rather than
 * commands hanging or writing outside their transaction).
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient, Statement } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { Effect, Exit, Layer } from "effect"
import { Events, FleetDb, FleetProject, Pilots } from "../src/index.js"
import { tempDir } from "./support/backends.js"

const fileLayer = Layer.unwrapScoped(Effect.map(tempDir, (projectPath) => FleetDb.layerFile({ projectPath })))

/** A connection that answers every statement with one row and records what it was asked. */
const recordingConnection = () => {
  const seen: Array<string> = []
  const answer = (sql: string) => Effect.sync(() => {
    seen.push(sql)
    return [{ x: 1 }]
  })
  const connection: Connection = {
    execute: (sql) => answer(sql),
    executeRaw: (sql) => answer(sql),
    executeValues: (sql) => Effect.map(answer(sql), (rows) => rows.map((row) => Object.values(row))),
    executeUnprepared: (sql) => answer(sql),
    executeStream: () => Effect.dieMessage("not used")
  } as Connection
  return { connection, seen }
}

const because = (cause: string) => `@effect/sql changed: ${cause} (src/sql/sqlClient.ts relies on it)`

describe("our SqlClient on @effect/sql's public API", () => {
  it.effect("every kind of statement runs on the connection published under SqlClient.TransactionConnection", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { connection, seen } = recordingConnection()
      yield* Effect.all([
        sql`SELECT 'template'`,
        sql.unsafe("SELECT 'unsafe'"),
        sql`SELECT 'values'`.values,
        sql`SELECT 'raw'`.raw,
        sql`SELECT 'unprepared'`.unprepared,
        sql`SELECT 'withoutTransform'`.withoutTransform
      ]).pipe(Effect.provideService(SqlClient.TransactionConnection, [connection, 0] as const))
      expect(seen, because("its statements no longer run on the connection under SqlClient.TransactionConnection"))
        .toEqual(["SELECT 'template'", "SELECT 'unsafe'", "SELECT 'values'", "SELECT 'raw'", "SELECT 'unprepared'", "SELECT 'withoutTransform'"])
    }).pipe(Effect.provide(fileLayer)))

  it.effect("the client is the statement constructor with @effect/sql's helpers as its own properties", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const missing = ["in", "csv", "and", "or", "join", "literal", "insert", "update", "unsafe", "withTransaction", "reactive"]
        .filter((name) => typeof (sql as unknown as Record<string, unknown>)[name] !== "function")
      expect(missing, because("SqlClient.make's client no longer carries these helpers as own properties")).toEqual([])
      expect(Effect.isEffect(sql.reserve), because("SqlClient.make's client no longer carries `reserve`")).toBe(true)
      expect(sql[SqlClient.TypeId], because("SqlClient.make's client no longer carries its TypeId as an own property")).toBe(SqlClient.TypeId)
      expect(sql.safe).toBe(sql)
    }).pipe(Effect.provide(fileLayer)))

  it.effect("our statements are fragments: they nest inside other statements and compile as before", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const inner = sql`${1} AS one`
      expect(sql`SELECT ${inner}, ${sql("two")}`.compile(), because("fragments nested in a statement are no longer inlined"))
        .toEqual(["SELECT ? AS one, \"two\"", [1]])
      const rows = yield* sql<{ one: number }>`SELECT ${inner}`
      expect(rows).toEqual([{ one: 1 }])
    }).pipe(Effect.provide(fileLayer)))

  it.effect("a statement transformer in force is honoured (such statements take @effect/sql's own path)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const seen: Array<string> = []
      const rows = yield* sql<{ x: number }>`SELECT 1 AS x`.pipe(
        Statement.withTransformer((self, _sql, _refs, _span) =>
          Effect.sync(() => {
            seen.push(self.compile()[0])
            return self
          })
        )
      )
      expect(rows).toEqual([{ x: 1 }])
      expect(seen).toEqual(["SELECT 1 AS x"])
    }).pipe(Effect.provide(fileLayer)))

  it.effect("an app's sql.withTransaction around several commands is one transaction (each command a savepoint)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pilots = yield* Pilots
      const events = yield* Events
      const { projectKey } = yield* FleetProject
      const failed = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
        yield* pilots.register({ callsign: "viper-1" })
        yield* pilots.register({ callsign: "viper-2" })
        return yield* Effect.fail("the app changes its mind")
      })))
      expect(Exit.isFailure(failed)).toBe(true)
      expect(yield* pilots.list()).toEqual([])
      // A command failing inside the app's transaction rolls back its own savepoint only.
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* pilots.register({ callsign: "viper-1" })
        yield* Effect.exit(events.append({ type: "lock_acquired", data: { nonsense: true } as never }))
        yield* pilots.register({ callsign: "viper-2" })
      }))
      expect((yield* pilots.list()).map((p) => p.callsign).sort()).toEqual(["viper-1", "viper-2"])
      const types = yield* sql<{ type: string }>`SELECT type FROM events WHERE project_key = ${projectKey} ORDER BY id`
      expect(types.map((row) => row.type)).toEqual(["pilot_registered", "pilot_registered"])
    }).pipe(Effect.provide(fileLayer)))
})
