/**
 * Dashboard under load: does `fleet-db serve` stay flat with 20 pages open on a fleet doing
 * 200 commands/s? (`npm run bench -- dashboard`, after `npm run build`.)
 *
 * One temp project; the built CLI's `serve --port 0` on it; two load-generator processes (this
 * file, `worker` mode) issuing a fixed-rate mix of commands through `FleetDb.layerFile`, each
 * command's latency recorded. After a warm-up, phase A runs with no page open, then phase B with
 * 20 "pages" for the same time. A page here is a plain Node HTTP client, not a browser: one SSE
 * connection to `/api/stream` (opened with `Last-Event-ID` = the newest event at the start of
 * phase B) plus a fetch of `/api/status` after events, debounced to at most 2 a second, as the
 * page does. Measured: the server's RSS every second (VmRSS from /proc), command latency
 * p50/p95/p99 per 5-second window, and per page the events delivered, checked against the log
 * (every event after the start, exactly once, in order).
 *
 * The server runs with bench/lib/serve-memory.mjs, which records its heap in use after every major
 * GC (the live set) and `process.memoryUsage()` every second.
 *
 * Verdict "flat" (thresholds stated in bench/README.md and printed): memory — the first third of
 * phase B is a warm-up (V8 sizes its heap for the 20 streams then; the RSS rise it causes is not
 * memory held); over the other two thirds, the least-squares RSS trend rises less than 10 % of
 * the RSS level there, and the heap in use after major GCs in the last third is within +10 % of
 * the middle third's (medians). Latency — phase B's p95 within 1.5× of phase A's. Events — no
 * page missed, repeated or reordered one. The first rule (end RSS ≤ 1.2× its level 5–10 s into
 * phase B, trend < 10 %) is still computed and printed, labelled, but no longer decides.
 *
 * BENCH_SCALE scales phase B (25 s at 1); phase A, the no-page baseline, is as long up to 60 s.
 * The memory rule needs a warm-up of 100 s or more: BENCH_SCALE=12 (300 s). Ends with one JSON
 * line (for bench/run.ts). Not a test: nothing here is asserted.
 *
 * @module
 */
import { Cause, Effect, Exit, ManagedRuntime, Option } from "effect"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { get, type IncomingMessage } from "node:http"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type { Lock } from "../src/index.js"
import { MAX_TITLES } from "../src/dashboard/feed.js"
import { Events, FleetDb, Locks, Messages, Pilots, Reservations, Sorties } from "../src/index.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const scale = Number(process.env.BENCH_SCALE ?? "1") > 0 ? Number(process.env.BENCH_SCALE ?? "1") : 1

/** Commands per second, over all load-generator processes. */
const RATE = 200
const WORKERS = 2
const PAGES = 20
const WARMUP_S = 5
/** Phase B, with the pages. */
const PHASE_S = Math.max(10, Math.round(25 * scale))
/** Phase A, the no-page baseline: its latency and RSS settle within a minute. */
const PHASE_A_S = Math.min(PHASE_S, 60)
/** The start of phase B not judged for memory: V8 sizes its heap for the 20 streams then (30–150 s measured). */
const MEMORY_WARMUP_S = Math.round(PHASE_S / 3)
/** Shorter than this, the warm-up cannot cover V8's heap sizing and the memory verdict says so. */
const MEMORY_WARMUP_ENOUGH_S = 100
const WINDOW_S = 5
/** A page refetches the snapshot at most this often. */
const STATUS_DEBOUNCE_MS = 500
/** BENCH_DASHBOARD_SSE_ONLY=1: pages hold the stream but never fetch the snapshot (to tell the two costs apart). */
const FETCH_STATUS = process.env.BENCH_DASHBOARD_SSE_ONLY !== "1"
/** How often the server measures its live heap with two forced full GCs (serve-memory.mjs), s. */
const FULL_GC_S = 10
/**
 * Closed sorties the fleet has before the server starts: as many as the feed remembers titles
 * for, so the server starts with that bounded map full, as one that has run for days does.
 * Starting empty, the map fills at the bench's 20 sorties/s inside the judged window and its
 * growth to the bound reads as memory held.
 */
const HISTORY_SORTIES = MAX_TITLES
/** BENCH_DASHBOARD_NODE_FLAGS="--max-semi-space-size=4 …": V8/Node flags for the server's process (an A/B of heap settings). */
const SERVER_NODE_FLAGS = (process.env.BENCH_DASHBOARD_NODE_FLAGS ?? "").split(/\s+/).filter((flag) => flag.length > 0)

const THRESHOLDS = {
  /** Deciding memory rule: RSS trend over phase B after its warm-up, as a share of the RSS level there. */
  rssTrendAfterWarmup: 0.1,
  /** Deciding memory rule: median live heap (after forced full GCs), last third of phase B over its middle third. */
  liveHeapLastOverMiddle: 1.1,
  /** The first rule, still printed: end RSS over its level 5–10 s into phase B, and trend over the phase. */
  rssEndOverLevel: 1.2,
  rssTrendOverLevel: 0.1,
  p95BOverA: 1.5
} as const

const now = () => performance.timeOrigin + performance.now()
const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const median = (xs: ReadonlyArray<number>) => percentile([...xs].sort((a, b) => a - b), 50)

// ---------------------------------------------------------------------------------------------
// Worker mode: `dashboard.ts worker <projectPath> <index> <rate/s> <durationMs>`.

/** One command: when it started (epoch ms), how long it took (ms), whether it failed. */
type Sample = readonly [startedAt: number, ms: number, failed: 0 | 1]

interface WorkerReport {
  readonly done: true
  readonly samples: ReadonlyArray<Sample>
  readonly errors: Record<string, number>
  readonly errorSamples: ReadonlyArray<string>
  /** Largest delay between a command's scheduled and actual start, ms. */
  readonly maxLagMs: number
}

