/**
 * The dashboard's views as plain JSON data: `/api/status` (pilots, locks, reservations, sorties,
 * missions, threads) and the events of `/api/events` and `/api/stream`, in words.
 *
 * @module
 */
import { Clock, DateTime, Effect } from "effect"
import type { FleetEvent, Names } from "../index.js"
import { describeEvent, Events, FleetProject, Locks, Messages, Missions, Pilots, Reservations, Sorties } from "../index.js"

/** A pilot seen within this long is active; longer ago it is quiet (until the sweep marks it lost). */
export const ACTIVE_WITHIN_MS = 5 * 60_000

const SORTIE_STATUSES = ["open", "blocked", "in_progress", "closed"] as const
// At most this many rows per view; every count stays exact.
/** Sorties listed per open, blocked and in-progress column, in claim order. */
const SORTIES_SHOWN = 50
/** Closed sorties listed, the most recently completed first. */
const CLOSED_SHOWN = 30
/** Sorties listed under each pilot. */
const WORKING_ON_SHOWN = 10
/** Message threads listed, the most recently active first. */
const THREADS_SHOWN = 50
/** Pilots listed, the most recently active first (each with its sorties: one read per pilot). */
const PILOTS_SHOWN = 50
/** Locks listed (by key) and file reservations listed (oldest first). */
const HOLDS_SHOWN = 100
/** Missions listed, in `Missions.list` order (priority, then oldest), each with its progress (one read each). */
const MISSIONS_SHOWN = 20
const iso = (time: DateTime.Utc): string => DateTime.formatIso(time)
const millis = DateTime.toEpochMillis

/** One event as the dashboard shows and serves it. */
export interface EventView {
  readonly sequence: number
  readonly type: string
  readonly timestamp: string
  readonly actor: string
  readonly text: string
  readonly data: unknown
}

/** An event with its words (the command line's wording, without terminal colors; sorties and missions by title). */
export const eventView = (event: FleetEvent, names?: Names): EventView => {
  const { actor, text } = describeEvent(event, names)
  return { sequence: event.sequence, type: event.type, timestamp: iso(event.timestamp), actor, text, data: event.data }
}

/** A message thread as the dashboard shows it. */
export interface ThreadView {
  thread_id: string
  subject: string
  participants: ReadonlyArray<string>
  messages: number
  unread: number
  unacked: number
  last_at: string
}

/**
 * Everything the page shows, read from the database (read-only). Every read is bounded: counts
 * come from the database, rows are read `…_SHOWN` at a time, so the snapshot costs the same on a
 * fleet with a long history as on a new one. A pilot's `locks` and `reservations` are those among
 * the listed ones.
 */
