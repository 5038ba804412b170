/**
 * Pilots and the event log: register (an idempotent upsert), heartbeat, list the active pilots,
 * and follow the log — read by sequence, or as a live stream.
 *
 * Run with `npx tsx examples/events.ts`.
 */
import { Chunk, Console, Effect, Fiber, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Events, FleetDb, Pilots } from "../src/index.js"

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  const events = yield* Events

  // Follow the log from the start: the backlog first, then each new event as it is appended.
  const follower = yield* events.stream({ types: ["pilot_registered", "deploy.finished"], pollInterval: "20 millis" }).pipe(
    Stream.take(4),
    Stream.runCollect,
    Effect.fork
  )

  // Registering twice is an upsert: registered_at stays, omitted fields keep their values.
  const first = yield* pilots.register({ callsign: "viper-1", model: "claude", task_description: "fix the build" })
  yield* Effect.sleep("10 millis")
  const again = yield* pilots.register({ callsign: "viper-1", task_description: "write the tests" })
  yield* Console.log(
    `viper-1 (${again.model}) registered at ${first.registered_at.epochMillis === again.registered_at.epochMillis ? "the same time" : "?"}, ` +
      `now on "${again.task_description}"`
  )
  yield* pilots.register({ callsign: "maverick", program: "aider" })

  // Heartbeats write no event; list() shows who was active recently, most recent first.
  yield* pilots.heartbeat("maverick")
  const active = yield* pilots.list({ activeWithin: "5 minutes" })
  yield* Console.log(`active: ${active.map((p) => p.callsign).join(", ")}`)

  // Bad input is a typed error naming the field; nothing is written.
  const refused = yield* Effect.flip(pilots.register({ callsign: " padded " }))
  yield* Console.log(`refused: ${refused.message}`)
  yield* pilots.get("ghost").pipe(Effect.catchTag("PilotNotFound", (e) => Console.log(`get: ${e.message}`)))

  // Any tool can log its own event types (JSON data); they read back as `known: false`.
  yield* events.append({ type: "deploy.finished", data: { version: "1.4.2", ok: true } })

  const log = yield* events.read({ after: 0, limit: 100 })
  for (const e of log) {
    // Known types narrow to their typed payload.
    const detail = e.known && e.type === "pilot_registered"
      ? `${e.data.callsign}${e.data.first ? " (first time)" : ""}`
      : JSON.stringify(e.data)
    yield* Console.log(`#${e.sequence} ${e.type}: ${detail}`)
  }
  yield* Console.log(`latest sequence: ${yield* events.latestSequence}`)

  const followed = yield* Fiber.join(follower)
  yield* Console.log(`the stream delivered: ${Chunk.toReadonlyArray(followed).map((e) => `#${e.sequence}`).join(" ")}`)
})

const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-events-example-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).finally(() =>
  rmSync(projectPath, { recursive: true, force: true })
)
