/**
 * Checkpoints: snapshots a pilot saves (progress, a summary and arbitrary JSON context) so that
 * it, or another pilot, can resume the work after losing its context.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Either, Layer, Option, Schema } from "effect"
import { InvalidInput } from "../errors.js"
import type { UndecodableRow } from "../errors.js"
import { Callsign, CheckpointTrigger, JsonValue, LongText, Percent } from "../schema/common.js"
import { idPrefix, makeId, MissionId, SortieId } from "../schema/ids.js"
import { Checkpoint } from "../schema/workTables.js"
import { encodeJson, issueField, MAX_JSON_CHARS, MAX_JSON_DEPTH } from "../schema/json.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows } from "./internal/rows.js"
import { decodeInput } from "./internal/input.js"

/** `context_data` may serialise to at most this many characters of JSON (1 MiB), like all JSON input. */
export const MAX_CONTEXT_DATA_CHARS = MAX_JSON_CHARS

/** `context_data` may nest arrays and objects at most this deep, like all JSON input. */
export const MAX_CONTEXT_DATA_DEPTH = MAX_JSON_DEPTH

/** Input of `Checkpoints.create`. */
export const CreateCheckpoint = Schema.Struct({
  callsign: Callsign,
  trigger: CheckpointTrigger,
  mission_id: Schema.optional(MissionId),
  sortie_id: Schema.optional(SortieId),
  /** An integer from 0 to 100. */
  progress_percent: Schema.optional(Percent),
  summary: Schema.optional(LongText),
  /**
   * Any JSON value, at most `MAX_CONTEXT_DATA_CHARS` once serialised and `MAX_CONTEXT_DATA_DEPTH`
   * deep. `null` is stored as SQL NULL, so it reads back the same as an omitted value.
   */
  context_data: Schema.optional(JsonValue)
})
export type CreateCheckpoint = typeof CreateCheckpoint.Encoded

/** Filters of `Checkpoints.latest` (all optional; combined with AND). */
export interface CheckpointFilter {
  readonly callsign?: string | undefined
  readonly mission_id?: string | undefined
  readonly sortie_id?: string | undefined
}

/** Options of `Checkpoints.list`. */
export interface ListCheckpointsOptions extends CheckpointFilter {
  /** At most this many checkpoints (default 100, at most 1000). */
  readonly limit?: number | undefined
}

/**
 * The Checkpoints service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface CheckpointsShape {
  /**
   * Save a checkpoint (id `chk_…`, created now). The callsign, mission and sortie are recorded as
   * given, not checked against their tables, so an error checkpoint can always be written.
   * Appends `checkpoint_created`.
   */
  readonly create: (input: CreateCheckpoint) => Effect.Effect<Checkpoint, InvalidInput | UndecodableRow | SqlError>
  /** The newest checkpoint (by `created_at`, then id) matching every given filter. */
  readonly latest: (filter?: CheckpointFilter) => Effect.Effect<Option.Option<Checkpoint>, InvalidInput | UndecodableRow | SqlError>
  /** Checkpoints matching every given filter, newest first. */
  readonly list: (options?: ListCheckpointsOptions) => Effect.Effect<ReadonlyArray<Checkpoint>, InvalidInput | UndecodableRow | SqlError>
}

/** The Checkpoints service. */
export class Checkpoints extends Context.Tag("@fleettools/db/Checkpoints")<Checkpoints, CheckpointsShape>() {}

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1_000

const ListOptions = Schema.Struct({
  callsign: Schema.optional(Callsign),
  mission_id: Schema.optional(MissionId),
  sortie_id: Schema.optional(SortieId),
  limit: Schema.optional(Schema.Int.pipe(Schema.between(1, MAX_LIMIT, { message: () => `must be an integer from 1 to ${MAX_LIMIT}` })))
})

const decodeCreate = decodeInput(CreateCheckpoint)
const decodeList = decodeInput(ListOptions)
const decodeCheckpoint = decodeRow("checkpoints", Checkpoint)
const decodeCheckpoints = decodeRows("checkpoints", Checkpoint)

// The JSON checker runs before the (recursive) schema decode: a deeply nested or cyclic value must
// be refused as input, not overflow the stack. Its text is what is stored.
const encodeContext = (raw: unknown): Either.Either<string | null, InvalidInput> => {
  const value = typeof raw === "object" && raw !== null ? (raw as { context_data?: unknown }).context_data : undefined
  if (value === undefined || value === null) return Either.right(null)
  return Either.mapLeft(encodeJson(value), (issue) => new InvalidInput({ field: issueField("context_data", issue), reason: issue.message }))
}

/** Build the Checkpoints service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands

  const create: CheckpointsShape["create"] = (raw) =>
    Effect.gen(function*() {
      const json = yield* encodeContext(raw)
      const input = yield* decodeCreate(raw)
      return yield* command("Checkpoints.create", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const id = yield* makeId(idPrefix.checkpoint)
          const rows = yield* sql`INSERT INTO checkpoints
              (id, project_key, mission_id, sortie_id, callsign, trigger, progress_percent, summary, context_data, created_at)
              VALUES (${id}, ${projectKey}, ${input.mission_id ?? null}, ${input.sortie_id ?? null}, ${input.callsign},
                      ${input.trigger}, ${input.progress_percent ?? null}, ${input.summary ?? null}, ${json}, ${now})
              RETURNING *`
          const checkpoint = yield* decodeCheckpoint(rows[0])
          yield* emit("checkpoint_created", {
            checkpoint_id: checkpoint.id,
            callsign: checkpoint.callsign,
            mission_id: checkpoint.mission_id,
            sortie_id: checkpoint.sortie_id,
            trigger: checkpoint.trigger,
            progress_percent: checkpoint.progress_percent,
            summary: checkpoint.summary,
            context_data: checkpoint.context_data
          })
          return checkpoint
        }))
    })

  const select = (span: string, options: typeof ListOptions.Type, limit: number) =>
    query(span, ({ projectKey, sql }) => {
      const where = [sql`project_key = ${projectKey}`]
      if (options.callsign !== undefined) where.push(sql`callsign = ${options.callsign}`)
      if (options.mission_id !== undefined) where.push(sql`mission_id = ${options.mission_id}`)
      if (options.sortie_id !== undefined) where.push(sql`sortie_id = ${options.sortie_id}`)
      return sql`SELECT * FROM checkpoints WHERE ${sql.and(where)} ORDER BY created_at DESC, id DESC LIMIT ${limit}`.pipe(
        Effect.flatMap((rows) => decodeCheckpoints(rows))
      )
    })

  const latest: CheckpointsShape["latest"] = (raw) =>
    // Untyped callers may pass null: it means "no filter".
    Effect.flatMap(decodeList(raw ?? {}), (options) =>
      Effect.map(select("Checkpoints.latest", options, 1), (rows) => Option.fromNullable(rows[0])))

  const list: CheckpointsShape["list"] = (options) =>
    Effect.flatMap(decodeList(options ?? {}), (opts) => select("Checkpoints.list", opts, opts.limit ?? DEFAULT_LIMIT))

  return Checkpoints.of({ create, latest, list })
})

/** The Checkpoints service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Checkpoints, make)
