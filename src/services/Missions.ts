/**
 * Missions: large pieces of work, grouping sorties. Status machine
 * `pending →start→ in_progress →complete→ completed`; any other move fails with `InvalidTransition`.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import type { InvalidInput, UndecodableRow } from "../errors.js"
import { InvalidTransition, MissionNotFound } from "../errors.js"
import { Callsign, DEFAULT_PRIORITY, LongText, MissionStatus, Priority, Text, Title } from "../schema/common.js"
import { Mission } from "../schema/workTables.js"
import { idPrefix, makeId, MissionId } from "../schema/ids.js"
import { limitClause, tallyByStatus } from "./internal/sqlParts.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows, found } from "./internal/rows.js"
import { decodeInput, ListLimit } from "./internal/input.js"
import { cancelMissionSorties } from "./internal/graph.js"
import { moveStatus, statusFilter } from "./internal/status.js"
import type { SortieCounts } from "./Sorties.js"

/** Input of `Missions.create`. */
export const CreateMission = Schema.Struct({
  title: Title,
  description: Schema.optional(LongText),
  /** 0 (most urgent) … 4; default 1. */
  priority: Schema.optional(Priority),
  /** The callsign of whoever created the mission. */
  created_by: Schema.optional(Callsign)
})
export type CreateMission = typeof CreateMission.Encoded

/** Filters of `Missions.list`. */
export const ListMissions = Schema.Struct({
  status: Schema.optional(statusFilter(MissionStatus)),
  /** At most this many missions (1 … 10,000); all of them when omitted. */
  limit: Schema.optional(ListLimit)
})
export type ListMissions = typeof ListMissions.Encoded

/** How many missions there are, per status. */
export interface MissionCounts {
  /** Every mission (rows of other tools with other statuses included). */
  readonly total: number
  readonly by_status: { readonly pending: number; readonly in_progress: number; readonly completed: number; readonly cancelled: number }
}

/** How far a mission's sorties have come. */
export interface MissionProgress extends SortieCounts {
  readonly mission_id: MissionId
  /** Closed sorties as a whole percentage of `total`, rounded down (100 only when all are closed; 0 without sorties). */
  readonly percent: number
}

/**
 * The Missions service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface MissionsShape {
  /** Create a pending mission. Appends `mission_created`. */
  readonly create: (input: CreateMission) => Effect.Effect<Mission, InvalidInput | UndecodableRow | SqlError>
  /** The mission with this id. */
  readonly get: (id: string) => Effect.Effect<Mission, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  /** Missions matching the filter: most urgent priority first, then oldest, then id. */
  readonly list: (options?: ListMissions) => Effect.Effect<ReadonlyArray<Mission>, InvalidInput | UndecodableRow | SqlError>
  /** How many missions there are, per status (one `GROUP BY`). */
  readonly counts: () => Effect.Effect<MissionCounts, SqlError>
  /** pending → in_progress, setting `started_at`. Appends `mission_started`. */
  readonly start: (id: string) => Effect.Effect<Mission, MissionNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /** in_progress → completed, setting `completed_at`. Appends `mission_completed`. */
  readonly complete: (id: string) => Effect.Effect<Mission, MissionNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /**
   * pending or in_progress → cancelled, recording `reason` (`close_reason`, `completed_at`): every
   * sortie of the mission that is not closed is cancelled first (see `Sorties.cancel`), in the
   * same transaction. Appends `sortie_cancelled` for each, then `mission_cancelled`.
   */
  readonly cancel: (
    id: string,
    reason: string
  ) => Effect.Effect<Mission, MissionNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /** Counts of the mission's sorties by status, and the percentage closed (one consistent read). */
  readonly progress: (id: string) => Effect.Effect<MissionProgress, MissionNotFound | InvalidInput | SqlError>
}

/** The Missions service. */
export class Missions extends Context.Tag("@fleettools/db/Missions")<Missions, MissionsShape>() {}

const decodeCreate = decodeInput(CreateMission)
const decodeList = decodeInput(ListMissions)
const decodeId = decodeInput(MissionId, "id")
const decodeReason = decodeInput(Text({ min: 1, max: 65_536 }), "reason")
const decodeMission = decodeRow("missions", Mission)
const decodeMissions = decodeRows("missions", Mission)

