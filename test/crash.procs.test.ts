/**
 * Crash: a child process runs the mixed command loop on a file and is killed with SIGKILL at a
 * random moment, 20 times (a new child each time, same file). After every kill, from a fresh
 * connection: the file passes `integrity_check`; `verify()` finds no drift (no command is
 * half-applied: every projection change has its event and every event its change); every
 * command the child reported as done is in the database; and what the dead pilot held is
 * takeable — after its TTLs pass (even rounds) or at once after `Pilots.sweep` (odd rounds),
 * while before that it is still refused.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { randomInt } from "node:crypto"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { FleetDb, FleetProject, Locks, Pilots, Projections, Reservations, Sorties } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import type { RunningWorker } from "./support/recovery.js"
import { workerBundle } from "./support/procs.js"
import { integrityCheck, shiftedClock, startWorker } from "./support/recovery.js"

const KILLS = 20
const RESCUER = "rescuer"

const bundle = workerBundle("mixed-worker.ts")

interface LockRow {
  readonly id: number
  readonly lock_key: string
  readonly expires_at: number
}
interface ReservationRow {
  readonly path_pattern: string
  readonly expires_at: number
}

/** Rows the child acknowledged (printed after the command returned) must all be there. */
const acknowledgedRowsExist = (lines: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { projectKey } = yield* FleetProject
    const byTable = new Map<string, Set<string | number>>()
    for (const line of lines) {
      if (typeof line.table !== "string") continue
      const ids = byTable.get(line.table) ?? new Set()
      ids.add(line.id as string | number)
      byTable.set(line.table, ids)
    }
    let checked = 0
    for (const [table, ids] of byTable) {
      const column = table === "pilots" ? "callsign" : "id"
      const found = yield* sql<{ readonly key: string | number }>`SELECT ${sql(column)} AS key FROM ${sql(table)}
          WHERE project_key = ${projectKey} AND ${sql.in(column, Array.from(ids))}`
      const present = new Set(found.map((row) => row.key))
      expect(Array.from(ids).filter((id) => !present.has(id)), `acknowledged ${table} rows missing`).toEqual([])
      checked += ids.size
    }
    return checked
  })

/** What the dead pilot still holds at `now` (real time). */
const heldBy = (callsign: string, now: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { projectKey } = yield* FleetProject
    const locks = yield* sql<LockRow>`SELECT id, lock_key, expires_at FROM locks
        WHERE project_key = ${projectKey} AND holder_id = ${callsign} AND released_at IS NULL AND expires_at > ${now}`
    const reservations = yield* sql<ReservationRow>`SELECT path_pattern, expires_at FROM reservations
        WHERE project_key = ${projectKey} AND callsign = ${callsign} AND released_at IS NULL AND expires_at > ${now}`
    return { locks, reservations }
  })

/** Take every lock key and every pattern as another pilot (then give them back). */
const takeAll = (keys: ReadonlyArray<string>, patterns: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const locks = yield* Locks
    const reservations = yield* Reservations
    for (const key of keys) {
      const lock = yield* locks.acquire(key, { holder: RESCUER, ttl: "1 second" })
      yield* locks.release(lock)
    }
    if (patterns.length > 0) {
      yield* reservations.reserve({ callsign: RESCUER, paths: patterns, exclusive: true, ttl: "1 second" })
      yield* reservations.release({ callsign: RESCUER })
    }
  })

