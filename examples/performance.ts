/**
 * What commands cost: every command is its own short write transaction (`BEGIN IMMEDIATE` …
 * `COMMIT`) that runs its statements straight on the libSQL client; `appendAll` writes a batch
 * with multi-row inserts. Commands run inside an app's own `sql.withTransaction` join it (as
 * savepoints): all or nothing together.
 *
 * Run with `npx tsx examples/performance.ts` (the full benchmarks are `npm run bench`).
 */
import { SqlClient } from "@effect/sql"
import { Console, Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Events, FleetDb, Locks, Pilots } from "../src/index.js"

const timed = <A, E, R>(label: string, count: number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const result = yield* effect
    const micros = ((performance.now() - start) * 1000) / count
    yield* Console.log(`${label.padEnd(44)} ${micros.toFixed(0).padStart(6)} µs each`)
    return result
  })

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const pilots = yield* Pilots
  const locks = yield* Locks
  const events = yield* Events
  const n = 200

  // Warm up (JIT, first pages), then one command = one transaction each.
  yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => pilots.register({ callsign: `warm-${i}` }))
  yield* timed("register, one transaction each", n, Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => pilots.register({ callsign: `solo-${i}` })))

  // Commands inside one outer transaction join it: committed together…
  yield* sql.withTransaction(Effect.forEach(["batch-1", "batch-2", "batch-3"], (callsign) => pilots.register({ callsign })))

  // A lock cycle is two commands: acquire (release expired, insert the next fence) and release.
  yield* timed(
    "lock acquire + release",
    n,
    Effect.forEach(Array.from({ length: n }, (_, i) => i), () =>
      Effect.flatMap(locks.acquire("deploy", { holder: "viper-1", ttl: "30 seconds" }), (lock) => locks.release(lock)))
  )

  // appendAll writes a batch in one transaction with multi-row inserts.
  const batch = Array.from({ length: 1_000 }, (_, i) => ({ type: "build.step", data: { step: i } }))
  yield* timed("Events.appendAll, per event of 1,000", 1_000, events.appendAll(batch))

  // …or rolled back together: a failure undoes every command of the outer transaction.
  const before = yield* events.latestSequence
  const failed = yield* Effect.either(
    sql.withTransaction(
      Effect.zipRight(pilots.register({ callsign: "doomed" }), Effect.fail("changed my mind" as const))
    )
  )
  yield* Console.log(
    `an outer transaction that fails: ${failed._tag}, log unchanged: ${(yield* events.latestSequence) === before}, ` +
      `"doomed" registered: ${(yield* Effect.either(pilots.get("doomed")))._tag === "Right"}`
  )
})

const projectPath = mkdtempSync(join(tmpdir(), "fleet-performance-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath }))))
  .catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exitCode = 1
  })
  .finally(() => rmSync(projectPath, { recursive: true, force: true }))
