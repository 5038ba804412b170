/**
 * `npm run bench`: every benchmark, each in its own process, then the table.
 *
 *   npm run bench                      everything (about 3–5 minutes on 2 cores)
 *   npm run bench -- lock register     only these cases (names below)
 *   BENCH_SCALE=0.5 npm run bench      shorter rounds, fewer of them
 *
 * Micro benchmarks report µs/op of interleaved rounds — the best round and the median, wall clock,
 * and the median CPU time of the process — and the ratios to raw libSQL from the same run: to the
 * careful baseline (lib/careful.ts) and to the same-statements one (lib/raw.ts); see lib/harness.ts. Contention runs
 * report cycles/s over the whole run, errors, and double holders (see contention.ts). `globs`
 * reports how long a reserve of adversarial patterns holds the write transaction (see globs.ts).
 *
 *   npm run bench -- graph             the work graph: ready, claimNext and closing a sortie on
 *                                      10,000 sorties / 20,000 dependencies vs none (bench/graph.ts)
 *   npm run bench -- dashboard         `fleet-db serve` with 20 pages open at 200 commands/s (about
 *                                      1 minute; BENCH_SCALE=12 for a memory verdict, ~6 min;
 *                                      needs `npm run build`; only when named)
 *   npm run bench -- cli               `fleet-db` start-up as a whole process: --version, status,
 *                                      a write (needs `npm run build`; only when named)
 */
import { spawn } from "node:child_process"
import { cpus, loadavg, totalmem } from "node:os"
import { fileURLToPath } from "node:url"
import type { ContentionResult } from "./contention.js"
import type { CliStartupResult } from "./cli-startup.js"
import type { DashboardResult } from "./dashboard.js"
import { formatDashboard } from "./dashboard.js"
import type { Measurement } from "./lib/harness.js"

const root = fileURLToPath(new URL("..", import.meta.url))

interface MicroResult {
  readonly case: string
  readonly title: string
  readonly results: ReadonlyArray<Measurement>
}

interface GraphResult {
  readonly sorties: number
  readonly edges: number
  readonly readyInGraph: number
  readonly ready: { readonly results: ReadonlyArray<Measurement>; readonly ratio: { readonly best: number; readonly median: number } }
  readonly claimNext: GraphResult["ready"]
  readonly close: GraphResult["ready"]
}

interface GlobsResult {
  readonly title: string
  readonly longestTransactionCpuMs: number
  readonly medianTransactionCpuMs: number
  readonly longestTransactionWallMs: number
  readonly medianTransactionWallMs: number
  readonly medianCallMs: number
}

const micro = ["register", "lock", "lockHistory", "claimNext", "reserve", "message", "append", "appendAll", "read", "newest", "statement", "transaction"] as const
const contention = [
  ["lock", "raw"],
  ["lock", "service"],
  ["lock", "drizzle"],
  ["lock", "drizzle-seed"],
  ["claim", "raw"],
  ["claim", "service"]
] as const

