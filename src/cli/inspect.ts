/**
 * Read-only diagnostics the services do not offer (they are about the database itself, or about
 * rows a healthy fleet never leaves behind): applied migrations, integrity, WAL size, leases that
 * ran out without being released, pilots that went silent while holding work, rows that do not
 * decode into their model.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect } from "effect"
import { statSync } from "node:fs"
import { FleetProject } from "../index.js"
import { latestMigrationId, migrationsTable } from "../migrations/index.js"
import { Checkpoint, Mission, Sortie, WorkOrder } from "../schema/flightline.js"
import { Cursor, Lock, Message, MessageRecipient, Pilot, Reservation } from "../schema/streams.js"
import { recipientId, rowProblem } from "../services/internal/rows.js"

/** One applied migration. */
export interface AppliedMigration {
  readonly id: number
  readonly name: string
  readonly applied_at: string
}

/** The applied migrations, oldest first, and the newest this library knows. */
export const migrations = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly migration_id: number; readonly name: string; readonly created_at: unknown }>`
    SELECT migration_id, name, created_at FROM ${sql(migrationsTable)} ORDER BY migration_id`
  const applied: ReadonlyArray<AppliedMigration> = rows.map((row) => ({
    id: Number(row.migration_id),
    name: row.name,
    applied_at: String(row.created_at)
  }))
  return { applied, version: applied.at(-1)?.id ?? 0, latest: latestMigrationId }
})

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
  const now = yield* Clock.currentTimeMillis
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
    const now = yield* Clock.currentTimeMillis
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

/** A stored row that does not decode into its model: every read meeting it fails with `UndecodableRow`. */
export interface UndecodableRowFound {
  readonly table: string
  readonly row_id: string
  readonly column: string
  readonly detail: string
}

// Each table the services read, with the model its rows decode into (as the services decode them).
const decodedTables = [
  ["pilots", rowProblem("pilots", Pilot)],
  ["missions", rowProblem("missions", Mission)],
  ["sorties", rowProblem("sorties", Sortie)],
  ["work_orders", rowProblem("work_orders", WorkOrder)],
  ["checkpoints", rowProblem("checkpoints", Checkpoint)],
  ["messages", rowProblem("messages", Message)],
  ["message_recipients", rowProblem("message_recipients", MessageRecipient, recipientId)],
  ["reservations", rowProblem("reservations", Reservation)],
  ["locks", rowProblem("locks", Lock)],
  ["cursors", rowProblem("cursors", Cursor)]
] as const

const PAGE = 500

/** The project's rows, in every table the services read, that do not decode into their model. */
export const undecodableRows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const found: Array<UndecodableRowFound> = []
  for (const [table, problem] of decodedTables) {
    // Paged by rowid, so a large table is never held in memory at once.
    let after = Number.MIN_SAFE_INTEGER
    for (;;) {
      const rows = table === "message_recipients"
        ? yield* sql<Record<string, unknown>>`SELECT r.rowid AS fleet_rowid, r.* FROM message_recipients r
            JOIN messages m ON m.id = r.message_id
            WHERE m.project_key = ${projectKey} AND r.rowid > ${after} ORDER BY r.rowid LIMIT ${PAGE}`
        : yield* sql<Record<string, unknown>>`SELECT rowid AS fleet_rowid, * FROM ${sql(table)}
            WHERE project_key = ${projectKey} AND rowid > ${after} ORDER BY rowid LIMIT ${PAGE}`
      for (const row of rows) {
        const error = problem(row)
        if (error !== undefined) found.push({ table, row_id: error.row_id, column: error.column, detail: error.detail })
      }
      if (rows.length < PAGE) break
      after = Number(rows[rows.length - 1]!.fleet_rowid)
    }
  }
  return found
})
