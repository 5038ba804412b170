/**
 * The work graph at scale: `tsx bench/graph.ts` builds a file database of 10,000 sorties joined
 * by 20,000 `blocks` dependencies (each sortie depends on two of the 50 before it, so almost
 * every sortie waits), and one without a graph; each also holds 20 ready sorties without
 * dependencies, so `ready({ limit: 20 })` returns 20 rows from both. Measured on both, through
 * the service:
 *
 * - `Sorties.ready({ limit: 20 })`;
 * - `Sorties.claimNext` (each round first adds that many ready sorties, untimed);
 * - closing a sortie: `complete` of one with 50 dependents in the graph, of one without any in
 *   the empty database (each round first adds the sorties to close, untimed).
 *
 * Prints one JSON line: µs/op per operation and database, and the graph/empty ratios.
 */
import type * as Libsql from "@libsql/client"
import { Effect } from "effect"
import { Sorties } from "../src/index.js"
import type { Impl, Measurement } from "./lib/harness.js"
import { measure } from "./lib/harness.js"
import { write } from "./lib/raw.js"
import { createDatabase, dbFile, openRaw, openService, PROJECT_KEY as pk, tempDir } from "./lib/setup.js"

const SORTIES = 10_000
const EDGES_PER_SORTIE = 2
const DEPENDENTS = 50

