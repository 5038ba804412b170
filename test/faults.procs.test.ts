/**
 * Faults a fleet meets (issue 15): descriptors that outlive their connections, opening while
 * another process writes, read-only databases. The frozen-server case is in
 * test/frozen-server.procs.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { FleetDb, Pilots } from "../src/index.js"

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
      const child = spawn(process.execPath, ["--import", "tsx", "test/procs/hold-write-lock.ts", dbPath, "600000"], {
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
