/**
 * Failure and recovery: a pilot goes silent holding a lock, a reservation and a half-done
 * sortie; a sweep hands everything back and the next pilot resumes from the checkpoint. Then a
 * projection drifts from the log (a hand-edit), `verify` names it and `rebuild` repairs it.
 *
 * Run with `npx tsx examples/recovery.ts`.
 */
import { SqlClient } from "@effect/sql"
import { Console, Effect, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Checkpoints, FleetDb, Locks, Pilots, Projections, Reservations, Sorties } from "../src/index.js"

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  const sorties = yield* Sorties
  const locks = yield* Locks
  const reservations = yield* Reservations
  const checkpoints = yield* Checkpoints
  const projections = yield* Projections

  // viper-1 starts work... and its process dies without a word.
  yield* pilots.register({ callsign: "viper-1" })
  const sortie = yield* sorties.create({ title: "Rewrite the session store" })
  yield* sorties.claim(sortie.id, "viper-1")
  yield* locks.acquire("migrations", { holder: "viper-1", ttl: "10 minutes" })
  yield* reservations.reserve({ callsign: "viper-1", paths: ["src/auth/**"], ttl: "10 minutes" })
  yield* checkpoints.create({ callsign: "viper-1", trigger: "auto", sortie_id: sortie.id, progress_percent: 60, summary: "store done, tests left" })

  // A supervisor sweeps (here after 50 ms of silence; `fleet-db sweep --stale-after 10m` in real life).
  yield* Effect.sleep("100 millis")
  const lost = yield* pilots.sweep({ staleAfter: "50 millis" })
  for (const pilot of lost) {
    yield* Console.log(`${pilot.callsign} lost: released locks [${pilot.released_locks.join(", ")}], ` +
      `reservations [${pilot.released_reservations.join(", ")}], reopened ${pilot.reopened_sorties.length} sortie(s)`)
  }
  yield* Console.log(`second sweep: ${(yield* pilots.sweep({ staleAfter: "50 millis" })).length} more (idempotent)`)

  // viper-2 takes over where viper-1 left off.
  yield* pilots.register({ callsign: "viper-2" })
  const resumed = Option.getOrThrow(yield* sorties.claimNext("viper-2"))
  const from = lost[0]!.reopened_sorties.find((s) => s.sortie_id === resumed.id)?.checkpoint_id
  const checkpoint = Option.getOrThrow(yield* checkpoints.latest({ sortie_id: resumed.id }))
  yield* Console.log(`viper-2 resumes "${resumed.title}" from checkpoint ${from === checkpoint.id ? "(the one in the event) " : ""}` +
    `at ${checkpoint.progress_percent}%: ${checkpoint.summary}`)
  yield* locks.acquire("migrations", { holder: "viper-2", ttl: "10 minutes" })
  yield* Console.log("viper-2 holds the migrations lock")

  // Someone edits a table by hand: the projection no longer matches the log.
  const sql = yield* SqlClient.SqlClient
  yield* sql`UPDATE sorties SET status = 'closed' WHERE id = ${resumed.id}`
  const differences = yield* projections.verify()
  yield* Console.log(`verify: ${differences.map((d) => d.message).join("; ")}`)

  // Rebuild every projection from the event log, with progress.
  const summary = yield* projections.rebuild({
    onProgress: (p) => Console.log(`  rebuild ${p.phase}: ${p.done}/${p.total}`)
  })
  yield* Console.log(`rebuilt from ${summary.events} events; verify now: ${(yield* projections.verify()).length} differences`)
  yield* Console.log(`the sortie is ${(yield* sorties.get(resumed.id)).status} again`)
})

const projectPath = mkdtempSync(join(tmpdir(), "fleet-recovery-"))
await Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath }))))
rmSync(projectPath, { recursive: true, force: true })