const runScript = (args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited with ${code}`))))
  })

const lastJson = <A>(out: string): A => JSON.parse(out.trim().split("\n").filter((l) => l.startsWith("{")).pop()!) as A

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

const main = async () => {
  const wanted = process.argv.slice(2)
  const pick = (name: string) => wanted.length === 0 || wanted.includes(name)
  const started = Date.now()
  const header = [
    `date: ${new Date().toISOString()}`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
    `load average at start: ${loadavg().map((l) => l.toFixed(1)).join(", ")}`
  ]
  process.stdout.write(header.join("\n") + "\n\n")

  const rows: Array<string> = []
  // Ratios are to the first implementation of each case (the careful raw baseline where there is
  // one); the last column is the median ratio to the same-statements raw baseline of the same run.
  rows.push("| benchmark | implementation | µs/op best | ratio best | µs/op median | ratio median | CPU µs/op | ratio CPU | ratio median vs same statements |")
  rows.push("|---|---|---:|---:|---:|---:|---:|---:|---:|")
  for (const name of micro) {
    if (!pick(name)) continue
    process.stderr.write(`micro ${name}…\n`)
    const result = lastJson<MicroResult>(await runScript(["bench/micro.ts", name]))
    const base = result.results[0]!
    const same = result.results.find((m) => m.name === "raw libsql (same statements)")
    for (const m of result.results) {
      const line = `| ${result.title} | ${m.name} | ${fmt(m.bestUs)} | ${(m.bestUs / base.bestUs).toFixed(2)} | ${fmt(m.wallUs)} | ${
        (m.wallUs / base.wallUs).toFixed(2)
      } | ${fmt(m.cpuUs)} | ${(m.cpuUs / base.cpuUs).toFixed(2)} | ${same === undefined ? "–" : (m.wallUs / same.wallUs).toFixed(2)} |`
      rows.push(line)
      process.stderr.write(line + "\n")
    }
  }

  const crow: Array<string> = []
  crow.push("| contention (4 processes) | implementation | completed | ops/s | errors | double holders / double claims | unclaimed |")
  crow.push("|---|---|---:|---:|---:|---:|---:|")
  for (const [op, impl] of contention) {
    if (!pick(op === "lock" ? "contention-lock" : "contention-claim") && !pick("contention")) continue
    process.stderr.write(`contention ${op} ${impl}…\n`)
    const r = lastJson<ContentionResult>(await runScript(["bench/contention.ts", impl, op]))
    const kinds = Object.entries(r.errorKinds).map(([k, n]) => `${k} ×${n}`).join(", ")
    const title = op === "lock" ? `lock cycles, 4 × ${r.count} on one key` : `claimNext draining ${r.count} sorties`
    const line = `| ${title} | ${impl} | ${r.completed} | ${fmt(r.perSecond)} | ${r.errors}${kinds ? ` (${kinds})` : ""} | ${r.violations} | ${op === "claim" ? r.missing : "–"} |`
    crow.push(line)
    process.stderr.write(line + "\n")
  }

  const grow: Array<string> = []
  if (pick("globs")) {
    process.stderr.write("globs…\n")
    const g = lastJson<GlobsResult>(await runScript(["bench/globs.ts"]))
    grow.push("| hostile globs | longest transaction, CPU ms (median / worst of 5) | wall ms (median / worst) | whole call, median ms |")
    grow.push("|---|---:|---:|---:|")
    grow.push(`| ${g.title} | ${fmt(g.medianTransactionCpuMs)} / ${fmt(g.longestTransactionCpuMs)} | ${fmt(g.medianTransactionWallMs)} / ${
      fmt(g.longestTransactionWallMs)
    } | ${fmt(g.medianCallMs)} |`)
    process.stderr.write(grow[2]! + "\n")
  }

  const wrow: Array<string> = []
  if (pick("graph")) {
    process.stderr.write("graph…\n")
    const g = lastJson<GraphResult>(await runScript(["bench/graph.ts"]))
    wrow.push(`| work graph (${g.sorties} sorties, ${g.edges} dependencies; ${g.readyInGraph} ready) | no graph µs/op best / median | graph µs/op best / median | ratio best / median |`)
    wrow.push("|---|---:|---:|---:|")
    for (const [title, entry] of [["ready({ limit: 20 })", g.ready], ["claimNext", g.claimNext], ["complete (50 dependents in the graph)", g.close]] as const) {
      const [none, graph] = entry.results
      wrow.push(`| ${title} | ${fmt(none!.bestUs)} / ${fmt(none!.wallUs)} | ${fmt(graph!.bestUs)} / ${fmt(graph!.wallUs)} | ${entry.ratio.best.toFixed(2)} / ${entry.ratio.median.toFixed(2)} |`)
    }
    process.stderr.write(wrow.join("\n") + "\n")
  }

  // Not part of "everything": it needs a built CLI and runs for a minute.
  let dashboard: string | undefined
  if (wanted.includes("dashboard")) {
    process.stderr.write("dashboard…\n")
    dashboard = formatDashboard(lastJson<DashboardResult>(await runScript(["bench/dashboard.ts"])))
  }

  // Not part of "everything" either: it needs a built CLI.
  const cliRows: Array<string> = []
  if (wanted.includes("cli")) {
    process.stderr.write("cli…\n")
    const r = lastJson<CliStartupResult>(await runScript(["bench/cli-startup.ts"]))
    cliRows.push(`| fleet-db start-up (${r.rounds} interleaved rounds) | wall ms median | best | worst | CPU ms median | target ms (wall) |`)
    cliRows.push("|---|---:|---:|---:|---:|---:|")
    for (const c of r.results) {
      cliRows.push(
        `| ${c.case}${c.failures > 0 ? ` (${c.failures} failed)` : ""} | ${fmt(c.medianMs)} | ${fmt(c.bestMs)} | ${fmt(c.worstMs)} | ${
          fmt(c.medianCpuMs)
        } | ${c.targetMs ?? "–"} |`
      )
    }
    cliRows.push(`load average (1 min): ${r.loadStart.toFixed(1)} at the start, ${r.loadEnd.toFixed(1)} at the end`)
  }

  if (rows.length > 2) process.stdout.write(rows.join("\n") + "\n\n")
  if (crow.length > 2) process.stdout.write(crow.join("\n") + "\n\n")
  if (grow.length > 0) process.stdout.write(grow.join("\n") + "\n\n")
  if (wrow.length > 0) process.stdout.write(wrow.join("\n") + "\n\n")
  if (dashboard !== undefined) process.stdout.write(dashboard + "\n\n")
  if (cliRows.length > 0) process.stdout.write(cliRows.join("\n") + "\n\n")
  process.stdout.write(`load average at end: ${loadavg().map((l) => l.toFixed(1)).join(", ")}; took ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