export const status = Effect.gen(function*() {
  const now = yield* Clock.currentTimeMillis
  const project = yield* FleetProject
  const pilotsService = yield* Pilots
  const pilots = yield* pilotsService.list({ limit: PILOTS_SHOWN })
  const pilotCount = yield* pilotsService.count()
  const locksService = yield* Locks
  const locks = yield* locksService.list({ limit: HOLDS_SHOWN })
  const lockCount = yield* locksService.count()
  const reservationsService = yield* Reservations
  const reservations = yield* reservationsService.active({ limit: HOLDS_SHOWN })
  const reservationCount = yield* reservationsService.countActive()
  const sortiesService = yield* Sorties
  const counts = yield* sortiesService.counts()
  const sorties = yield* Effect.forEach(SORTIE_STATUSES, (status) =>
    sortiesService.list(status === "closed"
      ? { status, order: "recently_completed", limit: CLOSED_SHOWN }
      : { status, limit: SORTIES_SHOWN }))
  const workingOn = yield* Effect.forEach(pilots, (pilot) =>
    sortiesService.list({ status: "in_progress", assigned_to: pilot.callsign, limit: WORKING_ON_SHOWN }))
  const missionsService = yield* Missions
  const missions = yield* missionsService.list({ limit: MISSIONS_SHOWN })
  const missionCounts = yield* missionsService.counts()
  const progress = yield* Effect.forEach(missions, (mission) => missionsService.progress(mission.id))
  // A pilot is lost when the sweep said so after it was last seen.
  const lostEvents = yield* (yield* Events).read({ types: ["pilot_lost"], order: "desc", limit: 1000 })
  const lostAt = new Map<string, number>()
  for (const event of lostEvents) {
    if (event.known && event.type === "pilot_lost" && !lostAt.has(event.data.callsign)) {
      lostAt.set(event.data.callsign, millis(event.timestamp))
    }
  }
  const threads = yield* (yield* Messages).threads({ limit: THREADS_SHOWN })
  const missionTitle = new Map<string, string>(missions.map((m) => [m.id, m.title] as const))
  // The listed sorties' missions that are not listed themselves: their titles, one read each.
  const unnamed = new Set(sorties.flat().flatMap((s) => s.mission_id !== null && !missionTitle.has(s.mission_id) ? [s.mission_id] : []))
  yield* Effect.forEach(unnamed, (id) =>
    missionsService.get(id).pipe(
      Effect.map((mission) => void missionTitle.set(id, mission.title)),
      // Deleted since the sorties were read: the sortie shows without its mission's title.
      Effect.catchTag("MissionNotFound", () => Effect.void)
    ), { discard: true })
  return {
    project: { key: project.projectKey, database: project.location },
    now: new Date(now).toISOString(),
    // Exact totals of the views that list only their first rows (`sorties` carries its own).
    counts: { pilots: pilotCount, locks: lockCount, reservations: reservationCount, missions: missionCounts },
    pilots: pilots.map((pilot, i) => {
      const seenAt = millis(pilot.last_active_at)
      const lost = lostAt.get(pilot.callsign)
      return {
        callsign: pilot.callsign,
        program: pilot.program,
        model: pilot.model,
        task: pilot.task_description,
        last_active_at: iso(pilot.last_active_at),
        liveness: lost !== undefined && lost >= seenAt ? "lost" : now - seenAt <= ACTIVE_WITHIN_MS ? "active" : "quiet",
        locks: locks.filter((l) => l.holder_id === pilot.callsign).map((l) => l.lock_key),
        reservations: reservations.filter((r) => r.callsign === pilot.callsign).map((r) => r.path_pattern),
        working_on: workingOn[i]!.map((s) => ({ id: s.id, title: s.title }))
      }
    }),
    locks: locks.map((lock) => ({
      key: lock.lock_key,
      holder: lock.holder_id,
      fence: lock.fence,
      acquired_at: iso(lock.acquired_at),
      expires_at: iso(lock.expires_at),
      ms_left: Math.max(0, millis(lock.expires_at) - now)
    })),
    reservations: reservations.map((r) => ({
      path: r.path_pattern,
      holder: r.callsign,
      exclusive: r.exclusive,
      reason: r.reason,
      expires_at: iso(r.expires_at),
      ms_left: Math.max(0, millis(r.expires_at) - now)
    })),
    sorties: Object.fromEntries(SORTIE_STATUSES.map((status, i) => [status, {
      count: counts.by_status[status],
      items: sorties[i]!.map((s) => ({
        id: s.id,
        title: s.title,
        mission: s.mission_id === null ? null : missionTitle.get(s.mission_id) ?? null,
        assigned_to: s.assigned_to,
        blocked_reason: s.blocked_reason,
        files: s.files ?? []
      }))
    }])),
    missions: missions.map((mission, i) => ({
      id: mission.id,
      title: mission.title,
      status: mission.status,
      total: progress[i]!.total,
      by_status: progress[i]!.by_status,
      percent: progress[i]!.percent
    })),
    threads: threads.map((thread): ThreadView => ({
      thread_id: thread.thread_id,
      subject: thread.subject,
      participants: thread.participants,
      messages: thread.messages,
      unread: thread.unread,
      unacked: thread.unacked,
      last_at: iso(thread.last_at)
    }))
  }
}).pipe(Effect.withSpan("Dashboard.status"))

/** The status as JSON data. */
export type StatusView = Effect.Effect.Success<typeof status>
