/**
 * One of N processes racing `Sorties.claimNext` on one file. Opens `{projectPath}/.fleet/fleet.db`,
 * drops `ready-{index}` into `readyDir` and waits until all `workers` are ready (so they really
 * contend), then claims as callsign `worker-{index}` until `claimNext` returns `None`.
 *
 * A failed `claimNext` is recorded and retried (at most 50 failures), so the test sees errors
 * instead of a worker that silently stopped early.
 *
 * Prints one JSON line per claim `{ claimed, seq }` (seq = this worker's claim counter), one per
 * error `{ error }`, and a last line `{ done: true, count, errors, startedAt, finishedAt }`
 * (wall-clock epoch ms), or `{ done: false, error }` on a defect (exit code 1).
 *
 * Usage: claim-worker.ts <projectPath> <readyDir> <index> <workers>
 */
import { Cause, Effect, Exit, Option } from "effect"
import { FleetDb, Sorties } from "../../src/index.js"
import { barrier } from "./barrier.js"

const [projectPath, readyDir, indexArg, workersArg] = process.argv.slice(2)
const index = Number(indexArg)
const workers = Number(workersArg)
const callsign = `worker-${index}`

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

const startLine = barrier(readyDir!, index, workers)

const program = Effect.gen(function*() {
  const sorties = yield* Sorties
  yield* startLine
  const startedAt = Date.now()
  let count = 0
  let errors = 0
  while (errors < 50) {
    const exit = yield* Effect.exit(sorties.claimNext(callsign))
    if (Exit.isFailure(exit)) {
      errors++
      print({ error: Cause.pretty(exit.cause) })
      continue
    }
    if (Option.isNone(exit.value)) break
    count++
    print({ claimed: exit.value.value.id, seq: count })
  }
  print({ done: true, count, errors, startedAt, finishedAt: Date.now() })
}).pipe(Effect.provide(FleetDb.layerFile({ projectPath: projectPath! })))

const exit = await Effect.runPromiseExit(program)
if (exit._tag === "Failure") {
  print({ done: false, error: String(exit.cause) })
  process.exitCode = 1
}
