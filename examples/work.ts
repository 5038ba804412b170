/**
 * Missions, sorties and work orders: plan a mission, queue its sorties, let pilots claim the most
 * urgent one atomically, block / release / complete them, and follow the mission's progress.
 *
 * Run with `npx tsx examples/work.ts`.
 */
import { Console, Effect, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Events, FleetDb, Missions, Sorties, WorkOrders } from "../src/index.js"

const program = Effect.gen(function*() {
  const missions = yield* Missions
  const sorties = yield* Sorties
  const workOrders = yield* WorkOrders

  const mission = yield* missions.create({ title: "Passwordless login", created_by: "lead" })
  yield* missions.start(mission.id)

  // Priority 0 is the most urgent; `files` records the paths a sortie is expected to touch.
  const api = yield* sorties.create({ title: "Magic-link API", mission_id: mission.id, priority: 0, files: ["src/api/auth/**"] })
  yield* sorties.create({ title: "Login page", mission_id: mission.id, priority: 1, files: ["web/login/**"] })
  yield* sorties.create({ title: "Docs", mission_id: mission.id, priority: 3 })
  yield* workOrders.create({ sortie_id: api.id, title: "Token table migration" })

  // claimNext picks and claims in one write transaction: two pilots never get the same sortie.
  const mine = yield* sorties.claimNext("viper-1", { mission_id: mission.id })
  const theirs = yield* sorties.claimNext("maverick", { mission_id: mission.id })
  yield* Console.log(`viper-1 got ${Option.map(mine, (s) => s.title).pipe(Option.getOrElse(() => "nothing"))}`)
  yield* Console.log(`maverick got ${Option.map(theirs, (s) => s.title).pipe(Option.getOrElse(() => "nothing"))}`)

  // Claiming a taken sortie is a typed error that names the holder.
  yield* sorties.claim(api.id, "iceman").pipe(
    Effect.catchTag("SortieAlreadyClaimed", (e) => Console.log(`iceman: ${e.message}`))
  )

  // The holder works through its work orders, gets blocked, resumes and completes.
  for (const wo of yield* workOrders.list({ sortie_id: api.id })) {
    yield* workOrders.start(wo.id, { assigned_to: "viper-1" })
    yield* workOrders.complete(wo.id)
  }
  yield* sorties.block(api.id, "waiting for the SMTP credentials", { callsign: "viper-1" })
  yield* sorties.unblock(api.id, { callsign: "viper-1" })
  yield* sorties.complete(api.id, { callsign: "viper-1" })

  // maverick gives its sortie back: open and unassigned again, so anyone can claim it.
  if (Option.isSome(theirs)) yield* sorties.release(theirs.value.id, { callsign: "maverick" })

  // A move the status machine does not allow is refused (closed is final).
  yield* sorties.release(api.id).pipe(
    Effect.catchTag("InvalidTransition", (e) => Console.log(`release: ${e.message}`))
  )

  const progress = yield* missions.progress(mission.id)
  yield* Console.log(
    `progress: ${progress.percent}% of ${progress.total} sorties closed (${JSON.stringify(progress.by_status)})`
  )
  yield* Console.log(`open queue: ${(yield* sorties.list({ status: "open" })).map((s) => `[p${s.priority}] ${s.title}`).join(", ")}`)

  const log = yield* (yield* Events).read()
  yield* Console.log(`events: ${log.map((e) => e.type).join(", ")}`)
})

const projectPath = mkdtempSync(join(tmpdir(), "fleet-work-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).then(
  () => rmSync(projectPath, { recursive: true, force: true }),
  (error) => {
    rmSync(projectPath, { recursive: true, force: true })
    console.error(error)
    process.exitCode = 1
  }
)
