/**
 * Reservations across real processes: 4 workers race to reserve overlapping exclusive patterns on
 * one database file, logging when they enter and leave each hold. From that external log: no two
 * holders of overlapping patterns are ever inside at once, and every refusal was a
 * ReservationConflict naming a genuinely overlapping pattern.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Events, FleetDb, Paths, Reservations } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { runWorkers } from "./support/procs.js"

const WORKERS = 4
const ACQUISITIONS = 30

/** Which of the workers' patterns overlap, written out by hand (not computed by `Paths`). */
const PATTERNS = ["src/**", "src/a/*.ts", "src/a/x.ts", "src/*/x.ts", "docs/**", "src/b/y.ts"] as const
const OVERLAPPING = new Set([
  "src/**|src/a/*.ts",
  "src/**|src/a/x.ts",
  "src/**|src/*/x.ts",
  "src/**|src/b/y.ts",
  "src/a/*.ts|src/a/x.ts",
  "src/a/*.ts|src/*/x.ts",
  "src/a/x.ts|src/*/x.ts"
])
const overlap = (a: string, b: string) => a === b || OVERLAPPING.has(`${a}|${b}`) || OVERLAPPING.has(`${b}|${a}`)

interface Hold {
  readonly pid: number
  readonly patterns: ReadonlyArray<string>
  readonly expiresAt: number
}

/**
 * Walk the log in order and report every moment a holder entered while another process held an
 * overlapping pattern, both leases still running (a lease past `expires_at` may be taken over, so a
 * process stalled past its TTL is not a violation).
 */
export const violations = (log: string): Array<string> => {
  const inside = new Map<number, Hold>()
  const found: Array<string> = []
  log.split("\n").forEach((line, index) => {
    const [kind, pidText, nowText, expiresText, label] = line.split(" ")
    if (kind !== "enter" && kind !== "exit") return
    const pid = Number(pidText)
    const now = Number(nowText)
    const patterns = label!.split(",")
    if (kind === "exit") {
      inside.delete(pid)
      return
    }
    for (const other of inside.values()) {
      // Both leases must still run at this moment; one that ran out protects nothing.
      const clash = other.pid !== pid && now < other.expiresAt && now < Number(expiresText) &&
        patterns.some((p) => other.patterns.some((q) => overlap(p, q)))
      if (clash) found.push(`line ${index + 1}: ${pid} entered ${label} while ${other.pid} held ${other.patterns.join(",")}`)
    }
    inside.set(pid, { pid, patterns, expiresAt: Number(expiresText) })
  })
  return found
}


/** Each worker's closing summary, once every worker exited cleanly and reported no error. */
const summariesOf = (results: Awaited<ReturnType<typeof runWorkers>>) => {
  for (const result of results) {
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.lines.filter((line) => "error" in line)).toEqual([])
  }
  return results.map((r) => r.lines.find((line) => line.done === true) as {
    readonly acquired: number
    readonly refusedBy: Record<string, number>
    readonly conflictPairs: ReadonlyArray<string>
  })
}

