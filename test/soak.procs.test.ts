/**
 * The short soak: 4 processes × 10 s of the mixed command loop on one file (bench/soak.ts runs
 * the long one). No timing assertions; only the invariants: no errors, a sound file, the event
 * log's invariants (no overlapping leases, fences increase, sorties follow their state machine,
 * no conflicting reservations at once), and projections consistent with the log.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { formatSoak, runSoak } from "../bench/soak.js"
import { tempDir } from "./support/backends.js"

describe("soak", () => {
  it.live("4 processes × 10 s of mixed commands: no errors, no drift, invariants hold", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      const report = yield* Effect.promise(() => runSoak({ processes: 4, seconds: 10, projectPath }))
      console.log(formatSoak(report))
      expect(report.errorSamples).toEqual([])
      expect(report.errors).toBe(0)
      expect(report.integrity).toEqual(["ok"])
      expect(report.invariantViolations).toEqual([])
      expect(report.differences).toEqual([])
      // The processes really worked, and really met each other.
      expect(report.commands).toBeGreaterThan(40)
      expect(report.refused).toBeGreaterThan(0)
      expect(report.events).toBeGreaterThan(40)
    }).pipe(Effect.scoped), 180_000)
})