const runWorker = async (projectPath: string, index: number, rate: number, durationMs: number) => {
  const me = `load-${index}`
  const peer = `load-${(index + 1) % WORKERS}`
  const runtime = ManagedRuntime.make(FleetDb.layerFile({ projectPath }))
  const run = <A, E>(effect: Effect.Effect<A, E, Pilots | Locks | Messages | Reservations | Sorties>) => runtime.runPromiseExit(effect)
  // Open the database (and warm the runtime) before the clock starts.
  await runtime.runPromise(Effect.flatMap(Pilots, (p) => p.heartbeat(me)))
  process.stdout.write(JSON.stringify({ ready: true }) + "\n")
  const go = await new Promise<number>((resolve) => {
    const lines = createInterface({ input: process.stdin })
    lines.once("line", (line) => {
      lines.close()
      resolve(Number(line))
    })
  })

  let lock: Option.Option<Lock> = Option.none()
  let claimed: string | undefined
  // Ten commands, each one write transaction with its event; every acquire has its release so the
  // fleet's live state stays the same size (its history grows, as a real fleet's does).
  const cycle: ReadonlyArray<() => Effect.Effect<unknown, unknown, Pilots | Locks | Messages | Reservations | Sorties>> = [
    () => Effect.flatMap(Pilots, (p) => p.heartbeat(me)),
    () =>
      Effect.flatMap(Locks, (l) => l.acquire(`key-${index}`, { holder: me, ttl: "30 seconds" })).pipe(
        Effect.tap((acquired) => Effect.sync(() => (lock = Option.some(acquired))))
      ),
    () =>
      Option.match(lock, {
        onNone: () => Effect.flatMap(Pilots, (p) => p.heartbeat(me)),
        onSome: (held) => Effect.flatMap(Locks, (l) => l.release(held)).pipe(Effect.ensuring(Effect.sync(() => (lock = Option.none()))))
      }),
    () => Effect.flatMap(Messages, (m) => m.send({ from: me, to: [peer], subject: "progress", body: `cycle note from ${me}` })),
    () => Effect.flatMap(Reservations, (r) => r.reserve({ callsign: me, paths: [`src/${me}/**`], exclusive: true, reason: "bench", ttl: "60 seconds" })),
    () => Effect.flatMap(Reservations, (r) => r.release({ callsign: me })),
    () => Effect.flatMap(Sorties, (s) => s.create({ title: `task of ${me}`, priority: 2 })),
    () =>
      Effect.flatMap(Sorties, (s) => s.claimNext(me)).pipe(
        Effect.tap((next) => Effect.sync(() => (claimed = Option.isSome(next) ? next.value.id : undefined)))
      ),
    () => {
      const id = claimed
      claimed = undefined
      return id === undefined ? Effect.flatMap(Pilots, (p) => p.heartbeat(me)) : Effect.flatMap(Sorties, (s) => s.complete(id, { callsign: me }))
    },
    () => Effect.flatMap(Pilots, (p) => p.register({ callsign: me, task_description: `step ${Date.now()}` }))
  ]

  const samples: Array<Sample> = []
  const errors: Record<string, number> = {}
  const errorSamples: Array<string> = []
  const interval = 1_000 / rate
  let maxLag = 0
  for (let k = 0; ; k++) {
    const scheduled = go + k * interval
    if (scheduled >= go + durationMs) break
    const wait = scheduled - now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const started = now()
    maxLag = Math.max(maxLag, started - scheduled)
    const exit = await run(cycle[k % cycle.length]!())
    const ms = now() - started
    if (Exit.isSuccess(exit)) {
      samples.push([started, ms, 0])
    } else {
      samples.push([started, ms, 1])
      const failure = Cause.failureOption(exit.cause)
      const tag = Option.isSome(failure) ? String((failure.value as { readonly _tag?: unknown })._tag ?? "failure") : "defect"
      errors[tag] = (errors[tag] ?? 0) + 1
      if (errorSamples.length < 3) errorSamples.push(Cause.pretty(exit.cause).slice(0, 400))
    }
  }
  await runtime.dispose()
  const report: WorkerReport = { done: true, samples, errors, errorSamples, maxLagMs: maxLag }
  process.stdout.write(JSON.stringify(report) + "\n")
}

// ---------------------------------------------------------------------------------------------
// The run.

interface Spawned {
  readonly child: ChildProcess
  readonly lines: Array<string>
  readonly exited: Promise<number | null>
}

const spawnLines = (args: ReadonlyArray<string>, stream: "stdout" | "stderr", env: Record<string, string> = {}): Spawned => {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } })
  const lines: Array<string> = []
  createInterface({ input: child[stream]! }).on("line", (line) => lines.push(line))
  // Keep the other stream drained, and show it when something goes wrong.
  const other = stream === "stdout" ? child.stderr! : child.stdout!
  other.setEncoding("utf8").on("data", (chunk: string) => lines.push(...chunk.split("\n").filter((l) => l.length > 0).map((l) => `(${stream === "stdout" ? "stderr" : "stdout"}) ${l}`)))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { child, lines, exited }
}