describe("reservations across processes", () => {
  it("the hand-written overlap table agrees with Paths.overlaps", () => {
    for (const a of PATTERNS) {
      for (const b of PATTERNS) expect(Paths.overlaps(a, b), `${a} vs ${b}`).toBe(overlap(a, b))
    }
  })

  it("the log checker finds overlapping holders (it can fail)", () => {
    const bad = [
      "ready 1",
      "enter 1 100 5000 src/**",
      "enter 2 101 5000 docs/**",
      "enter 3 102 5000 src/a/x.ts,docs/**",
      "exit 1 103 5000 src/**",
      "exit 2 104 5000 docs/**",
      "exit 3 105 5000 src/a/x.ts,docs/**"
    ].join("\n")
    expect(violations(bad)).toHaveLength(2)
    const sequential = "enter 1 100 5000 src/**\nexit 1 101 5000 src/**\nenter 2 102 5000 src/a/x.ts\nexit 2 103 5000 src/a/x.ts"
    expect(violations(sequential)).toEqual([])
    // Entering after the other lease ran out is allowed.
    expect(violations("enter 1 100 200 src/**\nenter 2 200 900 src/a/x.ts\nexit 1 300 200 src/**")).toEqual([])
    expect(violations("enter 1 100 900 src/**\nenter 2 200 150 src/a/x.ts\nexit 1 300 900 src/**")).toEqual([])
    expect(violations("enter 1 100 900 src/**\nenter 2 200 250 src/a/x.ts\nexit 1 300 900 src/**")).toHaveLength(1)
  })

  it.live(`${WORKERS} processes race for overlapping exclusive reservations: never two overlapping holders`, () =>
    Effect.scoped(Effect.gen(function*() {
      const projectPath = yield* tempDir
      const logFile = join(projectPath, "holds.log")
      const db = FleetDb.layerFile({ projectPath })
      // Create and migrate the file before the workers start.
      yield* Effect.provide(Effect.flatMap(Reservations, (r) => r.active()), db)

      const results = yield* Effect.promise(() =>
        runWorkers(WORKERS, "reserve-worker.ts", (i) => [projectPath, logFile, String(WORKERS), String(ACQUISITIONS), `pilot-${i}`])
      )
      const summaries = summariesOf(results)
      expect(summaries.map((s) => s?.acquired)).toEqual(Array.from({ length: WORKERS }, () => ACQUISITIONS))
      // Every refusal was a ReservationConflict (no BUSY, no SqlError), and there was contention.
      const refusedTags = new Set(summaries.flatMap((s) => Object.keys(s.refusedBy)))
      expect([...refusedTags].filter((tag) => tag !== "ReservationConflict")).toEqual([])
      const refusals = summaries.reduce((n, s) => n + (s.refusedBy.ReservationConflict ?? 0), 0)
      expect(refusals).toBeGreaterThan(0)
      // Each conflict reported names a pattern that really overlaps the requested one.
      for (const pair of summaries.flatMap((s) => s.conflictPairs)) {
        const [path, pattern] = pair.split("|")
        expect(overlap(path!, pattern!), pair).toBe(true)
      }

      const log = readFileSync(logFile, "utf8")
      const lines = log.trim().split("\n")
      expect(lines.filter((line) => line.startsWith("enter "))).toHaveLength(WORKERS * ACQUISITIONS)
      expect(lines.filter((line) => line.startsWith("exit "))).toHaveLength(WORKERS * ACQUISITIONS)
      expect(violations(log)).toEqual([])

      const { active, released, reserved } = yield* Effect.provide(
        Effect.gen(function*() {
          const events = yield* Events
          return {
            active: yield* Effect.flatMap(Reservations, (r) => r.active()),
            reserved: yield* events.read({ types: ["file_reserved"], limit: 10_000 }),
            released: yield* events.read({ types: ["file_released"], limit: 10_000 })
          }
        }),
        db
      )
      expect(active).toEqual([])
      expect(reserved).toHaveLength(WORKERS * ACQUISITIONS)
      expect(released).toHaveLength(WORKERS * ACQUISITIONS)
      // A figure for the report, not an assertion.
      console.log(`reservations.procs: ${WORKERS * ACQUISITIONS} holds, ${refusals} refusals`)
    })), { timeout: 180_000 })

  it.live("two processes, one spelling paths absolute and one relative, never both hold one file", () =>
    Effect.scoped(Effect.gen(function*() {
      const projectPath = yield* tempDir
      const logFile = join(projectPath, "holds.log")
      const db = FleetDb.layerFile({ projectPath })
      yield* Effect.provide(Effect.flatMap(Reservations, (r) => r.active()), db)
      const spellings = ["relative", "absolute"] as const
      const results = yield* Effect.promise(() =>
        runWorkers(2, "reserve-worker.ts", (i) => [projectPath, logFile, "2", String(ACQUISITIONS), `pilot-${i}`, spellings[i]!])
      )
      const summaries = summariesOf(results)
      expect(summaries.map((s) => s?.acquired)).toEqual([ACQUISITIONS, ACQUISITIONS])
      // The two spellings met: each side was refused by the other's reservations.
      expect(summaries.every((s) => (s.refusedBy.ReservationConflict ?? 0) > 0)).toBe(true)
      for (const pair of summaries.flatMap((s) => s.conflictPairs)) {
        const [path, pattern] = pair.split("|")
        expect(overlap(path!, pattern!), pair).toBe(true)
      }
      const log = readFileSync(logFile, "utf8")
      expect(log.split("\n").filter((line) => line.startsWith("enter "))).toHaveLength(2 * ACQUISITIONS)
      expect(violations(log)).toEqual([])
      // Releases by the absolute spelling found their rows; only canonical patterns were stored.
      const { active, reserved } = yield* Effect.provide(
        Effect.gen(function*() {
          const events = yield* Events
          return {
            active: yield* Effect.flatMap(Reservations, (r) => r.active()),
            reserved: yield* events.read({ types: ["file_reserved"], limit: 10_000 })
          }
        }),
        db
      )
      expect(active).toEqual([])
      const stored = new Set(reserved.flatMap((e) => (e.data as { reservations: Array<{ path_pattern: string }> }).reservations.map((r) => r.path_pattern)))
      expect([...stored].filter((p) => !PATTERNS.includes(p as typeof PATTERNS[number]))).toEqual([])
    })), { timeout: 180_000 })
})
