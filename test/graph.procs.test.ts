/**
 * The work graph under real contention: four processes on one file.
 *
 * - Draining a 200-sortie dependency graph with `claimNext` + `complete`: every sortie is claimed
 *   and completed exactly once, and — checked from the event log — none is claimed before every
 *   one of its blockers completed.
 * - `claimNext({ reserveFiles })` over sorties with overlapping globs: replaying the event log,
 *   no two pilots ever hold overlapping reservations, and each claim reserved its sortie's files
 *   in the same transaction.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { FleetEvent } from "../src/index.js"
import { FleetDb, Paths, Sorties } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { runWorkers } from "./support/procs.js"
import { readAllEvents } from "./support/recovery.js"

const WORKERS = 4

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const work = (projectPath: string, mode: "drain" | "files") =>
  Effect.gen(function*() {
    const readyDir = join(projectPath, `ready-${mode}`)
    mkdirSync(readyDir)
    const results = yield* Effect.promise(() =>
      runWorkers(WORKERS, "graph-worker.ts", (i) => [projectPath, readyDir, String(i), String(WORKERS), mode])
    )
    for (const result of results) {
      expect(result.code, result.stderr + JSON.stringify(result.lines.at(-1))).toBe(0)
    }
    expect(results.flatMap((r) => r.lines.filter((l) => "error" in l))).toEqual([])
    return results.map((r) => r.lines.filter((l) => "claimed" in l).map((l) => l.claimed as string))
  })

describe("the work graph from 4 processes on one file", () => {
  it.scopedLive("draining a 200-sortie graph: each sortie exactly once, never before its blockers closed", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      const layer = FleetDb.layerFile({ projectPath })
      const next = random(12)
      const blockers = yield* Effect.gen(function*() {
        const sorties = yield* Sorties
        const sql = yield* SqlClient.SqlClient
        return yield* sql.withTransaction(Effect.gen(function*() {
          const created = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) =>
            sorties.create({ title: `sortie ${i}`, priority: Math.floor(next() * 5) }))
          const edges = new Map<string, Set<string>>()
          for (let i = 1; i < created.length; i++) {
            const deps = new Set<string>()
            for (let k = Math.floor(next() * 4); k > 0; k--) deps.add(created[Math.floor(next() * i)]!.id)
            for (const dep of deps) yield* sorties.addDependency(created[i]!.id, dep)
            // Informational edges must never hold anything up.
            if (next() < 0.2) yield* sorties.addDependency(created[Math.floor(next() * i)]!.id, created[i]!.id, { kind: "related" })
              .pipe(Effect.catchTag("DependencyCycle", () => Effect.void))
            edges.set(created[i]!.id, deps)
          }
          edges.set(created[0]!.id, new Set())
          return edges
        }))
      }).pipe(Effect.provide(layer))
      expect(Array.from(blockers.values()).reduce((n, deps) => n + deps.size, 0)).toBeGreaterThan(150)

      const claims = yield* work(projectPath, "drain")
      const union = claims.flat()
      expect(union).toHaveLength(200)
      expect(new Set(union)).toEqual(new Set(blockers.keys()))

      const log = (yield* readAllEvents.pipe(Effect.provide(layer))) as ReadonlyArray<FleetEvent>
      const claimedAt = new Map<string, number>()
      const completedAt = new Map<string, number>()
      for (const event of log) {
        if (!event.known) continue
        if (event.type === "sortie_claimed") {
          expect(claimedAt.has(event.data.sortie_id), `claimed twice: ${event.data.sortie_id}`).toBe(false)
          claimedAt.set(event.data.sortie_id, event.sequence)
        }
        if (event.type === "sortie_completed") {
          expect(completedAt.has(event.data.sortie_id), `completed twice: ${event.data.sortie_id}`).toBe(false)
          completedAt.set(event.data.sortie_id, event.sequence)
        }
      }
      expect(claimedAt.size).toBe(200)
      expect(completedAt.size).toBe(200)
      let checked = 0
      for (const [sortie, deps] of blockers) {
        for (const dep of deps) {
          expect(completedAt.get(dep)!, `${sortie} claimed before its blocker ${dep} closed`).toBeLessThan(claimedAt.get(sortie)!)
          checked++
        }
      }
      expect(checked).toBeGreaterThan(150)
      // Several workers really took part.
      expect(claims.filter((ids) => ids.length > 0).length).toBeGreaterThan(1)
    }), 240_000)

  it.scopedLive("claimNext({ reserveFiles }) never hands two pilots overlapping files", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      const layer = FleetDb.layerFile({ projectPath })
      const globs = ["src/**", "src/a/*.ts", "src/a/x.ts", "src/b/**", "docs/**", "docs/x.md", "*.md", "lib/*", "lib/y.ts", "test/**/*.ts"]
      const next = random(34)
      const filesOf = yield* Effect.gen(function*() {
        const sorties = yield* Sorties
        const files = new Map<string, ReadonlyArray<string>>()
        for (let i = 0; i < 60; i++) {
          const picked = Array.from(new Set([globs[Math.floor(next() * globs.length)]!, globs[Math.floor(next() * globs.length)]!]))
          const sortie = yield* sorties.create({ title: `sortie ${i}`, priority: Math.floor(next() * 3), files: picked })
          files.set(sortie.id, picked)
        }
        return files
      }).pipe(Effect.provide(layer))

      const claims = yield* work(projectPath, "files")
      expect(new Set(claims.flat())).toEqual(new Set(filesOf.keys()))
      expect(claims.flat()).toHaveLength(60)

      // Replay the log: at every reservation, nobody else holds an overlapping pattern.
      const log = (yield* readAllEvents.pipe(Effect.provide(layer))) as ReadonlyArray<FleetEvent>
      const held = new Map<number, { readonly callsign: string; readonly pattern: string }>()
      let reserved = 0
      let overlapsSeen = 0
      log.forEach((event, i) => {
        if (!event.known) return
        if (event.type === "sortie_claimed") {
          // The claim's reservation is the very next event, by the same pilot, of the sortie's files.
          const following = log[i + 1]
          expect(following?.type).toBe("file_reserved")
          if (following?.known && following.type === "file_reserved") {
            expect(following.data.callsign).toBe(event.data.callsign)
            expect(following.data.exclusive).toBe(true)
            expect(following.data.reservations.map((r) => r.path_pattern)).toEqual(filesOf.get(event.data.sortie_id))
          }
        }
        if (event.type === "file_reserved") {
          for (const r of event.data.reservations) {
            for (const other of held.values()) {
              if (other.callsign === event.data.callsign) continue
              const overlap = Paths.overlaps(r.path_pattern, other.pattern)
              if (overlap) overlapsSeen++
              expect(overlap, `${event.data.callsign} got ${r.path_pattern} while ${other.callsign} held ${other.pattern}`).toBe(false)
            }
            held.set(r.reservation_id, { callsign: event.data.callsign, pattern: r.path_pattern })
            reserved++
          }
        }
        if (event.type === "file_released") {
          for (const r of event.data.reservations) held.delete(r.reservation_id)
        }
      })
      expect(overlapsSeen).toBe(0)
      expect(reserved).toBeGreaterThanOrEqual(60)
      expect(claims.filter((ids) => ids.length > 0).length).toBeGreaterThan(1)
    }), 240_000)
})
