import { it, expect } from "@effect/vitest"
import { Effect } from "effect"
import { Events, FleetDb, Pilots } from "../src/index.js"

it.effect("registers a pilot and logs its event", () =>
  Effect.gen(function*() {
    const pilots = yield* Pilots
    const events = yield* Events
    const p = yield* pilots.register({ callsign: "viper-1", model: "claude" })
    expect(p.callsign).toBe("viper-1")
    expect(p.program).toBe("opencode")
    const log = yield* events.read()
    expect(log.map((e) => e.type)).toEqual(["pilot_registered"])
    expect(yield* events.latestSequence).toBe(log[0]!.sequence)
  }).pipe(Effect.provide(FleetDb.layerMemory())))
