/**
 * The event log's vocabulary: every event type this library writes, with its payload schema,
 * defined once. Payloads carry what is needed to rebuild the projection rows from the log.
 * Times inside payloads are stored as epoch milliseconds and read back as `DateTime.Utc`, like every
 * time of the public API. Types written by other tools decode as `UnknownEvent` with their raw
 * data, never as a failure.
 *
 * @module
 */
import { DateTime, Either, Option, ParseResult, Schema, SchemaAST } from "effect"
import { createHash } from "node:crypto"
import { CheckpointTrigger, DependencyKind, Importance, JsonValue, SortieStatus, Timestamp } from "./common.js"
import type { JsonIssue } from "./json.js"
import { isPlainJson, jsonIssue, jsonSizeIssue, nestingIssue } from "./json.js"

const NullableString = Schema.NullOr(Schema.String)

// The payloads, built once with times as `DateTime.Utc` (what readers get) and once as stored
// (epoch milliseconds: what the append path validates and writes).
const payloadSchemas = <M extends Schema.Schema.Any>(Millis: M) => ({
  pilot_registered: Schema.Struct({
    callsign: Schema.String,
    program: NullableString,
    model: NullableString,
    task_description: NullableString,
    /** true on the first registration of this callsign in the project. */
    first: Schema.Boolean
  }),
  pilot_lost: Schema.Struct({
    callsign: Schema.String,
    last_active_at: Millis,
    released_locks: Schema.Array(Schema.String),
    released_reservations: Schema.Array(Schema.String),
    reopened_sorties: Schema.Array(Schema.Struct({ sortie_id: Schema.String, checkpoint_id: NullableString }))
  }),
  lock_acquired: Schema.Struct({
    lock_id: Schema.Number,
    lock_key: Schema.String,
    holder_id: Schema.String,
    fence: Schema.Number,
    acquired_at: Millis,
    expires_at: Millis
  }),
  lock_extended: Schema.Struct({
    lock_id: Schema.Number,
    lock_key: Schema.String,
    holder_id: Schema.String,
    fence: Schema.Number,
    expires_at: Millis
  }),
  lock_released: Schema.Struct({
    lock_id: Schema.Number,
    lock_key: Schema.String,
    holder_id: Schema.String,
    fence: Schema.Number,
    reason: Schema.Literal("released", "expired", "pilot_lost")
  }),
  mission_created: Schema.Struct({
    mission_id: Schema.String,
    title: Schema.String,
    description: NullableString,
    priority: Schema.Number,
    created_by: NullableString
  }),
  mission_started: Schema.Struct({ mission_id: Schema.String }),
  mission_completed: Schema.Struct({ mission_id: Schema.String }),
  /** `Missions.cancel`: its unclosed sorties were cancelled first (each with its own `sortie_cancelled`). */
  mission_cancelled: Schema.Struct({
    mission_id: Schema.String,
    from: Schema.String,
    reason: Schema.String,
    cancelled_sorties: Schema.Array(Schema.String)
  }),
  sortie_created: Schema.Struct({
    sortie_id: Schema.String,
    mission_id: NullableString,
    title: Schema.String,
    description: NullableString,
    priority: Schema.Number,
    files: Schema.NullOr(Schema.Array(Schema.String))
  }),
  sortie_claimed: Schema.Struct({ sortie_id: Schema.String, callsign: Schema.String }),
  sortie_blocked: Schema.Struct({ sortie_id: Schema.String, callsign: NullableString, reason: Schema.String }),
  sortie_unblocked: Schema.Struct({ sortie_id: Schema.String, callsign: NullableString }),
  sortie_released: Schema.Struct({
    sortie_id: Schema.String,
    callsign: NullableString,
    from: SortieStatus,
    reason: Schema.Literal("released", "pilot_lost"),
    checkpoint_id: Schema.optional(NullableString)
  }),
  sortie_completed: Schema.Struct({ sortie_id: Schema.String, callsign: NullableString }),
  /** `Sorties.cancel` (or `Missions.cancel`): closed with outcome `cancelled`; `callsign` held it. */
  sortie_cancelled: Schema.Struct({
    sortie_id: Schema.String,
    callsign: NullableString,
    from: SortieStatus,
    reason: Schema.String
  }),
  /** `Sorties.update`: the editable fields as they are now (all of them, changed or not). */
  sortie_updated: Schema.Struct({
    sortie_id: Schema.String,
    title: Schema.String,
    description: NullableString,
    priority: Schema.Number,
    files: Schema.NullOr(Schema.Array(Schema.String)),
    /** Which of them this update changed. */
    changed: Schema.Array(Schema.String)
  }),
  /** `Sorties.addDependency`: `sortie_id` now depends on `depends_on_id` (a new edge, or a changed kind). */
  sortie_dependency_added: Schema.Struct({
    sortie_id: Schema.String,
    depends_on_id: Schema.String,
    kind: DependencyKind
  }),
  sortie_dependency_removed: Schema.Struct({
    sortie_id: Schema.String,
    depends_on_id: Schema.String,
    kind: DependencyKind
  }),
  work_order_created: Schema.Struct({
    work_order_id: Schema.String,
    sortie_id: NullableString,
    title: Schema.String,
    description: NullableString,
    assigned_to: NullableString
  }),
  work_order_started: Schema.Struct({ work_order_id: Schema.String, assigned_to: NullableString }),
  work_order_completed: Schema.Struct({ work_order_id: Schema.String }),
  /**
   * The body itself stays in `messages` (the log's replay never deletes it): the event carries its
   * size in UTF-8 bytes and its SHA-256, which `Projections.verify` checks the stored body against.
   * Events written before carry `body` instead, and still replay.
   */
  message_sent: Schema.Struct({
    message_id: Schema.Number,
    from: Schema.String,
    to: Schema.Array(Schema.String),
    subject: Schema.String,
    body: Schema.optional(Schema.String),
    body_bytes: Schema.optional(Schema.Number),
    body_sha256: Schema.optional(Schema.String),
    thread_id: Schema.String,
    importance: Importance,
    ack_required: Schema.Boolean,
    reply_to: Schema.optional(Schema.Number)
  }),
  message_read: Schema.Struct({ message_id: Schema.Number, callsign: Schema.String }),
  message_acked: Schema.Struct({ message_id: Schema.Number, callsign: Schema.String }),
  file_reserved: Schema.Struct({
    callsign: Schema.String,
    reservations: Schema.Array(Schema.Struct({
      reservation_id: Schema.Number,
      path_pattern: Schema.String,
      renewed: Schema.Boolean
    })),
    exclusive: Schema.Boolean,
    reason: NullableString,
    expires_at: Millis
  }),
  file_released: Schema.Struct({
    callsign: Schema.String,
    reservations: Schema.Array(Schema.Struct({ reservation_id: Schema.Number, path_pattern: Schema.String })),
    reason: Schema.Literal("released", "pilot_lost")
  }),
  /** `Reservations.renew`: these active reservations now expire at `expires_at`. */
  file_renewed: Schema.Struct({
    callsign: Schema.String,
    reservations: Schema.Array(Schema.Struct({ reservation_id: Schema.Number, path_pattern: Schema.String })),
    expires_at: Millis
  }),
  cursor_moved: Schema.Struct({ consumer_id: Schema.String, from: Schema.Number, to: Schema.Number }),
  checkpoint_created: Schema.Struct({
    checkpoint_id: Schema.String,
    callsign: Schema.String,
    mission_id: NullableString,
    sortie_id: NullableString,
    trigger: CheckpointTrigger,
    progress_percent: Schema.NullOr(Schema.Number),
    summary: NullableString,
    context_data: Schema.NullOr(JsonValue)
  })
})

