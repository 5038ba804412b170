/**
 * The library's own SqlClient (src/sql/sqlClient.ts): statements that skip `@effect/sql`'s
 * per-statement machinery, and the transactions commands run in, must keep its semantics — joining an app's transaction,
 * savepoints inside a command, interruption while waiting for the client, and the change probe
 * waiters use.
 */
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Libsql from "@libsql/client"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { Events, FleetDb, FleetProject, Pilots } from "../src/index.js"
import { changeProbe } from "../src/sql/sqlClient.js"
import { makeWriteTransaction, WritePolicy } from "../src/sql/transaction.js"
import { tempDir } from "./support/backends.js"

const fileLayer = Layer.unwrapScoped(Effect.map(tempDir, (projectPath) => FleetDb.layerFile({ projectPath })))

describe("direct path", () => {
  it.effect("a command's body can use the ordinary client and savepoints: one transaction, all or nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const write = makeWriteTransaction(sql, yield* WritePolicy)
      // Inner savepoint rolled back, the rest of the transaction kept.
      yield* write(Effect.gen(function*() {
        yield* sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('kept', ${projectKey}, 1, '1')`
        yield* Effect.exit(sql.withTransaction(Effect.zipRight(
          sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('inner', ${projectKey}, 1, '1')`,
          Effect.fail("undo the savepoint")
        )))
      }))
      // A failing body: nothing of it stays, whichever client wrote it.
      const failed = yield* Effect.exit(write(Effect.zipRight(
        sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('lost', ${projectKey}, 1, '1')`,
        Effect.fail("boom")
      )))
      expect(Exit.isFailure(failed)).toBe(true)
      const types = yield* sql<{ type: string }>`SELECT type FROM events WHERE project_key = ${projectKey} ORDER BY id`
      expect(types.map((row) => row.type)).toEqual(["kept"])
    }).pipe(Effect.provide(fileLayer)))

  it.effect("a command whose COMMIT fails fails with the SqlError (not a defect), and the client stays usable", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const write = makeWriteTransaction(sql, yield* WritePolicy)
      // A deferred foreign key is checked at COMMIT: the only statement that fails is the commit.
      yield* sql`PRAGMA foreign_keys = ON`
      yield* sql`CREATE TABLE parent_t (id INTEGER PRIMARY KEY)`
      yield* sql`CREATE TABLE child_t (parent INTEGER REFERENCES parent_t (id) DEFERRABLE INITIALLY DEFERRED)`
      const failed = yield* Effect.exit(write(sql`INSERT INTO child_t (parent) VALUES (1)`))
      expect(failed._tag).toBe("Failure")
      if (Exit.isFailure(failed)) {
        const error = Cause.failureOption(failed.cause)
        expect(error._tag === "Some" && error.value instanceof SqlError).toBe(true)
      }
      yield* write(sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('after', ${projectKey}, 1, '1')`)
      const types = yield* sql<{ type: string }>`SELECT type FROM events WHERE project_key = ${projectKey}`
      expect(types.map((row) => row.type)).toEqual(["after"])
      expect(yield* sql<{ n: number }>`SELECT count(*) AS n FROM child_t`).toEqual([{ n: 0 }])
    }).pipe(Effect.provide(fileLayer)))

  it.live("a command interrupted while it waits for the client leaves the client usable", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pilots = yield* Pilots
      const events = yield* Events
      const entered = yield* Deferred.make<void>()
      const finish = yield* Deferred.make<void>()
      // An app's transaction holds the (single) client…
      const holder = yield* Effect.fork(sql.withTransaction(
        Effect.zipRight(Deferred.succeed(entered, undefined), Deferred.await(finish))
      ))
      yield* Deferred.await(entered)
      // …so this command queues for it; interrupt it while it waits.
      const waiting = yield* Effect.fork(pilots.register({ callsign: "never" }))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      yield* Deferred.succeed(finish, undefined)
      yield* Fiber.join(holder)
      // The transaction it was queued for was rolled back; the next commands run normally.
      const pilot = yield* pilots.register({ callsign: "viper-1" })
      expect(pilot.callsign).toBe("viper-1")
      expect(yield* Effect.either(pilots.get("never"))).toMatchObject({ _tag: "Left" })
      expect((yield* events.read()).map((e) => e.type)).toEqual(["pilot_registered"])
    }).pipe(Effect.provide(fileLayer)))

  it.live("the change probe moves on this client's commits and on another connection's, and not on reads", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pilots = yield* Pilots
      const probe = changeProbe(sql)
      expect(probe).toBeDefined()
      const v0 = yield* probe!
      yield* pilots.list()
      expect(yield* probe!).toBe(v0)
      yield* pilots.register({ callsign: "viper-1" })
      const v1 = yield* probe!
      expect(v1).not.toBe(v0)
      // Another connection to the same file.
      const path = yield* sql<{ file: string }>`PRAGMA database_list`.pipe(Effect.map((rows) => rows[0]!.file))
      const other = Libsql.createClient({ url: `file:${path}`, timeout: 5_000 })
      yield* Effect.promise(() => other.execute("INSERT INTO events (type, project_key, timestamp, data) VALUES ('x', 'elsewhere', 1, '1')"))
      other.close()
      expect(yield* probe!).not.toBe(v1)
    }).pipe(Effect.provide(fileLayer)))
})
