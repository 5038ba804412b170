/**
 * Pilots: the registered AI agents of a project, known by callsign.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"
import type { InvalidInput } from "../errors.js"
import { PilotNotFound } from "../errors.js"
import { Callsign, Text } from "../schema/common.js"
import { Pilot } from "../schema/streams.js"
import { makeCommands } from "./internal/command.js"
import { decodeDuration, decodeInput } from "./internal/input.js"

/** Input of `Pilots.register`. Omitted fields keep their stored value (defaults on first registration). */
export const RegisterPilot = Schema.Struct({
  callsign: Callsign,
  program: Schema.optional(Text({ min: 1, max: 200 })),
  model: Schema.optional(Text({ min: 1, max: 200 })),
  task_description: Schema.optional(Text({ max: 65_536 }))
})
export type RegisterPilot = typeof RegisterPilot.Encoded

/** Options of `Pilots.list`. */
export interface ListPilotsOptions {
  /** Only pilots whose last activity is at most this long ago. */
  readonly activeWithin?: Duration.DurationInput | undefined
}

/** The Pilots service. */
export interface PilotsShape {
  /**
   * Register a pilot, or update a registered one (idempotent upsert on the callsign). Keeps
   * `registered_at`, refreshes `last_active_at`. Appends `pilot_registered`.
   */
  readonly register: (input: RegisterPilot) => Effect.Effect<Pilot, InvalidInput | SqlError>
  /** Mark the pilot active now. Writes no event. */
  readonly heartbeat: (callsign: string) => Effect.Effect<Pilot, PilotNotFound | InvalidInput | SqlError>
  /** The pilot with this callsign. */
  readonly get: (callsign: string) => Effect.Effect<Pilot, PilotNotFound | InvalidInput | SqlError>
  /** Registered pilots, most recently active first. */
  readonly list: (options?: ListPilotsOptions) => Effect.Effect<ReadonlyArray<Pilot>, InvalidInput | SqlError>
}

/** The Pilots service. */
export class Pilots extends Context.Tag("@fleettools/db/Pilots")<Pilots, PilotsShape>() {}

const decodeRegister = decodeInput(RegisterPilot)
const decodeCallsign = decodeInput(Callsign, "callsign")
const decodeWithin = decodeDuration("activeWithin")
const decodePilot = Schema.decodeUnknown(Pilot)
const decodePilots = Schema.decodeUnknown(Schema.Array(Pilot))

/** Build the Pilots service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands

  const register: PilotsShape["register"] = (raw) =>
    Effect.flatMap(decodeRegister(raw), (input) =>
      command("Pilots.register", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const existing = yield* sql<{ readonly id: number }>`SELECT id FROM pilots WHERE project_key = ${projectKey} AND callsign = ${input.callsign}`
          const rows = existing.length === 0
            ? yield* sql`INSERT INTO pilots (project_key, callsign, program, model, task_description, registered_at, last_active_at)
                VALUES (${projectKey}, ${input.callsign}, ${input.program ?? "opencode"}, ${input.model ?? "unknown"},
                        ${input.task_description ?? null}, ${now}, ${now})
                RETURNING *`
            : yield* sql`UPDATE pilots SET
                  program = COALESCE(${input.program ?? null}, program),
                  model = COALESCE(${input.model ?? null}, model),
                  task_description = COALESCE(${input.task_description ?? null}, task_description),
                  last_active_at = ${now}
                WHERE id = ${existing[0]!.id}
                RETURNING *`
          const pilot = yield* Effect.orDie(decodePilot(rows[0]))
          yield* emit("pilot_registered", {
            callsign: pilot.callsign,
            program: pilot.program,
            model: pilot.model,
            task_description: pilot.task_description,
            first: existing.length === 0
          })
          return pilot
        })))

  const heartbeat: PilotsShape["heartbeat"] = (raw) =>
    Effect.flatMap(decodeCallsign(raw), (callsign) =>
      command("Pilots.heartbeat", ({ now, projectKey, sql }) =>
        sql`UPDATE pilots SET last_active_at = MAX(last_active_at, ${now})
            WHERE project_key = ${projectKey} AND callsign = ${callsign} RETURNING *`.pipe(
          Effect.flatMap((rows) =>
            rows.length === 0 ? Effect.fail(new PilotNotFound({ callsign })) : Effect.orDie(decodePilot(rows[0]))
          )
        )))

  const get: PilotsShape["get"] = (raw) =>
    Effect.flatMap(decodeCallsign(raw), (callsign) =>
      query("Pilots.get", ({ projectKey, sql }) =>
        sql`SELECT * FROM pilots WHERE project_key = ${projectKey} AND callsign = ${callsign}`.pipe(
          Effect.flatMap((rows) =>
            rows.length === 0 ? Effect.fail(new PilotNotFound({ callsign })) : Effect.orDie(decodePilot(rows[0]))
          )
        )))

  const list: PilotsShape["list"] = (options = {}) =>
    Effect.flatMap(
      options.activeWithin === undefined
        ? Effect.succeed(Option.none<number>())
        : Effect.map(decodeWithin(options.activeWithin), Option.some),
      (within) =>
        query("Pilots.list", ({ now, projectKey, sql }) =>
          Effect.flatMap(
            Option.match(within, {
              onNone: () => sql`SELECT * FROM pilots WHERE project_key = ${projectKey} ORDER BY last_active_at DESC, id`,
              onSome: (ms) =>
                sql`SELECT * FROM pilots WHERE project_key = ${projectKey} AND last_active_at >= ${now - ms}
                    ORDER BY last_active_at DESC, id`
            }),
            (rows) => Effect.orDie(decodePilots(rows))
          ))
    )

  return Pilots.of({ register, heartbeat, get, list })
})

/** The Pilots service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Pilots, make)
