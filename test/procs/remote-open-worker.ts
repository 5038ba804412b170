/**
 * Opens `FleetDb.layerConfig` (FLEET_DB_URL, FLEET_DB_AUTH_TOKEN, FLEET_PROJECT_KEY from the
 * environment), registers the pilot named by argv[2], lists the project's pilots and prints
 * `{ ok: true, callsigns }` — or `{ ok: false, tag, reason, message }` when it fails.
 * A separate process so that NODE_EXTRA_CA_CERTS (read at start-up) can trust a test certificate.
 */
import { Effect } from "effect"
import { FleetDb, Pilots } from "../../src/index.js"

const callsign = process.argv[2] ?? "remote-1"

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  yield* pilots.register({ callsign })
  return (yield* pilots.list()).map((p) => p.callsign).sort()
})

Effect.runPromise(Effect.either(Effect.provide(program, FleetDb.layerConfig))).then((result) => {
  process.stdout.write(
    JSON.stringify(
      result._tag === "Right"
        ? { ok: true, callsigns: result.right }
        : { ok: false, tag: result.left._tag, reason: "reason" in result.left ? result.left.reason : undefined, message: result.left.message }
    ) + "\n"
  )
})
