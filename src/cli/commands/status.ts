/**
 * `fleet-db status`: one screen on the whole project — pilots, locks, reservations, sorties,
 * missions, mail, and the last few events.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Clock, Effect, Option } from "effect"
import { FleetProject, Locks, Messages, Pilots, Reservations, Sorties, SortieStatus } from "../../index.js"
import { common } from "../options.js"
import { Opened, withDatabase } from "../connection.js"
import { eventLine } from "../eventText.js"
import * as Render from "../render.js"
import { tail } from "./events.js"
import { missionsWithProgress } from "../queries.js"
import { locksTable, missionsTable, pilotsTable, reservationsTable, sortieStatus } from "../tables.js"

const SORTIE_STATUSES = SortieStatus.literals

/** Everything `status` shows, as data. */
export const snapshot = (options: { readonly activeWithinMs: number; readonly events: number }) =>
  Effect.gen(function*() {
    const project = yield* FleetProject
    const opened = yield* Effect.serviceOption(Opened)
    const pilots = yield* Pilots
    const messages = yield* Messages
    const sorties = yield* Sorties
    const registered = yield* pilots.list()
    const active = yield* pilots.list({ activeWithin: options.activeWithinMs })
    const locks = yield* (yield* Locks).list()
    const reservations = yield* (yield* Reservations).active()
    const counts = yield* Effect.forEach(SORTIE_STATUSES, (status) => Effect.map(sorties.list({ status }), (list) => list.length))
    const missions = yield* missionsWithProgress()
    const mail = yield* Effect.forEach(registered, (pilot) =>
      Effect.map(
        Effect.all([
          messages.inbox(pilot.callsign, { unreadOnly: true, limit: 1000 }),
          messages.pendingAcks({ callsign: pilot.callsign, limit: 1000 })
        ]),
        ([unread, unacked]) => ({ callsign: pilot.callsign, unread: unread.length, unacked: unacked.length })
      ))
    const events = yield* tail(options.events, [])
    return {
      database: project.location,
      project_key: project.projectKey,
      // How the database was chosen (see the README, "Finding the project").
      found_by: Option.match(opened, {
        onNone: () => "--url",
        onSome: ({ target }) => target._tag === "File" ? target.foundBy : "--url"
      }),
      read_only: Option.exists(opened, (o) => o.readOnly),
      pilots: { registered: registered.length, active },
      locks,
      reservations,
      sorties: Object.fromEntries(SORTIE_STATUSES.map((status, i) => [status, counts[i]!])) as Record<
        typeof SORTIE_STATUSES[number],
        number
      >,
      missions: missions.map(({ mission, progress }) => ({ ...mission, progress })),
      mail: {
        unread: mail.reduce((n, m) => n + m.unread, 0),
        unacked: mail.reduce((n, m) => n + m.unacked, 0),
        by_pilot: mail.filter((m) => m.unread > 0 || m.unacked > 0)
      },
      last_events: events,
      missionRows: missions
    }
  })

/** The snapshot as one screen of text. */
export const renderStatus = (s: Effect.Effect.Success<ReturnType<typeof snapshot>>, now: number, activeWithin: string) =>
  [
    `${Render.heading("FleetTools")} ${s.database}${s.read_only ? " (read-only)" : ""}  ${
      Render.style.dim(`(project ${s.project_key}; found by ${s.found_by})`)
    }`,
    "",
    Render.heading(`Pilots: ${s.pilots.active.length} active in the last ${activeWithin}, ${s.pilots.registered} registered`),
    pilotsTable(s.pilots.active, now),
    "",
    Render.heading(`Locks held: ${s.locks.length}`),
    locksTable(s.locks, now),
    "",
    Render.heading(`Reservations: ${s.reservations.length} active`),
    reservationsTable(s.reservations, now),
    "",
    `${Render.heading("Sorties:")} ${SORTIE_STATUSES.map((status) => `${s.sorties[status]} ${sortieStatus(status)}`).join(" · ")}`,
    "",
    Render.heading(`Missions: ${s.missionRows.length}`),
    missionsTable(s.missionRows),
    "",
    `${Render.heading("Mail:")} ${s.mail.unread} unread · ${s.mail.unacked} awaiting ack${
      s.mail.by_pilot.length === 0
        ? ""
        : `  ${Render.style.dim(`(${s.mail.by_pilot.map((m) => `${m.callsign} ${m.unread}/${m.unacked}`).join(", ")})`)}`
    }`,
    "",
    Render.heading("Last events"),
    s.last_events.length === 0 ? `  ${Render.style.dim("(none)")}` : s.last_events.map((e) => `  ${eventLine(e)}`).join("\n")
  ].join("\n")

/** `fleet-db status` */
export const status = Command.make("status", {
  ...common,
  activeWithin: Options.integer("active-minutes").pipe(
    Options.withDescription("Pilots count as active when seen within this many minutes (default 15)"),
    Options.withDefault(15)
  ),
  events: Options.integer("events").pipe(Options.withDescription("How many recent events to show (default 8)"), Options.withDefault(8))
}, (options) =>
  Effect.gen(function*() {
    const s = yield* snapshot({ activeWithinMs: Math.max(0, options.activeWithin) * 60_000, events: Math.max(1, options.events) })
    if (options.json) {
      const { missionRows: _, ...data } = s
      return yield* Render.json(data)
    }
    yield* Render.lines(renderStatus(s, yield* Clock.currentTimeMillis, `${options.activeWithin} min`))
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(
    Command.withDescription("One screen: pilots, locks, reservations, sorties, missions, mail, recent events")
  )