/** Build the Missions service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands

  const toMission = (row: unknown) => decodeMission(row)

  const create: MissionsShape["create"] = (raw) =>
    Effect.flatMap(decodeCreate(raw), (input) =>
      command("Missions.create", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const id = yield* makeId(idPrefix.mission)
          const rows = yield* sql`INSERT INTO missions (id, project_key, title, description, status, priority, created_at, created_by)
              VALUES (${id}, ${projectKey}, ${input.title}, ${input.description ?? null}, 'pending',
                      ${input.priority ?? DEFAULT_PRIORITY}, ${now}, ${input.created_by ?? null})
              RETURNING *`
          const mission = yield* toMission(rows[0])
          yield* emit("mission_created", {
            mission_id: mission.id,
            title: mission.title,
            description: mission.description,
            priority: mission.priority,
            created_by: mission.created_by
          })
          return mission
        })))

  const get: MissionsShape["get"] = (raw) =>
    Effect.flatMap(decodeId(raw), (id) =>
      query("Missions.get", ({ projectKey, sql }) =>
        Effect.flatMap(
          sql`SELECT * FROM missions WHERE id = ${id} AND project_key = ${projectKey}`,
          found(toMission, () => new MissionNotFound({ id }))
        )))

  const list: MissionsShape["list"] = (raw = {}) =>
    Effect.flatMap(decodeList(raw), (filter) =>
      query("Missions.list", ({ projectKey, sql }) =>
        Effect.flatMap(
          sql`SELECT * FROM missions WHERE project_key = ${projectKey}
              ${filter.status === undefined ? sql`` : sql`AND status = ${filter.status}`}
              ORDER BY priority, created_at, id ${limitClause(sql, filter.limit)}`,
          (rows) => decodeMissions(rows)
        )))

  const counts: MissionsShape["counts"] = () =>
    query("Missions.counts", ({ projectKey, sql }) =>
      Effect.map(
        sql<{ readonly status: string; readonly n: number }>`SELECT status, COUNT(*) AS n FROM missions
            WHERE project_key = ${projectKey} GROUP BY status`,
        (rows) => tallyByStatus(rows, MissionStatus.literals)
      ))

  /** One status move (see `moveStatus`), then its event. */
  const move = (
    span: string,
    from: MissionStatus,
    to: MissionStatus,
    update: (ctx: CommandContext, id: MissionId) => Effect.Effect<ReadonlyArray<unknown>, SqlError>,
    event: (ctx: CommandContext, id: MissionId) => Effect.Effect<number, SqlError>
  ) =>
  (raw: string) =>
    Effect.flatMap(decodeId(raw), (id) =>
      command(span, (ctx) =>
        Effect.gen(function*() {
          const { projectKey, sql } = ctx
          const { row: mission } = yield* moveStatus({
            entity: "mission",
            id,
            from,
            to,
            current: sql<{ readonly status: string }>`SELECT status FROM missions
                WHERE id = ${id} AND project_key = ${projectKey}`,
            notFound: () => new MissionNotFound({ id }),
            update: update(ctx, id),
            decode: toMission
          })
          yield* event(ctx, id)
          return mission
        })))

  const start: MissionsShape["start"] = move(
    "Missions.start",
    "pending",
    "in_progress",
    ({ now, projectKey, sql }, id) =>
      sql`UPDATE missions SET status = 'in_progress', started_at = ${now}
          WHERE id = ${id} AND project_key = ${projectKey} AND status = 'pending' RETURNING *`,
    ({ emit }, id) => emit("mission_started", { mission_id: id })
  )

  const complete: MissionsShape["complete"] = move(
    "Missions.complete",
    "in_progress",
    "completed",
    ({ now, projectKey, sql }, id) =>
      sql`UPDATE missions SET status = 'completed', completed_at = ${now}
          WHERE id = ${id} AND project_key = ${projectKey} AND status = 'in_progress' RETURNING *`,
    ({ emit }, id) => emit("mission_completed", { mission_id: id })
  )

  const cancel: MissionsShape["cancel"] = (rawId, rawReason) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeReason(rawReason)]), ([id, reason]) =>
      command("Missions.cancel", (ctx) =>
        Effect.gen(function*() {
          const { emit, now, projectKey, sql } = ctx
          const { previous, row: mission } = yield* moveStatus({
            entity: "mission",
            id,
            from: ["pending", "in_progress"],
            to: "cancelled",
            current: sql<{ readonly status: string }>`SELECT status FROM missions
                WHERE id = ${id} AND project_key = ${projectKey}`,
            notFound: () => new MissionNotFound({ id }),
            update: sql`UPDATE missions SET status = 'cancelled', close_reason = ${reason}, completed_at = ${now}
                WHERE id = ${id} AND project_key = ${projectKey} AND status IN ('pending', 'in_progress') RETURNING *`,
            decode: toMission
          })
          const cancelled = yield* cancelMissionSorties(ctx, id, reason)
          yield* emit("mission_cancelled", { mission_id: id, from: previous.status, reason, cancelled_sorties: cancelled })
          return mission
        })))

  const progress: MissionsShape["progress"] = (raw) =>
    Effect.flatMap(decodeId(raw), (id) =>
      query("Missions.progress", ({ projectKey, sql }) =>
        Effect.gen(function*() {
          // One statement, so the existence check and the counts come from the same snapshot;
          // the LEFT JOIN yields one row with a NULL status for a mission without sorties.
          const rows = yield* sql<{ readonly status: string | null; readonly n: number }>`
              SELECT s.status AS status, COUNT(s.id) AS n
              FROM missions m
              LEFT JOIN sorties s ON s.mission_id = m.id AND s.project_key = m.project_key
              WHERE m.id = ${id} AND m.project_key = ${projectKey}
              GROUP BY s.status`
          if (rows.length === 0) return yield* new MissionNotFound({ id })
          const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0
          const by_status = {
            open: count("open"),
            in_progress: count("in_progress"),
            blocked: count("blocked"),
            closed: count("closed")
          }
          // Rows written by other tools may carry other statuses: they count towards the total.
          const total = rows.reduce((sum, row) => sum + row.n, 0)
          const percent = total === 0 ? 0 : Math.floor((by_status.closed * 100) / total)
          return { mission_id: id, total, by_status, percent }
        })))

  return Missions.of({ create, get, list, counts, start, complete, cancel, progress })
})

/** The Missions service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Missions, make)
