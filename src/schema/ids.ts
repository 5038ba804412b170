/**
 * Branded ids. Integer ids are SQLite rowids; text ids are prefixed UUIDv7 strings
 * (`srt_0193…`): unique, sortable by creation time, generated from `Clock` and crypto randomness.
 *
 * @module
 */
import { Clock, Effect, Schema } from "effect"
import { randomFillSync } from "node:crypto"
import { Text } from "./common.js"

export const EventId = Schema.Int.pipe(Schema.brand("EventId"))
export type EventId = typeof EventId.Type
export const PilotId = Schema.Int.pipe(Schema.brand("PilotId"))
export type PilotId = typeof PilotId.Type
export const MessageId = Schema.Int.pipe(Schema.brand("MessageId"))
export type MessageId = typeof MessageId.Type
export const ReservationId = Schema.Int.pipe(Schema.brand("ReservationId"))
export type ReservationId = typeof ReservationId.Type
export const CursorId = Schema.Int.pipe(Schema.brand("CursorId"))
export type CursorId = typeof CursorId.Type
export const LockId = Schema.Int.pipe(Schema.brand("LockId"))
export type LockId = typeof LockId.Type

export const MissionId = Text({ min: 1, max: 128 }).pipe(Schema.brand("MissionId"))
export type MissionId = typeof MissionId.Type
export const SortieId = Text({ min: 1, max: 128 }).pipe(Schema.brand("SortieId"))
export type SortieId = typeof SortieId.Type
export const WorkOrderId = Text({ min: 1, max: 128 }).pipe(Schema.brand("WorkOrderId"))
export type WorkOrderId = typeof WorkOrderId.Type
export const CheckpointId = Text({ min: 1, max: 128 }).pipe(Schema.brand("CheckpointId"))
export type CheckpointId = typeof CheckpointId.Type

/** The prefixes of generated text ids. */
export const idPrefix = {
  mission: "msn",
  sortie: "srt",
  workOrder: "wo",
  checkpoint: "chk",
  thread: "thr"
} as const

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

// Within one millisecond, ids from one process keep increasing thanks to a counter in the
// random bits (RFC 9562 §6.2 method 1); across processes the random tail keeps them unique.
let lastMillis = -1
let sequence = 0

/** A UUIDv7 for `millis`, as 32 lowercase hex digits with dashes. */
export const uuidv7 = (millis: number): string => {
  const bytes = new Uint8Array(16)
  randomFillSync(bytes, 6)
  if (millis === lastMillis) {
    sequence = (sequence + 1) & 0xfff
  } else {
    lastMillis = millis
    sequence = ((bytes[6]! & 0x07) << 8) | bytes[7]!
  }
  let t = Math.max(0, Math.floor(millis))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256
    t = Math.floor(t / 256)
  }
  bytes[6] = 0x70 | ((sequence >> 8) & 0x0f)
  bytes[7] = sequence & 0xff
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** A new prefixed UUIDv7 id such as `srt_01936c3e-…`, timed by `Clock`. */
export const makeId = (prefix: string): Effect.Effect<string> =>
  Effect.map(Clock.currentTimeMillis, (millis) => `${prefix}_${uuidv7(millis)}`)
