/**
 * Faults a fleet meets (issue 15): descriptors that outlive their connections, opening while
 * another process writes, read-only databases. The frozen-server case is in
 * test/frozen-server.procs.test.ts.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Context, Effect, Exit, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { DatabaseOpenError, FleetDb, Pilots, ReadOnlyDatabase } from "../src/index.js"
import { primaryCode } from "../src/sql/errors.js"
import { CONNECTIONS_KEPT, lastRelease, RELEASE_DELAY_MS, releaseClosedConnections } from "../src/sql/release.js"
import { runWorker, workerBundle } from "./support/procs.js"

const root = fileURLToPath(new URL("..", import.meta.url))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "fleetdb-faults-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/**
 * A process that holds the file's write lock (BEGIN IMMEDIATE, uncommitted) until the scope
 * closes; acquired once it holds it.
 */
const writeLockHeld = (dbPath: string) =>
  Effect.acquireRelease(
    Effect.async<ChildProcess, Error>((resume) => {
      const child = spawn(process.execPath, [workerBundle("hold-write-lock.ts"), dbPath, "600000"], {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"]
      })
      let buffer = ""
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        buffer += chunk
        if (buffer.includes("\"held\":true")) resume(Effect.succeed(child))
      })
      child.on("error", (error) => resume(Effect.fail(error)))
      child.on("exit", (code) => resume(Effect.fail(new Error(`hold-write-lock exited with ${code}`))))
    }),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  )

describe("opening while another process holds the write lock", () => {
  it.live("an up-to-date database opens and reads without waiting for the writer", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const dbPath = join(dir, ".fleet", "fleet.db")
      const layer = FleetDb.layerFile({ projectPath: dir, busyTimeout: 200, busyRetries: 0 })
      yield* Pilots.pipe(Effect.flatMap((pilots) => pilots.register({ callsign: "before" })), Effect.provide(layer))
      yield* writeLockHeld(dbPath)
      // Without a read first, the migrator's BEGIN IMMEDIATE fails after the busy timeout:
      // "migrating the schema failed: SQLITE_BUSY".
      const listed = yield* Pilots.pipe(Effect.flatMap((pilots) => pilots.list()), Effect.provide(layer))
      expect(listed.map((pilot) => pilot.callsign)).toEqual(["before"])
    }).pipe(Effect.scoped))
})

/** This process's open descriptors on files under `dir` (the database, its -wal and -shm). */
const descriptorsUnder = (dir: string): number =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)
    } catch {
      return false // closed while listing
    }
  }).length

/** Flat: at most the closed connections still waiting for a collection (3 files each) above `baseline`. */
const bound = (baseline: number) => baseline + 3 * CONNECTIONS_KEPT

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

