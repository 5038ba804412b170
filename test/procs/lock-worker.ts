/**
 * Multi-process lock worker: `lock-worker.ts <projectPath> <logFile> <cycles> <holder>`.
 * Runs `cycles` acquire/release cycles on one key of the project's file database (waiting for the
 * lock), appending "enter <pid> <fence>" and "exit <pid> <fence>" to `logFile` inside each critical
 * section. Prints one JSON line per error and a final summary line.
 */
import { Clock, Effect } from "effect"
import { appendFileSync } from "node:fs"
import { FleetDb, Locks } from "../../src/index.js"

const [projectPath, logFile, cyclesArg, holder] = process.argv.slice(2)
if (projectPath === undefined || logFile === undefined || cyclesArg === undefined || holder === undefined) {
  throw new Error("usage: lock-worker.ts <projectPath> <logFile> <cycles> <holder>")
}
const cycles = Number(cyclesArg)

const program = Effect.gen(function*() {
  const locks = yield* Locks
  let completed = 0
  let errors = 0
  const startedAt = yield* Clock.currentTimeMillis
  for (let i = 0; i < cycles; i++) {
    const cycle = Effect.gen(function*() {
      const lock = yield* locks.acquire("shared", { holder, ttl: "30 seconds", wait: "2 minutes" })
      appendFileSync(logFile, `enter ${process.pid} ${lock.fence}\n`)
      // Widen the critical section so that a broken lock would show up as interleaved lines.
      yield* Effect.sleep("1 millis")
      appendFileSync(logFile, `exit ${process.pid} ${lock.fence}\n`)
      yield* locks.release(lock)
    })
    const result = yield* Effect.either(cycle)
    if (result._tag === "Right") {
      completed++
    } else {
      errors++
      process.stdout.write(JSON.stringify({ error: result.left._tag, message: result.left.message }) + "\n")
    }
  }
  const endedAt = yield* Clock.currentTimeMillis
  process.stdout.write(JSON.stringify({ done: true, pid: process.pid, holder, completed, errors, startedAt, endedAt }) + "\n")
})

Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