const waitForLine = async (spawned: Spawned, test: (line: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> => {
  const deadline = now() + timeoutMs
  for (;;) {
    const found = spawned.lines.find(test)
    if (found !== undefined) return found
    if (spawned.child.exitCode !== null || now() > deadline) {
      throw new Error(`${what}: not seen (exit ${spawned.child.exitCode}); output:\n${spawned.lines.slice(-20).join("\n")}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** CPU time (user + system, all threads) the process has used, s; from /proc/PID/stat. */
const cpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the command name (which may hold spaces) start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

const rssKb = (pid: number): number | undefined => {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/**
 * A page: one SSE connection and debounced snapshot fetches. Like a browser's `EventSource`, it
 * reconnects after the server ends the stream (the `retry:` delay, 1 s by default) with
 * `Last-Event-ID` = the last id it received, so a drop costs no event.
 */
class Page {
  readonly ids: Array<number> = []
  /** Why each connection after the first was needed. */
  readonly drops: Array<string> = []
  /** When each drop happened (epoch ms). */
  readonly dropTimes: Array<number> = []
  statusFetches = 0
  statusFailures = 0
  readonly statusMs: Array<number> = []
  readonly statusBytes: Array<number> = []
  private request: ReturnType<typeof get> | undefined
  private reconnect: ReturnType<typeof setTimeout> | undefined
  private retryMs = 1_000
  private lastFetch = 0
  private inFlight = false
  private trailing: ReturnType<typeof setTimeout> | undefined
  private closed = false

  constructor(private readonly base: string, private readonly lastEventId: number) {}

  open(): Promise<void> {
    return this.connect(this.lastEventId)
  }

  private connect(lastEventId: number): Promise<void> {
    let over = false
    const lost = (reason: string) => {
      if (over || this.closed) return
      over = true
      this.drops.push(reason)
      this.dropTimes.push(now())
      this.reconnect = setTimeout(() => {
        this.reconnect = undefined
        this.connect(this.ids[this.ids.length - 1] ?? this.lastEventId).catch(() => undefined)
      }, this.retryMs)
    }
    return new Promise((resolve, reject) => {
      this.request = get(`${this.base}/api/stream`, { headers: { accept: "text/event-stream", "last-event-id": String(lastEventId) } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          lost(`/api/stream answered ${res.statusCode}`)
          reject(new Error(`/api/stream answered ${res.statusCode}`))
          return
        }
        resolve()
        this.read(res)
        res.on("end", () => lost("stream ended by the server"))
        res.on("error", (error) => lost(String(error)))
        res.on("close", () => lost("connection closed"))
      })
      this.request.on("error", (error) => {
        lost(String(error))
        reject(error)
      })
    })
  }

  private read(res: IncomingMessage) {
    let buffer = ""
    let id: number | undefined
    res.setEncoding("utf8")
    res.on("data", (chunk: string) => {
      buffer += chunk
      let newline: number
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline).replace(/\r$/, "")
        buffer = buffer.slice(newline + 1)
        if (line === "") {
          // End of a message: only messages with an id are events (comments are keep-alives).
          if (id !== undefined) {
            this.ids.push(id)
            this.onEvent()
          }
          id = undefined
        } else if (line.startsWith("id:")) {
          id = Number(line.slice(3).trim())
        } else if (line.startsWith("retry:")) {
          const ms = Number(line.slice(6).trim())
          if (Number.isFinite(ms) && ms >= 0) this.retryMs = ms
        }
      }
    })
  }

  private onEvent() {
    if (!FETCH_STATUS || this.inFlight || this.trailing !== undefined) return
    const wait = this.lastFetch + STATUS_DEBOUNCE_MS - now()
    if (wait <= 0) this.fetchStatus()
    else this.trailing = setTimeout(() => {
      this.trailing = undefined
      this.fetchStatus()
    }, wait)
  }

  private fetchStatus() {
    if (this.closed) return
    this.inFlight = true
    this.lastFetch = now()
    const started = now()
    const done = (ok: boolean) => {
      this.inFlight = false
      this.statusFetches++
      if (ok) this.statusMs.push(now() - started)
      else this.statusFailures++
    }
    get(`${this.base}/api/status`, (res) => {
      let bytes = 0
      res.on("data", (chunk: Buffer) => (bytes += chunk.length))
      res.on("end", () => {
        this.statusBytes.push(bytes)
        done(res.statusCode === 200)
      })
      res.on("error", () => done(false))
    }).on("error", () => done(false))
  }

  close() {
    this.closed = true
    if (this.trailing !== undefined) clearTimeout(this.trailing)
    if (this.reconnect !== undefined) clearTimeout(this.reconnect)
    this.request?.destroy()
  }
}

/** Least-squares slope of (t seconds, y) points, per second. */
const slope = (points: ReadonlyArray<readonly [number, number]>) => {
  const n = points.length
  if (n < 2) return 0
  const mt = points.reduce((s, [t]) => s + t, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const num = points.reduce((s, [t, y]) => s + (t - mt) * (y - my), 0)
  const den = points.reduce((s, [t]) => s + (t - mt) ** 2, 0)
  return den === 0 ? 0 : num / den
}

interface LatencyWindow {
  readonly phase: "A" | "B"
  readonly fromS: number
  readonly commands: number
  readonly failed: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** The server's RSS over the window (median of its samples), MiB. */
  readonly rssMiB: number
}

/** What a run measured. Times are ms, RSS MiB. */
export interface DashboardResult {
  readonly title: string
  readonly phaseSeconds: number
  /** Node/V8 flags the server ran with (BENCH_DASHBOARD_NODE_FLAGS). */
  readonly serverFlags: ReadonlyArray<string>
  /** The start of phase B not judged for memory, s. */
  readonly memoryWarmupSeconds: number
  readonly loadAverageStart: ReadonlyArray<number>
  readonly loadAverageEnd: ReadonlyArray<number>
  readonly commandsPerSecond: { readonly A: number; readonly B: number }
  readonly latency: { readonly A: { p50: number; p95: number; p99: number }; readonly B: { p50: number; p95: number; p99: number } }
  readonly windows: ReadonlyArray<LatencyWindow>
  readonly maxLagMs: number
  readonly commandErrors: Record<string, number>
  readonly rss: {
    readonly startA: number
    readonly endA: number
    readonly startB: number
    readonly levelB: number
    readonly endB: number
    readonly maxB: number
    readonly trendMiBPerMin: number
    readonly trendOverPhase: number
    /** RSS over phase B after the warm-up: median level, trend, trend × length / level. */
    readonly afterWarmup: {
      readonly fromS: number
      readonly level: number
      readonly trendMiBPerMin: number
      readonly trendOverWindow: number
      /** The band RSS moved in: 5th and 95th percentiles of its 1-s samples. */
      readonly p5: number
      readonly p95: number
    }
  }
  /** The server's GCs and CPU over phase B after the warm-up (serve-memory.mjs, /proc). Spaces in MiB. */
  readonly gc: {
    readonly minorPerS: number
    readonly minorMsPerS: number
    readonly majors: number
    readonly majorMsPerS: number
    readonly newSpaceMedian: number
    readonly oldSpaceMedian: number
    readonly oldSpaceMin: number
    readonly oldSpaceMax: number
    readonly cpuA: number
    readonly cpuB: number
    readonly parts: Record<"heapTotal" | "external" | "rest", { readonly median: number; readonly trendMiBPerMin: number }>
  }
  /**
   * The live heap (MiB): heap in use after two forced full GCs every FULL_GC_S seconds
   * (serve-memory.mjs); NaN where no sample was taken. Min, max and trend: after the warm-up.
   */
  readonly liveHeap: {
    readonly samples: { readonly A: number; readonly B: number }
    readonly A: { readonly median: number; readonly min: number; readonly max: number }
    readonly middleThirdB: number
    readonly lastThirdB: number
    readonly minB: number
    readonly maxB: number
    readonly trendMiBPerMinAfterWarmup: number
    /** What each measurement cost the server (both GCs), ms. */
    readonly fullGcPauseMs: { readonly p50: number; readonly max: number }
  }
  /**
   * Heap in use right after the major GCs V8 ran by itself, phase B (MiB; not deciding: it
   * includes what was allocated while V8 marked). Min and max after the warm-up.
   */
  readonly afterMajorGcs: {
    readonly count: number
    readonly middleThirdB: number
    readonly lastThirdB: number
    readonly minB: number
    readonly maxB: number
  }
  readonly pages: {
    readonly count: number
    readonly expectedEvents: number
    readonly delivered: { readonly min: number; readonly max: number }
    readonly missing: number
    readonly repeated: number
    readonly outOfOrder: number
    /** Ids outside the log's range after the page's Last-Event-ID. */
    readonly unexpected: number
    /** Reconnections over all pages (a drop followed by a resume from `Last-Event-ID`), and why. */
    readonly reconnects: number
    readonly dropReasons: Record<string, number>
    /** When pages were dropped, s from the start (distinct seconds). */
    readonly dropsAtS: ReadonlyArray<number>
    readonly statusFetches: number
    readonly statusFailures: number
    readonly statusP50: number
    readonly statusP95: number
    /** Size of the snapshot at the end of the run, bytes. */
    readonly statusBytesLast: number
  }
  readonly verdict: {
    readonly memoryFlat: boolean
    readonly rssFlatAfterWarmup: boolean
    readonly liveHeapFlat: boolean
    /** False when phase B was too short for the warm-up to cover V8's heap sizing. */
    readonly warmupLongEnough: boolean
    /** The first rule's answer (end ≤ 1.2× the level 5–10 s into phase B, trend < 10 %), for the record. */
    readonly firstRuleMemoryFlat: boolean
    readonly latencyFlat: boolean
    readonly eventsExact: boolean
    readonly flat: boolean
  }
}

const latencyOf = (samples: ReadonlyArray<Sample>) => {
  const ms = samples.map(([, m]) => m).sort((a, b) => a - b)
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99) }
}

const readAllAfter = (projectPath: string, after: number) =>
  Effect.gen(function*() {
    const events = yield* Events
    const ids: Array<number> = []
    for (let from = after;;) {
      const page = yield* events.read({ after: from, limit: 1_000 })
      if (page.length === 0) return ids
      for (const e of page) ids.push(e.sequence)
      from = page[page.length - 1]!.sequence
    }
  }).pipe(Effect.provide(FleetDb.layerFile({ projectPath })))

/** HISTORY_SORTIES sorties, each created, claimed and completed by a pilot of the past. */
const seedHistory = Effect.gen(function*() {
  const sorties = yield* Sorties
  yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "history", program: "bench-dashboard", model: "none" }))
  for (let i = 0; i < HISTORY_SORTIES; i++) {
    const sortie = yield* sorties.create({ title: `earlier task ${i}`, priority: 3 })
    yield* sorties.claim(sortie.id, "history")
    yield* sorties.complete(sortie.id, { callsign: "history" })
  }
})

const latestSequence = (projectPath: string) =>
  Effect.flatMap(Events, (e) => e.latestSequence).pipe(Effect.provide(FleetDb.layerFile({ projectPath })))

const main = async (): Promise<DashboardResult> => {
  // BENCH_DASHBOARD_CLI: another build of the CLI to measure (an installed package's, say).
  const cli = process.env.BENCH_DASHBOARD_CLI ?? join(root, "dist", "cli", "main.js")
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`)
  const loadAverageStart = loadavg()
  const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-dashboard-bench-"))
  const memoryDir = mkdtempSync(join(tmpdir(), "fleetdb-dashboard-bench-memory-"))
  const children: Array<ChildProcess> = []
  const pages: Array<Page> = []
  try {
    // Every load generator's pilot exists before any of them sends mail to another.
    await Effect.runPromise(
      Effect.flatMap(Pilots, (p) =>
        Effect.forEach(Array.from({ length: WORKERS }, (_, i) => `load-${i}`), (callsign) => p.register({ callsign, program: "bench-dashboard", model: "none" }))
      ).pipe(Effect.provide(FleetDb.layerFile({ projectPath })))
    )
    process.stderr.write(`history: ${HISTORY_SORTIES} closed sorties…\n`)
    await Effect.runPromise(seedHistory.pipe(Effect.provide(FleetDb.layerFile({ projectPath }))))
    const server = spawnLines(
      [...SERVER_NODE_FLAGS, "--expose-gc", "--import", join(root, "bench", "lib", "serve-memory.mjs"), cli, "serve", "--project", projectPath, "--port", "0"],
      "stderr",
      { SERVE_MEMORY_DIR: memoryDir, SERVE_MEMORY_FULL_GC_S: String(FULL_GC_S) }
    )
    children.push(server.child)
    const listening = await waitForLine(server, (l) => /listening on http:\/\/\S+/.test(l), "fleet-db serve")
    const base = /listening on (http:\/\/\S+)/.exec(listening)![1]!.replace(/\/$/, "")
    const serverPid = server.child.pid!

    const durationMs = (WARMUP_S + PHASE_A_S + PHASE_S) * 1_000
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      spawnLines(["--import", "tsx", fileURLToPath(import.meta.url), "worker", projectPath, String(i), String(RATE / WORKERS), String(durationMs)], "stdout")
    )
    children.push(...workers.map((w) => w.child))
    await Promise.all(workers.map((w) => waitForLine(w, (l) => l.startsWith("{\"ready\"") , "load generator")))

    const go = now() + 200
    for (const w of workers) w.child.stdin!.end(`${go}\n`)
    const rss: Array<readonly [number, number]> = []
    const cpu: Array<readonly [number, number]> = []
    const sampler = setInterval(() => {
      const t = (now() - go) / 1_000
      const kb = rssKb(serverPid)
      if (kb !== undefined) rss.push([t, kb / 1_024])
      const s = cpuSeconds(serverPid)
      if (s !== undefined) cpu.push([t, s])
    }, 1_000)
    const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - now())))

    const startA = go + WARMUP_S * 1_000
    const startB = startA + PHASE_A_S * 1_000
    await sleepUntil(startB)
    process.stderr.write(`phase B: opening ${PAGES} pages…\n`)
    const fromSequence = await Effect.runPromise(latestSequence(projectPath))
    for (let i = 0; i < PAGES; i++) pages.push(new Page(base, fromSequence))
    await Promise.all(pages.map((p) => p.open()))

    const reports = await Promise.all(workers.map(async (w) => {
      const code = await w.exited
      const line = w.lines.find((l) => l.startsWith("{\"done\""))
      if (line === undefined) throw new Error(`load generator exited with ${code}:\n${w.lines.slice(-20).join("\n")}`)
      return JSON.parse(line) as WorkerReport
    }))
    const endB = now()
    clearInterval(sampler)

    // Let the pages catch up with the log, then compare what each saw with the log itself.
    const expected = await Effect.runPromise(readAllAfter(projectPath, fromSequence))
    const last = expected[expected.length - 1] ?? fromSequence
    const drainDeadline = now() + 15_000
    while (now() < drainDeadline && pages.some((p) => (p.ids[p.ids.length - 1] ?? fromSequence) < last)) {
      await sleepUntil(now() + 50)
    }
    for (const p of pages) p.close()

    let missing = 0
    let repeated = 0
    let outOfOrder = 0
    let unexpected = 0
    const expectedSet = new Set(expected)
    for (const p of pages) {
      const seen = new Set<number>()
      for (let i = 0; i < p.ids.length; i++) {
        const id = p.ids[i]!
        if (seen.has(id)) repeated++
        seen.add(id)
        if (i > 0 && id <= p.ids[i - 1]!) outOfOrder++
        if (!expectedSet.has(id)) unexpected++
      }
      for (const id of expected) if (!seen.has(id)) missing++
    }

    const samples = reports.flatMap((r) => r.samples).sort((a, b) => a[0] - b[0])
    const inA = samples.filter(([t]) => t >= startA && t < startB)
    const inB = samples.filter(([t]) => t >= startB && t < endB)
    const windows: Array<LatencyWindow> = []
    for (let from = startA; from < startB + PHASE_S * 1_000; from += WINDOW_S * 1_000) {
      const win = samples.filter(([t]) => t >= from && t < from + WINDOW_S * 1_000)
      const l = latencyOf(win)
      const fromS = Math.round((from - go) / 1_000)
      windows.push({
        phase: from < startB ? "A" : "B",
        fromS,
        commands: win.length,
        failed: win.filter((s) => s[2] === 1).length,
        ...l,
        rssMiB: median(rss.filter(([t]) => t >= fromS && t < fromS + WINDOW_S).map(([, m]) => m))
      })
    }

    const rssAt = (fromS: number, toS: number) => median(rss.filter(([t]) => t >= fromS && t < toS).map(([, m]) => m))
    const a0 = WARMUP_S
    const b0 = WARMUP_S + PHASE_A_S
    const b1 = WARMUP_S + PHASE_A_S + PHASE_S
    const inBWarm = rss.filter(([t]) => t >= b0 + 5 && t <= b1)
    const levelB = rssAt(b0 + 5, b0 + 10)
    const endRss = rssAt(b1 - 3, b1 + 1)
    const trend = slope(inBWarm)
    const trendOverPhase = (trend * (b1 - b0 - 5)) / levelB
    const latency = { A: latencyOf(inA), B: latencyOf(inB) }
    const firstRuleMemoryFlat = endRss <= levelB * THRESHOLDS.rssEndOverLevel && trendOverPhase < THRESHOLDS.rssTrendOverLevel

    // The deciding rule: judge phase B after its warm-up only, by RSS trend and by the live heap.
    const w0 = b0 + MEMORY_WARMUP_S
    const w1 = b0 + 2 * MEMORY_WARMUP_S
    const rssAfter = rss.filter(([t]) => t >= w0 && t <= b1)
    const rssLevelAfter = median(rssAfter.map(([, m]) => m))
    const rssTrendAfter = slope(rssAfter)
    const rssTrendOverWindow = (rssTrendAfter * (b1 - w0)) / rssLevelAfter
    const gcs = readGcs(memoryDir)
    const gcsOf = (kind: "full" | "major") => gcs.filter((r) => r.gc === kind).map((r) => [(r.at - go) / 1_000, r.heapUsed] as const)
    const fulls = gcsOf("full")
    const majors = gcsOf("major")
    const inWindow = (points: ReadonlyArray<readonly [number, number]>, fromS: number, toS: number) =>
      points.filter(([t]) => t >= fromS && t < toS).map(([, m]) => m)
    const heapIn = (fromS: number, toS: number) => inWindow(fulls, fromS, toS)
    const heapA = heapIn(a0, b0)
    const middle = median(heapIn(w0, w1))
    const lastThird = median(heapIn(w1, b1 + 1))
    const fullGcMs = gcs.flatMap((r) => r.gc === "full" && r.ms !== undefined ? [r.ms] : []).sort((x, y) => x - y)
    const seconds = readSeconds(memoryDir).map((r) => ({ ...r, t: (r.at - go) / 1_000 }))
    const judged = seconds.filter((r) => r.t >= w0 && r.t <= b1)
    const judgedS = Math.max(1, judged.length)
    const cpuAt = (t: number) => cpu.find(([at]) => at >= t)?.[1] ?? Number.NaN
    const cpuIn = (from: number, to: number) => (cpuAt(to) - cpuAt(from)) / (to - from)
    const rssSorted = rssAfter.map(([, m]) => m).sort((a, b) => a - b)
    const gc = {
      minorPerS: judged.reduce((n, r) => n + r.minor, 0) / judgedS,
      minorMsPerS: judged.reduce((n, r) => n + r.minorMs, 0) / judgedS,
      majors: judged.reduce((n, r) => n + r.major, 0),
      majorMsPerS: judged.reduce((n, r) => n + r.majorMs, 0) / judgedS,
      newSpaceMedian: median(judged.map((r) => r.newSpace)),
      oldSpaceMedian: median(judged.map((r) => r.oldSpace)),
      oldSpaceMin: judged.length === 0 ? Number.NaN : Math.min(...judged.map((r) => r.oldSpace)),
      oldSpaceMax: judged.length === 0 ? Number.NaN : Math.max(...judged.map((r) => r.oldSpace)),
      /** Share of one core the server used: phase A, and phase B after the warm-up. */
      cpuA: cpuIn(a0 + 5, b0),
      cpuB: cpuIn(w0, b1 - 1),
      /**
       * Where RSS is, after the warm-up (median MiB, least-squares MiB/min): V8's heap (its size),
       * memory outside it that V8 accounts for (`external`, Buffers and ArrayBuffers included), and
       * the rest of the process (native code and allocations: SQLite, malloc's arenas, stacks).
       */
      parts: Object.fromEntries(([
        ["heapTotal", (r: SecondRecord) => r.heapTotal],
        ["external", (r: SecondRecord) => r.external],
        ["rest", (r: SecondRecord) => r.rss - r.heapTotal - r.external]
      ] as const).map(([name, of]) => [name, {
        median: median(judged.map(of)),
        trendMiBPerMin: slope(judged.map((r) => [r.t, of(r)] as const)) * 60
      }])) as Record<"heapTotal" | "external" | "rest", { readonly median: number; readonly trendMiBPerMin: number }>
    }
    const rssFlatAfterWarmup = rssTrendOverWindow < THRESHOLDS.rssTrendAfterWarmup
    // NaN (no live-heap sample in a third) compares false: no evidence is not "flat".
    const liveHeapFlat = lastThird <= middle * THRESHOLDS.liveHeapLastOverMiddle
    const warmupLongEnough = MEMORY_WARMUP_S >= MEMORY_WARMUP_ENOUGH_S
    const memoryFlat = rssFlatAfterWarmup && liveHeapFlat && warmupLongEnough
    const latencyFlat = latency.B.p95 <= latency.A.p95 * THRESHOLDS.p95BOverA
    const drops = pages.flatMap((p) => p.drops)
    const eventsExact = missing === 0 && repeated === 0 && outOfOrder === 0 && unexpected === 0
    const statusMs = pages.flatMap((p) => p.statusMs).sort((a, b) => a - b)
    const errors: Record<string, number> = {}
    for (const r of reports) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n

    return {
      title: `${PAGES} pages${FETCH_STATUS ? "" : " (stream only, no snapshot fetches)"}, ${RATE} commands/s from ${WORKERS} processes, ${PHASE_S} s per phase`,
      phaseSeconds: PHASE_S,
      serverFlags: SERVER_NODE_FLAGS,
      memoryWarmupSeconds: MEMORY_WARMUP_S,
      loadAverageStart,
      loadAverageEnd: loadavg(),
      commandsPerSecond: { A: inA.length / PHASE_A_S, B: inB.length / PHASE_S },
      latency,
      windows,
      maxLagMs: Math.max(...reports.map((r) => r.maxLagMs)),
      commandErrors: errors,
      rss: {
        startA: rssAt(a0, a0 + 2),
        endA: rssAt(b0 - 3, b0),
        startB: rssAt(b0, b0 + 2),
        levelB,
        endB: endRss,
        maxB: Math.max(...rss.filter(([t]) => t >= b0).map(([, m]) => m)),
        trendMiBPerMin: trend * 60,
        trendOverPhase,
        afterWarmup: {
          fromS: w0,
          level: rssLevelAfter,
          trendMiBPerMin: rssTrendAfter * 60,
          trendOverWindow: rssTrendOverWindow,
          p5: percentile(rssSorted, 5),
          p95: percentile(rssSorted, 95)
        }
      },
      gc,
      liveHeap: {
        samples: { A: heapA.length, B: heapIn(b0, b1 + 1).length },
        A: { median: median(heapA), min: heapA.length === 0 ? Number.NaN : Math.min(...heapA), max: heapA.length === 0 ? Number.NaN : Math.max(...heapA) },
        middleThirdB: middle,
        lastThirdB: lastThird,
        minB: heapIn(w0, b1 + 1).length === 0 ? Number.NaN : Math.min(...heapIn(w0, b1 + 1)),
        maxB: heapIn(w0, b1 + 1).length === 0 ? Number.NaN : Math.max(...heapIn(w0, b1 + 1)),
        trendMiBPerMinAfterWarmup: slope(fulls.filter(([t]) => t >= w0 && t <= b1)) * 60,
        fullGcPauseMs: { p50: percentile(fullGcMs, 50), max: fullGcMs.at(-1) ?? Number.NaN }
      },
      afterMajorGcs: {
        count: inWindow(majors, b0, b1 + 1).length,
        middleThirdB: median(inWindow(majors, w0, w1)),
        lastThirdB: median(inWindow(majors, w1, b1 + 1)),
        minB: Math.min(...inWindow(majors, w0, b1 + 1)),
        maxB: Math.max(...inWindow(majors, w0, b1 + 1))
      },
      pages: {
        count: PAGES,
        expectedEvents: expected.length,
        delivered: { min: Math.min(...pages.map((p) => p.ids.length)), max: Math.max(...pages.map((p) => p.ids.length)) },
        missing,
        repeated,
        outOfOrder,
        unexpected,
        reconnects: drops.length,
        dropsAtS: [...new Set(pages.flatMap((p) => p.dropTimes).map((t) => Math.round((t - go) / 1_000)))].sort((a, b) => a - b),
        dropReasons: drops.reduce<Record<string, number>>((acc, reason) => ({ ...acc, [reason]: (acc[reason] ?? 0) + 1 }), {}),
        statusFetches: pages.reduce((n, p) => n + p.statusFetches, 0),
        statusFailures: pages.reduce((n, p) => n + p.statusFailures, 0),
        statusP50: percentile(statusMs, 50),
        statusP95: percentile(statusMs, 95),
        statusBytesLast: Math.max(0, ...pages.map((p) => p.statusBytes[p.statusBytes.length - 1] ?? 0))
      },
      verdict: {
        memoryFlat,
        rssFlatAfterWarmup,
        liveHeapFlat,
        warmupLongEnough,
        firstRuleMemoryFlat,
        latencyFlat,
        eventsExact,
        flat: memoryFlat && latencyFlat && eventsExact
      }
    }
  } finally {
    for (const p of pages) p.close()
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM")
    rmSync(projectPath, { recursive: true, force: true })
    // BENCH_DASHBOARD_KEEP_MEMORY=DIR keeps serve-memory.mjs's records there, for a closer look.
    const keep = process.env.BENCH_DASHBOARD_KEEP_MEMORY
    if (keep !== undefined) cpSync(memoryDir, keep, { recursive: true })
    rmSync(memoryDir, { recursive: true, force: true })
  }
}

