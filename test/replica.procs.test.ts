/**
 * Two processes, each with its own embedded replica of one sqld primary, racing for one lock and
 * for the same sorties. Invariants are checked from an external log and from the server.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { mkdirSync } from "node:fs"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { Events, FleetDb, Locks, Sorties } from "../src/index.js"
import { sqldContext, sqldUrl, tempDir } from "./support/backends.js"
import { expectOneHolderAtATime } from "./support/critical-log.js"
import { runWorkers, type WorkerResult } from "./support/procs.js"

const WORKERS = 2
const CYCLES = 40
const SORTIES = 60

const rate = (count: number, summaries: ReadonlyArray<Record<string, unknown>>) => {
  const start = Math.min(...summaries.map((s) => Number(s.startedAt)))
  const end = Math.max(...summaries.map((s) => Number(s.endedAt)))
  return { seconds: (end - start) / 1_000, perSecond: count / ((end - start) / 1_000) }
}

const summariesOf = (results: ReadonlyArray<WorkerResult>) => {
  for (const result of results) {
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.lines.filter((line) => "error" in line)).toEqual([])
  }
  const summaries = results.map((r) => r.lines.find((line) => line.done === true))
  expect(summaries.every((s) => s !== undefined && s.errors === 0)).toBe(true)
  return summaries as ReadonlyArray<Record<string, unknown>>
}

describe.skipIf(sqldContext().status === "unsupported")("embedded replicas of one sqld, in two processes", () => {
  it.live(`${WORKERS} processes x ${CYCLES} waiting acquire/release cycles on one key: never two holders, rising fences`, () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* sqldUrl()
      const dir = yield* tempDir
      const projectKey = `replica-locks#${randomUUID()}`
      const logFile = join(dir, "critical-section.log")
      const readyDir = join(dir, "ready")
      mkdirSync(readyDir)
      const results = yield* Effect.promise(() =>
        runWorkers(WORKERS, "replica-worker.ts", (i) => [
          "locks", join(dir, `replica-${i}.db`), url, projectKey, readyDir, String(WORKERS), `worker-${i}`, logFile, String(CYCLES)
        ])
      )
      const summaries = summariesOf(results)
      expect(summaries.map((s) => s.completed)).toEqual(Array.from({ length: WORKERS }, () => CYCLES))

      const lastFence = expectOneHolderAtATime(logFile, WORKERS, CYCLES)

      const server = yield* Layer.build(FleetDb.layer({ url, projectKey }))
      const { acquired, current } = yield* Effect.provide(
        Effect.gen(function*() {
          const events = yield* Events
          const locks = yield* Locks
          return {
            acquired: yield* events.read({ types: ["lock_acquired"], limit: 10_000 }),
            current: yield* locks.current("shared")
          }
        }),
        server
      )
      expect(acquired).toHaveLength(WORKERS * CYCLES)
      expect(Math.max(...acquired.map((e) => (e.data as { fence: number }).fence))).toBe(lastFence)
      expect(Option.isNone(current)).toBe(true)

      const { perSecond, seconds } = rate(WORKERS * CYCLES, summaries)
      console.log(`replica.procs: ${WORKERS * CYCLES} lock cycles by ${WORKERS} replica processes in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} cycles/s`)
    })), 240_000)

  it.live(`${WORKERS} processes claimNext over ${SORTIES} sorties: each claimed exactly once`, () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* sqldUrl()
      const dir = yield* tempDir
      const projectKey = `replica-claims#${randomUUID()}`
      const readyDir = join(dir, "ready")
      mkdirSync(readyDir)
      const server = yield* Layer.build(FleetDb.layer({ url, projectKey }))
      const created = yield* Effect.provide(
        Effect.flatMap(Sorties, (sorties) =>
          Effect.forEach(Array.from({ length: SORTIES }, (_, i) => i), (i) =>
            Effect.map(sorties.create({ title: `sortie ${i}`, priority: i % 5 }), (s) => s.id))),
        server
      )
      const results = yield* Effect.promise(() =>
        runWorkers(WORKERS, "replica-worker.ts", (i) => [
          "claims", join(dir, `replica-${i}.db`), url, projectKey, readyDir, String(WORKERS), `worker-${i}`
        ])
      )
      const summaries = summariesOf(results)
      const claims = results.flatMap((result, i) =>
        result.lines.filter((line) => "claimed" in line).map((line) => ({ id: String(line.claimed), by: `worker-${i}` }))
      )
      // Every sortie exactly once, across both processes.
      expect(claims.map((c) => c.id).sort()).toEqual([...created].sort())
      expect(summaries.reduce((n, s) => n + Number(s.completed), 0)).toBe(SORTIES)

      const { rows, claimedEvents } = yield* Effect.provide(
        Effect.gen(function*() {
          const sorties = yield* Sorties
          const events = yield* Events
          return {
            rows: yield* sorties.list(),
            claimedEvents: yield* events.read({ types: ["sortie_claimed"], limit: 10_000 })
          }
        }),
        server
      )
      const owner = new Map(claims.map((c) => [c.id, c.by]))
      expect(rows).toHaveLength(SORTIES)
      for (const row of rows) {
        expect(row.status).toBe("in_progress")
        expect(row.assigned_to).toBe(owner.get(row.id))
      }
      expect(claimedEvents).toHaveLength(SORTIES)

      const { perSecond, seconds } = rate(SORTIES, summaries)
      console.log(`replica.procs: ${SORTIES} claims by ${WORKERS} replica processes in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} claims/s`)
    })), 240_000)
})
