import { expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Events, FleetDb, Locks } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { expectOneHolderAtATime } from "./support/critical-log.js"
import { runWorkers } from "./support/procs.js"

const WORKERS = 4
const CYCLES = 100

it.live("4 processes x 100 waiting acquire/release cycles on one key: never two holders, rising fences", () =>
  Effect.scoped(Effect.gen(function*() {
    const projectPath = yield* tempDir
    const logFile = join(projectPath, "critical-section.log")
    const db = FleetDb.layerFile({ projectPath })
    // Create and migrate the file first so the workers measure locking, not migration.
    yield* Effect.provide(Effect.flatMap(Locks, (locks) => locks.list()), db)

    const results = yield* Effect.promise(() =>
      runWorkers(WORKERS, "lock-worker.ts", (i) => [projectPath, logFile, String(CYCLES), `worker-${i}`])
    )
    for (const result of results) {
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      expect(result.lines.filter((line) => "error" in line)).toEqual([])
    }
    const summaries = results.map((r) => r.lines.find((line) => line.done === true))
    expect(summaries.every((s) => s !== undefined && s.completed === CYCLES && s.errors === 0)).toBe(true)

    expect(existsSync(logFile)).toBe(true)
    const lastFence = expectOneHolderAtATime(logFile, WORKERS, CYCLES)

    const { acquired, released, current } = yield* Effect.provide(
      Effect.gen(function*() {
        const events = yield* Events
        const locks = yield* Locks
        return {
          acquired: yield* events.read({ types: ["lock_acquired"], limit: 10_000 }),
          released: yield* events.read({ types: ["lock_released"], limit: 10_000 }),
          current: yield* locks.current("shared")
        }
      }),
      db
    )
    expect(acquired).toHaveLength(WORKERS * CYCLES)
    expect(released.map((e) => (e.data as { reason: string }).reason)).toEqual(
      Array.from({ length: WORKERS * CYCLES }, () => "released")
    )
    expect(Option.isNone(current)).toBe(true)
    expect(Math.max(...acquired.map((e) => (e.data as { fence: number }).fence))).toBe(lastFence)

    const start = Math.min(...summaries.map((s) => Number(s!.startedAt)))
    const end = Math.max(...summaries.map((s) => Number(s!.endedAt)))
    const seconds = (end - start) / 1_000
    // A figure for the report, not an assertion.
    console.log(
      `locks.procs: ${WORKERS * CYCLES} cycles by ${WORKERS} processes in ${seconds.toFixed(2)} s = ` +
        `${((WORKERS * CYCLES) / seconds).toFixed(0)} cycles/s`
    )
  })), { timeout: 180_000 })
