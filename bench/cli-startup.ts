/**
 * `fleet-db` start-up, the whole process as a shell or a git hook runs it: spawn → exit, wall
 * clock, and the process's own CPU time (less inflated by other load), for `node -e 0` (the floor), `--version`, `status --json` and a write verb, against a
 * temp project. Rounds are interleaved (each round runs every case once, in rotating order) so a
 * burst of load hits all cases alike; reported: median, best and worst of N rounds (default 10).
 * Times `dist/cli/main.js` (`BENCH_CLI=path/to/main.js` for another build); run `npm run build`
 * first. Usage: `tsx bench/cli-startup.ts [rounds]`, or `npm run bench -- cli`. Prints one JSON
 * line last. Not a test: nothing is asserted here (the targets are compared in bench/README.md).
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** What this script prints last (read by bench/run.ts). */
export interface CliStartupResult {
  readonly rounds: number
  readonly loadStart: number
  readonly loadEnd: number
  readonly results: ReadonlyArray<{
    readonly case: string
    readonly medianMs: number
    readonly bestMs: number
    readonly worstMs: number
    /** The process's own CPU time (user + system), median. */
    readonly medianCpuMs: number
    readonly targetMs: number | null
    readonly failures: number
  }>
}

const rounds = Number(process.argv[2] ?? 10)
const main = process.env["BENCH_CLI"] ?? fileURLToPath(new URL("../dist/cli/main.js", import.meta.url))
if (!existsSync(main)) {
  process.stderr.write(`no ${main}: run npm run build first\n`)
  process.exit(1)
}
const project = mkdtempSync(join(tmpdir(), "fleetdb-cli-bench-"))
const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FLEET_CALLSIGN: "bench" }
for (const key of Object.keys(env)) if (key.startsWith("FLEET_DB") || key === "FLEET_PROJECT_KEY") delete env[key]

const cpuReport = fileURLToPath(new URL("lib/cpu-report.cjs", import.meta.url))

/** One process: wall ms from spawn to exit, and its own CPU ms (user + system), reported on fd 3. */
const runOnce = (args: ReadonlyArray<string>): { readonly ms: number; readonly cpuMs: number; readonly code: number | null } => {
  const start = performance.now()
  const result = spawnSync(process.execPath, ["--require", cpuReport, ...args], {
    cwd: project,
    env,
    stdio: ["ignore", "ignore", "ignore", "pipe"]
  })
  const ms = performance.now() - start
  return { ms, cpuMs: Number(String(result.output[3] ?? "")) / 1000, code: result.status }
}

const init = runOnce([main, "init"])
if (init.code !== 0) throw new Error(`fleet-db init failed in ${project}`)

// The write verb: `register` where the command has it, else `sweep` (a write transaction).
const hasRegister = runOnce([main, "register", "--callsign", "bench", "--json"]).code === 0
const write = hasRegister
  ? { name: "register --json (a write)", args: [main, "register", "--callsign", "bench", "--json"] }
  : { name: "sweep --stale-after 1h --json (a write)", args: [main, "sweep", "--stale-after", "1h", "--json"] }

const cases = [
  { name: "node -e 0", args: ["-e", "0"], target: undefined },
  { name: "fleet-db --version", args: [main, "--version"], target: 150 },
  { name: "fleet-db status --json", args: [main, "status", "--json"], target: 300 },
  { ...write, target: 400 }
] as const

// One warm-up round: the first run of each pays for cold file caches.
for (const c of cases) runOnce(c.args)

const loadStart = loadavg()[0]!
const times = cases.map(() => [] as Array<number>)
const cpuTimes = cases.map(() => [] as Array<number>)
const failures = cases.map(() => 0)
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < cases.length; k++) {
    const i = (round + k) % cases.length
    const { code, cpuMs, ms } = runOnce(cases[i]!.args)
    times[i]!.push(ms)
    cpuTimes[i]!.push(cpuMs)
    if (code !== 0) failures[i]! += 1
  }
}
rmSync(project, { recursive: true, force: true })

const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)
const median = (xs: ReadonlyArray<number>) => {
  const s = sorted(xs)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const results = cases.map((c, i) => ({
  case: c.name,
  medianMs: median(times[i]!),
  bestMs: Math.min(...times[i]!),
  worstMs: Math.max(...times[i]!),
  medianCpuMs: median(cpuTimes[i]!),
  targetMs: c.target ?? null,
  failures: failures[i]!
}))
for (const r of results) {
  process.stderr.write(
    `${r.case}: median ${r.medianMs.toFixed(0)} ms (best ${r.bestMs.toFixed(0)}, worst ${r.worstMs.toFixed(0)}; CPU ${r.medianCpuMs.toFixed(0)})` +
      `${r.targetMs === null ? "" : `, target ${r.targetMs}`}${r.failures > 0 ? `, ${r.failures} FAILED` : ""}\n`
  )
}
const summary: CliStartupResult = { rounds, loadStart, loadEnd: loadavg()[0]!, results }
console.log(JSON.stringify(summary))
