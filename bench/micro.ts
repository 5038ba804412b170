/**
 * Single-process benchmarks: `tsx bench/micro.ts <case>` runs one case and prints one JSON line.
 * Every implementation has its own database file, created the same way (see lib/setup.ts).
 */
import { SqlClient } from "@effect/sql"
import type * as Libsql from "@libsql/client"
import { Effect } from "effect"
import { Events, Locks, Messages, Pilots, Reservations, Sorties } from "../src/index.js"
import { makeWriteTransaction, WritePolicy } from "../src/sql/transaction.js"
import * as Drizzle from "./lib/drizzle.js"
import type { Impl, Measurement, MeasureOptions } from "./lib/harness.js"
import { measure } from "./lib/harness.js"
import * as Careful from "./lib/careful.js"
import * as Raw from "./lib/raw.js"
import { createDatabase, dbFile, openRaw, openService, PROJECT_KEY as pk, tempDir } from "./lib/setup.js"

type ServiceRuntime = Awaited<ReturnType<typeof openService>>

interface CaseResult {
  readonly case: string
  readonly title: string
  readonly results: ReadonlyArray<Measurement>
}

interface Setup {
  /** A raw client on implementation `name`'s database (created on first use). */
  readonly raw: (name?: string) => Promise<Libsql.Client>
  /** A service runtime on implementation `name`'s database (created on first use). */
  readonly service: (name?: string) => Promise<ServiceRuntime>
  /** Implementation `name`'s database file (created on first use). */
  readonly file: (name: string) => Promise<string>
}

const withSetup = async (label: string, f: (setup: Setup) => Promise<CaseResult>): Promise<CaseResult> => {
  const { cleanup, dir } = tempDir(label)
  const closers: Array<() => Promise<void> | void> = []
  const created = new Set<string>()
  const file = async (name: string) => {
    if (!created.has(name)) {
      created.add(name)
      await createDatabase(dir, name)
    }
    return dbFile(dir, name)
  }
  try {
    return await f({
      file,
      raw: async (name = "raw") => {
        const client = await openRaw(await file(name))
        closers.push(() => client.close())
        return client
      },
      service: async (name = "service") => {
        await file(name)
        const runtime = await openService(dir, name)
        closers.push(() => runtime.dispose())
        return runtime
      }
    })
  } finally {
    for (const close of closers.reverse()) await close()
    cleanup()
  }
}

/** A service implementation: `body(i)` is one operation; `n` of them run in one Effect loop. */
const serviceImpl = <R>(
  name: string,
  runtime: { readonly runPromise: <A, E>(effect: Effect.Effect<A, E, R>) => Promise<A> },
  body: (i: number) => Effect.Effect<unknown, unknown, R>,
  prepare?: (ops: number) => Promise<void>
): Impl => {
  let counter = 0
  return {
    name,
    ...(prepare ? { prepare } : {}),
    run: (ops) =>
      runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < ops; i++) yield* body(counter++)
      }))
  }
}

/** A promise-based implementation: `body(i)` is one operation, awaited in sequence. */
const asyncImpl = (name: string, body: (i: number) => Promise<unknown>, prepare?: (ops: number) => Promise<void>): Impl => {
  let counter = 0
  return {
    name,
    ...(prepare ? { prepare } : {}),
    run: async (ops) => {
      for (let i = 0; i < ops; i++) await body(counter++)
    }
  }
}

const TTL = 60_000

// Every case that has a careful baseline measures it first: ratios are taken against it, and
// against the same-statements baseline from the same run (see lib/careful.ts and lib/raw.ts).
const CAREFUL = "raw libsql (careful)"
const SAME = "raw libsql (same statements)"

