/**
 * Project identity: a file database is one project however it is reached. The same file through a
 * symlink or after its directory was renamed is the same fleet (same locks, same pilots, same
 * mail); an explicit key that disagrees with the stored one is refused; a database from before
 * keys were stored adopts its single key, and one holding several keeps working as before.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { mkdirSync, realpathSync, renameSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { DatabaseOpenError, FleetDb, FleetProject, Locks, Messages, Pilots } from "../src/index.js"
import { tempDir } from "./support/backends.js"

const acquire = (holder: string) => Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder, ttl: "10 minutes" }))

const openFailure = (layer: Layer.Layer<FleetDb.FleetServices, DatabaseOpenError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.scoped(Layer.build(layer)))
    if (Exit.isSuccess(exit)) return yield* Effect.dieMessage("the layer opened, but it should have failed")
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) return yield* Effect.dieMessage(Cause.pretty(exit.cause))
    expect(failure.value).toBeInstanceOf(DatabaseOpenError)
    return failure.value
  })

/** Run statements on the file with a raw client (as an older version or another tool would). */
const raw = (path: string, statements: ReadonlyArray<string>) =>
  Effect.promise(async () => {
    const client = Libsql.createClient({ url: `file:${path}` })
    try {
      const results = []
      for (const statement of statements) results.push(await client.execute(statement))
      return results.map((r) => r.rows)
    } finally {
      client.close()
    }
  })

/** Make the database at `path` look as if migration 0004 had never run. */
const beforeProjectIdentity = (path: string, inserts: ReadonlyArray<string>) =>
  raw(path, [
    "DROP TABLE fleet_meta",
    // Undo 0007 (the work graph) too: its added columns cannot be added twice.
    "DROP INDEX idx_sorties_ready",
    "DROP TABLE sortie_dependencies",
    "ALTER TABLE sorties DROP COLUMN unclosed_blockers",
    "ALTER TABLE sorties DROP COLUMN outcome",
    "ALTER TABLE sorties DROP COLUMN close_reason",
    "ALTER TABLE missions DROP COLUMN close_reason",
    "DELETE FROM effect_sql_migrations WHERE migration_id >= 4",
    ...inserts
  ])