/**
 * Payload schema of every known event type, keyed by type. Times decode from the stored epoch
 * milliseconds to `DateTime.Utc` (events written by earlier versions included).
 */
export const EventPayloads = payloadSchemas(Timestamp)

// The payloads as stored: what appending validates and serialises.
const StoredPayloads = payloadSchemas(Schema.Number)

// The fields of a payload that hold a time (all at the top level of their payload).
const timeFields: ReadonlyMap<string, ReadonlyArray<string>> = new Map(
  Object.entries(EventPayloads).map(([type, schema]) => [
    type,
    SchemaAST.isTypeLiteral(schema.ast)
      ? schema.ast.propertySignatures.filter((p) => p.type === Timestamp.ast).map((p) => String(p.name))
      : []
  ])
)

/**
 * A payload in its stored form: each top-level `DateTime` (or `Date`) becomes epoch
 * milliseconds. Anything else is left as it is (validation comes after).
 */
export const storedPayload = (data: unknown): unknown => {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return data
  let copy: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(data)) {
    const millis = DateTime.isDateTime(value) ? DateTime.toEpochMillis(value) : value instanceof Date ? value.getTime() : undefined
    if (millis !== undefined) {
      copy ??= { ...data }
      copy[key] = millis
    }
  }
  return copy ?? data
}

