/**
 * Opens `{projectPath}/.fleet/fleet.db` with FleetDb.layerFile (running the migrations) and
 * prints one JSON line: `{ ok: true, pid }` or `{ ok: false, tag, reason, target, message }`.
 * Usage: open-worker.ts <projectPath> [projectKey] [readyDir index workers]
 * (with a start line, it opens only when all `workers` are at it: test/procs/barrier.ts).
 */
import { Effect } from "effect"
import { FleetDb, Pilots } from "../../src/index.js"
import { barrier } from "./barrier.js"

const [projectPath, projectKey, readyDir, index, workers] = process.argv.slice(2)

const open = Effect.gen(function*() {
  const pilots = yield* Pilots
  yield* pilots.register({ callsign: `opener-${process.pid}` })
}).pipe(Effect.provide(FleetDb.layerFile({ projectPath: projectPath!, projectKey: projectKey || undefined })))

const program = readyDir === undefined ? open : Effect.zipRight(barrier(readyDir, Number(index), Number(workers)), open)

const exit = await Effect.runPromiseExit(program)
if (exit._tag === "Success") {
  process.stdout.write(JSON.stringify({ ok: true, pid: process.pid }) + "\n")
} else {
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  process.stdout.write(
    JSON.stringify(
      failure === undefined
        ? { ok: false, tag: "Defect", message: String(exit.cause) }
        : {
          ok: false,
          tag: failure._tag,
          reason: "reason" in failure ? failure.reason : undefined,
          target: "target" in failure ? failure.target : undefined,
          message: failure.message
        }
    ) + "\n"
  )
}
