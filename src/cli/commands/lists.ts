/**
 * The list views: `pilots`, `locks`, `reservations`, `sorties`, `missions`, `inbox CALLSIGN`.
 * Each reads through the services' public interfaces and prints a table (or `--json`).
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import type { Duration } from "effect"
import { Clock, Effect, Option } from "effect"
import type { Lock, Mission, MissionProgress, Pilot, Reservation, Sortie } from "../../index.js"
import { Locks, Messages, Missions, Pilots, Reservations, Sorties } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import * as Render from "../render.js"
import { blockedTable, waitingOn } from "./graph.js"

const read = withDatabase

/** Sortie statuses, colored for tables. */
export const sortieStatus = (status: string): string => {
  switch (status) {
    case "closed":
      return Render.style.green(status)
    case "in_progress":
      return Render.style.cyan(status)
    case "blocked":
      return Render.style.yellow(status)
    default:
      return status
  }
}

/** The pilots table. */
export const pilotsTable = (pilots: ReadonlyArray<Pilot>, now: number): string =>
  Render.table(pilots, [
    { header: "CALLSIGN", value: (p) => Render.style.bold(p.callsign) },
    { header: "PROGRAM", value: (p) => p.program },
    { header: "MODEL", value: (p) => p.model },
    { header: "LAST ACTIVE", value: (p) => Render.ago(p.last_active_at, now) },
    { header: "REGISTERED", value: (p) => Render.ago(p.registered_at, now) },
    { header: "TASK", value: (p) => p.task_description }
  ], "no pilots registered")

/** The held-locks table. */
export const locksTable = (locks: ReadonlyArray<Lock>, now: number): string =>
  Render.table(locks, [
    { header: "KEY", value: (l) => Render.style.bold(l.lock_key) },
    { header: "HOLDER", value: (l) => l.holder_id },
    { header: "FENCE", value: (l) => l.fence, right: true },
    { header: "ACQUIRED", value: (l) => Render.ago(l.acquired_at, now) },
    { header: "EXPIRES", value: (l) => Render.ago(l.expires_at, now) }
  ], "no locks held")

/** The active-reservations table. */
export const reservationsTable = (reservations: ReadonlyArray<Reservation>, now: number): string =>
  Render.table(reservations, [
    { header: "PATTERN", value: (r) => Render.style.bold(r.path_pattern) },
    { header: "CALLSIGN", value: (r) => r.callsign },
    { header: "MODE", value: (r) => r.exclusive ? "exclusive" : "shared" },
    { header: "EXPIRES", value: (r) => Render.ago(r.expires_at, now) },
    { header: "REASON", value: (r) => r.reason }
  ], "no active reservations")

/** The sorties table. */
export const sortiesTable = (sorties: ReadonlyArray<Sortie>): string =>
  Render.table(sorties, [
    { header: "ID", value: (s) => s.id },
    { header: "STATUS", value: (s) => sortieStatus(s.status) },
    { header: "P", value: (s) => s.priority, right: true },
    { header: "ASSIGNED", value: (s) => s.assigned_to },
    { header: "TITLE", value: (s) => s.title },
    { header: "FILES", value: (s) => s.files?.join(" ") },
    { header: "BLOCKED BECAUSE", value: (s) => s.blocked_reason }
  ], "no sorties")

/** The missions table, with each mission's progress. */
export const missionsTable = (
  missions: ReadonlyArray<{ readonly mission: Mission; readonly progress: MissionProgress }>
): string =>
  Render.table(missions, [
    { header: "ID", value: (m) => m.mission.id },
    { header: "STATUS", value: (m) => m.mission.status },
    { header: "P", value: (m) => m.mission.priority, right: true },
    { header: "PROGRESS", value: (m) => `${Render.bar(m.progress.by_status.closed, m.progress.total, 12)} ${m.progress.percent}%` },
    {
      header: "SORTIES",
      value: (m) => {
        const s = m.progress.by_status
        return `${s.closed}/${m.progress.total} closed` + (s.in_progress > 0 ? `, ${s.in_progress} active` : "") +
          (s.blocked > 0 ? `, ${s.blocked} blocked` : "")
      }
    },
    { header: "TITLE", value: (m) => m.mission.title }
  ], "no missions")

/** Every mission (optionally of one status) with its progress. */
export const missionsWithProgress = (status?: Mission["status"]) =>
  Effect.gen(function*() {
    const missions = yield* Missions
    const list = yield* missions.list(status === undefined ? {} : { status })
    return yield* Effect.forEach(list, (mission) => Effect.map(missions.progress(mission.id), (progress) => ({ mission, progress })))
  })

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
  status: Options.choice("status", ["open", "in_progress", "blocked", "closed"]).pipe(
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
  status: Options.choice("status", ["pending", "in_progress", "completed", "cancelled"]).pipe(
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
    const now = yield* Clock.currentTimeMillis
    yield* Render.lines(Render.table(entries, [
      { header: "ID", value: (e) => e.message.id, right: true },
      { header: "FROM", value: (e) => e.message.from_callsign },
      { header: "IMPORTANCE", value: (e) => e.message.importance },
      { header: "SUBJECT", value: (e) => e.read_at === null ? Render.style.bold(e.message.subject) : e.message.subject },
      { header: "SENT", value: (e) => Render.ago(e.message.created_at, now) },
      { header: "READ", value: (e) => e.read_at === null ? "unread" : Render.ago(e.read_at, now) },
      {
        header: "ACK",
        value: (e) => e.acked_at !== null ? Render.ago(e.acked_at, now) : e.message.ack_required ? Render.style.yellow("owed") : "-"
      },
      { header: "BODY", value: (e) => e.message.body }
    ], `no messages for ${options.callsign}`))
  }).pipe(read(options, { mustExist: true }))).pipe(Command.withDescription("Show a pilot's mail: unread first, then newest"))