describe.skipIf(process.platform !== "linux")("no descriptor outlives its connection (/proc/self/fd)", () => {
  it.live("50 SQLITE_BUSY failures, then closing the layer", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const dbPath = join(dir, ".fleet", "fleet.db")
      yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, busyTimeout: 1, busyRetries: 0 }))
        const pilots = Context.get(context, Pilots)
        yield* pilots.register({ callsign: "before" })
        const baseline = descriptorsUnder(dir)
        expect(baseline).toBeGreaterThan(0)
        let peak = baseline
        yield* Effect.scoped(Effect.gen(function*() {
          yield* writeLockHeld(dbPath)
          for (let i = 0; i < 50; i++) {
            const failure = failureOf(yield* Effect.exit(pilots.register({ callsign: `busy-${i}` })))
            expect(failure?._tag).toBe("SqlError")
            peak = Math.max(peak, descriptorsUnder(dir))
          }
        }))
        yield* pilots.register({ callsign: "after" })
        // Each failure replaced the connection; replaced ones are closed, descriptors and all
        // (a few at a time: see release.ts). Without that: 2 more descriptors per failure.
        expect(peak).toBeLessThanOrEqual(bound(baseline))
        expect(descriptorsUnder(dir)).toBeLessThanOrEqual(bound(baseline))
      }))
      // Closing the layer released everything, with the collection that followed (lastRelease).
      yield* Effect.promise(lastRelease)
      expect(descriptorsUnder(dir)).toBe(0)
    }).pipe(Effect.scoped), 120_000)

  it.live("50 SQLITE_FULL failures (max_page_count)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, busyRetries: 0 }))
        const pilots = Context.get(context, Pilots)
        const sql = Context.get(context, SqlClient.SqlClient)
        yield* pilots.register({ callsign: "before" })
        const baseline = descriptorsUnder(dir)
        let peak = baseline
        for (let i = 0; i < 50; i++) {
          // A per-connection limit: the database is "full" until the connection is replaced.
          const rows = yield* sql<{ readonly page_count: number }>`PRAGMA page_count`
          yield* sql.unsafe(`PRAGMA max_page_count = ${rows[0]!.page_count}`)
          const failure = failureOf(yield* Effect.exit(pilots.register({ callsign: `full-${i}`, task_description: "x".repeat(60_000) })))
          expect(failure?._tag).toBe("SqlError")
          expect(primaryCode((failure as { readonly cause?: unknown } | undefined)?.cause)).toBe(13) // SQLITE_FULL
          peak = Math.max(peak, descriptorsUnder(dir))
        }
        yield* pilots.register({ callsign: "after", task_description: "x".repeat(60_000) })
        expect(peak).toBeLessThanOrEqual(bound(baseline))
        expect(descriptorsUnder(dir)).toBeLessThanOrEqual(bound(baseline))
      }))
      // Closing the layer released everything, with the collection that followed (lastRelease).
      yield* Effect.promise(lastRelease)
      expect(descriptorsUnder(dir)).toBe(0)
    }).pipe(Effect.scoped), 120_000)

  it.live("a closed layer's descriptors are released within RELEASE_DELAY_MS, without anyone asking", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* Pilots.pipe(Effect.flatMap((pilots) => pilots.register({ callsign: "x" })), Effect.provide(FleetDb.layerFile({ projectPath: dir })))
      // Polling only: nothing here asks for a collection, so the delay's own timer must run one.
      const deadline = Date.now() + RELEASE_DELAY_MS + 10_000
      while (descriptorsUnder(dir) > 0 && Date.now() < deadline) yield* Effect.sleep("50 millis")
      expect(descriptorsUnder(dir)).toBe(0)
    }).pipe(Effect.scoped))

  it.live("50 failed opens (schema too new, another application's file)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const tooNew = join(dir, "too-new")
      yield* Pilots.pipe(Effect.flatMap((pilots) => pilots.register({ callsign: "x" })), Effect.provide(FleetDb.layerFile({ projectPath: tooNew })))
      yield* Effect.promise(async () => {
        const raw = Libsql.createClient({ url: `file:${join(tooNew, ".fleet", "fleet.db")}` })
        await raw.execute("INSERT INTO effect_sql_migrations (migration_id, name) VALUES (9999, 'from_the_future')")
        raw.close()
        await releaseClosedConnections()
      })
      const foreign = join(dir, "foreign")
      mkdirSync(join(foreign, ".fleet"), { recursive: true })
      yield* Effect.promise(async () => {
        const raw = Libsql.createClient({ url: `file:${join(foreign, ".fleet", "fleet.db")}` })
        await raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        raw.close()
        await releaseClosedConnections()
      })
      expect(descriptorsUnder(dir)).toBe(0)
      for (let i = 0; i < 50; i++) {
        const projectPath = i % 2 === 0 ? tooNew : foreign
        const failure = failureOf(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath })).pipe(Effect.scoped)))
        expect(failure?._tag).toBe("DatabaseOpenError")
      }
      yield* Effect.promise(lastRelease)
      expect(descriptorsUnder(dir)).toBe(0)
    }).pipe(Effect.scoped), 120_000)
})

