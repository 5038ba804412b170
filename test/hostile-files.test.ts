/**
 * Hostile files at `.fleet/fleet.db`: a truncated FleetTools database and valid SQLite databases
 * of other applications. Each gives a typed `DatabaseOpenError` naming the file, and the file is
 * left exactly as it was (random bytes and a future schema are covered in layers.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Effect, Exit, Layer } from "effect"
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseOpenError, FleetDb, Pilots, Sorties } from "../src/index.js"
import { releaseClosedConnections } from "../src/sql/release.js"
import { tempDir } from "./support/backends.js"

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

const openFailure = (projectPath: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath })).pipe(Effect.scoped))
    if (Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error instanceof DatabaseOpenError) {
      return exit.cause.error
    }
    throw new Error(`expected a DatabaseOpenError, got ${String(exit)}`)
  })

/** A project directory whose `.fleet/fleet.db` is prepared by `write`. */
const projectWith = (write: (path: string) => Promise<void> | void) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    mkdirSync(join(dir, ".fleet"))
    const path = join(dir, ".fleet", "fleet.db")
    yield* Effect.promise(async () => write(path))
    return { dir, path }
  })

/** Run statements on a plain libSQL client (another application's view of a file). */
const raw = async (path: string, statements: ReadonlyArray<string>) => {
  const client = Libsql.createClient({ url: `file:${path}` })
  try {
    const results = []
    for (const statement of statements) results.push(await client.execute(statement))
    return results
  } finally {
    client.close()
    // Really closed (so a WAL database's last close folds its WAL in now, not at some later
    // garbage collection, e.g. the one after our own layer closes).
    await releaseClosedConnections()
  }
}

/** A real FleetTools database with some rows, closed (so its WAL is folded into the file). */
const fleetDatabase = Effect.gen(function*() {
  const dir = yield* tempDir
  yield* Effect.gen(function*() {
    const pilots = yield* Pilots
    const sorties = yield* Sorties
    for (let i = 0; i < 40; i++) {
      yield* pilots.register({ callsign: `pilot-${i}`, task_description: "x".repeat(2_000) })
      yield* sorties.create({ title: `sortie ${i}`, description: "y".repeat(2_000) })
    }
  }).pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
  const path = join(dir, ".fleet", "fleet.db")
  expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0)
  return path
})

describe("hostile files", () => {
  it.scoped("a truncated fleet.db: typed error naming the file, file untouched", () =>
    Effect.gen(function*() {
      const source = yield* fleetDatabase
      const size = statSync(source).size
      expect(size).toBeGreaterThan(100_000)
      // Inside the header, at the first page, mid-page, half-way, a page short, a byte short.
      for (const length of [50, 100, 4096, 5000, Math.floor(size / 2), size - 4096, size - 1]) {
        const { dir, path } = yield* projectWith((path) => {
          copyFileSync(source, path)
          truncateSync(path, length)
        })
        const before = sha(path)
        const error = yield* openFailure(dir)
        expect(error.reason, `truncated to ${length}`).toBe("not-a-database")
        expect(error.target).toBe(path)
        expect(error.message).toContain(path)
        expect(error.detail).toMatch(/damaged|not a SQLite database/)
        expect(sha(path), `truncated to ${length}`).toBe(before)
        expect(statSync(path).size).toBe(length)
      }
    }), 120_000)

  it.scoped("an empty (0-byte) fleet.db is a new database, as SQLite sees it", () =>
    Effect.gen(function*() {
      const { dir } = yield* projectWith((path) => writeFileSync(path, ""))
      const pilot = yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "first" })).pipe(
        Effect.provide(FleetDb.layerFile({ projectPath: dir }))
      )
      expect(pilot.callsign).toBe("first")
    }))

  it.scoped("a SQLite database of another application: typed error naming it and its tables, untouched", () =>
    Effect.gen(function*() {
      const { dir, path } = yield* projectWith(async (path) => {
        await raw(path, [
          "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
          "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)",
          "INSERT INTO users (name) VALUES ('alice'), ('bob')"
        ])
      })
      const before = sha(path)
      const error = yield* openFailure(dir)
      expect(error.reason).toBe("not-a-database")
      expect(error.target).toBe(path)
      expect(error.message).toContain(path)
      expect(error.detail).toContain("another application")
      expect(error.detail).toContain("orders, users")
      expect(sha(path)).toBe(before)
      // Still the other application's database: its journal mode, its tables, its rows.
      const [mode, tables, users] = yield* Effect.promise(() =>
        raw(path, [
          "PRAGMA journal_mode",
          "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
          "SELECT name FROM users ORDER BY id"
        ])
      )
      expect(mode!.rows[0]!.journal_mode).toBe("delete")
      expect(tables!.rows.map((r) => r.name)).toEqual(["orders", "users"])
      expect(users!.rows.map((r) => r.name)).toEqual(["alice", "bob"])
    }))

  it.scoped("another application's database with its own `events` table is not mistaken for ours", () =>
    Effect.gen(function*() {
      const { dir, path } = yield* projectWith(async (path) => {
        await raw(path, [
          "PRAGMA journal_mode=WAL",
          "CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT, starts_at TEXT)",
          "INSERT INTO events (name, starts_at) VALUES ('launch', '2025-01-01')"
        ])
      })
      const before = sha(path)
      const error = yield* openFailure(dir)
      expect(error.reason).toBe("not-a-database")
      expect(error.detail).toContain("tables: events")
      expect(sha(path)).toBe(before)
      const [columns] = yield* Effect.promise(() => raw(path, ["PRAGMA table_info(events)"]))
      expect(columns!.rows.map((r) => r.name)).toEqual(["id", "name", "starts_at"])
    }))

  it.scoped("another Effect application's database (its own effect_sql_migrations) is refused", () =>
    Effect.gen(function*() {
      const { dir, path } = yield* projectWith(async (path) => {
        await raw(path, [
          "CREATE TABLE effect_sql_migrations (migration_id integer PRIMARY KEY NOT NULL, created_at datetime DEFAULT CURRENT_TIMESTAMP NOT NULL, name VARCHAR(255) NOT NULL)",
          "INSERT INTO effect_sql_migrations (migration_id, name) VALUES (1, 'their_first')",
          "CREATE TABLE invoices (id INTEGER PRIMARY KEY)"
        ])
      })
      const before = sha(path)
      const error = yield* openFailure(dir)
      expect(error.reason).toBe("not-a-database")
      expect(error.detail).toContain("effect_sql_migrations, invoices")
      expect(sha(path)).toBe(before)
    }))

  it.scoped("a FleetTools database made by the seed's own migration (no migrations table) is still adopted", () =>
    Effect.gen(function*() {
      const { dir } = yield* projectWith(async (path) => {
        await raw(path, [
          "CREATE TABLE `events` (`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL, `type` text NOT NULL, `project_key` text NOT NULL, `timestamp` integer NOT NULL, `sequence` integer GENERATED ALWAYS AS (id) VIRTUAL, `data` text NOT NULL)"
        ])
      })
      const pilot = yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "adopted" })).pipe(
        Effect.provide(FleetDb.layerFile({ projectPath: dir }))
      )
      expect(pilot.callsign).toBe("adopted")
    }))
})
