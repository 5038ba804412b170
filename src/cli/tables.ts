/**
 * The tables the commands print (lists, `status`, the demo's final state, the work graph): plain
 * functions from rows to text, so any command can show them without loading another command.
 *
 * @module
 */
import type { DependencyLink, InboxEntry, Lock, Mission, MissionProgress, Pilot, Reservation, Sortie, SortieStatus } from "../index.js"
import * as Render from "./render.js"

/** Sortie statuses, colored for tables. */
export const sortieStatus = (status: SortieStatus): string => {
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

/** A pilot's mail. */
export const inboxTable = (entries: ReadonlyArray<InboxEntry>, callsign: string, now: number): string =>
  Render.table(entries, [
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
], `no messages for ${callsign}`)

/** The sorties waiting on blockers, each with the ids it waits on. */
export const blockedTable = (rows: ReadonlyArray<{ readonly sortie: Sortie; readonly waiting: ReadonlyArray<DependencyLink> }>) =>
  Render.table(rows, [
    { header: "ID", value: (r) => r.sortie.id },
    { header: "P", value: (r) => r.sortie.priority, right: true },
    { header: "TITLE", value: (r) => r.sortie.title },
    { header: "WAITS ON", value: (r) => r.waiting.map((link) => `${link.sortie_id} (${link.status})`).join(" ") }
  ], "no sortie is waiting on another")

/** The ready sorties, in claim order. */
export const readyTable = (sorties: ReadonlyArray<Sortie>): string =>
  Render.table(sorties, [
    { header: "ID", value: (s) => s.id },
    { header: "P", value: (s) => s.priority, right: true },
    { header: "TITLE", value: (s) => s.title },
    { header: "FILES", value: (s) => s.files?.join(" ") }
  ], "no sortie is ready")
