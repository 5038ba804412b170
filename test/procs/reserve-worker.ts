/**
 * Multi-process reservation worker:
 * `reserve-worker.ts <projectPath> <logFile> <workers> <acquisitions> <callsign> [relative|absolute]`.
 *
 * Appends "ready <pid>" to `logFile` and waits until `workers` ready lines are there, so all
 * workers race from the same moment. Then, until it has held `acquisitions` reservations, it
 * tries to reserve a random request of exclusive, mostly overlapping patterns with a short TTL.
 * While it holds one it appends "enter <pid> <now> <expires_at> <patterns>" and, after a short
 * hold, "exit <pid> <now> <expires_at> <patterns>", then releases explicitly. Prints one JSON line
 * per unexpected error and a final summary line. With `absolute`, every pattern it reserves and
 * releases is spelled as an absolute path under `projectPath` (padded, with `./` and `//`), the
 * way harnesses with absolute-path file tools write them; the log keeps the relative pattern.
 */
import { Effect, Either } from "effect"
import { randomInt } from "node:crypto"
import { appendFileSync, readFileSync } from "node:fs"
import { FleetDb, Reservations } from "../../src/index.js"

const [projectPath, logFile, workersArg, acquisitionsArg, callsign, spelling = "relative"] = process.argv.slice(2)
if (
  projectPath === undefined || logFile === undefined || workersArg === undefined || acquisitionsArg === undefined ||
  callsign === undefined
) {
  throw new Error("usage: reserve-worker.ts <projectPath> <logFile> <workers> <acquisitions> <callsign>")
}
const workers = Number(workersArg)
const acquisitions = Number(acquisitionsArg)
// Bounded work even if something goes wrong.
const MAX_ATTEMPTS = 20 * acquisitions + 2_000

/** What the workers ask for: mostly mutually overlapping patterns, some disjoint, some pairs. */
const REQUESTS: ReadonlyArray<ReadonlyArray<string>> = [
  ["src/**"],
  ["src/a/*.ts"],
  ["src/a/x.ts"],
  ["src/*/x.ts"],
  ["docs/**"],
  ["src/b/y.ts"],
  ["src/a/x.ts", "docs/**"],
  ["src/b/y.ts", "src/a/*.ts"]
]

/** How this worker writes a pattern. */
const spell = (pattern: string): string => spelling === "absolute" ? ` ${projectPath}/.//${pattern} ` : pattern

const waitForAll = Effect.gen(function*() {
  appendFileSync(logFile, `ready ${process.pid}\n`)
  for (;;) {
    const ready = readFileSync(logFile, "utf8").split("\n").filter((line) => line.startsWith("ready ")).length
    if (ready >= workers) return
    yield* Effect.sleep("5 millis")
  }
})

const program = Effect.gen(function*() {
  const reservations = yield* Reservations
  // Open the connection before the race starts.
  yield* reservations.active({ callsign })
  yield* waitForAll

  let acquired = 0
  let attempts = 0
  const refusedBy: Record<string, number> = {}
  const conflictPairs = new Set<string>()
  while (acquired < acquisitions && attempts < MAX_ATTEMPTS) {
    attempts++
    const paths = REQUESTS[randomInt(REQUESTS.length)]!
    const result = yield* Effect.either(reservations.reserve({ callsign, paths: paths.map(spell), ttl: "3 seconds" }))
    if (Either.isLeft(result)) {
      const error = result.left
      refusedBy[error._tag] = (refusedBy[error._tag] ?? 0) + 1
      if (error._tag === "ReservationConflict") {
        for (const c of error.conflicts) conflictPairs.add(`${c.path}|${c.pattern}`)
      } else {
        process.stdout.write(JSON.stringify({ error: error._tag, message: error.message }) + "\n")
      }
      yield* Effect.sleep(`${randomInt(3)} millis`)
      continue
    }
    const expiresAt = Math.min(...result.right.map((r) => r.expires_at.epochMillis))
    const label = paths.join(",")
    appendFileSync(logFile, `enter ${process.pid} ${Date.now()} ${expiresAt} ${label}\n`)
    // Widen the window so that a broken reservation would show up as interleaved holders.
    yield* Effect.sleep(`${1 + randomInt(3)} millis`)
    appendFileSync(logFile, `exit ${process.pid} ${Date.now()} ${expiresAt} ${label}\n`)
    const released = yield* Effect.either(reservations.release({ callsign, paths: paths.map(spell) }))
    if (Either.isLeft(released)) {
      process.stdout.write(JSON.stringify({ error: released.left._tag, message: released.left.message }) + "\n")
    }
    acquired++
  }
  process.stdout.write(
    JSON.stringify({ done: true, pid: process.pid, callsign, acquired, attempts, refusedBy, conflictPairs: [...conflictPairs] }) +
      "\n"
  )
})

Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