/** A GC serve-memory.mjs recorded: a forced full one (with its pause, ms), or one of V8's own major ones. */
interface GcRecord {
  readonly gc: "full" | "major"
  readonly at: number
  readonly heapUsed: number
  readonly ms?: number
}

/** Every GC serve-memory.mjs recorded in `dir`, oldest first. */
const readGcs = (dir: string): Array<GcRecord> =>
  readdirSync(dir).filter((name) => name.startsWith("serve-memory-")).flatMap((name) =>
    readFileSync(join(dir, name), "utf8").split("\n").flatMap((line) => {
      if (line.length === 0) return []
      const record = JSON.parse(line) as { readonly gc?: string }
      return record.gc === "full" || record.gc === "major" ? [record as GcRecord] : []
    })
  ).sort((a, b) => a.at - b.at)

interface SecondRecord {
  readonly at: number
  readonly rss: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
  readonly newSpace: number
  readonly oldSpace: number
  readonly minor: number
  readonly minorMs: number
  readonly major: number
  readonly majorMs: number
}

/** The once-a-second records serve-memory.mjs wrote in `dir`. */
const readSeconds = (dir: string): Array<SecondRecord> =>
  readdirSync(dir).filter((name) => name.startsWith("serve-memory-")).flatMap((name) =>
    readFileSync(join(dir, name), "utf8").split("\n").flatMap((line) => {
      if (line.length === 0) return []
      const record = JSON.parse(line) as Partial<SecondRecord> & { readonly gc?: string; readonly at: number }
      return record.gc === undefined && record.minor !== undefined ? [record as SecondRecord] : []
    })
  ).sort((a, b) => a.at - b.at)

