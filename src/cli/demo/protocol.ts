/**
 * What `fleet-db demo` and its pilot processes (`demo-pilot.ts`) tell each other: the settings a
 * pilot starts with (its argument, JSON) and the report it prints when done (its last stdout line).
 *
 * @module
 */
import { Schema } from "effect"

/** What the demo tells each pilot. */
export const PilotSettings = Schema.Struct({
  project: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  callsign: Schema.String,
  /** Every pilot of the run (including this one), for the start barrier and for mail. */
  peers: Schema.Array(Schema.String),
  mission_id: Schema.String,
  /** The lock every build step takes. */
  lock_key: Schema.String,
  work_ms: Schema.Tuple(Schema.Number, Schema.Number),
  build_ms: Schema.Tuple(Schema.Number, Schema.Number)
})
export type PilotSettings = typeof PilotSettings.Type

/** The tally a pilot prints when it is done. */
export const PilotReport = Schema.Struct({
  callsign: Schema.String,
  pid: Schema.Number,
  sorties_completed: Schema.Number,
  /** Reservation requests refused because another pilot held an overlapping file. */
  conflicts_refused: Schema.Number,
  /** Sorties blocked while waiting for files (one `sortie_blocked` event each). */
  sorties_blocked: Schema.Number,
  /** Builds that found the lock taken and had to wait. */
  lock_waits: Schema.Number,
  builds: Schema.Number,
  mail_sent: Schema.Number,
  mail_read: Schema.Number,
  mail_acked: Schema.Number,
  checkpoints: Schema.Number
})
export type PilotReport = typeof PilotReport.Type
