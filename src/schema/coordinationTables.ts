/**
 * Models of the coordination tables: events, pilots, messages, message_recipients,
 * reservations, cursors and locks. Column names are those of the seed schema.
 *
 * @module
 */
import { Model } from "@effect/sql"
import { Schema } from "effect"
import { Importance, NullableTimestampColumn, TimestampColumn } from "./common.js"
import { CursorId, EventId, LockId, MessageId, PilotId, ReservationId } from "./ids.js"

/** A row of `events`, the append-only log. `data` is the raw JSON text; see `FleetEvent`. */
export class EventRow extends Model.Class<EventRow>("EventRow")({
  id: Model.Generated(EventId),
  type: Schema.String,
  project_key: Schema.String,
  timestamp: TimestampColumn,
  /** Equals `id` (a generated column); the position of the event in the log. */
  sequence: Model.Generated(Schema.Int),
  data: Schema.String
}) {}

/** A registered pilot (an AI agent), unique per `(project_key, callsign)`. */
export class Pilot extends Model.Class<Pilot>("Pilot")({
  id: Model.Generated(PilotId),
  project_key: Schema.String,
  // Rows may come from other tools: input is validated on the way in, rows are read as stored.
  callsign: Schema.String,
  program: Schema.NullOr(Schema.String),
  model: Schema.NullOr(Schema.String),
  task_description: Schema.NullOr(Schema.String),
  registered_at: TimestampColumn,
  last_active_at: TimestampColumn
}) {}

/** A message sent by one pilot to one or more recipients. */
export class Message extends Model.Class<Message>("Message")({
  id: Model.Generated(MessageId),
  project_key: Schema.String,
  from_callsign: Schema.String,
  subject: Schema.String,
  body: Schema.String,
  thread_id: Schema.NullOr(Schema.String),
  importance: Importance,
  ack_required: Model.BooleanFromNumber,
  created_at: TimestampColumn
}) {}

/** One recipient of a message, with its set-once read and ack times. */
export class MessageRecipient extends Model.Class<MessageRecipient>("MessageRecipient")({
  message_id: MessageId,
  callsign: Schema.String,
  read_at: NullableTimestampColumn,
  acked_at: NullableTimestampColumn
}) {}

/** A pilot's reservation of a path pattern, exclusive or shared, until `expires_at`. */
export class Reservation extends Model.Class<Reservation>("Reservation")({
  id: Model.Generated(ReservationId),
  project_key: Schema.String,
  callsign: Schema.String,
  path_pattern: Schema.String,
  exclusive: Model.BooleanFromNumber,
  reason: Schema.NullOr(Schema.String),
  created_at: TimestampColumn,
  expires_at: TimestampColumn,
  released_at: NullableTimestampColumn
}) {}

/** A consumer's position in the event log. */
export class Cursor extends Model.Class<Cursor>("Cursor")({
  id: Model.Generated(CursorId),
  project_key: Schema.String,
  consumer_id: Schema.String,
  position: Schema.Int,
  updated_at: TimestampColumn
}) {}

/**
 * A lease on a named lock. At most one unreleased row exists per `(project_key, lock_key)`.
 * `fence` strictly increases per key: pass it to whatever the lock protects to reject stale holders.
 */
export class Lock extends Model.Class<Lock>("Lock")({
  id: Model.Generated(LockId),
  project_key: Schema.String,
  lock_key: Schema.String,
  holder_id: Schema.String,
  acquired_at: TimestampColumn,
  expires_at: TimestampColumn,
  released_at: NullableTimestampColumn,
  fence: Schema.Int
}) {}
