/**
 * One process with its own embedded replica (`replicaFile`) of a libSQL server (`syncUrl`),
 * racing other such processes. Waits at the start line (test/procs/barrier.ts, as `holder`) so the
 * processes really contend.
 *
 *   replica-worker.ts locks  <replicaFile> <syncUrl> <projectKey> <readyDir> <workers> <holder> <logFile> <cycles>
 *     `cycles` waiting acquire/release cycles on one key, appending "enter <pid> <fence>" and
 *     "exit <pid> <fence>" to `logFile` inside each critical section.
 *   replica-worker.ts claims <replicaFile> <syncUrl> <projectKey> <readyDir> <workers> <holder>
 *     `Sorties.claimNext` until nothing is left; prints `{ claimed: id }` per sortie.
 *
 * Prints one JSON line per error and a final `{ done: true, … }` summary (wall-clock ms).
 */
import { Clock, Effect, Option } from "effect"
import { appendFileSync } from "node:fs"
import { FleetDb, Locks, Sorties } from "../../src/index.js"
import { barrier } from "./barrier.js"

const [mode, replicaFile, syncUrl, projectKey, readyDir, workersArg, holder, logFile, cyclesArg] = process.argv.slice(2)
if (
  (mode !== "locks" && mode !== "claims") || replicaFile === undefined || syncUrl === undefined ||
  projectKey === undefined || readyDir === undefined || workersArg === undefined || holder === undefined
) {
  throw new Error("usage: replica-worker.ts locks|claims <replicaFile> <syncUrl> <projectKey> <readyDir> <workers> <holder> [<logFile> <cycles>]")
}
const workers = Number(workersArg)

const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

const locks = Effect.gen(function*() {
  const locks = yield* Locks
  const cycles = Number(cyclesArg)
  let completed = 0
  let errors = 0
  for (let i = 0; i < cycles; i++) {
    const result = yield* Effect.either(Effect.gen(function*() {
      const lock = yield* locks.acquire("shared", { holder, ttl: "30 seconds", wait: "2 minutes" })
      appendFileSync(logFile!, `enter ${process.pid} ${lock.fence}\n`)
      // Widen the critical section so that a broken lock would show up as interleaved lines.
      yield* Effect.sleep("1 millis")
      appendFileSync(logFile!, `exit ${process.pid} ${lock.fence}\n`)
      yield* locks.release(lock)
    }))
    if (result._tag === "Right") completed++
    else {
      errors++
      print({ error: result.left._tag, message: result.left.message })
    }
  }
  return { completed, errors }
})

const claims = Effect.gen(function*() {
  const sorties = yield* Sorties
  let completed = 0
  let errors = 0
  for (;;) {
    const result = yield* Effect.either(sorties.claimNext(holder))
    if (result._tag === "Left") {
      errors++
      print({ error: result.left._tag, message: result.left.message })
      if (errors > 20) break
      continue
    }
    if (Option.isNone(result.right)) break
    completed++
    print({ claimed: result.right.value.id })
  }
  return { completed, errors }
})

const program = Effect.gen(function*() {
  yield* barrier(readyDir, holder, workers)
  const startedAt = yield* Clock.currentTimeMillis
  const { completed, errors } = yield* (mode === "locks" ? locks : claims)
  const endedAt = yield* Clock.currentTimeMillis
  print({ done: true, pid: process.pid, holder, completed, errors, startedAt, endedAt })
})

Effect.runPromise(
  program.pipe(Effect.provide(FleetDb.layer({ url: `file:${replicaFile}`, syncUrl, projectKey })))
).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
