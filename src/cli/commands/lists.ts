/**
 * The list views: `pilots`, `locks`, `reservations`, `sorties`, `missions`, `inbox CALLSIGN`.
 * Each reads through the services' public interfaces and prints a table (see `tables.ts`) or
 * `--json`.
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import type { Duration } from "effect"
import { Clock, Effect, Option } from "effect"
import { Locks, MissionStatus, Messages, Pilots, Reservations, Sorties, SortieStatus } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import { missionsWithProgress, waitingOn } from "../queries.js"
import * as Render from "../render.js"
import { blockedTable, inboxTable, locksTable, missionsTable, pilotsTable, reservationsTable, sortiesTable } from "../tables.js"

const read = withDatabase

/** `fleet-db pilots` */
export const pilots = Command.make("pilots", {
  ...common,
  activeWithin: Options.text("active-within").pipe(
    Options.withDescription("Only pilots active within this long, e.g. \"10 minutes\""),
    Options.optional
  )
}, (options) =>
  Effect.gen(function*() {
    const list = yield* (yield* Pilots).list({ activeWithin: Option.getOrUndefined(options.activeWithin) as Duration.DurationInput | undefined })
    if (options.json) return yield* Render.json(list)
    yield* Render.lines(pilotsTable(list, yield* Clock.currentTimeMillis))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("List the registered pilots, most recently active first"))

/** `fleet-db locks` */
export const locks = Command.make("locks", common, (options) =>
  Effect.gen(function*() {
    const list = yield* (yield* Locks).list()
    if (options.json) return yield* Render.json(list)
    yield* Render.lines(locksTable(list, yield* Clock.currentTimeMillis))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("List the locks currently held"))

/** `fleet-db reservations` */
export const reservations = Command.make("reservations", {
  ...common,
  callsign: Options.text("callsign").pipe(Options.withDescription("Only this pilot's reservations"), Options.optional)
}, (options) =>
  Effect.gen(function*() {
    const list = yield* (yield* Reservations).active(
      Option.match(options.callsign, { onNone: () => ({}), onSome: (callsign) => ({ callsign }) })
    )
    if (options.json) return yield* Render.json(list)
    yield* Render.lines(reservationsTable(list, yield* Clock.currentTimeMillis))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("List the active file reservations"))

/** `fleet-db sorties` */
export const sorties = Command.make("sorties", {
  ...common,
  status: Options.choice("status", SortieStatus.literals).pipe(
    Options.withDescription("Only sorties with this status"),
    Options.optional
  ),
  mission: Options.text("mission").pipe(Options.withDescription("Only sorties of this mission id"), Options.optional),
  assignedTo: Options.text("assigned-to").pipe(Options.withDescription("Only sorties assigned to this callsign"), Options.optional),
  blocked: Options.boolean("blocked").pipe(
    Options.withDescription("Only sorties waiting on unclosed blockers (dependencies), with what they wait on")
  )
}, (options) =>
  Effect.gen(function*() {
    const list = yield* (yield* Sorties).list({
      ...Option.match(options.status, { onNone: () => ({}), onSome: (status) => ({ status }) }),
      ...Option.match(options.mission, { onNone: () => ({}), onSome: (mission_id) => ({ mission_id }) }),
      ...Option.match(options.assignedTo, { onNone: () => ({}), onSome: (assigned_to) => ({ assigned_to }) })
    })
    if (options.blocked) {
      const waiting = yield* Effect.forEach(
        list.filter((s) => s.status !== "closed" && s.unclosed_blockers > 0),
        (sortie) => Effect.map(waitingOn(sortie), (waiting) => ({ sortie, waiting }))
      )
      if (options.json) return yield* Render.json(waiting.map(({ sortie, waiting }) => ({ ...sortie, waiting_on: waiting })))
      return yield* Render.lines(blockedTable(waiting))
    }
    if (options.json) return yield* Render.json(list)
    yield* Render.lines(sortiesTable(list))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("List sorties in claim order (priority, then oldest)"))

/** `fleet-db missions` */
export const missions = Command.make("missions", {
  ...common,
  status: Options.choice("status", MissionStatus.literals).pipe(
    Options.withDescription("Only missions with this status"),
    Options.optional
  )
}, (options) =>
  Effect.gen(function*() {
    const list = yield* missionsWithProgress(Option.getOrUndefined(options.status))
    if (options.json) return yield* Render.json(list.map(({ mission, progress }) => ({ ...mission, progress })))
    yield* Render.lines(missionsTable(list))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("List missions with their progress"))

/** `fleet-db inbox CALLSIGN` */
export const inbox = Command.make("inbox", {
  ...common,
  callsign: Args.text({ name: "CALLSIGN" }).pipe(Args.withDescription("The pilot whose mail to show")),
  unread: Options.boolean("unread").pipe(Options.withDescription("Only unread messages")),
  urgent: Options.boolean("urgent").pipe(Options.withDescription("Only high and urgent messages")),
  limit: Options.integer("limit").pipe(Options.withDescription("At most this many messages (default 100)"), Options.optional)
}, (options) =>
  Effect.gen(function*() {
    // An unknown callsign is a typo far more often than an empty inbox: say so.
    yield* (yield* Pilots).get(options.callsign)
    const entries = yield* (yield* Messages).inbox(options.callsign, {
      unreadOnly: options.unread,
      urgentOnly: options.urgent,
      limit: Option.getOrUndefined(options.limit)
    })
    if (options.json) return yield* Render.json(entries)
    yield* Render.lines(inboxTable(entries, options.callsign, yield* Clock.currentTimeMillis))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("Show a pilot's mail: unread first, then newest"))