/** 100,000 events of 10 types, interleaved, appended to each client's database (not timed). */
const seedLog = async (clients: ReadonlyArray<Libsql.Client>) => {
  // 100,000 events of 10 types, interleaved; a read asks for 100 of one type after a position.
  const types = ["sortie_claimed", "lock_acquired", "lock_released", "pilot_registered", "message_read",
    "sortie_completed", "file_released", "cursor_moved", "mission_started", "message_acked"] as const
  const payload = (type: string, i: number): unknown => {
    switch (type) {
      case "sortie_claimed":
        return { sortie_id: `srt_${i}`, callsign: "viper-1" }
      case "lock_acquired":
        return { lock_id: i, lock_key: "key", holder_id: "viper-1", fence: i, acquired_at: i, expires_at: i + 1 }
      case "lock_released":
        return { lock_id: i, lock_key: "key", holder_id: "viper-1", fence: i, reason: "released" }
      case "pilot_registered":
        return { callsign: `pilot-${i}`, program: "opencode", model: "m", task_description: null, first: true }
      case "message_read":
      case "message_acked":
        return { message_id: i, callsign: "bravo" }
      case "sortie_completed":
        return { sortie_id: `srt_${i}`, callsign: "viper-1" }
      case "file_released":
        return { callsign: "viper-1", reservations: [{ reservation_id: i, path_pattern: "src/**" }], reason: "released" }
      case "cursor_moved":
        return { consumer_id: "c", from: i, to: i + 1 }
      default:
        return { mission_id: `msn_${i}` }
    }
  }
  const all = Array.from({ length: 100_000 }, (_, i) => ({ type: types[i % types.length]!, data: payload(types[i % types.length]!, i) }))
  for (const seed of clients) {
    for (let start = 0; start < all.length; start += 10_000) await Raw.appendAll(seed, pk, all.slice(start, start + 10_000))
  }
}

