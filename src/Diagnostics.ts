/**
 * Diagnostics of the database itself, beyond what the services offer: the applied migrations, the
 * project keys rows are stored under, and rows that do not decode into their model. Read-only;
 * `fleet-db doctor` reports them.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { latestMigrationId, migrationsTable } from "./migrations/index.js"
import { FleetProject } from "./Project.js"
import { Checkpoint, Mission, Sortie, WorkOrder } from "./schema/workTables.js"
import { Cursor, Lock, Message, MessageRecipient, Pilot, Reservation } from "./schema/coordinationTables.js"
import { recipientId, rowProblem } from "./services/internal/rows.js"
import { keysInUse } from "./sql/identity.js"
import { nowOf, TimeAuthority } from "./sql/time.js"

/**
 * "Now" in epoch milliseconds by the database's time authority (the database's clock on servers,
 * the fiber's `Clock` on files): the clock the services decide leases, expiry and liveness by.
 */
export const now: Effect.Effect<number, SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const authority = yield* Effect.serviceOption(TimeAuthority)
  return yield* nowOf(authority._tag === "Some" ? authority.value.kind : "clock", yield* SqlClient.SqlClient)
})

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

/** One project key of a database and how many rows carry it. */
export interface ProjectKeyRows {
  readonly projectKey: string
  readonly rows: number
}

/**
 * Every project key with rows in the database, most rows first. A file database is one project:
 * more than one key means rows written by an older version through two paths to one directory
 * (README: "One project, one key" says how to merge them).
 */
export const projectKeys: Effect.Effect<ReadonlyArray<ProjectKeyRows>, SqlError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  keysInUse
)

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
