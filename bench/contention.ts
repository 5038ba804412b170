/**
 * Multi-process contention: `tsx bench/contention.ts <impl> <lock|claim> [processes] [count]`
 * starts `processes` workers (bench/worker.ts) on one fresh database file, releases them at
 * once, and prints one JSON line:
 * - `lock`: `count` acquire/release cycles per process on one key; cycles/s over the whole run,
 *   errors, and double holders (an `enter` logged while another holder had not logged its `exit`,
 *   or a fence that does not increase), checked from the shared log;
 * - `claim`: `count` open sorties drained with `claimNext`; claims/s, errors, sorties claimed twice
 *   and sorties left unclaimed.
 */
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Raw from "./lib/raw.js"
import { createDatabase, openRaw, PROJECT_KEY as pk, projectPath, tempDir } from "./lib/setup.js"

const root = fileURLToPath(new URL("..", import.meta.url))

interface WorkerReport {
  readonly label: string
  readonly completed: number
  readonly errors: Record<string, number>
  readonly startedAt: number
  readonly endedAt: number
  readonly claimed: ReadonlyArray<string>
}

/** What a contention run reports. */
export interface ContentionResult {
  readonly impl: string
  readonly op: string
  readonly processes: number
  readonly count: number
  readonly completed: number
  readonly seconds: number
  readonly perSecond: number
  readonly errors: number
  readonly errorKinds: Record<string, number>
  /** lock: double holders; claim: sorties claimed more than once. */
  readonly violations: number
  /** claim: sorties left unclaimed. */
  readonly missing: number
}

const startWorker = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/worker.ts", ...args], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    if (stdout.includes("\"ready\":true")) onReady()
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const done = new Promise<WorkerReport>((resolve, reject) => {
    child.on("close", (code) => {
      const line = stdout.split("\n").find((l) => l.includes("\"done\":true"))
      if (line === undefined) reject(new Error(`worker exited with ${code}: ${stderr}`))
      else resolve(JSON.parse(line) as WorkerReport)
    })
  })
  return { go: () => child.stdin.end("go\n"), ready, done }
}

/** Count critical sections that overlapped, from the shared enter/exit log. */
const doubleHolders = (log: string): number => {
  let inside: string | undefined
  let lastFence = -Infinity
  let violations = 0
  for (const line of log.split("\n")) {
    if (line === "") continue
    const [kind, label, fenceText] = line.split(" ")
    const fence = Number(fenceText)
    if (kind === "enter") {
      if (inside !== undefined || fence <= lastFence) violations++
      inside = `${label} ${fence}`
      lastFence = fence
    } else {
      if (inside !== `${label} ${fence}`) violations++
      inside = undefined
    }
  }
  return violations
}

export const runContention = async (impl: string, op: "lock" | "claim", processes = 4, count = op === "lock" ? 500 : 1_000): Promise<ContentionResult> => {
  const { cleanup, dir } = tempDir(`contention-${impl}-${op}`)
  try {
    await createDatabase(dir, "db")
    if (op === "claim") {
      const client = await openRaw(join(dir, "db", ".fleet", "fleet.db"))
      await Raw.seedSorties(client, pk, "c", count)
      client.close()
    }
    const logFile = join(dir, "critical.log")
    writeFileSync(logFile, "")
    const workers = Array.from({ length: processes }, (_, i) =>
      startWorker([impl, op, projectPath(dir, "db"), String(count), logFile, `w${i}`]))
    await Promise.all(workers.map((w) => w.ready))
    for (const w of workers) w.go()
    const reports = await Promise.all(workers.map((w) => w.done))
    if (process.env.BENCH_DEBUG) {
      const t0 = Math.min(...reports.map((r) => r.startedAt))
      for (const r of reports) process.stderr.write(`${r.label}: ${r.completed} done, ${(r.startedAt - t0).toFixed(0)}–${(r.endedAt - t0).toFixed(0)} ms, errors ${JSON.stringify(r.errors)}\n`)
    }
    const completed = reports.reduce((sum, r) => sum + r.completed, 0)
    const seconds = (Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt))) / 1000
    const errorKinds: Record<string, number> = {}
    for (const r of reports) for (const [kind, n] of Object.entries(r.errors)) errorKinds[kind] = (errorKinds[kind] ?? 0) + n
    const claimed = reports.flatMap((r) => r.claimed)
    const unique = new Set(claimed)
    return {
      impl,
      op,
      processes,
      count,
      completed,
      seconds,
      perSecond: completed / seconds,
      errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
      errorKinds,
      violations: op === "lock" ? doubleHolders(readFileSync(logFile, "utf8")) : claimed.length - unique.size,
      missing: op === "claim" ? count - unique.size : 0
    }
  } finally {
    cleanup()
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [impl = "service", op = "lock", processes, count] = process.argv.slice(2)
  runContention(impl, op === "claim" ? "claim" : "lock", processes ? Number(processes) : undefined, count ? Number(count) : undefined)
    .then((result) => process.stdout.write(JSON.stringify(result) + "\n"))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`)
      process.exitCode = 1
    })
}
