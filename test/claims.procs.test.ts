/**
 * Four real processes racing `Sorties.claimNext` over 200 sorties in one file (README "Many
 * processes, one file"): every sortie is claimed exactly once, none is lost, no worker sees an
 * error, and the claims happen in queue order (priority, then oldest, then id) — checked against
 * the workers' own logs and the event log, not against the service's answers alone.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Events, FleetDb, Sorties } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { runWorkers } from "./support/procs.js"

const WORKERS = 4
const SORTIES = 200

interface Summary {
  readonly done: true
  readonly count: number
  readonly errors: number
  readonly startedAt: number
  readonly finishedAt: number
}

describe("Sorties.claimNext from 4 processes on one file", () => {
  it.scopedLive("claims every sortie exactly once, in queue order, with no errors", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      const readyDir = join(projectPath, "ready")
      mkdirSync(readyDir)
      const layer = FleetDb.layerFile({ projectPath })

      // Priorities are scrambled against creation order so that queue order ≠ insertion order.
      const created = yield* Effect.gen(function*() {
        const sorties = yield* Sorties
        const sql = yield* SqlClient.SqlClient
        return yield* sql.withTransaction(
          Effect.forEach(Array.from({ length: SORTIES }, (_, i) => i), (i) =>
            sorties.create({ title: `sortie ${i}`, priority: (i * 7) % 5 }))
        )
      }).pipe(Effect.provide(layer))

      const results = yield* Effect.promise(() =>
        runWorkers(WORKERS, "claim-worker.ts", (i) => [projectPath, readyDir, String(i), String(WORKERS)])
      )
      for (const result of results) {
        expect(result.code, result.stderr + JSON.stringify(result.lines.at(-1))).toBe(0)
      }
      const errors = results.flatMap((r) => r.lines.filter((l) => "error" in l))
      expect(errors).toEqual([])
      const summaries = results.map((r) => r.lines.find((l) => l.done === true) as unknown as Summary)
      for (const summary of summaries) expect(summary).toMatchObject({ done: true, errors: 0 })
      const claimsOf = results.map((r) => r.lines.filter((l) => "claimed" in l).map((l) => l.claimed as string))
      summaries.forEach((summary, i) => expect(claimsOf[i]).toHaveLength(summary.count))

      const seconds = (Math.max(...summaries.map((s) => s.finishedAt)) - Math.min(...summaries.map((s) => s.startedAt))) / 1000
      // A figure for the report, not an assertion (speed belongs to benchmarks).
      console.log(
        `[claims.procs] ${SORTIES} claims by ${WORKERS} processes in ${seconds.toFixed(2)} s: ` +
          `${Math.round(SORTIES / seconds)} claims/s (per worker: ${summaries.map((s) => s.count).join(", ")})`
      )

      // The workers' logs: every sortie exactly once, nothing else.
      const union = claimsOf.flat()
      expect(union).toHaveLength(SORTIES)
      expect(new Set(union).size).toBe(SORTIES)
      expect(new Set(union)).toEqual(new Set(created.map((s) => s.id)))
      const workerOf = new Map(claimsOf.flatMap((ids, i) => ids.map((id) => [id, `worker-${i}`] as const)))

      yield* Effect.gen(function*() {
        const sorties = yield* Sorties
        const events = yield* Events

        // The event log agrees: one sortie_claimed per sortie, by the worker that reported it.
        const claimed = yield* events.read({ types: ["sortie_claimed"], limit: 10_000 })
        expect(claimed).toHaveLength(SORTIES)
        const claimedIds: Array<string> = []
        for (const event of claimed) {
          if (!event.known || event.type !== "sortie_claimed") {
            return expect.fail(`unexpected event ${JSON.stringify(event)}`)
          }
          claimedIds.push(event.data.sortie_id)
          expect(event.data.callsign).toBe(workerOf.get(event.data.sortie_id))
        }
        expect(new Set(claimedIds).size).toBe(SORTIES)

        // Each claim took the head of the queue at its commit: the log order is the queue order.
        const queue = [...created].sort((a, b) =>
          a.priority - b.priority || a.created_at.epochMillis - b.created_at.epochMillis || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
        )
        expect(claimedIds).toEqual(queue.map((s) => s.id))

        // Each worker's own claims appear in the log in the order it made them.
        const position = new Map(claimedIds.map((id, i) => [id, i]))
        for (const ids of claimsOf) {
          const positions = ids.map((id) => position.get(id)!)
          expect(positions).toEqual([...positions].sort((a, b) => a - b))
        }

        // The rows: all in progress, held by the worker that claimed them; none open.
        const rows = yield* sorties.list()
        expect(rows).toHaveLength(SORTIES)
        for (const row of rows) {
          expect(row.status).toBe("in_progress")
          expect(row.assigned_to).toBe(workerOf.get(row.id))
        }
        expect(yield* sorties.list({ status: "open" })).toEqual([])
      }).pipe(Effect.provide(layer))
    }), 180_000)
})