/** A figure for the tables; NaN (JSON's null after bench/run.ts reads the result back) prints as "–". */
const f = (n: number | null) => (n === null || Number.isNaN(n) ? "–" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const signed = (n: number | null, digits: number) => (n === null || Number.isNaN(n) ? "–" : n.toFixed(digits))

/** The result as Markdown (the tables of bench/README.md). */
export const formatDashboard = (r: DashboardResult): string => {
  const lines = [
    `dashboard: ${r.title}; load average ${r.loadAverageStart.map((l) => l.toFixed(1)).join(", ")} at the start, ${
      r.loadAverageEnd.map((l) => l.toFixed(1)).join(", ")
    } at the end`,
    "",
    "| phase | commands/s | p50 ms | p95 ms | p99 ms |",
    "|---|---:|---:|---:|---:|",
    `| A: no page | ${f(r.commandsPerSecond.A)} | ${f(r.latency.A.p50)} | ${f(r.latency.A.p95)} | ${f(r.latency.A.p99)} |`,
    `| B: ${r.pages.count} pages | ${f(r.commandsPerSecond.B)} | ${f(r.latency.B.p50)} | ${f(r.latency.B.p95)} | ${f(r.latency.B.p99)} |`,
    "",
    "| window (s from start) | phase | commands | failed | p50 ms | p95 ms | p99 ms | server RSS MiB |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
    ...r.windows.map((w) =>
      `| ${w.fromS}–${w.fromS + WINDOW_S} | ${w.phase} | ${w.commands} | ${w.failed} | ${f(w.p50)} | ${f(w.p95)} | ${f(w.p99)} | ${f(w.rssMiB)} |`
    ),
    "",
    "| server RSS, MiB | A start | A end | B start | B level (after 5 s) | B end | B max | B trend, MiB/min |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    `| fleet-db serve | ${f(r.rss.startA)} | ${f(r.rss.endA)} | ${f(r.rss.startB)} | ${f(r.rss.levelB)} | ${f(r.rss.endB)} | ${f(r.rss.maxB)} | ${
      r.rss.trendMiBPerMin.toFixed(2)
    } |`,
    "",
    `pages: ${r.pages.count}; events expected per page ${r.pages.expectedEvents}, delivered ${r.pages.delivered.min}–${r.pages.delivered.max}; missing ${r.pages.missing}, repeated ${r.pages.repeated}, out of order ${r.pages.outOfOrder}, not in the log after Last-Event-ID ${r.pages.unexpected}${
      r.pages.reconnects > 0 ? `; reconnections ${r.pages.reconnects} (${Object.entries(r.pages.dropReasons).map(([k, n]) => `${k} ×${n}`).join(", ")}, at ${r.pages.dropsAtS.join(", ")} s)` : "; no reconnection"
    }`,
    `status fetches: ${r.pages.statusFetches} (${r.pages.statusFailures} failed), p50 ${f(r.pages.statusP50)} ms, p95 ${f(r.pages.statusP95)} ms; last snapshot ${(r.pages.statusBytesLast / 1_024).toFixed(0)} KiB`,
    `command errors: ${Object.keys(r.commandErrors).length === 0 ? "none" : Object.entries(r.commandErrors).map(([k, n]) => `${k} ×${n}`).join(", ")}; largest schedule lag ${f(r.maxLagMs)} ms`,
    `live heap (after two forced full GCs every ${FULL_GC_S} s), MiB: phase A median ${f(r.liveHeap.A.median)} (${f(r.liveHeap.A.min)}–${f(r.liveHeap.A.max)}, ${r.liveHeap.samples.A} samples); phase B middle third ${
      f(r.liveHeap.middleThirdB)
    }, last third ${f(r.liveHeap.lastThirdB)}, ${f(r.liveHeap.minB)}–${f(r.liveHeap.maxB)} after the warm-up (${r.liveHeap.samples.B} samples); trend after the warm-up ${
      signed(r.liveHeap.trendMiBPerMinAfterWarmup, 2)
    } MiB/min; each measurement paused the server ${f(r.liveHeap.fullGcPauseMs.p50)} ms (max ${f(r.liveHeap.fullGcPauseMs.max)})`,
    `heap in use after V8's own major GCs (not deciding), phase B: middle third ${f(r.afterMajorGcs.middleThirdB)}, last third ${f(r.afterMajorGcs.lastThirdB)}, ${f(r.afterMajorGcs.minB)}–${
      f(r.afterMajorGcs.maxB)
    } after the warm-up (${r.afterMajorGcs.count} GCs)`,
    `RSS after the warm-up (from ${r.rss.afterWarmup.fromS} s): level ${f(r.rss.afterWarmup.level)} MiB, trend ${signed(r.rss.afterWarmup.trendMiBPerMin, 2)} MiB/min = ${
      signed(r.rss.afterWarmup.trendOverWindow * 100, 1)
    } % over the window`,
    `RSS band after the warm-up (5th–95th percentile): ${f(r.rss.afterWarmup.p5)}–${f(r.rss.afterWarmup.p95)} MiB; V8 spaces there (median): young ${f(r.gc.newSpaceMedian)} MiB, old ${
      f(r.gc.oldSpaceMedian)
    } (${f(r.gc.oldSpaceMin)}–${f(r.gc.oldSpaceMax)})`,
    `RSS after the warm-up, by part (median MiB, trend MiB/min): ${
      (["heapTotal", "external", "rest"] as const).map((k) => `${k} ${f(r.gc.parts[k].median)} (${signed(r.gc.parts[k].trendMiBPerMin, 2)})`).join(", ")
    }`,
    `GC after the warm-up: ${f(r.gc.minorPerS)} scavenges/s (${f(r.gc.minorMsPerS)} ms/s), ${r.gc.majors} major (${f(r.gc.majorMsPerS)} ms/s); server CPU ${
      f(r.gc.cpuA * 100)
    } % of a core in phase A, ${f(r.gc.cpuB * 100)} % in phase B after the warm-up${r.serverFlags.length > 0 ? `; server flags: ${r.serverFlags.join(" ")}` : ""}`,
    `first rule (for the record, not deciding): memory ${r.verdict.firstRuleMemoryFlat ? "flat" : "NOT flat"} (end ≤ ${THRESHOLDS.rssEndOverLevel}× level 5–10 s into B: ${f(r.rss.endB)} vs ${
      f(r.rss.levelB)
    }; trend over the phase ${(r.rss.trendOverPhase * 100).toFixed(1)} % < ${THRESHOLDS.rssTrendOverLevel * 100} %)`,
    `verdict: memory ${r.verdict.memoryFlat ? "flat" : "NOT flat"} (warm-up ${r.memoryWarmupSeconds} s${r.verdict.warmupLongEnough ? "" : ` — too short, needs ≥ ${MEMORY_WARMUP_ENOUGH_S} s: BENCH_SCALE ≥ 12`}; RSS trend after it ${
      signed(r.rss.afterWarmup.trendOverWindow * 100, 1)
    } % < ${THRESHOLDS.rssTrendAfterWarmup * 100} %: ${r.verdict.rssFlatAfterWarmup ? "yes" : "no"}; live heap last/middle third ${signed(r.liveHeap.lastThirdB / r.liveHeap.middleThirdB, 2)} ≤ ${
      THRESHOLDS.liveHeapLastOverMiddle
    }: ${r.verdict.liveHeapFlat ? "yes" : "no"}), latency ${r.verdict.latencyFlat ? "flat" : "NOT flat"} (p95 B/A ${(r.latency.B.p95 / r.latency.A.p95).toFixed(2)} ≤ ${THRESHOLDS.p95BOverA}), events ${
      r.verdict.eventsExact ? "exact" : "NOT exact"
    } → ${r.verdict.flat ? "FLAT" : "NOT FLAT"}`
  ]
  return lines.join("\n")
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode, projectPath, index, rate, durationMs] = process.argv.slice(2)
  if (mode === "worker") {
    await runWorker(projectPath!, Number(index), Number(rate), Number(durationMs))
  } else {
    try {
      const result = await main()
      process.stderr.write(formatDashboard(result) + "\n")
      process.stdout.write(JSON.stringify(result) + "\n")
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
      process.exitCode = 1
    }
  }
}
