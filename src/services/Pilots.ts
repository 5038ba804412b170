/**
 * Pilots: the registered AI agents of a project, known by callsign.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"
import type { InvalidInput, UndecodableRow } from "../errors.js"
import { PilotNotFound } from "../errors.js"
import { Callsign, Text } from "../schema/common.js"
import { Pilot } from "../schema/coordinationTables.js"
import { countOf, limitClause } from "./internal/sqlParts.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows, found } from "./internal/rows.js"
import { decodeDuration, decodeInput, decodeListLimit } from "./internal/input.js"
import type { LostPilot, SweepOptions } from "./internal/sweep.js"
import { makeSweep } from "./internal/sweep.js"

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
  /** At most this many pilots (1 … 10,000, the most recently active); all of them when omitted. */
  readonly limit?: number | undefined
}

/**
 * The Pilots service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface PilotsShape {
  /**
   * Register a pilot, or update a registered one (idempotent upsert on the callsign). Keeps
   * `registered_at`, refreshes `last_active_at` (never backwards; a lost pilot is active again).
   * Appends `pilot_registered`.
   */
  readonly register: (input: RegisterPilot) => Effect.Effect<Pilot, InvalidInput | UndecodableRow | SqlError>
  /** Mark the pilot active now (never backwards; a lost pilot is active again). Writes no event. */
  readonly heartbeat: (callsign: string) => Effect.Effect<Pilot, PilotNotFound | InvalidInput | UndecodableRow | SqlError>
  /** The pilot with this callsign. */
  readonly get: (callsign: string) => Effect.Effect<Pilot, PilotNotFound | InvalidInput | UndecodableRow | SqlError>
  /** Registered pilots, most recently active first. */
  readonly list: (options?: ListPilotsOptions) => Effect.Effect<ReadonlyArray<Pilot>, InvalidInput | UndecodableRow | SqlError>
  /** How many pilots are registered (lost ones included). */
  readonly count: () => Effect.Effect<number, SqlError>
  /**
   * Declare lost every pilot whose last activity is older than `staleAfter`, one command per
   * pilot: its locks and active reservations are released and its in-progress and blocked
   * sorties reopen, unassigned (events with reason `"pilot_lost"`; each reopened sortie's event
   * names who had it and its latest checkpoint), `lost_at` is set, and `pilot_lost` is appended.
   * Idempotent: a lost pilot is not lost again until it heartbeats or registers and goes quiet
   * once more. Returns the pilots lost by this call, stalest first.
   */
  readonly sweep: (options: SweepOptions) => Effect.Effect<ReadonlyArray<LostPilot>, InvalidInput | SqlError>
}

/** The Pilots service. */
export class Pilots extends Context.Tag("@fleettools/db/Pilots")<Pilots, PilotsShape>() {}

const decodeRegister = decodeInput(RegisterPilot)
const decodeCallsign = decodeInput(Callsign, "callsign")
const decodeWithin = decodeDuration("activeWithin")
const decodePilot = decodeRow("pilots", Pilot)
const decodePilots = decodeRows("pilots", Pilot)

/** Build the Pilots service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands

  const register: PilotsShape["register"] = (raw) =>
    Effect.flatMap(decodeRegister(raw), (input) =>
      command("Pilots.register", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          // A new callsign is one statement; the update runs only when the callsign exists. (A
          // single `ON CONFLICT DO UPDATE` could not say which happened, and `first` must.)
          const inserted = yield* sql`INSERT INTO pilots (project_key, callsign, program, model, task_description, registered_at, last_active_at)
              VALUES (${projectKey}, ${input.callsign}, ${input.program ?? "opencode"}, ${input.model ?? "unknown"},
                      ${input.task_description ?? null}, ${now}, ${now})
              ON CONFLICT (project_key, callsign) DO NOTHING
              RETURNING *`
          const first = inserted.length > 0
          const rows = first
            ? inserted
            // `last_active_at` never goes backwards (a clock behind must not make a live pilot look
            // stale), and activity after a `pilot_lost` ends the lost state (`lost_at > last_active_at`)
            // even when this clock is behind the sweeper's: it is at least as late as the declaration.
            : yield* sql`UPDATE pilots SET
                  program = COALESCE(${input.program ?? null}, program),
                  model = COALESCE(${input.model ?? null}, model),
                  task_description = COALESCE(${input.task_description ?? null}, task_description),
                  last_active_at = MAX(last_active_at, ${now}, COALESCE(lost_at, 0))
                WHERE project_key = ${projectKey} AND callsign = ${input.callsign}
                RETURNING *`
          const pilot = yield* decodePilot(rows[0])
          yield* emit("pilot_registered", {
            callsign: pilot.callsign,
            program: pilot.program,
            model: pilot.model,
            task_description: pilot.task_description,
            first
          })
          return pilot
        })))

  const heartbeat: PilotsShape["heartbeat"] = (raw) =>
    Effect.flatMap(decodeCallsign(raw), (callsign) =>
      command("Pilots.heartbeat", ({ now, projectKey, sql }) =>
        // As in `register`: never backwards, and it ends a lost state.
        sql`UPDATE pilots SET last_active_at = MAX(last_active_at, ${now}, COALESCE(lost_at, 0))
            WHERE project_key = ${projectKey} AND callsign = ${callsign} RETURNING *`.pipe(
          Effect.flatMap(found(decodePilot, () => new PilotNotFound({ callsign })))
        )))

  const get: PilotsShape["get"] = (raw) =>
    Effect.flatMap(decodeCallsign(raw), (callsign) =>
      query("Pilots.get", ({ projectKey, sql }) =>
        sql`SELECT * FROM pilots WHERE project_key = ${projectKey} AND callsign = ${callsign}`.pipe(
          Effect.flatMap(found(decodePilot, () => new PilotNotFound({ callsign })))
        )))

  const list: PilotsShape["list"] = (options) =>
    Effect.flatMap(
      Effect.all([
        // `?.`: untyped callers may pass null for "no options".
        options?.activeWithin === undefined
          ? Effect.succeed(Option.none<number>())
          : Effect.map(decodeWithin(options.activeWithin), Option.some),
        decodeListLimit(options?.limit)
      ]),
      ([within, limit]) =>
        query("Pilots.list", ({ now, projectKey, sql }) =>
          Effect.flatMap(
            sql`SELECT * FROM pilots WHERE project_key = ${projectKey}
                ${Option.match(within, { onNone: () => sql``, onSome: (ms) => sql`AND last_active_at >= ${now - ms}` })}
                ORDER BY last_active_at DESC, id ${limitClause(sql, limit)}`,
            (rows) => decodePilots(rows)
          ))
    )

  const count: PilotsShape["count"] = () =>
    query("Pilots.count", ({ projectKey, sql }) =>
      Effect.map(sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM pilots WHERE project_key = ${projectKey}`, countOf))

  const sweep: PilotsShape["sweep"] = makeSweep({ command, query })

  return Pilots.of({ register, heartbeat, get, list, count, sweep })
})

/** The Pilots service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Pilots, make)
