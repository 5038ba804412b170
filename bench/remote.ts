/**
 * Lock cycles/s and claims/s on a libSQL server next to a local file:
 * `npx tsx bench/remote.ts` starts its own sqld (test/support/sqld.ts) on 127.0.0.1, then measures
 * in one process, one operation at a time:
 *
 * - lock cycle = `Locks.acquire` + `Locks.release` (two write transactions);
 * - claim      = `Sorties.claimNext` over pre-created open sorties (one write transaction);
 * - raw tx     = raw `@libsql/client`: one write transaction with one INSERT (the round-trip floor).
 *
 * on a `.fleet/fleet.db` file, over HTTP, over WebSocket, and on an embedded replica (its writes
 * go to the server). Prints a table and one JSON line.
 */
import * as Libsql from "@libsql/client"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Locks, Sorties } from "../src/index.js"
import { findSqld, startSqld } from "../test/support/sqld.js"
import { measure } from "./lib/harness.js"

interface Backend {
  readonly name: string
  readonly layer: (projectKey: string) => Layer.Layer<FleetDb.FleetServices, unknown>
  readonly raw: () => Libsql.Client
}

const main = async () => {
  const binary = findSqld({ fetch: true })
  if (binary._tag !== "Found") throw new Error(`no sqld: ${binary.reason}`)
  const server = await startSqld(binary.path)
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-bench-remote-"))
  const wsUrl = server.url.replace(/^http:/, "ws:")
  const backends: ReadonlyArray<Backend> = [
    {
      name: "file",
      layer: (projectKey) => FleetDb.layerFile({ projectPath: join(dir, "file"), projectKey }),
      raw: () => Libsql.createClient({ url: `file:${join(dir, "file", ".fleet", "fleet.db")}`, timeout: 5_000 })
    },
    { name: "http", layer: (projectKey) => FleetDb.layer({ url: server.url, projectKey }), raw: () => Libsql.createClient({ url: server.url }) },
    { name: "ws", layer: (projectKey) => FleetDb.layer({ url: wsUrl, projectKey }), raw: () => Libsql.createClient({ url: wsUrl }) },
    {
      name: "replica",
      layer: (projectKey) => FleetDb.layer({ url: `file:${join(dir, "replica", "fleet.db")}`, syncUrl: server.url, projectKey }),
      raw: () => Libsql.createClient({ url: `file:${join(dir, "raw-replica.db")}`, syncUrl: server.url })
    }
  ]
  const rows: Array<Record<string, string | number>> = []
  try {
    for (const backend of backends) {
      const runtime = ManagedRuntime.make(backend.layer(`bench-${backend.name}`))
      await runtime.runPromise(Effect.void)
      const raw = backend.raw()
      await raw.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, v TEXT)")
      let holder = 0
      let claimed = 0
      const results = await measure([
        {
          name: "lock cycle",
          run: (ops) =>
            runtime.runPromise(Effect.gen(function*() {
              const locks = yield* Locks
              for (let i = 0; i < ops; i++) {
                const lock = yield* locks.acquire("bench", { holder: `h${holder++ % 4}`, ttl: "30 seconds" })
                yield* locks.release(lock)
              }
            }))
        },
        {
          name: "claim",
          prepare: (ops) =>
            runtime.runPromise(Effect.flatMap(Sorties, (sorties) =>
              Effect.forEach(Array.from({ length: ops }, (_, i) => i), (i) => sorties.create({ title: `s${i}`, priority: i % 5 }), { discard: true }))),
          run: (ops) =>
            runtime.runPromise(Effect.gen(function*() {
              const sorties = yield* Sorties
              for (let i = 0; i < ops; i++) {
                const next = yield* sorties.claimNext(`pilot-${claimed++ % 4}`)
                if (next._tag === "None") return yield* Effect.dieMessage("no open sortie left to claim")
              }
            }))
        },
        {
          name: "raw tx",
          run: async (ops) => {
            for (let i = 0; i < ops; i++) {
              const tx = await raw.transaction("write")
              await tx.execute({ sql: "INSERT INTO bench_raw (v) VALUES (?)", args: ["x"] })
              await tx.commit()
            }
          }
        }
      ], { rounds: 6, warmup: 1, roundMs: 500, maxOps: 400 })
      raw.close()
      await runtime.dispose()
      const by = (name: string) => results.find((r) => r.name === name)!
      rows.push({
        backend: backend.name,
        "lock cycles/s": Math.round(1e6 / by("lock cycle").wallUs),
        "claims/s": Math.round(1e6 / by("claim").wallUs),
        "raw tx/s": Math.round(1e6 / by("raw tx").wallUs),
        "lock cycle / raw tx": Number((by("lock cycle").wallUs / by("raw tx").wallUs).toFixed(2)),
        "claim / raw tx": Number((by("claim").wallUs / by("raw tx").wallUs).toFixed(2))
      })
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(`${binary.version}, one process, one operation at a time (medians of 6 rounds)`)
  console.table(rows)
  console.log(JSON.stringify({ bench: "remote", rows }))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
