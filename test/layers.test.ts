/**
 * The FleetDb layers: where the file goes, persistence, project isolation, memory isolation and
 * transactions, and typed failures for databases that cannot be opened.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseOpenError, DatabaseUrl, FleetDb, FleetProject, Pilots } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { runWorker } from "./support/procs.js"

const callsigns = Effect.flatMap(Pilots, (p) => p.list()).pipe(Effect.map((list) => list.map((p) => p.callsign).sort()))
const register = (callsign: string) => Effect.flatMap(Pilots, (p) => p.register({ callsign }))

const openError = <E>(exit: Exit.Exit<unknown, E>) => {
  expect(Exit.isFailure(exit)).toBe(true)
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
    const error = exit.cause.error
    expect(error).toBeInstanceOf(DatabaseOpenError)
    return error as DatabaseOpenError
  }
  throw new Error(`expected a typed failure, got ${String(exit)}`)
}

describe("layerFile", () => {
  it.scoped("creates .fleet/fleet.db under the project and keeps data across reopen", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* register("viper-1").pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
      expect(existsSync(join(dir, ".fleet", "fleet.db"))).toBe(true)
      const project = yield* FleetProject.pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
      expect(project.projectKey).toBe(realpathSync(dir))
      expect(yield* callsigns.pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))).toEqual(["viper-1"])
      const raw = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      const mode = yield* Effect.promise(() => raw.execute("PRAGMA journal_mode"))
      raw.close()
      expect(mode.rows[0]!.journal_mode).toBe("wal")
    }))

  it.scoped("honours filename", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* register("a").pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir, filename: "other.db" })))
      expect(existsSync(join(dir, ".fleet", "other.db"))).toBe(true)
      expect(existsSync(join(dir, ".fleet", "fleet.db"))).toBe(false)
    }))

  it.scoped("a second project key on one file is refused: one file database, one project (test/identity.test.ts)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* register("alpha-only").pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir, projectKey: "alpha" })))
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "beta" })).pipe(Effect.scoped)))
      expect(error.reason).toBe("project-key")
      expect(yield* callsigns.pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))).toEqual(["alpha-only"])
    }))

  it.effect("refuses a filename that leaves .fleet/", () =>
    Effect.gen(function*() {
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: "/tmp", filename: "../x.db" })).pipe(Effect.scoped)))
      expect(error.message).toContain("filename")
    }))
})

describe("layerMemory", () => {
  it.effect("keeps data written inside sql.withTransaction", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.withTransaction(Effect.all([register("in-tx-1"), register("in-tx-2")]))
      expect(yield* callsigns).toEqual(["in-tx-1", "in-tx-2"])
      const rolledBack = yield* Effect.exit(sql.withTransaction(Effect.zipRight(register("doomed"), Effect.fail("boom"))))
      expect(Exit.isFailure(rolledBack)).toBe(true)
      expect(yield* callsigns).toEqual(["in-tx-1", "in-tx-2"])
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("two builds never share data", () =>
    Effect.gen(function*() {
      yield* register("only-in-first").pipe(Effect.provide(FleetDb.layerMemory()))
      expect(yield* callsigns.pipe(Effect.provide(FleetDb.layerMemory()))).toEqual([])
      const layer = FleetDb.layerMemory()
      yield* register("x").pipe(Effect.provide(layer))
      // Even the same layer value builds a fresh database each time it is provided.
      expect(yield* callsigns.pipe(Effect.provide(layer))).toEqual([])
    }))

  it.effect("defaults the project key to \"default\"", () =>
    Effect.gen(function*() {
      const project = yield* FleetProject
      expect(project.projectKey).toBe("default")
    }).pipe(Effect.provide(FleetDb.layerMemory())))
})

describe("layer and layerConfig", () => {
  it.scoped("layer opens a file: URL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const layer = FleetDb.layer({ url: `file:${join(dir, "db", "x.db")}`, projectKey: "k" })
      yield* register("u").pipe(Effect.provide(layer))
      expect(yield* callsigns.pipe(Effect.provide(layer))).toEqual(["u"])
    }))

  it.scoped("layerConfig reads FLEET_DB_URL and FLEET_PROJECT_KEY", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const config = ConfigProvider.fromMap(new Map([
        ["FLEET_DB_URL", `file:${join(dir, "cfg.db")}`],
        ["FLEET_PROJECT_KEY", "from-config"]
      ]))
      const project = yield* FleetProject.pipe(
        Effect.provide(FleetDb.layerConfig),
        Effect.withConfigProvider(config)
      )
      expect(project.projectKey).toBe("from-config")
      expect(existsSync(join(dir, "cfg.db"))).toBe(true)
    }))

  it.effect("an unsupported URL fails with a typed error naming it", () =>
    Effect.gen(function*() {
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layer({ url: "postgres://db.example/x", projectKey: "k" })).pipe(Effect.scoped)))
      expect(error.reason).toBe("url")
      expect(error.target).toBe("postgres://db.example/x")
    }))

  it.effect("an unsupported URL's credentials and query never reach the error", () =>
    Effect.gen(function*() {
      for (const url of ["postgres://admin:hunter2@db.example/x?token=t0k", "mysql://admin:hunter2@[bad/x?token=t0k"]) {
        const error = openError(yield* Effect.exit(Layer.build(FleetDb.layer({ url, projectKey: "k" })).pipe(Effect.scoped)))
        expect(error.reason).toBe("url")
        for (const secret of ["admin", "hunter2", "t0k"]) expect(error.message, url).not.toContain(secret)
      }
    }))
})

describe("DatabaseUrl", () => {
  it("filePath: the local file of a file: URL, in each of its spellings; nothing for other URLs", () => {
    expect(DatabaseUrl.filePath("file:/tmp/a b.db")).toBe("/tmp/a b.db")
    expect(DatabaseUrl.filePath("file:///tmp/a%20b.db?mode=ro")).toBe("/tmp/a b.db")
    expect(DatabaseUrl.filePath(" file://localhost/tmp/x.db ")).toBe("/tmp/x.db")
    expect(DatabaseUrl.filePath("file:rel.db")).toBe(join(process.cwd(), "rel.db"))
    for (const url of ["file::memory:", ":memory:", "libsql://h", "http://h/file:x"]) expect(DatabaseUrl.filePath(url), url).toBeUndefined()
  })

  it("redact: no user, password or query, whether the URL parses or not", () => {
    expect(DatabaseUrl.redact("libsql://user:pass@db.example:8080/x?authToken=t")).toBe("libsql://db.example:8080/x")
    expect(DatabaseUrl.redact("https://token@db.example")).toBe("https://db.example/")
    expect(DatabaseUrl.redact("wss://user:p@ss@[broken/x?authToken=t")).toBe("wss://[broken/x")
    expect(DatabaseUrl.redact("file:/tmp/x.db?mode=ro")).toBe("file:/tmp/x.db")
    expect(DatabaseUrl.redact("file:/tmp/a@b.db")).toBe("file:/tmp/a@b.db")
  })
})

describe("databases that cannot be opened", () => {
  const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

  it.scoped("a fleet.db of random bytes: typed error naming the file, file untouched", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      mkdirSync(join(dir, ".fleet"))
      const path = join(dir, ".fleet", "fleet.db")
      writeFileSync(path, randomBytes(64 * 1024))
      const before = sha(path)
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: dir })).pipe(Effect.scoped)))
      expect(error.reason).toBe("not-a-database")
      expect(error.target).toBe(path)
      expect(error.message).toContain(path)
      expect(sha(path)).toBe(before)
    }))

  it.scoped("a schema newer than this library: typed error, nothing changed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* register("x").pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
      const path = join(dir, ".fleet", "fleet.db")
      const raw = Libsql.createClient({ url: `file:${path}` })
      yield* Effect.promise(() => raw.execute("INSERT INTO effect_sql_migrations (migration_id, name) VALUES (9999, 'from_the_future')"))
      yield* Effect.promise(() => raw.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
      raw.close()
      const before = sha(path)
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: dir })).pipe(Effect.scoped)))
      expect(error.reason).toBe("schema-too-new")
      expect(error.message).toContain("9999")
      expect(sha(path)).toBe(before)
    }))

  it.scoped("a project path that is a file: typed error naming the path", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const notADir = join(dir, "plain-file")
      writeFileSync(notADir, "x")
      const error = openError(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: notADir })).pipe(Effect.scoped)))
      expect(error.reason).toBe("directory")
      expect(error.target).toBe(join(notADir, ".fleet", "fleet.db"))
    }))

  it.scoped("a read-only project directory: typed error from a process that cannot write it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const project = join(dir, "readonly")
      mkdirSync(project)
      chmodSync(dir, 0o755)
      chmodSync(project, 0o555)
      // Root ignores directory permissions, so the opener runs as an unprivileged user then.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
      const result = yield* Effect.promise(() => runWorker("open-worker.ts", [project], {}, asUser))
      expect(result.lines[0], result.stderr).toMatchObject({ ok: false, tag: "DatabaseOpenError", reason: "directory" })
      expect(String(result.lines[0]!.target)).toBe(join(project, ".fleet", "fleet.db"))
      expect(existsSync(join(project, ".fleet"))).toBe(false)
    }))
})