/** What a `message_sent` event records of a body: its size in UTF-8 bytes and its SHA-256 (hex). */
export const bodyDigest = (body: string): { readonly body_bytes: number; readonly body_sha256: string } => ({
  body_bytes: Buffer.byteLength(body, "utf8"),
  body_sha256: createHash("sha256").update(body, "utf8").digest("hex")
})

/** The known event types. */
export type EventType = keyof typeof EventPayloads

/** The known event types, as a Schema. */
export const EventType = Schema.Literal(...(Object.keys(EventPayloads) as [EventType, ...Array<EventType>]))

/** The payload type of a known event type. */
export type EventPayload<T extends EventType> = Schema.Schema.Type<(typeof EventPayloads)[T]>

/** The fields every `lock_*` event names its lease by, taken from a `locks` row. */
export const leaseFields = (row: {
  readonly id: number
  readonly lock_key: string
  readonly holder_id: string
  readonly fence: number
}) => ({ lock_id: row.id, lock_key: row.lock_key, holder_id: row.holder_id, fence: row.fence })

/** True when `type` is one of the known event types. */
export const isEventType = (type: string): type is EventType => Object.hasOwn(EventPayloads, type)

/** What every event read from the log carries. */
export interface EventEnvelope {
  /** Position in the log (the row id); strictly increasing. */
  readonly sequence: number
  readonly timestamp: DateTime.Utc
  readonly project_key: string
}

/** An event of a known type with its typed payload. Narrow with `event.known && event.type === …`. */
export type KnownEvent = {
  readonly [T in EventType]: EventEnvelope & { readonly known: true; readonly type: T; readonly data: EventPayload<T> }
}[EventType]

/** An event whose type this library does not know (or whose payload does not match), with its raw data. */
export interface UnknownEvent extends EventEnvelope {
  readonly known: false
  readonly type: string
  /** The parsed JSON data, or the raw text if it was not valid JSON. */
  readonly data: unknown
}

/** Any event read from the log. */
export type FleetEvent = KnownEvent | UnknownEvent

/** An event to append: a known type with its payload, or any other type with JSON data. */
export type NewEvent =
  | { readonly [T in EventType]: { readonly type: T; readonly data: EventPayload<T> } }[EventType]
  | { readonly type: string; readonly data: JsonValue }

// A Map, not an object: a type such as "valueOf" or "__proto__" must not find Object.prototype's members.
const decoders: ReadonlyMap<string, (u: unknown) => Option.Option<unknown>> = new Map(
  Object.entries(EventPayloads).map(([type, schema]) => [type, Schema.decodeUnknownOption(schema as unknown as Schema.Schema<unknown>)])
)

