/**
 * Four real processes registering pilots on one file at once (README "Pilots and the event log", issue 3): every row
 * and every event is there, sequences are unique and contiguous, and each callsign has exactly
 * one `first: true` registration — checked against the workers' own logs.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Events, FleetDb, Pilots } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { runWorkers } from "./support/procs.js"

const WORKERS = 4
const PER_WORKER = 200
// Every 10th registration of every worker is one of 20 callsigns that all workers re-register.
const SHARED_EVERY = 10
const SHARED = PER_WORKER / SHARED_EVERY
const OWN = PER_WORKER - SHARED

interface Registration {
  readonly callsign: string
  readonly id: number
  readonly registered_at: number
  readonly last_active_at: number
}

describe("Pilots.register from 4 processes on one file", () => {
  it.live("keeps every row and every event, with contiguous sequences and one first registration per callsign", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      const readyDir = join(projectPath, "ready")
      mkdirSync(readyDir)
      // Create and migrate the file first: this test is about registrations; concurrent opening of
      // a fresh file is test/migrate.procs.test.ts's subject.
      yield* Effect.provide(Effect.void, FleetDb.layerFile({ projectPath }))

      const results = yield* Effect.promise(() =>
        runWorkers(WORKERS, "register-worker.ts", (i) => [
          projectPath,
          readyDir,
          String(i),
          String(WORKERS),
          String(PER_WORKER),
          String(SHARED_EVERY)
        ])
      )
      for (const result of results) {
        expect(result.code, result.stderr + JSON.stringify(result.lines.at(-1))).toBe(0)
      }
      const logs = results.map((r) => r.lines.filter((l) => "callsign" in l) as unknown as ReadonlyArray<Registration>)
      const summaries = results.map((r) => r.lines.find((l) => l.done === true) as { startedAt: number; finishedAt: number })
      for (const log of logs) expect(log).toHaveLength(PER_WORKER)

      const registrations = WORKERS * PER_WORKER
      const seconds = (Math.max(...summaries.map((s) => s.finishedAt)) - Math.min(...summaries.map((s) => s.startedAt))) / 1000
      // A figure for the report, not an assertion (speed belongs to benchmarks).
      console.log(
        `[registrations.procs] ${registrations} registrations by ${WORKERS} processes in ${seconds.toFixed(2)} s: ` +
          `${Math.round(registrations / seconds)} registrations/s`
      )

      yield* Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        const sql = yield* SqlClient.SqlClient

        // Rows: one per callsign, and the callsigns are exactly those the workers logged.
        const rows = yield* pilots.list()
        const logged = new Set(logs.flat().map((r) => r.callsign))
        expect(rows).toHaveLength(WORKERS * OWN + SHARED)
        expect(new Set(rows.map((p) => p.callsign))).toEqual(logged)
        const [{ n }] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM pilots`
        expect(n).toBe(WORKERS * OWN + SHARED)

        // Every worker saw the same row (same id) for a shared callsign.
        const idOf = new Map(rows.map((p) => [p.callsign as string, p.id as number]))
        for (const r of logs.flat()) expect(r.id).toBe(idOf.get(r.callsign))

        // Events: one per registration, contiguous unique sequences, in log order.
        const log = yield* events.read({ limit: 10_000 })
        expect(log).toHaveLength(registrations)
        expect(yield* events.latestSequence).toBe(log.at(-1)!.sequence)
        const sequences = log.map((e) => e.sequence)
        expect(new Set(sequences).size).toBe(registrations)
        expect(sequences).toEqual(Array.from({ length: registrations }, (_, i) => sequences[0]! + i))
        const timestamps = log.map((e) => e.timestamp.epochMillis)
        expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b))

        // Exactly one `first: true` per callsign, and it is the callsign's earliest event.
        const byCallsign = new Map<string, Array<{ first: boolean; sequence: number }>>()
        for (const e of log) {
          if (!(e.known && e.type === "pilot_registered")) throw new Error(`unexpected event ${e.type}`)
          const list = byCallsign.get(e.data.callsign) ?? []
          list.push({ first: e.data.first, sequence: e.sequence })
          byCallsign.set(e.data.callsign, list)
        }
        expect(new Set(byCallsign.keys())).toEqual(logged)
        for (const [callsign, list] of byCallsign) {
          expect(list.filter((x) => x.first), callsign).toHaveLength(1)
          expect(list[0]!.first, callsign).toBe(true)
          expect(list, callsign).toHaveLength(callsign.startsWith("shared-") ? WORKERS : 1)
        }

        // The external logs agree with the event log: each worker's registrations, in its order.
        for (let i = 0; i < WORKERS; i++) {
          const mine = log.filter((e) => e.known && e.type === "pilot_registered" && e.data.model === `worker-${i}`)
          expect(mine.map((e) => (e.data as { callsign: string }).callsign)).toEqual(logs[i]!.map((r) => r.callsign))
        }
        // Registration time is kept by re-registrations; the row's last activity is its last event.
        for (const p of rows) {
          const mine = log.filter((e) => e.known && e.type === "pilot_registered" && e.data.callsign === p.callsign)
          expect(p.registered_at.epochMillis).toBe(mine[0]!.timestamp.epochMillis)
          expect(p.last_active_at.epochMillis).toBe(mine.at(-1)!.timestamp.epochMillis)
        }
      }).pipe(Effect.provide(FleetDb.layerFile({ projectPath })))
    }).pipe(Effect.scoped), 300_000)
})
