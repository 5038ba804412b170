/**
 * Read-only diagnostics the services do not offer (they are about the database itself, or about
 * rows a healthy fleet never leaves behind): integrity, WAL size, leases that ran out without being
 * released, pilots that went silent while holding work. The library's own (applied migrations,
 * project keys, rows that do not decode) are `Diagnostics` of the public face.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { statSync } from "node:fs"
import { Diagnostics, FleetProject } from "../index.js"

/** `PRAGMA integrity_check`: `["ok"]` for a healthy file, else the problems it lists. */
export const integrity = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<Record<string, unknown>>`PRAGMA integrity_check`
  return rows.map((row) => String(Object.values(row)[0]))
})

/** Size in bytes of a file, 0 when it does not exist. */
export const fileSize = (path: string): number => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** A lease (lock or reservation) whose time ran out while nobody released it. */
export interface ExpiredLease {
  readonly kind: "lock" | "reservation"
  readonly id: number
  /** Lock key or path pattern. */
  readonly name: string
  readonly holder: string
  readonly expires_at: number
}

/** Locks and reservations of the project that expired without being released. */
export const expiredLeases = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const now = yield* Diagnostics.now
  const locks = yield* sql<{ readonly id: number; readonly lock_key: string; readonly holder_id: string; readonly expires_at: number }>`
    SELECT id, lock_key, holder_id, expires_at FROM locks
    WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at <= ${now} ORDER BY expires_at`
  const reservations = yield* sql<
    { readonly id: number; readonly path_pattern: string; readonly callsign: string; readonly expires_at: number }
  >`
    SELECT id, path_pattern, callsign, expires_at FROM reservations
    WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at <= ${now} ORDER BY expires_at`
  const leases: ReadonlyArray<ExpiredLease> = [
    ...locks.map((row) => ({
      kind: "lock" as const,
      id: row.id,
      name: row.lock_key,
      holder: row.holder_id,
      expires_at: Number(row.expires_at)
    })),
    ...reservations.map((row) => ({
      kind: "reservation" as const,
      id: row.id,
      name: row.path_pattern,
      holder: row.callsign,
      expires_at: Number(row.expires_at)
    }))
  ]
  return leases
})

/** A pilot silent for longer than the threshold, and the work it still holds. */
export interface SilentPilot {
  readonly callsign: string
  readonly last_active_at: number
  /** Sorties in progress or blocked that are assigned to it. */
  readonly sorties: number
  /** Unreleased, unexpired locks and reservations it holds. */
  readonly leases: number
}

/** Pilots whose last activity is older than `silentMs`, with what they hold. */
export const silentPilots = (silentMs: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { projectKey } = yield* FleetProject
    const now = yield* Diagnostics.now
    const rows = yield* sql<
      { readonly callsign: string; readonly last_active_at: number; readonly sorties: number; readonly leases: number }
    >`
      SELECT p.callsign, p.last_active_at,
        (SELECT COUNT(*) FROM sorties s WHERE s.project_key = p.project_key AND s.assigned_to = p.callsign
           AND s.status IN ('in_progress', 'blocked')) AS sorties,
        (SELECT COUNT(*) FROM locks l WHERE l.project_key = p.project_key AND l.holder_id = p.callsign
           AND l.released_at IS NULL AND l.expires_at > ${now})
        + (SELECT COUNT(*) FROM reservations r WHERE r.project_key = p.project_key AND r.callsign = p.callsign
           AND r.released_at IS NULL AND r.expires_at > ${now}) AS leases
      FROM pilots p
      WHERE p.project_key = ${projectKey} AND p.last_active_at < ${now - silentMs}
      ORDER BY p.last_active_at`
    return rows.map((row): SilentPilot => ({
      callsign: row.callsign,
      last_active_at: Number(row.last_active_at),
      sorties: Number(row.sorties),
      leases: Number(row.leases)
    }))
  })
