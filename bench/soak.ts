/**
 * Soak: N processes run the mixed command loop (test/procs/mixed-worker.ts) on one file for a
 * while; then the run is judged from the outside. Prints commands/s, p50/p99 latency, BUSY
 * retries, errors (must be 0), the WAL's size (largest seen while running, and at the end),
 * `integrity_check`, the event log's invariants and `Projections.verify()`.
 *
 *   npm run soak                          # 8 processes × 2 minutes
 *   npm run soak -- --processes 4 --seconds 30
 *
 * Not a test (nothing here is timed against a threshold); `test/soak.procs.test.ts` runs a short
 * version (4 × 10 s) in CI and asserts only the invariants. Exits 1 when an invariant fails.
 *
 * @module
 */
import { Effect } from "effect"
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { ProjectionDifference } from "../src/index.js"
import { FleetDb, Projections } from "../src/index.js"
import { bundlePath, bundleWorkers } from "../test/support/bundle-workers.js"
import { integrityCheck, logInvariants, readAllEvents, startWorker } from "../test/support/recovery.js"

/** What a soak run measured and found. */
export interface SoakReport {
  readonly processes: number
  readonly seconds: number
  readonly commands: number
  readonly refused: number
  readonly errors: number
  readonly errorSamples: ReadonlyArray<string>
  readonly commandsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly busyRetries: number
  readonly walPeakBytes: number
  readonly walEndBytes: number
  readonly events: number
  readonly integrity: ReadonlyArray<string>
  readonly invariantViolations: ReadonlyArray<string>
  readonly differences: ReadonlyArray<ProjectionDifference>
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0)

/** Run `processes` mixed workers for `seconds` on a fresh file under `projectPath`, then judge. */
export const runSoak = async (options: {
  readonly processes: number
  readonly seconds: number
  readonly projectPath: string
}): Promise<SoakReport> => {
  const { processes, projectPath, seconds } = options
  const bundles = await bundleWorkers(["mixed-worker.ts"])
  const bundle = bundlePath(bundles, "mixed-worker.ts")
  const readyDir = join(projectPath, "ready")
  mkdirSync(readyDir, { recursive: true })
  const callsigns = Array.from({ length: processes }, (_, i) => `soak-${i}`)
  const dbPath = join(projectPath, ".fleet", "fleet.db")
  try {
    // Migrate once, so the workers race on commands rather than on creating the schema.
    await Effect.runPromise(Effect.provide(Effect.void, FleetDb.layerFile({ projectPath })))
    const workers = callsigns.map((callsign) =>
      startWorker(bundle, [JSON.stringify({
        projectPath,
        callsign,
        peers: callsigns,
        report: "summary",
        durationMs: seconds * 1_000,
        readyDir,
        workers: processes
      })])
    )
    let walPeak = 0
    const sampler = setInterval(() => (walPeak = Math.max(walPeak, sizeOf(`${dbPath}-wal`))), 250)
    const ended = await Promise.all(workers.map((worker) => worker.exited))
    clearInterval(sampler)
    const walEnd = sizeOf(`${dbPath}-wal`)

    const summaries = workers.map((worker, i) => {
      const summary = worker.lines.find((line) => line.done === true)
      if (summary === undefined) {
        throw new Error(`worker ${callsigns[i]} ended without a summary (code ${ended[i]!.code}): ${ended[i]!.stderr.slice(0, 2_000)}`)
      }
      return summary as {
        ok: number
        refused: number
        errors: number
        busy: number
        elapsedMs: number
        latencies: Record<string, Array<number>>
        errorSamples: Array<string>
      }
    })
    const latencies = summaries.flatMap((s) => Object.values(s.latencies).flat()).sort((a, b) => a - b)
    const commands = summaries.reduce((n, s) => n + s.ok + s.refused + s.errors, 0)
    const elapsed = Math.max(...summaries.map((s) => s.elapsedMs)) / 1_000

    const judged = await Effect.runPromise(
      Effect.gen(function*() {
        const integrity = yield* integrityCheck
        const differences = yield* Effect.flatMap(Projections, (p) => p.verify())
        const events = yield* readAllEvents
        return { integrity, differences, events: events.length, violations: logInvariants(events) }
      }).pipe(Effect.provide(FleetDb.layerFile({ projectPath })))
    )
    return {
      processes,
      seconds,
      commands,
      refused: summaries.reduce((n, s) => n + s.refused, 0),
      errors: summaries.reduce((n, s) => n + s.errors, 0),
      errorSamples: summaries.flatMap((s) => s.errorSamples).slice(0, 5),
      commandsPerSecond: commands / elapsed,
      p50Ms: percentile(latencies, 50) / 1_000,
      p99Ms: percentile(latencies, 99) / 1_000,
      busyRetries: summaries.reduce((n, s) => n + s.busy, 0),
      walPeakBytes: walPeak,
      walEndBytes: walEnd,
      events: judged.events,
      integrity: judged.integrity,
      invariantViolations: judged.violations,
      differences: judged.differences
    }
  } finally {
    rmSync(bundles, { recursive: true, force: true })
  }
}

/** The report as a few lines of text. */
export const formatSoak = (r: SoakReport): string =>
  [
    `soak: ${r.processes} processes × ${r.seconds} s`,
    `  commands        ${r.commands} (${r.refused} refused as expected: held locks, conflicts, lost races)`,
    `  commands/s      ${r.commandsPerSecond.toFixed(0)}`,
    `  latency         p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
    `  BUSY retries    ${r.busyRetries}`,
    `  errors          ${r.errors}${r.errorSamples.length > 0 ? `\n    ${r.errorSamples.join("\n    ")}` : ""}`,
    `  WAL             peak ${(r.walPeakBytes / 1_048_576).toFixed(1)} MiB, at the end ${r.walEndBytes} bytes`,
    `  events          ${r.events}`,
    `  integrity_check ${r.integrity.join(", ")}`,
    `  log invariants  ${r.invariantViolations.length === 0 ? "hold" : r.invariantViolations.slice(0, 5).join("; ")}`,
    `  verify()        ${r.differences.length === 0 ? "no differences" : `${r.differences.length} differences, e.g. ${r.differences[0]!.message}`}`
  ].join("\n")

const flag = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  const value = index === -1 ? undefined : Number(process.argv[index + 1])
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-soak-"))
  try {
    const report = await runSoak({ processes: flag("processes", 8), seconds: flag("seconds", 120), projectPath })
    process.stdout.write(formatSoak(report) + "\n")
    const sound = report.errors === 0 && report.integrity.join() === "ok" && report.invariantViolations.length === 0 &&
      report.differences.length === 0
    process.exitCode = sound ? 0 : 1
  } finally {
    rmSync(projectPath, { recursive: true, force: true })
  }
}
