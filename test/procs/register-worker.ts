/**
 * One of N processes registering pilots on one file. Opens `{projectPath}/.fleet/fleet.db`,
 * drops `ready-{index}` into `readyDir` and waits until all `workers` are ready (so they really
 * contend), then registers `total` pilots: every `sharedEvery`-th registration is one of the
 * callsigns shared by all workers (`shared-{k}`), the rest are its own (`w{index}-{n}`).
 *
 * Prints one JSON line per registration `{ callsign, id, registered_at, last_active_at }` and a
 * last line `{ done: true, count, startedAt, finishedAt }` (wall-clock epoch ms), or
 * `{ done: false, error }` on failure (exit code 1).
 *
 * Usage: register-worker.ts <projectPath> <readyDir> <index> <workers> <total> <sharedEvery>
 */
import { Effect } from "effect"
import { FleetDb, Pilots } from "../../src/index.js"
import { barrier } from "./barrier.js"

const [projectPath, readyDir, indexArg, workersArg, totalArg, sharedEveryArg] = process.argv.slice(2)
const index = Number(indexArg)
const workers = Number(workersArg)
const total = Number(totalArg)
const sharedEvery = Number(sharedEveryArg)

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

const startLine = barrier(readyDir!, index, workers)

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  yield* startLine
  const startedAt = Date.now()
  for (let n = 0; n < total; n++) {
    const callsign = n % sharedEvery === 0 ? `shared-${n / sharedEvery}` : `w${index}-${n}`
    const pilot = yield* pilots.register({ callsign, model: `worker-${index}`, task_description: `registration ${n}` })
    print({
      callsign: pilot.callsign,
      id: pilot.id,
      registered_at: pilot.registered_at.epochMillis,
      last_active_at: pilot.last_active_at.epochMillis
    })
  }
  print({ done: true, count: total, startedAt, finishedAt: Date.now() })
}).pipe(Effect.provide(FleetDb.layerFile({ projectPath: projectPath! })))

const exit = await Effect.runPromiseExit(program)
if (exit._tag === "Failure") {
  print({ done: false, error: String(exit.cause) })
  process.exitCode = 1
}
