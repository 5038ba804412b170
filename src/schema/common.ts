/**
 * Building blocks shared by every table: timestamps, text limits, enumerations and ids.
 * Each enumerated value is defined here once and reused by models, inputs and events.
 *
 * @module
 */
import { Model } from "@effect/sql"
import { Schema } from "effect"

/** A point in time, stored as INTEGER epoch milliseconds, exposed as `DateTime.Utc`. */
export const Timestamp = Schema.DateTimeUtcFromNumber
export type Timestamp = typeof Timestamp.Type

/**
 * The same column variant by variant: the models' database variants read the stored form, and
 * their `json` variants (what MCP and HTTP results are serialised with) write plain JSON.
 */
const column = <DbA, DbI, JsonA, JsonI>(db: Schema.Schema<DbA, DbI>, json: Schema.Schema<JsonA, JsonI>) =>
  Model.Field({ select: db, insert: db, update: db, json, jsonCreate: json, jsonUpdate: json })

/** A model's time column: epoch ms in the database, ISO-8601 in JSON. */
export const TimestampColumn = column(Timestamp, Schema.DateTimeUtc)

/** A model's nullable time column: epoch ms or NULL in the database, ISO-8601 or null in JSON. */
export const NullableTimestampColumn = column(Schema.NullOr(Timestamp), Schema.NullOr(Schema.DateTimeUtc))

/** A model's nullable column of JSON text: parsed from the database, plain JSON (not a string of it) in JSON. */
export const NullableJsonColumn = <A, I>(schema: Schema.Schema<A, I>) =>
  column(Schema.NullOr(Schema.parseJson(schema)), Schema.NullOr(schema))

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** A string that is valid UTF-16 (no lone surrogates), so it round-trips through SQLite's UTF-8. */
export const WellFormedString = Schema.String.pipe(
  Schema.filter((s) => !loneSurrogate.test(s) || "must be valid Unicode text (it contains a lone surrogate)")
)

/**
 * A well-formed string of at most `max` characters (and at least `min`), without U+0000: libSQL
 * stores a NUL but reads text back only up to it, so it would silently truncate the value.
 */
export const Text = (options: { readonly min?: number; readonly max: number }) =>
  WellFormedString.pipe(
    Schema.filter((s) => !s.includes("\u0000") || "must not contain NUL characters (U+0000)"),
    Schema.filter((s) =>
      s.length < (options.min ?? 0)
        ? (options.min === 1 ? "must not be empty" : `must be at least ${options.min} characters`)
        : s.length > options.max
        ? `must be at most ${options.max} characters (got ${s.length})`
        : true
    )
  )

// A NUL byte truncates text in some SQLite tools and every C consumer; callsigns and keys are
// identifiers that other tools read, so they exclude all control characters.
const identifier = (max: number) =>
  Text({ min: 1, max }).pipe(
    Schema.filter((s) => s.trim() === s || "must not start or end with white space"),
    // eslint-disable-next-line no-control-regex
    Schema.filter((s) => !/[\u0000-\u001f\u007f]/.test(s) || "must not contain control characters")
  )

/** A pilot's name within a project: 1–128 characters, no control characters or outer spaces. */
export const Callsign = identifier(128).pipe(Schema.brand("Callsign"))
export type Callsign = typeof Callsign.Type

/** A lock's key (what is being locked): 1–512 characters. */
export const LockKey = identifier(512)

/** A cursor consumer's id: 1–256 characters. */
export const ConsumerId = identifier(256)

/** A message thread's id: 1–256 characters. */
export const ThreadId = identifier(256)

/** Title-like text: 1–500 characters. */
export const Title = Text({ min: 1, max: 500 })

/** Free text such as descriptions and reasons: up to 64 KiB of characters. */
export const LongText = Text({ max: 65_536 })

/** Message bodies: up to 1 MiB of characters. Larger bodies are refused with `InvalidInput`. */
export const MAX_BODY_CHARS = 1_048_576

/** Sortie lifecycle: `open → in_progress → closed`, with `blocked` as a detour of `in_progress`. */
export const SortieStatus = Schema.Literal("open", "in_progress", "blocked", "closed")
export type SortieStatus = typeof SortieStatus.Type

/** Mission lifecycle: `pending → in_progress → completed`; `cancelled` from either open state. */
export const MissionStatus = Schema.Literal("pending", "in_progress", "completed", "cancelled")
export type MissionStatus = typeof MissionStatus.Type

/** Work order lifecycle: `pending → in_progress → completed`. */
export const WorkOrderStatus = Schema.Literal("pending", "in_progress", "completed")
export type WorkOrderStatus = typeof WorkOrderStatus.Type

/** How a closed sortie ended: done (`complete`) or given up (`cancel`). */
export const SortieOutcome = Schema.Literal("completed", "cancelled")
export type SortieOutcome = typeof SortieOutcome.Type

/** A dependency between sorties: `blocks` (the dependent cannot start before it closes) or `related` (informational). */
export const DependencyKind = Schema.Literal("blocks", "related")
export type DependencyKind = typeof DependencyKind.Type

/** Message importance; `high` and `urgent` count as urgent in inbox filters. */
export const Importance = Schema.Literal("low", "normal", "high", "urgent")
export type Importance = typeof Importance.Type

/** What made a pilot save a checkpoint. */
export const CheckpointTrigger = Schema.Literal("auto", "manual", "error")
export type CheckpointTrigger = typeof CheckpointTrigger.Type

/** Priority 0 (most urgent) … 4; the default is 1. */
export const Priority = Schema.Int.pipe(Schema.between(0, 4, { message: () => "must be an integer from 0 to 4" }))
export type Priority = typeof Priority.Type
export const DEFAULT_PRIORITY: Priority = 1

/** A percentage: an integer from 0 to 100. */
export const Percent = Schema.Int.pipe(Schema.between(0, 100, { message: () => "must be an integer from 0 to 100" }))

/** Any JSON value. */
export const JsonValue: Schema.Schema<JsonValue> = Schema.suspend(() =>
  Schema.Union(
    Schema.Null,
    Schema.Boolean,
    Schema.Number.pipe(Schema.finite()),
    WellFormedString,
    Schema.Array(JsonValue),
    Schema.Record({ key: Schema.String, value: JsonValue })
  )
)
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }
