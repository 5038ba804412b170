/**
 * Every domain error of `@fleettools/db`. Each is a `Schema.TaggedError`, so it can be matched
 * with `Effect.catchTag`, serialised, and carries a readable `message`.
 *
 * Database failures are not wrapped: they stay `SqlError` (from `@effect/sql`) in the error
 * channel.
 *
 * @module
 */
import { DateTime, Schema } from "effect"

// A time: `DateTime.Utc`, encoded as epoch milliseconds (as stored, and as the models encode).
const Timestamp = Schema.DateTimeUtcFromNumber

/** No pilot with this callsign is registered in the project. */
export class PilotNotFound extends Schema.TaggedError<PilotNotFound>()("PilotNotFound", {
  callsign: Schema.String
}) {
  override get message() {
    return `No pilot with callsign "${this.callsign}" is registered in this project`
  }
}

/** No sortie with this id exists in the project. */
export class SortieNotFound extends Schema.TaggedError<SortieNotFound>()("SortieNotFound", {
  id: Schema.String
}) {
  override get message() {
    return `Sortie "${this.id}" does not exist in this project`
  }
}

/** No mission with this id exists in the project. */
export class MissionNotFound extends Schema.TaggedError<MissionNotFound>()("MissionNotFound", {
  id: Schema.String
}) {
  override get message() {
    return `Mission "${this.id}" does not exist in this project`
  }
}

/** No work order with this id exists in the project. */
export class WorkOrderNotFound extends Schema.TaggedError<WorkOrderNotFound>()("WorkOrderNotFound", {
  id: Schema.String
}) {
  override get message() {
    return `Work order "${this.id}" does not exist in this project`
  }
}

/** No message with this id exists in the project. */
export class MessageNotFound extends Schema.TaggedError<MessageNotFound>()("MessageNotFound", {
  id: Schema.Number
}) {
  override get message() {
    return `Message ${this.id} does not exist in this project`
  }
}

/** The lock is held by someone else and the caller did not ask to wait. */
export class LockHeld extends Schema.TaggedError<LockHeld>()("LockHeld", {
  key: Schema.String,
  holder: Schema.String,
  /** When the current holder's lease runs out. */
  expires_at: Timestamp
}) {
  override get message() {
    return `Lock "${this.key}" is held by "${this.holder}" until ${DateTime.formatIso(this.expires_at)}`
  }
}

/** The caller waited for the lock for `waited_ms` and never got it. */
export class LockTimeout extends Schema.TaggedError<LockTimeout>()("LockTimeout", {
  key: Schema.String,
  waited_ms: Schema.Number,
  holder: Schema.optional(Schema.String)
}) {
  override get message() {
    return `Gave up waiting for lock "${this.key}" after ${this.waited_ms} ms` +
      (this.holder === undefined ? "" : ` (held by "${this.holder}")`)
  }
}

/** The caller no longer holds this lock: it was released, expired and was taken, or never held. */
export class LockNotHeld extends Schema.TaggedError<LockNotHeld>()("LockNotHeld", {
  key: Schema.String,
  holder: Schema.String,
  fence: Schema.Number
}) {
  override get message() {
    return `"${this.holder}" no longer holds lock "${this.key}" (fence ${this.fence})`
  }
}

/** The sortie is already claimed (or not open), so it cannot be claimed again. */
export class SortieAlreadyClaimed extends Schema.TaggedError<SortieAlreadyClaimed>()("SortieAlreadyClaimed", {
  id: Schema.String,
  assigned_to: Schema.NullOr(Schema.String),
  status: Schema.String
}) {
  override get message() {
    return this.assigned_to === null
      ? `Sortie "${this.id}" cannot be claimed: its status is "${this.status}"`
      : `Sortie "${this.id}" is already claimed by "${this.assigned_to}" (status "${this.status}")`
  }
}

/** A status change that the entity's state machine does not allow. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  entity: Schema.String,
  id: Schema.String,
  from: Schema.String,
  to: Schema.String
}) {
  override get message() {
    return `${this.entity} "${this.id}" cannot move from "${this.from}" to "${this.to}"`
  }
}

/** One active reservation that stands in the way of a request. */
export const ReservationConflictEntry = Schema.Struct({
  /** The requested path pattern that conflicts. */
  path: Schema.String,
  /** The callsign holding the conflicting reservation. */
  holder: Schema.String,
  /** The holder's pattern. */
  pattern: Schema.String,
  exclusive: Schema.Boolean,
  /** When the holder's reservation expires. */
  expires_at: Timestamp
})
export type ReservationConflictEntry = typeof ReservationConflictEntry.Type

/** Some requested paths overlap active reservations of other pilots; nothing was reserved. */
export class ReservationConflict extends Schema.TaggedError<ReservationConflict>()("ReservationConflict", {
  conflicts: Schema.Array(ReservationConflictEntry)
}) {
  override get message() {
    const parts = this.conflicts.map((c) =>
      `${c.path} (held by "${c.holder}" as ${c.pattern}${c.exclusive ? ", exclusive" : ""})`
    )
    return `Reservation refused: ${parts.join("; ")}`
  }
}

/**
 * `renew` named patterns that the pilot does not actively hold (never reserved, released, or
 * expired); nothing was renewed. Reserve them again instead.
 */
export class ReservationNotHeld extends Schema.TaggedError<ReservationNotHeld>()("ReservationNotHeld", {
  callsign: Schema.String,
  /** The requested (normalised) patterns without an active reservation of this pilot. */
  paths: Schema.Array(Schema.String)
}) {
  override get message() {
    return `"${this.callsign}" holds no active reservation for ${this.paths.join(", ")}`
  }
}

/** A message was addressed to callsigns that are not registered in the project. */
export class UnknownRecipient extends Schema.TaggedError<UnknownRecipient>()("UnknownRecipient", {
  callsigns: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Unknown recipient(s): ${this.callsigns.map((c) => `"${c}"`).join(", ")}`
  }
}

/** The callsign is not a recipient of the message it tried to read or acknowledge. */
export class NotARecipient extends Schema.TaggedError<NotARecipient>()("NotARecipient", {
  message_id: Schema.Number,
  callsign: Schema.String
}) {
  override get message() {
    return `"${this.callsign}" is not a recipient of message ${this.message_id}`
  }
}

/** Input that failed validation. `field` names the offending field; nothing was written. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Invalid ${this.field}: ${this.reason}`
  }
}

/**
 * The database could not be opened or prepared: the path cannot be created, the file is not a
 * usable FleetTools database (`"not-a-database"`: not SQLite at all, damaged or truncated, or
 * another application's SQLite file, left untouched), the URL is refused, the server is
 * unreachable or refuses the auth token
 * (`"auth"`), the schema is newer than this library, or the `projectKey` asked for is not the
 * key the file database was created with (`"project-key"`), or a read-only open is impossible (`"read-only"`: no file, a
 * schema that needs migrating, or a WAL the process cannot share). `target` is the path or URL
 * (never a credential).
 */
export class DatabaseOpenError extends Schema.TaggedError<DatabaseOpenError>()("DatabaseOpenError", {
  target: Schema.String,
  reason: Schema.Literal("directory", "not-a-database", "url", "unreachable", "auth", "schema-too-new", "migration", "project-key", "read-only", "other"),
  detail: Schema.String
}) {
  override get message() {
    return `Cannot open FleetTools database ${this.target}: ${this.detail}`
  }
}

/** A call on a fleet of `@fleettools/db/promise` after `fleet.close()`: its database is closed. */
export class FleetClosed extends Schema.TaggedError<FleetClosed>()("FleetClosed", {
  location: Schema.String
}) {
  override get message() {
    return `The fleet on ${this.location} is closed`
  }
}

/**
 * A statement to a libSQL server got no answer within the layer's `statementTimeout`: the server
 * is frozen, overloaded or cut off. It reaches callers as the `cause` of a `SqlError`. The
 * connection was abandoned (the next statement uses a fresh one) and the transaction it belonged
 * to was given up, so nothing of it is committed — unless the timeout hit the `COMMIT` itself
 * (`during_commit`), whose outcome the server alone knows. Retryable (`isRetryable`) when not
 * `during_commit`.
 */
export class StatementTimeout extends Schema.TaggedError<StatementTimeout>()("StatementTimeout", {
  target: Schema.String,
  timeout_ms: Schema.Number,
  during_commit: Schema.Boolean
}) {
  override get message() {
    return `No answer from ${this.target} within ${this.timeout_ms} ms` +
      (this.during_commit
        ? "; the timeout hit the commit, so whether the transaction was applied is unknown"
        : "; the transaction was abandoned, nothing of it was applied")
  }
}

/**
 * A stored row that does not decode into its model (another tool or a hand edit wrote a value this
 * library does not accept: a status it does not know, text where a time belongs…), so the read
 * that met it cannot return it. Names the table, the row (its id) and the first column that does
 * not decode; other rows and tables stay readable. `fleet-db doctor` lists every such row.
 */
export class UndecodableRow extends Schema.TaggedError<UndecodableRow>()("UndecodableRow", {
  table: Schema.String,
  /** The row's id (`message_id/callsign` for a message recipient). */
  row_id: Schema.String,
  column: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Row ${this.row_id} of table "${this.table}" cannot be read: column "${this.column}": ${this.detail}`
  }
}

/**
 * The database was opened in read-only mode (`readOnly: true`, or `?mode=ro` in a `file:` URL)
 * and a write was attempted. It reaches callers as the `cause` of a `SqlError`; nothing was
 * written.
 */
export class ReadOnlyDatabase extends Schema.TaggedError<ReadOnlyDatabase>()("ReadOnlyDatabase", {
  target: Schema.String
}) {
  override get message() {
    return `${this.target} is open in read-only mode: writes are refused`
  }
}

/**
 * An idempotency key was used again with a different command or input than the first time it
 * was used (within the key's retention). Nothing was written: use a new key for a new request.
 */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()("IdempotencyConflict", {
  key: Schema.String,
  /** The command that recorded the key first. */
  command: Schema.String
}) {
  override get message() {
    return `Idempotency key "${this.key}" was already used for a different ${this.command} request`
  }
}

/**
 * A `blocks` dependency that would close a cycle: `path` runs from the sortie through the
 * existing `blocks` edges back to it (`[sortie, depends_on, …, sortie]`). Nothing was written.
 */
export class DependencyCycle extends Schema.TaggedError<DependencyCycle>()("DependencyCycle", {
  sortie_id: Schema.String,
  depends_on_id: Schema.String,
  path: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Sortie "${this.sortie_id}" cannot depend on "${this.depends_on_id}": that would close the cycle ${
      this.path.join(" → ")
    }`
  }
}

/**
 * The sortie is open but waits on `blocks` dependencies that are not closed yet, so it cannot be
 * claimed (see `Sorties.ready`). `blockers` are their ids.
 */
export class SortieNotReady extends Schema.TaggedError<SortieNotReady>()("SortieNotReady", {
  id: Schema.String,
  blockers: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Sortie "${this.id}" cannot be claimed before its blockers close: ${this.blockers.join(", ")}`
  }
}
