/**
 * The time authority: which clock decides leases, reservation expiry, liveness and the sweep's
 * staleness. On one machine every process reads the same clock; on a server shared by several
 * machines they do not, so there the database's own clock decides, read in the same transaction
 * as the decision it serves.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect } from "effect"

/**
 * `"database"`: the database's clock (`julianday('now')`, read by SQL: the server's clock for a
 * libSQL server). `"clock"`: the calling fiber's `Clock` (the process's clock, or a `TestClock`).
 */
export type TimeAuthorityKind = "database" | "clock"

/** Which clock a `FleetDb` layer's services read `now` from. */
export interface TimeAuthorityShape {
  readonly kind: TimeAuthorityKind
}

/** Which clock a `FleetDb` layer's services read `now` from (absent: the fiber's `Clock`). */
export class TimeAuthority extends Context.Tag("@fleettools/db/TimeAuthority")<TimeAuthority, TimeAuthorityShape>() {}

// `julianday('now')` has millisecond resolution and, unlike `unixepoch('subsec')`, every SQLite
// and libSQL version has it. A double holds today's julian day to well under a millisecond.
const NOW_SQL = "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) AS now"

/** The database's current time in epoch milliseconds. */
export const databaseNow = (sql: SqlClient.SqlClient): Effect.Effect<number, SqlError> =>
  Effect.map(sql.unsafe<{ readonly now: number | bigint }>(NOW_SQL), (rows) => Number(rows[0]!.now))

/** The `now` of one command or query, by `kind`, on `sql` (inside the caller's transaction, if any). */
export const nowOf = (kind: TimeAuthorityKind, sql: SqlClient.SqlClient): Effect.Effect<number, SqlError> =>
  kind === "database" ? databaseNow(sql) : Clock.currentTimeMillis