const cases: Record<string, (options: MeasureOptions) => Promise<CaseResult>> = {
  register: (options) =>
    withSetup("register", async ({ file, raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      const { db } = await Drizzle.createTunedDb(await file("drizzle"))
      return {
        case: "register",
        title: "Pilots.register (new callsign)",
        results: await measure([
          asyncImpl(CAREFUL, (i) => Careful.registerPilot(careful, pk, { callsign: `pilot-${i}`, model: "m" })),
          asyncImpl(SAME, (i) => Raw.registerPilot(client, pk, { callsign: `pilot-${i}`, model: "m" })),
          serviceImpl("service", runtime, (i) =>
            Effect.flatMap(Pilots, (pilots) => pilots.register({ callsign: `pilot-${i}`, model: "m" }))),
          asyncImpl("drizzle + libsql", (i) => Drizzle.registerPilot(db, pk, { callsign: `pilot-${i}`, model: "m" }))
        ], options)
      }
    }),

  lock: (options) =>
    withSetup("lock", async ({ file, raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      const { db } = await Drizzle.createTunedDb(await file("drizzle"))
      return {
        case: "lock",
        title: "Locks acquire + release (one cycle)",
        results: await measure([
          asyncImpl(CAREFUL, async () => {
            const lock = await Careful.acquireLock(careful, pk, "key", "viper-1", TTL)
            await Careful.releaseLock(careful, pk, lock)
          }),
          asyncImpl(SAME, async () => {
            const lock = await Raw.acquireLock(client, pk, "key", "viper-1", TTL)
            await Raw.releaseLock(client, pk, lock)
          }),
          serviceImpl("service", runtime, () =>
            Effect.flatMap(Locks, (locks) =>
              Effect.flatMap(locks.acquire("key", { holder: "viper-1", ttl: TTL }), (lock) => locks.release(lock)))),
          asyncImpl("drizzle + libsql", async () => {
            const lock = await Drizzle.acquireLock(db, pk, "key", "viper-1", TTL)
            await Drizzle.releaseLock(db, pk, lock)
          })
        ], options)
      }
    }),

  lockHistory: (options) =>
    withSetup("lock-history", async ({ raw, service }) => {
      const seed = await raw("history")
      // 100,000 released leases on the key, fences 1…100,000, as years of use would leave.
      await Raw.write(seed, async (tx) => {
        const chunk = 500
        for (let start = 0; start < 100_000; start += chunk) {
          const args: Array<number | string> = []
          for (let i = start; i < start + chunk; i++) args.push(pk, "key", "old", i, i + 1, i + 1, i + 1)
          await tx.execute({
            sql: `INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, released_at, fence) VALUES ${
              Array.from({ length: chunk }, () => "(?, ?, ?, ?, ?, ?, ?)").join(", ")
            }`,
            args
          })
        }
      })
      const empty = await service("empty")
      const history = await service("history")
      const cycle = () =>
        Effect.flatMap(Locks, (locks) => Effect.flatMap(locks.acquire("key", { holder: "viper-1", ttl: TTL }), (lock) => locks.release(lock)))
      return {
        case: "lockHistory",
        title: "Locks cycle: empty table vs 100,000 released leases on the key",
        results: await measure([
          serviceImpl("service, empty table", empty, cycle),
          serviceImpl("service, 100k released leases on the key", history, cycle)
        ], options)
      }
    }),

  claimNext: (options) =>
    withSetup("claim", async ({ raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      const serviceSeed = await raw("service")
      let batch = 0
      return {
        case: "claimNext",
        title: "Sorties.claimNext (1 of N open sorties)",
        results: await measure([
          asyncImpl(CAREFUL, () => Careful.claimNext(careful, pk, "viper-1"), (ops) => Raw.seedSorties(careful, pk, `c${batch++}`, ops)),
          asyncImpl(SAME, () => Raw.claimNext(client, pk, "viper-1"), (ops) => Raw.seedSorties(client, pk, `r${batch++}`, ops)),
          serviceImpl(
            "service",
            runtime,
            () => Effect.flatMap(Sorties, (sorties) => sorties.claimNext("viper-1")),
            (ops) => Raw.seedSorties(serviceSeed, pk, `s${batch++}`, ops)
          )
        ], options)
      }
    }),

  reserve: (options) =>
    withSetup("reserve", async ({ raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      // 100 active reservations of other pilots, none overlapping the benchmark's pattern.
      for (const seed of [client, careful, await raw("service")]) {
        for (let i = 0; i < 100; i++) await Raw.reserve(seed, pk, `pilot-${i}`, [`pkg${i}/**`], 3_600_000)
      }
      const paths = ["src/app/**"]
      return {
        case: "reserve",
        title: "Reservations reserve + release, 100 active reservations present",
        results: await measure([
          asyncImpl(CAREFUL, async () => {
            await Careful.reserve(careful, pk, "viper-1", paths, TTL)
            await Careful.releaseReservations(careful, pk, "viper-1", paths)
          }),
          asyncImpl(SAME, async () => {
            await Raw.reserve(client, pk, "viper-1", paths, TTL)
            await Raw.releaseReservations(client, pk, "viper-1", paths)
          }),
          serviceImpl("service", runtime, () =>
            Effect.flatMap(Reservations, (reservations) =>
              Effect.zipRight(
                reservations.reserve({ callsign: "viper-1", paths, ttl: TTL }),
                reservations.release({ callsign: "viper-1", paths })
              )))
        ], options)
      }
    }),

  message: (options) =>
    withSetup("message", async ({ raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      for (const seed of [client, careful, await raw("service")]) {
        for (const callsign of ["alpha", "bravo"]) await Raw.registerPilot(seed, pk, { callsign })
      }
      const message = { from: "alpha", to: ["bravo"], subject: "status", body: "build is green, moving on to the parser" }
      return {
        case: "message",
        title: "Messages send + inbox (limit 10)",
        results: await measure([
          asyncImpl(CAREFUL, async () => {
            await Careful.send(careful, pk, message)
            await Careful.inbox(careful, pk, "bravo", 10)
          }),
          asyncImpl(SAME, async () => {
            await Raw.send(client, pk, message)
            await Raw.inbox(client, pk, "bravo", 10)
          }),
          serviceImpl("service", runtime, () =>
            Effect.flatMap(Messages, (messages) =>
              Effect.zipRight(messages.send(message), messages.inbox("bravo", { limit: 10 }))))
        ], options)
      }
    }),

  append: (options) =>
    withSetup("append", async ({ raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      const event = (i: number) => ({ type: "sortie_claimed" as const, data: { sortie_id: `srt_${i}`, callsign: "viper-1" } })
      return {
        case: "append",
        title: "Events.append (one event)",
        results: await measure([
          asyncImpl(CAREFUL, (i) => Careful.append(careful, pk, event(i).type, event(i).data)),
          asyncImpl(SAME, (i) =>
            Raw.write(client, (tx) => {
              const e = event(i)
              return tx.execute({
                sql: "INSERT INTO events (type, project_key, timestamp, data) VALUES (?, ?, ?, ?) RETURNING id",
                args: [e.type, pk, Date.now(), JSON.stringify(e.data)]
              })
            })),
          serviceImpl("service", runtime, (i) => Effect.flatMap(Events, (events) => events.append(event(i))))
        ], options)
      }
    }),

  appendAll: (options) =>
    withSetup("append-all", async ({ raw, service }) => {
      const client = await raw()
      const runtime = await service()
      const batch = Array.from({ length: 1_000 }, (_, i) => ({
        type: "sortie_claimed" as const,
        data: { sortie_id: `srt_${i}`, callsign: "viper-1" }
      }))
      return {
        case: "appendAll",
        title: "Events.appendAll (1,000 events, one transaction)",
        results: await measure([
          asyncImpl("raw libsql", () => Raw.appendAll(client, pk, batch)),
          serviceImpl("service", runtime, () => Effect.flatMap(Events, (events) => events.appendAll(batch)))
        ], { ...options, minOps: 3, maxOps: 50 })
      }
    }),

  read: (options) =>
    withSetup("read", async ({ raw, service }) => {
      const client = await raw()
      const careful = await raw("careful")
      const runtime = await service()
      await seedLog([client, careful, await raw("service")])
      // Start positions spread over the log (deterministic); every implementation reads the same ones.
      const after = (i: number) => ((i * 7_919) % 90_000)
      return {
        case: "read",
        title: "Events.read: 100 events of one type out of 100,000",
        results: await measure([
          asyncImpl(CAREFUL, (i) => Careful.readEvents(careful, pk, after(i), "sortie_claimed", 100)),
          asyncImpl(SAME, (i) => Raw.readEvents(client, pk, after(i), "sortie_claimed", 100)),
          serviceImpl("service", runtime, (i) =>
            Effect.flatMap(Events, (events) => events.read({ after: after(i), types: ["sortie_claimed"], limit: 100 })))
        ], options)
      }
    }),

  // The fast path (src/sql/sqlClient.ts) against @effect/sql's own statement machinery, on the
  // same client and file (what owning the connection buys per statement); and the commands'
  // transaction runner against a bare `sql.withTransaction` (what the runner adds).
  statement: (options) =>
    withSetup("statement", async ({ service }) => {
      const runtime = await service()
      const lookup = (sql: SqlClient.SqlClient, i: number) =>
        sql<{ readonly id: number }>`SELECT id FROM pilots WHERE project_key = ${pk} AND callsign = ${`pilot-${i % 100}`}`
      return {
        case: "statement",
        title: "one indexed SELECT outside a transaction",
        results: await measure([
          serviceImpl("@effect/sql statement (span, scope, acquirer)", runtime, (i) =>
            Effect.flatMap(SqlClient.SqlClient, (sql) => lookup(sql, i).withoutTransform)),
          serviceImpl("direct statement (sqlClient.ts)", runtime, (i) => Effect.flatMap(SqlClient.SqlClient, (sql) => lookup(sql, i)))
        ], options)
      }
    }),

  transaction: (options) =>
    withSetup("transaction", async ({ service }) => {
      const runtime = await service()
      const insert = (sql: SqlClient.SqlClient, i: number) =>
        sql`INSERT INTO events (type, project_key, timestamp, data) VALUES ('bench', ${pk}, ${i}, '{}')`
      return {
        case: "transaction",
        title: "a write transaction of one INSERT",
        results: await measure([
          serviceImpl("sql.withTransaction (makeWithTransaction)", runtime, (i) =>
            Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(insert(sql, i)))),
          serviceImpl("command runner (makeWriteTransaction: withTransaction + BUSY retry)", runtime, (i) =>
            Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.flatMap(WritePolicy, (policy) => makeWriteTransaction(sql, policy)(insert(sql, i)))))
        ], options)
      }
    }),

  newest: (options) =>
    withSetup("newest", async ({ raw, service }) => {
      const client = await raw()
      const runtime = await service()
      await seedLog([client, await raw("service")])
      return {
        case: "newest",
        title: "Events.read newest first: the newest 100 of one type out of 100,000",
        results: await measure([
          asyncImpl("raw libsql", () => Raw.readNewest(client, pk, "sortie_claimed", 100)),
          serviceImpl("service", runtime, () =>
            Effect.flatMap(Events, (events) => events.read({ types: ["sortie_claimed"], order: "desc", limit: 100 })))
        ], options)
      }
    })
}

const main = async () => {
  const name = process.argv[2]
  const scale = Number(process.env.BENCH_SCALE ?? "1")
  const run = name === undefined ? undefined : cases[name]
  if (run === undefined) {
    process.stderr.write(`usage: micro.ts <${Object.keys(cases).join("|")}>\n`)
    process.exitCode = 2
    return
  }
  const ops = process.env.BENCH_OPS === undefined ? undefined : Number(process.env.BENCH_OPS)
  const result = await run({ rounds: Math.max(3, Math.round(9 * scale)), roundMs: 300 * scale, ...(ops ? { ops } : {}) })
  process.stdout.write(JSON.stringify(result) + "\n")
}

await main()