/** Everything checked after one kill. */
const afterKill = (round: number, callsign: string, lines: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    expect(yield* integrityCheck).toEqual(["ok"])
    const projections = yield* Projections
    expect(yield* projections.verify(), `drift after kill ${round}`).toEqual([])
    const acknowledged = yield* acknowledgedRowsExist(lines)

    const now = Date.now()
    const held = yield* heldBy(callsign, now)
    const keys = Array.from(new Set(held.locks.map((l) => l.lock_key)))
    const patterns = Array.from(new Set(held.reservations.map((r) => r.path_pattern)))
    const locks = yield* Locks
    const reservations = yield* Reservations
    // Still held right after the crash: the test would notice if they were not.
    for (const key of keys) {
      const refused = yield* Effect.exit(locks.acquire(key, { holder: RESCUER, ttl: "1 second" }))
      expect(Exit.isFailure(refused) && refused.cause._tag === "Fail" && refused.cause.error._tag === "LockHeld").toBe(true)
    }
    if (patterns.length > 0) {
      const refused = yield* Effect.exit(reservations.reserve({ callsign: RESCUER, paths: patterns, ttl: "1 second" }))
      expect(Exit.isFailure(refused) && refused.cause._tag === "Fail" && refused.cause.error._tag === "ReservationConflict").toBe(true)
    }

    if (round % 2 === 0) {
      // After the TTLs: a clock past the last expiry, no waiting.
      const last = Math.max(now, ...held.locks.map((l) => l.expires_at), ...held.reservations.map((r) => r.expires_at))
      yield* takeAll(keys, patterns).pipe(Effect.withClock(shiftedClock(last - now + 1_000)))
    } else {
      // At once, after a sweep declares the silent pilot lost.
      const lost = yield* Effect.flatMap(Pilots, (p) => p.sweep({ staleAfter: 1 }))
      const mine = lost.find((p) => p.callsign === callsign)
      expect(mine, `sweep after kill ${round}`).toBeDefined()
      expect([...mine!.released_locks].sort()).toEqual(expect.arrayContaining(keys.sort()))
      yield* takeAll(keys, patterns)
      const stillAssigned = yield* Effect.flatMap(Sorties, (s) => s.list({ assigned_to: callsign }))
      expect(stillAssigned.filter((s) => s.status === "in_progress" || s.status === "blocked")).toEqual([])
    }
    expect(yield* projections.verify(), `drift after recovery ${round}`).toEqual([])
    return { acknowledged, locks: keys.length, reservations: patterns.length }
  })

describe("crash recovery", () => {
  it.live("SIGKILL at random moments, 20 times: sound file, no drift, nothing half-applied, holdings recoverable", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const layer = FleetDb.layerFile({ projectPath: dir })
      // A registered peer to send mail to.
      yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "crash-base" })).pipe(Effect.provide(layer))

      const spawnRound = (round: number): { readonly worker: RunningWorker; readonly go: string; readonly callsign: string } => {
        const callsign = `crash-${round}`
        const go = join(dir, `go-${round}`)
        const worker = startWorker(bundle, [JSON.stringify({
          projectPath: dir,
          callsign,
          peers: ["crash-base", `crash-${Math.max(0, round - 1)}`],
          report: "ops",
          durationMs: 60_000,
          goFile: go
        })])
        return { worker, go, callsign }
      }

      const totals = { acknowledged: 0, locks: 0, reservations: 0, sweeps: 0 }
      let next = spawnRound(0)
      for (let round = 0; round < KILLS; round++) {
        const { callsign, go, worker } = next
        writeFileSync(go, "")
        yield* Effect.promise(() => worker.waitForLine((line) => line.ready === true))
        // The next child loads its code while this one works and is checked.
        if (round + 1 < KILLS) next = spawnRound(round + 1)
        yield* Effect.sleep(`${randomInt(0, 600)} millis`)
        worker.child.kill("SIGKILL")
        const ended = yield* Effect.promise(() => worker.exited)
        expect(ended.signal, `round ${round} ended on its own: ${ended.stderr}`).toBe("SIGKILL")

        const result = yield* afterKill(round, callsign, worker.lines).pipe(Effect.provide(layer))
        totals.acknowledged += result.acknowledged
        totals.locks += result.locks
        totals.reservations += result.reservations
        if (round % 2 === 1) totals.sweeps++
      }
      // The kills did land on work in progress, and the checks had something to look at.
      expect(totals.acknowledged).toBeGreaterThan(KILLS)
      expect(totals.locks + totals.reservations).toBeGreaterThan(0)
      console.log(`crash test: ${KILLS} kills, ${totals.acknowledged} acknowledged rows checked, ` +
        `${totals.locks} locks and ${totals.reservations} reservations of dead pilots taken over, ${totals.sweeps} sweeps`)
    }).pipe(Effect.scoped), 240_000)
})