describe("one file database, one project", () => {
  it.scoped("the same directory through a symlink is the same fleet: the lock is held, not fence 1 twice", () =>
    Effect.gen(function*() {
      const base = yield* tempDir
      const real = join(base, "repo")
      mkdirSync(real)
      const link = join(base, "link")
      symlinkSync(real, link, "dir")
      const direct = yield* Layer.build(FleetDb.layerFile({ projectPath: real }))
      const viaLink = yield* Layer.build(FleetDb.layerFile({ projectPath: link }))
      const [a, b] = [yield* Effect.provide(FleetProject, direct), yield* Effect.provide(FleetProject, viaLink)]
      expect(b.projectKey).toBe(a.projectKey)
      expect(a.projectKey).toBe(realpathSync(real))

      const held = yield* Effect.provide(acquire("viper-1"), direct)
      expect(held.fence).toBe(1)
      const second = yield* Effect.flip(Effect.provide(acquire("viper-2"), viaLink))
      expect(second).toMatchObject({ _tag: "LockHeld", holder: "viper-1" })
    }))

  it.scoped("a renamed directory is the same fleet: locks, pilots and mail carry over", () =>
    Effect.gen(function*() {
      const base = yield* tempDir
      const before = join(base, "before")
      const after = join(base, "after")
      mkdirSync(before)
      yield* Effect.scoped(Effect.gen(function*() {
        const ctx = yield* Layer.build(FleetDb.layerFile({ projectPath: before }))
        yield* Effect.provide(Effect.flatMap(Pilots, (p) => p.register({ callsign: "viper-1" })), ctx)
        yield* Effect.provide(acquire("viper-1"), ctx)
      }))
      renameSync(before, after)

      const moved = yield* Layer.build(FleetDb.layerFile({ projectPath: after }))
      expect((yield* Effect.provide(FleetProject, moved)).projectKey).toBe(join(realpathSync(base), "before"))
      expect(yield* Effect.flip(Effect.provide(acquire("viper-2"), moved))).toMatchObject({ _tag: "LockHeld", holder: "viper-1" })
      yield* Effect.provide(Effect.flatMap(Pilots, (p) => p.register({ callsign: "viper-2" })), moved)
      const sent = yield* Effect.provide(
        Effect.flatMap(Messages, (m) => m.send({ from: "viper-2", to: ["viper-1"], subject: "hi", body: "still here?" })),
        moved
      )
      expect(sent.recipients).toEqual(["viper-1"])
      expect(
        (yield* Effect.provide(Effect.flatMap(Pilots, (p) => p.list()), moved)).map((p) => p.callsign).sort()
      ).toEqual(["viper-1", "viper-2"])
    }))

  it.scoped("an explicit projectKey that disagrees with the stored one is refused, not a second fleet", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Effect.scoped(Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "alpha" })))
      const error = yield* openFailure(FleetDb.layerFile({ projectPath: dir, projectKey: "beta" }))
      expect(error.reason).toBe("project-key")
      expect(error.message).toContain("\"beta\"")
      expect(error.message).toContain("\"alpha\"")
      // Through a file: URL too; the same key, or none, opens it.
      const viaUrl = yield* openFailure(FleetDb.layer({ url: `file:${join(dir, ".fleet", "fleet.db")}`, projectKey: "beta" }))
      expect(viaUrl.reason).toBe("project-key")
      for (const layer of [FleetDb.layerFile({ projectPath: dir, projectKey: "alpha" }), FleetDb.layerFile({ projectPath: dir })]) {
        expect((yield* Effect.provide(FleetProject, layer)).projectKey).toBe("alpha")
      }
    }))

  it.scoped("a database from before stored keys adopts its one key; one holding several keeps working as before", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, ".fleet", "fleet.db")
      yield* Effect.scoped(Layer.build(FleetDb.layerFile({ projectPath: dir })))
      yield* beforeProjectIdentity(path, [
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('/old/checkout', 'viper-1', 1, 1)"
      ])
      const adopted = FleetDb.layerFile({ projectPath: dir })
      expect((yield* Effect.provide(FleetProject, adopted)).projectKey).toBe("/old/checkout")
      expect((yield* Effect.provide(Effect.flatMap(Pilots, (p) => p.get("viper-1")), adopted)).callsign).toBe("viper-1")

      const several = yield* tempDir
      const severalPath = join(several, ".fleet", "fleet.db")
      yield* Effect.scoped(Layer.build(FleetDb.layerFile({ projectPath: several })))
      yield* beforeProjectIdentity(severalPath, [
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('alpha', 'viper-1', 1, 1)",
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('beta', 'viper-2', 1, 1)"
      ])
      for (const key of ["alpha", "beta"]) {
        const layer = FleetDb.layerFile({ projectPath: several, projectKey: key })
        expect((yield* Effect.provide(FleetProject, layer)).projectKey).toBe(key)
      }
      expect((yield* Effect.provide(FleetProject, FleetDb.layerFile({ projectPath: several }))).projectKey).toBe(several)
      const meta = yield* raw(severalPath, ["SELECT name, value FROM fleet_meta WHERE name <> 'case_insensitive' ORDER BY name"])
      expect(meta[0]!.map((r) => [r.name, r.value])).toEqual([["legacy_project_keys", "2"]])
    }))

  it.scoped("the README's merge makes a database holding several keys one project", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, ".fleet", "fleet.db")
      yield* Effect.scoped(Layer.build(FleetDb.layerFile({ projectPath: dir })))
      yield* beforeProjectIdentity(path, [
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('alpha', 'viper-1', 1, 1)",
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('beta', 'viper-1', 2, 2)",
        "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('beta', 'viper-2', 3, 3)",
        "INSERT INTO cursors (project_key, consumer_id, position, updated_at) VALUES ('beta', 'indexer', 0, 3)",
        "INSERT INTO events (type, project_key, timestamp, data) VALUES ('note', 'beta', 3, '{}')"
      ])
      // Migration 0004 runs and marks it; then the merge, as the README gives it.
      yield* Effect.scoped(Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "alpha" })))
      const tables = ["events", "pilots", "messages", "reservations", "cursors", "locks", "missions", "sorties", "work_orders", "checkpoints"]
      yield* Effect.promise(async () => {
        const client = Libsql.createClient({ url: `file:${path}` })
        try {
          const keep = { keep: "alpha" }
          await client.batch([
            { sql: "DELETE FROM pilots WHERE project_key <> :keep AND callsign IN (SELECT callsign FROM pilots WHERE project_key = :keep)", args: keep },
            { sql: "DELETE FROM cursors WHERE project_key <> :keep AND consumer_id IN (SELECT consumer_id FROM cursors WHERE project_key = :keep)", args: keep },
            ...tables.map((table) => ({ sql: `UPDATE ${table} SET project_key = :keep WHERE project_key <> :keep`, args: keep })),
            { sql: "INSERT OR REPLACE INTO fleet_meta (name, value) VALUES ('project_key', :keep)", args: keep },
            "DELETE FROM fleet_meta WHERE name = 'legacy_project_keys'"
          ], "write")
        } finally {
          client.close()
        }
      })
      const merged = FleetDb.layerFile({ projectPath: dir })
      expect((yield* Effect.provide(FleetProject, merged)).projectKey).toBe("alpha")
      const pilots = yield* Effect.provide(Effect.flatMap(Pilots, (p) => p.list()), merged)
      expect(pilots.map((p) => p.callsign).sort()).toEqual(["viper-1", "viper-2"])
      expect((yield* openFailure(FleetDb.layerFile({ projectPath: dir, projectKey: "beta" }))).reason).toBe("project-key")
    }))
})

describe("one file database, one case rule", () => {
  it.scoped("the first opener's rule is stored: later openers follow it, a disagreeing explicit rule is refused", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const first = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, caseInsensitive: true }))
      expect((yield* Effect.provide(FleetProject, first)).caseInsensitive).toBe(true)
      // This filesystem is case-sensitive, so a probe alone would say false: the stored rule wins.
      const later = yield* Layer.build(FleetDb.layerFile({ projectPath: dir }))
      expect((yield* Effect.provide(FleetProject, later)).caseInsensitive).toBe(true)
      // Two pilots of one fleet, one comparing case-folded and one not, could both hold one file.
      const refused = yield* openFailure(FleetDb.layerFile({ projectPath: dir, caseInsensitive: false }))
      expect(refused.detail).toContain("case rule")
      const [rows] = yield* raw(join(dir, ".fleet", "fleet.db"), ["SELECT value FROM fleet_meta WHERE name = 'case_insensitive'"])
      expect(rows).toEqual([expect.objectContaining({ value: "1" })])
    }))

  it.scoped("a new file stores the probed rule of its filesystem", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const opened = yield* Layer.build(FleetDb.layerFile({ projectPath: dir }))
      const probed = (yield* Effect.provide(FleetProject, opened)).caseInsensitive
      const [rows] = yield* raw(join(dir, ".fleet", "fleet.db"), ["SELECT value FROM fleet_meta WHERE name = 'case_insensitive'"])
      expect(rows).toEqual([expect.objectContaining({ value: probed ? "1" : "0" })])
    }))
})
