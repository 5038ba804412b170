/**
 * The libSQL traps of docs/architecture.md §3, with a real second process holding the write lock:
 * - the wedge: after BEGIN IMMEDIATE times out on SQLITE_BUSY, the same client keeps working;
 * - the silent non-commit: a write that follows a BUSY failure is really committed (visible from
 *   another process).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Effect, Exit } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { FleetDb, Pilots } from "../src/index.js"
import { isBusy } from "../src/sql/errors.js"
import { GuardedClient } from "../src/sql/GuardedClient.js"
import { runWorker, workerBundle } from "./support/procs.js"

const root = fileURLToPath(new URL("..", import.meta.url))

/** Start a process that holds the file's write lock for `holdMs`; resolves once it holds it. */
const holdWriteLock = (dbPath: string, holdMs: number) =>
  new Promise<{ readonly released: Promise<void> }>((resolve, reject) => {
    const child = spawn(process.execPath, [workerBundle("hold-write-lock.ts"), dbPath, String(holdMs)], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"]
    })
    let released!: () => void
    const done = new Promise<void>((r) => (released = r))
    let buffer = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk
      if (buffer.includes("\"held\":true")) resolve({ released: done })
      if (buffer.includes("\"released\":true")) released()
    })
    child.on("error", reject)
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`hold-write-lock exited with ${code}`))
      released()
    })
  })

const readCallsigns = async (dbPath: string) => {
  const result = await runWorker("read-pilots.ts", [dbPath])
  expect(result.code, result.stderr).toBe(0)
  return result.lines[0]!.callsigns as ReadonlyArray<string>
}

describe("a second process holding the write lock", () => {
  it.live("BEGIN IMMEDIATE that times out fails typed, and the client stays usable", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "fleetdb-wedge-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const dbPath = join(dir, ".fleet", "fleet.db")
      const layer = FleetDb.layerFile({ projectPath: dir, busyTimeout: 200, busyRetries: 0 })
      yield* Effect.gen(function*() {
        const pilots = yield* Pilots
        const sql = yield* SqlClient.SqlClient
        yield* pilots.register({ callsign: "before" })

        const holder = yield* Effect.promise(() => holdWriteLock(dbPath, 1_500))
        const during = yield* Effect.exit(pilots.register({ callsign: "during" }))
        expect(Exit.isFailure(during)).toBe(true)
        if (Exit.isFailure(during)) {
          const error = during.cause._tag === "Fail" ? during.cause.error : undefined
          expect(error?._tag).toBe("SqlError")
          expect(isBusy(error)).toBe(true)
        }
        // Without the fix, this statement waits forever for a permit that is never released.
        const count = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM pilots`.pipe(
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("client wedged") }),
          Effect.disconnect
        )
        expect(count[0]!.n).toBe(1)

        yield* Effect.promise(() => holder.released)
        yield* pilots.register({ callsign: "after" })
      }).pipe(Effect.provide(layer))
      // A fresh process sees exactly what was committed.
      expect(yield* Effect.promise(() => readCallsigns(dbPath))).toEqual(["before", "after"])
    }).pipe(Effect.scoped))

  /** Register "during" while another process holds the write lock for 600 ms; returns the pilot. */
  const registerDuringAHold = (busyTimeout: number) =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "fleetdb-wedge-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const dbPath = join(dir, ".fleet", "fleet.db")
      const during = yield* Effect.gen(function*() {
        const pilots = yield* Pilots
        yield* pilots.register({ callsign: "before" })
        const holder = yield* Effect.promise(() => holdWriteLock(dbPath, 600))
        const during = yield* pilots.register({ callsign: "during" })
        yield* Effect.promise(() => holder.released)
        return during
      }).pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir, busyTimeout, busyRetries: 8 })))
      expect(yield* Effect.promise(() => readCallsigns(dbPath))).toEqual(["before", "during"])
      return during
    })

  // 200 ms busy timeout, up to 8 retries with backoff: outlasts a 600 ms hold.
  it.live("with retries, a command waits out a short hold and commits", () =>
    Effect.scoped(registerDuringAHold(200)))

  // The backoff between attempts is real time: a program (or test) running on a TestClock that
  // nobody advances must still get past another process's hold, not wait forever (the test would
  // time out).
  it.scoped("under a TestClock, retries still wait out a hold (their backoff is real time)", () =>
    Effect.gen(function*() {
      const during = yield* registerDuringAHold(100)
      // Registered with the TestClock's time: only the waiting was real.
      expect(during.registered_at.epochMillis).toBe(0)
    }))

  it("a write after a BUSY failure on the same client is really committed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fleetdb-busy-"))
    try {
      const dbPath = join(dir, "fleet.db")
      // Schema first, through our own migrations.
      await Effect.runPromise(Effect.provide(Effect.void, FleetDb.layer({ url: `file:${dbPath}`, projectKey: "p" })))
      const client = new GuardedClient({
        create: () => Libsql.createClient({ url: `file:${dbPath}`, timeout: 100, concurrency: 1 }),
        connectionPragmas: ["PRAGMA synchronous=NORMAL"],
        replaceable: true
      })
      const insert = (callsign: string) =>
        client.execute({
          sql: "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('p', ?, 1, 1)",
          args: [callsign]
        })
      await insert("before")
      const holder = await holdWriteLock(dbPath, 800)
      const busy = await insert("during").then(() => undefined, (error: unknown) => error)
      expect(isBusy(busy)).toBe(true)
      expect(client.replacements).toBe(0)
      await holder.released
      const after = await insert("after")
      expect(after.rowsAffected).toBe(1)
      // The poisoned connection was replaced before the next statement.
      expect(client.replacements).toBe(1)
      client.close()
      expect(await readCallsigns(dbPath)).toEqual(["before", "after"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
