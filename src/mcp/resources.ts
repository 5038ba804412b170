/**
 * Read-only resources, as JSON: the pilot's inbox, a thread, active reservations, pilots, and the
 * ready sorties (`Sorties.ready`: open, unassigned, every `blocks` dependency closed).
 *
 * @module
 */
import * as McpSchema from "@effect/ai/McpSchema"
import * as McpServer from "@effect/ai/McpServer"
import { Effect, Layer, Schema } from "effect"
import { Message, Messages, Pilot, Pilots, Reservation, Reservations, Sortie, Sorties } from "../index.js"
import { PilotSession } from "./session.js"
import { InboxEntry } from "./toolkit.js"

const json = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encode(schema)
  return (value: A) => Effect.map(encode(value), (encoded) => JSON.stringify(encoded, null, 2))
}

const mimeType = "application/json"

/** How many ready sorties the resource lists at most. */
const READY_LIMIT = 50

const inbox = McpServer.resource({
  uri: "fleet://inbox",
  name: "inbox",
  description: "Your inbox, unread first (needs your callsign).",
  mimeType,
  content: Effect.gen(function*() {
    const callsign = yield* Effect.flatMap(PilotSession, (session) => session.require)
    const entries = yield* Effect.flatMap(Messages, (messages) => messages.inbox(callsign, { limit: 100 }))
    return yield* json(Schema.Array(InboxEntry))(entries)
  })
})

const thread = McpServer.resource`fleet://thread/${McpSchema.param("thread_id", Schema.String)}`({
  name: "thread",
  description: "Every message of a thread, oldest first.",
  mimeType,
  content: (_uri, threadId) =>
    Effect.flatMap(Effect.flatMap(Messages, (messages) => messages.thread(threadId)), json(Schema.Array(Message.json)))
})

const reservations = McpServer.resource({
  uri: "fleet://reservations",
  name: "reservations",
  description: "Active file reservations of every pilot.",
  mimeType,
  content: Effect.flatMap(Effect.flatMap(Reservations, (r) => r.active()), json(Schema.Array(Reservation.json)))
})

const pilots = McpServer.resource({
  uri: "fleet://pilots",
  name: "pilots",
  description: "Registered pilots, most recently active first.",
  mimeType,
  content: Effect.flatMap(Effect.flatMap(Pilots, (p) => p.list()), json(Schema.Array(Pilot.json)))
})

const ready = McpServer.resource({
  uri: "fleet://sorties/ready",
  name: "ready sorties",
  description: "Sorties ready to claim (open, unassigned, blockers closed) in claim order (most urgent first).",
  mimeType,
  content: Effect.flatMap(Effect.flatMap(Sorties, (s) => s.ready({ limit: READY_LIMIT })), json(Schema.Array(Sortie.json)))
})

/** Every resource. */
export const layer = Layer.mergeAll(inbox, thread, reservations, pilots, ready)