// Other tools write this table too: a timestamp that is not epoch milliseconds (text, garbage)
// must not make the whole log unreadable, so it falls back to an ISO string and then the epoch.
const timestampOf = (value: unknown): DateTime.Utc => {
  // The common case, without the Option round trip: epoch milliseconds within Date's range.
  if (typeof value === "number" && Math.abs(value) <= 8.64e15) return DateTime.unsafeMake(value)
  const parsed = typeof value === "number"
    ? DateTime.make(value)
    : typeof value === "string"
    ? (value.trim() !== "" && Number.isFinite(Number(value)) ? DateTime.make(Number(value)) : DateTime.make(value))
    : Option.none()
  return Option.getOrElse(Option.map(parsed, DateTime.toUtc), () => DateTime.unsafeMake(0))
}

/**
 * Decode one `events` row (as stored) into a `FleetEvent`. Never fails: data that is not JSON
 * reads back as its raw text, and a timestamp that is not a time reads back as the epoch.
 */
export const decodeEventRow = (row: {
  readonly id: number
  readonly type: string
  readonly project_key: string
  readonly timestamp: number
  readonly data: string
}): FleetEvent => {
  // Object literals, not spreads of a shared envelope: a spread costs V8 several microseconds,
  // which adds up over a page of events.
  const timestamp = timestampOf(row.timestamp)
  let parsed: unknown
  try {
    parsed = JSON.parse(row.data)
  } catch {
    return { sequence: row.id, timestamp, project_key: row.project_key, known: false, type: row.type, data: row.data }
  }
  const decode = decoders.get(row.type)
  if (decode !== undefined) {
    let decoded: Option.Option<unknown>
    try {
      decoded = decode(parsed)
    } catch {
      // Another tool's data nested deeper than a recursive payload schema can follow (this
      // library refuses such data on append): it reads back as an unknown event.
      decoded = Option.none()
    }
    if (Option.isSome(decoded)) {
      return { sequence: row.id, timestamp, project_key: row.project_key, known: true, type: row.type, data: decoded.value } as KnownEvent
    }
  }
  return { sequence: row.id, timestamp, project_key: row.project_key, known: false, type: row.type, data: parsed }
}

const jsonCheck = (u: unknown) => isPlainJson(u, [], { negativeZero: false }) || (jsonIssue(u) ?? true)

const JsonData: Schema.Schema<unknown> = Schema.Unknown.pipe(Schema.filter(jsonCheck))

const dataDecoders: ReadonlyMap<string, (u: unknown) => Either.Either<unknown, ParseResult.ParseError>> = new Map(
  Object.entries(StoredPayloads).map(([type, schema]) => [
    type,
    Schema.decodeUnknownEither((schema as unknown as Schema.Schema<unknown>).pipe(Schema.filter(jsonCheck)))
  ])
)
const decodeJsonData = Schema.decodeUnknownEither(JsonData)

/**
 * Validate an event to append and encode its data as JSON text. Known types must match their
 * payload schema; any type needs data that is JSON and round-trips exactly (finite numbers,
 * well-formed strings, plain objects and arrays), nests at most `MAX_JSON_DEPTH` deep and
 * serialises to at most `MAX_JSON_CHARS` characters. Issues carry the path inside the data.
 */
export const encodeNewEvent = (event: NewEvent): Either.Either<string, ParseResult.ParseError> =>
  Either.map(encodeNewEventWithData(event), (encoded) => encoded.json)

// The payload schemas alone: the append path checks JSON with `isPlainJson` itself (one walk, no
// refinement to run); the filtered decoders above are used only to name an issue.
const payloadDecoders: ReadonlyMap<string, (u: unknown) => Either.Either<unknown, ParseResult.ParseError>> = new Map(
  Object.entries(StoredPayloads).map(([type, schema]) => [
    type,
    Schema.decodeUnknownEither(schema as unknown as Schema.Schema<unknown>)
  ])
)