describe("read-only mode", () => {
  const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

  /** A closed FleetTools database with pilot "alpha" under `{dir}/project`. */
  const database = Effect.gen(function*() {
    const dir = yield* tempDir
    const project = join(dir, "project")
    yield* Pilots.pipe(
      Effect.flatMap((pilots) => pilots.register({ callsign: "alpha" })),
      Effect.provide(FleetDb.layerFile({ projectPath: project }))
    )
    // Closed for real: its last close folded the WAL in and removed -wal and -shm.
    yield* Effect.promise(releaseClosedConnections)
    return { dir, project, path: join(project, ".fleet", "fleet.db") }
  })

  const readOnlyCause = (exit: Exit.Exit<unknown, unknown>) => {
    const failure = failureOf(exit) as { readonly _tag?: string; readonly cause?: unknown } | undefined
    expect(failure?._tag).toBe("SqlError")
    return failure?.cause
  }

  it.live("layerFile({ readOnly: true }) reads; every write fails with ReadOnlyDatabase; the file is unchanged", () =>
    Effect.gen(function*() {
      const { path, project } = yield* database
      const before = sha(path)
      yield* Effect.gen(function*() {
        const pilots = yield* Pilots
        const sql = yield* SqlClient.SqlClient
        expect((yield* pilots.list()).map((pilot) => pilot.callsign)).toEqual(["alpha"])
        const command = readOnlyCause(yield* Effect.exit(pilots.register({ callsign: "bravo" })))
        expect(command).toBeInstanceOf(ReadOnlyDatabase)
        expect((command as ReadOnlyDatabase).message).toContain("read-only mode")
        // A statement outside any transaction too.
        const raw = readOnlyCause(yield* Effect.exit(sql`DELETE FROM pilots`))
        expect(raw).toBeInstanceOf(ReadOnlyDatabase)
        expect((yield* pilots.list()).map((pilot) => pilot.callsign)).toEqual(["alpha"])
      }).pipe(Effect.provide(FleetDb.layerFile({ projectPath: project, readOnly: true })))
      expect(sha(path)).toBe(before)
    }).pipe(Effect.scoped))

  it.live("layer({ url: 'file:…?mode=ro' }) is read-only too", () =>
    Effect.gen(function*() {
      const { path } = yield* database
      yield* Effect.gen(function*() {
        const pilots = yield* Pilots
        expect((yield* pilots.list()).map((pilot) => pilot.callsign)).toEqual(["alpha"])
        expect(readOnlyCause(yield* Effect.exit(pilots.register({ callsign: "bravo" })))).toBeInstanceOf(ReadOnlyDatabase)
      }).pipe(Effect.provide(FleetDb.layer({ url: `file:${path}?mode=ro`, projectKey: join(path, "..", "..") })))
    }).pipe(Effect.scoped))

  it.live("no database, or one that needs migrating: a typed error, nothing created", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const missing = failureOf(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: dir, readOnly: true })).pipe(Effect.scoped)))
      expect(missing).toMatchObject({ _tag: "DatabaseOpenError", reason: "read-only" })
      expect(existsSync(join(dir, ".fleet"))).toBe(false)
      const { path, project } = yield* database
      yield* Effect.promise(async () => {
        const raw = Libsql.createClient({ url: `file:${path}` })
        await raw.execute("DELETE FROM effect_sql_migrations WHERE migration_id = (SELECT MAX(migration_id) FROM effect_sql_migrations)")
        raw.close()
        await releaseClosedConnections()
      })
      const old = failureOf(yield* Effect.exit(Layer.build(FleetDb.layerFile({ projectPath: project, readOnly: true })).pipe(Effect.scoped)))
      expect(old).toMatchObject({ _tag: "DatabaseOpenError", reason: "read-only" })
      expect((old as DatabaseOpenError).detail).toContain("needs migrating")
    }).pipe(Effect.scoped))

  // Root ignores file permissions, so the reader runs as an unprivileged user (nobody) then.
  it.live("a 0444 file in a 0555 directory, read by a user who cannot write either", () =>
    Effect.gen(function*() {
      const { dir, project, path } = yield* database
      chmodSync(dir, 0o755)
      chmodSync(path, 0o444)
      chmodSync(join(project, ".fleet"), 0o555)
      expect(readdirSync(join(project, ".fleet"))).toEqual(["fleet.db"])
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
      const readOnly = yield* Effect.promise(() => runWorker("read-only-worker.ts", [project, "true"], {}, asUser))
      expect(readOnly.lines[0], readOnly.stderr).toMatchObject({
        ok: true,
        callsigns: ["alpha"],
        write: { tag: "SqlError", cause: "ReadOnlyDatabase" }
      })
      // Without read-only mode the same user cannot open it at all.
      const readWrite = yield* Effect.promise(() => runWorker("read-only-worker.ts", [project, "false"], {}, asUser))
      expect(readWrite.lines[0], readWrite.stderr).toMatchObject({ ok: false, tag: "DatabaseOpenError" })
      expect(readdirSync(join(project, ".fleet"))).toEqual(["fleet.db"])
      chmodSync(join(project, ".fleet"), 0o755)
    }).pipe(Effect.scoped))
})
