/**
 * Small pieces the services' reads share: an optional `LIMIT`, a `COUNT(*)` answer, and counts per
 * status from a `GROUP BY status`.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"

/** `LIMIT n`, or nothing when no limit was asked for. */
export const limitClause = (sql: SqlClient.SqlClient, limit: number | undefined) =>
  limit === undefined ? sql`` : sql`LIMIT ${limit}`

/** The number a `SELECT COUNT(*) AS n` answered. */
export const countOf = (rows: ReadonlyArray<{ readonly n: number }>): number => Number(rows[0]?.n ?? 0)

/** Rows of `SELECT status, COUNT(*) AS n … GROUP BY status` as a total and a count for each of `statuses`. */
export const tallyByStatus = <const S extends string>(
  rows: ReadonlyArray<{ readonly status: string; readonly n: number }>,
  statuses: ReadonlyArray<S>
): { readonly total: number; readonly by_status: { readonly [K in S]: number } } => {
  const by_status = {} as { [K in S]: number }
  for (const status of statuses) by_status[status] = Number(rows.find((row) => row.status === status)?.n ?? 0)
  return { total: rows.reduce((sum, row) => sum + Number(row.n), 0), by_status }
}
