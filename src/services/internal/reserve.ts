/**
 * The reservation rows as commands use them: the project's active reservations, the conflict
 * check against them, and writing a pilot's reservations with their `file_reserved` event.
 * Shared by `Reservations.reserve` and `Sorties.claimNext({ reserveFiles })`.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import { Data, DateTime, Effect } from "effect"
import type { ReservationConflictEntry } from "../../errors.js"
import type { Meter } from "../../paths/patterns.js"
import { compile, overlapsWithin, storedComparisonForm } from "../../paths/patterns.js"
import { Reservation } from "../../schema/coordinationTables.js"
import type { CommandContext } from "./command.js"
import type { Placed } from "./paths.js"
import * as Rows from "./rows.js"

// Rows written by other tools may hold NULL in `exclusive` (the seed's default is true).
export const COLUMNS =
  "id, project_key, callsign, path_pattern, COALESCE(exclusive, 1) AS exclusive, reason, created_at, expires_at, released_at"

/** What the conflict check reads of an active reservation. */
export interface ActiveRow {
  readonly id: number
  readonly callsign: string
  readonly path_pattern: string
  readonly exclusive: number
  readonly expires_at: number
}

/** The project's active reservations (served by `idx_reservations_active`). */
export const selectActive = (sql: SqlClient.SqlClient, projectKey: string, now: number) =>
  sql<ActiveRow>`SELECT id, callsign, path_pattern, COALESCE(exclusive, 1) AS exclusive, expires_at FROM reservations
    WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at > ${now} ORDER BY id`

/**
 * A conflict check against `rows` for `callsign`: the other pilots' patterns are compiled once,
 * then each call returns every (requested pattern, reservation) pair that conflicts, in request
 * order; or `undefined` when `meter` ran out before every pair was decided.
 */
export const conflictChecker = (
  rows: ReadonlyArray<ActiveRow>,
  callsign: string,
  exclusive: boolean,
  caseInsensitive: boolean
) => {
  const others = rows
    .filter((row) => row.callsign !== callsign && (exclusive || row.exclusive !== 0))
    .map((row) => ({ row, compiled: compile(storedComparisonForm(row.path_pattern, caseInsensitive)) }))
  return (paths: ReadonlyArray<Placed>, meter?: Meter): Array<ReservationConflictEntry> | undefined => {
    const conflicts: Array<ReservationConflictEntry> = []
    for (const { key, path } of paths) {
      const wanted = compile(key)
      for (const { compiled, row } of others) {
        const overlap = overlapsWithin(wanted, compiled, meter)
        if (overlap === undefined) return undefined
        if (overlap) {
          conflicts.push({
            path,
            holder: row.callsign,
            pattern: row.path_pattern,
            exclusive: row.exclusive !== 0,
            expires_at: DateTime.unsafeMake(row.expires_at)
          })
        }
      }
    }
    return conflicts
  }
}

/**
 * Every (requested pattern, other pilot's reservation) pair that conflicts, in request order; or
 * `undefined` when `meter` ran out before every pair was decided.
 */
export const findConflicts = (
  rows: ReadonlyArray<ActiveRow>,
  callsign: string,
  paths: ReadonlyArray<Placed>,
  exclusive: boolean,
  caseInsensitive: boolean,
  meter?: Meter
): Array<ReservationConflictEntry> | undefined => conflictChecker(rows, callsign, exclusive, caseInsensitive)(paths, meter)

/** The conflict check of a command needed more work than a write transaction may spend on it. */
export class OverlapWorkExceeded extends Data.TaggedError("OverlapWorkExceeded") {}

/** The pilot's active rows grouped by comparison form (stored patterns may predate canonicalisation). */
export const ownByPattern = (
  rows: ReadonlyArray<ActiveRow>,
  callsign: string,
  caseInsensitive: boolean
): Map<string, Array<number>> => {
  const byPattern = new Map<string, Array<number>>()
  for (const row of rows) {
    if (row.callsign !== callsign) continue
    const key = storedComparisonForm(row.path_pattern, caseInsensitive)
    const ids = byPattern.get(key)
    if (ids === undefined) byPattern.set(key, [row.id])
    else ids.push(row.id)
  }
  return byPattern
}

/** Decode `reservations` rows selected with `COLUMNS`. */
export const decodeReservations = Rows.decodeRows("reservations", Reservation)

/** What `writeReservations` reserves. */
export interface ReservationRequest {
  readonly callsign: string
  readonly paths: ReadonlyArray<Placed>
  readonly exclusive: boolean
  readonly reason: string | null
  readonly expiresAt: number
  readonly caseInsensitive: boolean
}

/**
 * Reserve `paths` for the pilot, the conflict check already passed (inside the caller's command):
 * a pattern the pilot holds is renewed in place, the others are inserted; appends
 * `file_reserved`. Returns the reservations in request order.
 */
export const writeReservations = (
  { emit, now, projectKey, sql }: CommandContext,
  active: ReadonlyArray<ActiveRow>,
  request: ReservationRequest
) =>
  Effect.gen(function*() {
    const { callsign, caseInsensitive, exclusive, expiresAt, paths, reason } = request
    const own = ownByPattern(active, callsign, caseInsensitive)
    const renewIds = paths.flatMap(({ key }) => own.get(key) ?? [])
    const fresh = paths.filter(({ key }) => !own.has(key))
    const renewed = renewIds.length === 0 ? [] : yield* sql`UPDATE reservations
        SET expires_at = ${expiresAt}, exclusive = ${exclusive ? 1 : 0}, reason = ${reason}
        WHERE project_key = ${projectKey} AND ${sql.in("id", renewIds)}
        RETURNING ${sql.literal(COLUMNS)}`
    const inserted = fresh.length === 0 ? [] : yield* sql`INSERT INTO reservations
        (project_key, callsign, path_pattern, exclusive, reason, created_at, expires_at, released_at)
        VALUES ${
      sql.csv(fresh.map(({ path }) =>
        sql`(${projectKey}, ${callsign}, ${path}, ${exclusive ? 1 : 0}, ${reason}, ${now}, ${expiresAt}, NULL)`
      ))
    }
        RETURNING ${sql.literal(COLUMNS)}`
    const renewedRows = yield* decodeReservations(renewed)
    const insertedRows = yield* decodeReservations(inserted)
    const byPattern = new Map<string, Array<Reservation>>()
    for (const row of [...renewedRows, ...insertedRows].sort((a, b) => a.id - b.id)) {
      const key = storedComparisonForm(row.path_pattern, caseInsensitive)
      byPattern.set(key, [...(byPattern.get(key) ?? []), row])
    }
    const result = paths.flatMap(({ key }) => byPattern.get(key) ?? [])
    const renewedSet = new Set<number>(renewIds)
    yield* emit("file_reserved", {
      callsign,
      reservations: result.map((row) => ({
        reservation_id: row.id,
        path_pattern: row.path_pattern,
        renewed: renewedSet.has(row.id)
      })),
      exclusive,
      reason,
      expires_at: DateTime.unsafeMake(expiresAt)
    })
    return result
  })
