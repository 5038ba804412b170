/**
 * The Promise face, for code without an Effect runtime: open once, call the services as
 * Promises, catch the same tagged errors, hold a lock around async work, follow the event log
 * with `for await`, close.
 *
 * Run with `npx tsx examples/promise.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LockHeld, ReservationConflict } from "../src/index.js"
import { openFleet } from "../src/promise.js"

const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-promise-"))
const fleet = await openFleet({ projectPath })
try {
  await fleet.pilots.register({ callsign: "viper-1", model: "claude-sonnet" })
  await fleet.pilots.register({ callsign: "viper-2" })

  const mission = await fleet.missions.create({ title: "Passwordless login" })
  await fleet.sorties.create({ title: "Magic-link API", mission_id: mission.id, files: ["src/api/auth/**"] })
  const sortie = await fleet.sorties.claimNext("viper-1", { mission_id: mission.id })
  console.log(`viper-1 claimed ${sortie?.title}; nothing left for viper-2: ${await fleet.sorties.claimNext("viper-2")}`)

  await fleet.reservations.reserve({ callsign: "viper-1", paths: ["src/api/auth/**"], ttl: "15 minutes" })
  try {
    await fleet.reservations.reserve({ callsign: "viper-2", paths: ["src/api/auth/session.ts"], ttl: "15 minutes" })
  } catch (err) {
    if (!(err instanceof ReservationConflict)) throw err
    console.log(`refused: ${err.conflicts.map((c) => `${c.path} held by ${c.holder}`).join(", ")}`)
  }

  const built = await fleet.locks.withLock("build", { holder: "viper-1", ttl: "30 seconds" }, async (lock) => {
    const other = await fleet.locks.acquire("build", { holder: "viper-2", ttl: "30 seconds" }).catch((err: unknown) => err)
    console.log(`viper-2 while viper-1 builds: ${other instanceof LockHeld ? other._tag : "acquired?!"}`)
    return `build under fence ${lock.fence}`
  })
  console.log(`${built}; lock free again: ${(await fleet.locks.current("build")) === undefined}`)

  if (sortie !== undefined) await fleet.sorties.complete(sortie.id, { callsign: "viper-1" })
  console.log(`mission ${(await fleet.missions.progress(mission.id)).percent}% done`)

  let n = 0
  for await (const event of fleet.events.stream()) {
    console.log(`#${event.sequence} ${event.type}`)
    if (++n === 5) break
  }
} finally {
  await fleet.close()
  rmSync(projectPath, { recursive: true, force: true })
}