// Whether a schema recurses (contains a `Schema.suspend`).
const recurses = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "Suspend":
      return true
    case "TypeLiteral":
      return ast.propertySignatures.some((p) => recurses(p.type)) || ast.indexSignatures.some((i) => recurses(i.type))
    case "TupleType":
      return ast.elements.some((e) => recurses(e.type)) || ast.rest.some((r) => recurses(r.type))
    case "Union":
      return ast.types.some(recurses)
    case "Refinement":
      return recurses(ast.from)
    case "Transformation":
      return recurses(ast.from) || recurses(ast.to)
    default:
      return false
  }
}
const recursivePayloads: ReadonlySet<string> = new Set(
  Object.entries(StoredPayloads).filter(([, schema]) => recurses(schema.ast)).map(([type]) => type)
)

/** An event validated for appending: its JSON, and its payload as decoded when the type is known. */
export interface EncodedEvent {
  readonly json: string
  /** The payload as decoded (known types, when it reads back equal), else undefined: parse `json`. */
  readonly data: unknown
  readonly known: boolean
}

/**
 * `encodeNewEvent`, also returning the payload as decoded when the type is known: a fresh value
 * equal to what reading the stored JSON back decodes to (payload schemas are plain JSON shapes),
 * so an appender need not parse its own JSON again.
 */
export const encodeNewEventWithData = (newEvent: NewEvent): Either.Either<EncodedEvent, ParseResult.ParseError> => {
  const seen = { negativeZero: false }
  const decoder = payloadDecoders.get(newEvent.type)
  const times = timeFields.get(newEvent.type)
  const event = times === undefined || times.length === 0 ? newEvent : { type: newEvent.type, data: storedPayload(newEvent.data) }
  if (decoder === undefined) {
    return isPlainJson(event.data, [], seen)
      ? sized({ json: JSON.stringify(event.data), data: undefined, known: false }, event.data)
      : Either.flatMap(decodeJsonData(event.data), (data) => sized({ json: JSON.stringify(data), data: undefined, known: false }, data))
  }
  // A payload schema that recurses (a `JsonValue` field) must not meet data too deep or cyclic: a
  // recursive decode would overflow the stack. The others descend only as deep as they are.
  if (recursivePayloads.has(event.type) && !isPlainJson(event.data, [], seen)) {
    const issue = nestingIssue(event.data)
    if (issue !== undefined) return Either.left(issueError(issue, event.data))
  }
  const decoded = decoder(event.data)
  if (Either.isRight(decoded) && isPlainJson(decoded.right, [], seen)) {
    // A negative zero reads back as 0: such a payload is left to be parsed from its JSON.
    // A payload with times is read back with them as DateTime: that form is decoded here.
    const data = seen.negativeZero
      ? undefined
      : times === undefined || times.length === 0
      ? decoded.right
      : Option.getOrUndefined(decoders.get(event.type)!(decoded.right))
    return sized({ json: JSON.stringify(decoded.right), data, known: true }, decoded.right)
  }
  return Either.flatMap(
    dataDecoders.get(event.type)!(event.data),
    (data) => sized({ json: JSON.stringify(data), data: undefined, known: true }, data)
  )
}

// A `ParseError` for an issue of the JSON checker, so every refusal reads the same.
const issueError = (issue: JsonIssue, actual: unknown): ParseResult.ParseError => {
  const type = new ParseResult.Type(Schema.Unknown.ast, actual, issue.message)
  const [head, ...rest] = issue.path
  return new ParseResult.ParseError({ issue: head === undefined ? type : new ParseResult.Pointer([head, ...rest], actual, type) })
}

// The encoded event, unless its JSON is longer than `MAX_JSON_CHARS`.
const sized = (encoded: EncodedEvent, data: unknown): Either.Either<EncodedEvent, ParseResult.ParseError> => {
  const issue = jsonSizeIssue(encoded.json)
  return issue === undefined ? Either.right(encoded) : Either.left(issueError(issue, data))
}
