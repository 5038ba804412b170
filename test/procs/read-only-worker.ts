/**
 * Opens `{projectPath}/.fleet/fleet.db` with `FleetDb.layerFile({ readOnly })`, lists the pilots,
 * then tries to register one. Prints one JSON line:
 * `{ ok: true, callsigns, write: { tag, cause } }` or `{ ok: false, tag, reason, message }`.
 * Usage: read-only-worker.ts <projectPath> [readOnly: "true" | "false"]
 */
import { Effect } from "effect"
import { FleetDb, Pilots } from "../../src/index.js"

const [projectPath, readOnly] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  const callsigns = (yield* pilots.list()).map((pilot) => pilot.callsign)
  const write = yield* Effect.exit(pilots.register({ callsign: `writer-${process.pid}` }))
  if (write._tag === "Success" || write.cause._tag !== "Fail") return { callsigns, write: { tag: write._tag } }
  const error = write.cause.error
  const cause = (error as { readonly cause?: { readonly _tag?: unknown; readonly message?: unknown } }).cause
  return { callsigns, write: { tag: error._tag, cause: cause?._tag, message: cause?.message } }
}).pipe(Effect.provide(FleetDb.layerFile({ projectPath: projectPath!, readOnly: readOnly !== "false" })))

const exit = await Effect.runPromiseExit(program)
if (exit._tag === "Success") {
  process.stdout.write(JSON.stringify({ ok: true, ...exit.value }) + "\n")
} else {
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  process.stdout.write(
    JSON.stringify(
      failure === undefined
        ? { ok: false, tag: "Defect", message: String(exit.cause) }
        : { ok: false, tag: failure._tag, reason: "reason" in failure ? failure.reason : undefined, message: failure.message }
    ) + "\n"
  )
}