/** A deterministic pseudo-random sequence (mulberry32). */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const insertSortie = (tx: Libsql.Transaction, id: string, status: string, assigned: string | null, priority: number, waits: number, now: number) =>
  tx.execute({
    sql: `INSERT INTO sorties (id, project_key, title, status, priority, assigned_to, created_at, started_at, unclosed_blockers)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [id, pk, `sortie ${id}`, status, priority, assigned, now, assigned === null ? null : now, waits]
  })

const insertEdge = (tx: Libsql.Transaction, sortie: string, dependsOn: string, now: number) =>
  tx.execute({
    sql: `INSERT INTO sortie_dependencies (project_key, sortie_id, depends_on_id, kind, created_at) VALUES (?, ?, ?, 'blocks', ?)`,
    args: [pk, sortie, dependsOn, now]
  })

/** 10,000 open sorties and 20,000 edges, with the readiness cache as the service keeps it. */
const seedGraph = (client: Libsql.Client) =>
  write(client, async (tx) => {
    const next = random(7)
    const now = Date.now()
    let edges = 0
    for (let i = 0; i < SORTIES; i++) {
      const deps = new Set<number>()
      while (i >= EDGES_PER_SORTIE && deps.size < EDGES_PER_SORTIE) deps.add(i - 1 - Math.floor(next() * Math.min(i, 50)))
      await insertSortie(tx, `srt_g${i}`, "open", null, Math.floor(next() * 5), deps.size, now + i)
      for (const dep of deps) {
        await insertEdge(tx, `srt_g${i}`, `srt_g${dep}`, now)
        edges++
      }
    }
    // Top the edge count up to exactly 2 per sortie: the first sorties have none.
    for (let i = SORTIES - 1; edges < SORTIES * EDGES_PER_SORTIE; i--) {
      await insertEdge(tx, `srt_g${i}`, `srt_g${i - 51}`, now)
      await tx.execute({ sql: `UPDATE sorties SET unclosed_blockers = unclosed_blockers + 1 WHERE id = ?`, args: [`srt_g${i}`] })
      edges++
    }
    return edges
  })

let batch = 0
/** `count` ready sorties (claimable now), most urgent so that claimNext takes them. */
const seedReady = (client: Libsql.Client, count: number) =>
  write(client, async (tx) => {
    const b = batch++
    for (let i = 0; i < count; i++) await insertSortie(tx, `srt_r${b}_${i}`, "open", null, 0, 0, Date.now())
  })

/** `count` in-progress sorties to close, each with `dependents` open sorties waiting on it; returns their ids. */
const seedToClose = (client: Libsql.Client, count: number, dependents: number) =>
  write(client, async (tx) => {
    const b = batch++
    const ids: Array<string> = []
    const now = Date.now()
    for (let i = 0; i < count; i++) {
      const id = `srt_c${b}_${i}`
      ids.push(id)
      await insertSortie(tx, id, "in_progress", "viper-1", 2, 0, now)
      for (let d = 0; d < dependents; d++) {
        await insertSortie(tx, `${id}_d${d}`, "open", null, 4, 1, now)
        await insertEdge(tx, `${id}_d${d}`, id, now)
      }
    }
    return ids
  })

type Runtime = Awaited<ReturnType<typeof openService>>

const serviceImpl = (name: string, runtime: Runtime, body: () => Effect.Effect<unknown, unknown, Sorties>, prepare?: (ops: number) => Promise<void>): Impl => ({
  name,
  ...(prepare ? { prepare } : {}),
  run: (ops) =>
    runtime.runPromise(Effect.gen(function*() {
      for (let i = 0; i < ops; i++) yield* body()
    }))
})

const main = async () => {
  const scale = Number(process.env.BENCH_SCALE ?? "1")
  const rounds = Math.max(3, Math.round(7 * scale))
  const { cleanup, dir } = tempDir("graph")
  const closers: Array<() => Promise<void> | void> = []
  try {
    for (const name of ["empty", "graph"]) await createDatabase(dir, name)
    const raw = { empty: await openRaw(dbFile(dir, "empty")), graph: await openRaw(dbFile(dir, "graph")) }
    closers.push(() => raw.empty.close(), () => raw.graph.close())
    const seedStarted = performance.now()
    const edges = await seedGraph(raw.graph)
    const seedMs = performance.now() - seedStarted
    // Both answer `ready({ limit: 20 })` with 20 rows (decoding them is most of its cost): 20 ready
    // sorties in each, and the graph's own waiting sorties on top.
    for (const client of [raw.empty, raw.graph]) {
      await write(client, async (tx) => {
        for (let i = 0; i < 20; i++) await insertSortie(tx, `srt_e${i}`, "open", null, 4, 0, Date.now())
      })
    }
    const rt = { empty: await openService(dir, "empty"), graph: await openService(dir, "graph") }
    closers.push(() => rt.empty.dispose(), () => rt.graph.dispose())
    const readyInGraph = (await rt.graph.runPromise(Effect.flatMap(Sorties, (s) => s.ready()))).length

    const ready = await measure([
      serviceImpl("empty", rt.empty, () => Effect.flatMap(Sorties, (s) => s.ready({ limit: 20 }))),
      serviceImpl("graph", rt.graph, () => Effect.flatMap(Sorties, (s) => s.ready({ limit: 20 })))
    ], { rounds, roundMs: 300 * scale })

    const claimNext = await measure([
      serviceImpl("empty", rt.empty, () => Effect.flatMap(Sorties, (s) => s.claimNext("viper-1")), (ops) => seedReady(raw.empty, ops)),
      serviceImpl("graph", rt.graph, () => Effect.flatMap(Sorties, (s) => s.claimNext("viper-1")), (ops) => seedReady(raw.graph, ops))
    ], { rounds, roundMs: 300 * scale })

    const queues = { empty: [] as Array<string>, graph: [] as Array<string> }
    const closing = (name: "empty" | "graph", dependents: number) =>
      serviceImpl(
        name,
        rt[name],
        () => Effect.flatMap(Sorties, (s) => s.complete(queues[name].shift()!)),
        async (ops) => {
          queues[name] = await seedToClose(raw[name], ops, dependents)
        }
      )
    const close = await measure([closing("empty", 0), closing("graph", DEPENDENTS)], { rounds, ops: Math.max(20, Math.round(100 * scale)) })

    const readyAfterClosing = await rt.graph.runPromise(Effect.flatMap(Sorties, (s) => s.ready({ limit: 10_000 })))
    const ratio = (ms: ReadonlyArray<Measurement>) => ({
      best: ms[1]!.bestUs / ms[0]!.bestUs,
      median: ms[1]!.wallUs / ms[0]!.wallUs
    })
    process.stdout.write(JSON.stringify({
      sorties: SORTIES,
      edges,
      seedMs,
      readyInGraph,
      readyAfterClosing: readyAfterClosing.length,
      ready: { results: ready, ratio: ratio(ready) },
      claimNext: { results: claimNext, ratio: ratio(claimNext) },
      close: { results: close, ratio: ratio(close) }
    }) + "\n")
  } finally {
    for (const close of closers.reverse()) await close()
    cleanup()
  }
}

await main()
