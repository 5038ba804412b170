/**
 * One of N processes working through a sortie graph on one file. Opens
 * `{projectPath}/.fleet/fleet.db`, waits at the barrier, then as callsign `worker-{index}`:
 *
 * - mode `drain`: `claimNext` + `complete` until every sortie of the project is closed;
 * - mode `files`: `claimNext({ reserveFiles: true })`, then `complete` and release its
 *   reservations, until every sortie is closed.
 *
 * When nothing is claimable but work remains (blocked behind another worker's sortie, or files
 * held by one), it polls. A failed call is recorded and retried (at most 50 failures).
 *
 * Prints one JSON line per claim `{ claimed, skipped? }`, one per error `{ error }`, and a last
 * line `{ done: true, count, errors }`, or `{ done: false, error }` on a defect (exit code 1).
 *
 * Usage: graph-worker.ts <projectPath> <readyDir> <index> <workers> <drain|files>
 */
import { Cause, Effect, Exit, Option } from "effect"
import type { Sortie } from "../../src/index.js"
import { FleetDb, Reservations, Sorties } from "../../src/index.js"
import { barrier } from "./barrier.js"

const [projectPath, readyDir, indexArg, workersArg, mode] = process.argv.slice(2)
const index = Number(indexArg)
const workers = Number(workersArg)
const callsign = `worker-${index}`

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

const program = Effect.gen(function*() {
  const sorties = yield* Sorties
  const reservations = yield* Reservations
  yield* barrier(readyDir!, index, workers)
  let count = 0
  let errors = 0
  const attempt = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.flatMap(Effect.exit(effect), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(Option.some(exit.value))
      errors++
      print({ error: Cause.pretty(exit.cause) })
      return Effect.succeed(Option.none<A>())
    })
  for (let polls = 0; errors < 50 && polls < 200_000; polls++) {
    let claimed: Sortie | undefined
    if (mode === "files") {
      const claim = yield* attempt(sorties.claimNext(callsign, { reserveFiles: true, ttl: "10 minutes" }))
      if (Option.isNone(claim)) continue
      claimed = claim.value.sortie ?? undefined
      if (claimed !== undefined) print({ claimed: claimed.id, skipped: claim.value.skipped.map((s) => s.sortie_id) })
    } else {
      const claim = yield* attempt(sorties.claimNext(callsign))
      if (Option.isNone(claim)) continue
      claimed = Option.getOrUndefined(claim.value)
      if (claimed !== undefined) print({ claimed: claimed.id })
    }
    if (claimed !== undefined) {
      count++
      yield* attempt(sorties.complete(claimed.id, { callsign }))
      if (mode === "files") yield* attempt(reservations.release({ callsign }))
      continue
    }
    const remaining = yield* attempt(sorties.list())
    if (Option.isSome(remaining) && remaining.value.every((s) => s.status === "closed")) break
    yield* Effect.sleep("2 millis")
  }
  print({ done: true, count, errors })
}).pipe(Effect.provide(FleetDb.layerFile({ projectPath: projectPath! })))

const exit = await Effect.runPromiseExit(program)
if (exit._tag === "Failure") {
  print({ done: false, error: String(exit.cause) })
  process.exitCode = 1
}
