/**
 * Reservations: pilots announce which files they are about to change, as path patterns with a
 * TTL, exclusive (the default) or shared. Two reservations conflict when both are active, held by
 * different pilots, at least one is exclusive, and their patterns overlap (see `Paths.overlaps`).
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, DateTime, Duration, Effect, Layer, Schema } from "effect"
import type { InvalidInput, UndecodableRow } from "../errors.js"
import { ReservationConflict, ReservationNotHeld } from "../errors.js"
import type { ReservationConflictEntry } from "../errors.js"
import { overlapWork, PathPatterns, TRANSACTION_OVERLAP_STEPS } from "../paths/patterns.js"
import { FleetProject } from "../Project.js"
import { Callsign, LongText } from "../schema/common.js"
import { Reservation } from "../schema/coordinationTables.js"
import { countOf, limitClause } from "./internal/sqlParts.js"
import { makeCommands } from "./internal/command.js"
import {
  COLUMNS,
  decodeReservations as decodeRows,
  findConflicts,
  OverlapWorkExceeded,
  ownByPattern,
  selectActive,
  writeReservations
} from "./internal/reserve.js"
import { decodeDuration, decodeInput, ListLimit } from "./internal/input.js"
import { pathContext, placePaths } from "./internal/paths.js"

/** Input of `Reservations.reserve`. */
export const ReservePaths = Schema.Struct({
  callsign: Callsign,
  /** 1–100 path patterns, reserved all together or not at all. */
  paths: PathPatterns,
  /** Exclusive (the default) conflicts with every overlapping reservation of another pilot; shared only with exclusive ones. */
  exclusive: Schema.optional(Schema.Boolean),
  /** Why: shown to pilots that run into the reservation. */
  reason: Schema.optional(Schema.NullOr(LongText))
})
export type ReservePaths = typeof ReservePaths.Encoded & {
  /** How long the reservations last (e.g. `"10 minutes"` or milliseconds), from 1 ms to one year. */
  readonly ttl: Duration.DurationInput
}

/** Input of `Reservations.release`. */
export const ReleasePaths = Schema.Struct({
  callsign: Callsign,
  /** The patterns to release; omitted: every active reservation of the pilot. */
  paths: Schema.optional(PathPatterns)
})
export type ReleasePaths = typeof ReleasePaths.Encoded

/** Input of `Reservations.renew` (its `ttl` is decoded separately, like `reserve`'s). */
export const RenewPaths = Schema.Struct({
  callsign: Callsign,
  /** The patterns to renew; omitted: every active reservation of the pilot. */
  paths: Schema.optional(PathPatterns)
})
export type RenewPaths = typeof RenewPaths.Encoded & {
  /** The new lease, counted from now. */
  readonly ttl: Duration.DurationInput
}

/** Input of `Reservations.conflicts`. */
export const CheckPaths = Schema.Struct({
  callsign: Callsign,
  paths: PathPatterns,
  /** Check as an exclusive (default) or a shared request. */
  exclusive: Schema.optional(Schema.Boolean)
})
export type CheckPaths = typeof CheckPaths.Encoded

/** Options of `Reservations.active`. */
export const ActiveReservationsOptions = Schema.Struct({
  /** Only this pilot's reservations. */
  callsign: Schema.optional(Callsign),
  /** At most this many (1 … 10,000, the oldest first); all of them when omitted. */
  limit: Schema.optional(ListLimit)
})
export type ActiveReservationsOptions = typeof ActiveReservationsOptions.Encoded

/**
 * The Reservations service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface ReservationsShape {
  /**
   * Reserve every pattern, or none: if any overlaps an active reservation of another pilot (with
   * one side exclusive), fails with `ReservationConflict` listing every conflict, and writes
   * nothing. Patterns are stored in canonical form (`Paths.canonicalize`: trimmed, NFC,
   * project-relative; an absolute path outside the project root is `InvalidInput`), and compared
   * in the project's case rule; the check's work inside the transaction is bounded (see the
   * README). Re-reserving a pattern the pilot already holds
   * updates that reservation (expiry = now + ttl, `exclusive`, `reason`) instead of adding one.
   * Returns the reservations in request order. Appends `file_reserved`.
   */
  readonly reserve: (
    input: ReservePaths
  ) => Effect.Effect<ReadonlyArray<Reservation>, ReservationConflict | InvalidInput | UndecodableRow | SqlError>
  /**
   * Release the pilot's active reservations of these patterns (all of them when `paths` is
   * omitted). Patterns not held are ignored. Returns the released rows; appends `file_released`
   * when anything was released.
   */
  readonly release: (input: ReleasePaths) => Effect.Effect<ReadonlyArray<Reservation>, InvalidInput | UndecodableRow | SqlError>
  /**
   * Set the expiry of the pilot's active reservations of these patterns (all of them when
   * `paths` is omitted) to now + ttl. A named pattern the pilot does not actively hold fails the
   * whole call with `ReservationNotHeld` (an expired reservation is not revived: `reserve` it
   * again). Appends `file_renewed` when anything was renewed.
   */
  readonly renew: (
    input: RenewPaths
  ) => Effect.Effect<ReadonlyArray<Reservation>, ReservationNotHeld | InvalidInput | UndecodableRow | SqlError>
  /** What `reserve` would refuse now, without reserving anything (a read, no write lock). */
  readonly conflicts: (
    input: CheckPaths
  ) => Effect.Effect<ReadonlyArray<ReservationConflictEntry>, InvalidInput | SqlError>
  /** Active (unreleased, unexpired) reservations of the project, or of one pilot, oldest first. */
  readonly active: (
    options?: ActiveReservationsOptions
  ) => Effect.Effect<ReadonlyArray<Reservation>, InvalidInput | UndecodableRow | SqlError>
  /** How many active (unreleased, unexpired) reservations the project has. */
  readonly countActive: () => Effect.Effect<number, SqlError>
}

/** The Reservations service. */
export class Reservations extends Context.Tag("@fleettools/db/Reservations")<Reservations, ReservationsShape>() {}

const decodeReserve = decodeInput(ReservePaths)
const decodeRelease = decodeInput(ReleasePaths)
const decodeRenew = decodeInput(RenewPaths)
const decodeCheck = decodeInput(CheckPaths)
const decodeActive = decodeInput(ActiveReservationsOptions)
const decodeTtl = decodeDuration("ttl")

/** Build the Reservations service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands
  const context = pathContext(yield* FleetProject)
  const caseInsensitive = context.caseInsensitive ?? false
  const place = (paths: ReadonlyArray<string>) => placePaths(paths, context, "paths")
  const placeOptional = (paths: ReadonlyArray<string> | undefined) =>
    paths === undefined ? Effect.succeed(undefined) : place(paths)

  const reserve: ReservationsShape["reserve"] = (raw) =>
    Effect.gen(function*() {
      const input = yield* decodeReserve(raw)
      const ttl = yield* decodeTtl(raw.ttl)
      const paths = yield* place(input.paths)
      const exclusive = input.exclusive ?? true
      const reason = input.reason ?? null
      // The conflict check spends at most TRANSACTION_OVERLAP_STEPS inside the write transaction.
      // When that is not enough, the transaction is given up, the answers are worked out on a
      // plain read (no lock held) and remembered, and the transaction runs again and looks them
      // up. After two such rounds (other pilots reserving hostile patterns all along) the last
      // attempt decides whatever it meets.
      const prepare = query("Reservations.reserve.prepare", ({ now, projectKey, sql }) =>
        Effect.map(selectActive(sql, projectKey, now), (active) => {
          findConflicts(active, input.callsign, paths, exclusive, caseInsensitive)
        }))
      const attempt = (bounded: boolean) =>
        command("Reservations.reserve", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const active = yield* selectActive(sql, projectKey, now)
          const before = overlapWork()
          const conflicts = findConflicts(
            active,
            input.callsign,
            paths,
            exclusive,
            caseInsensitive,
            bounded ? { remaining: TRANSACTION_OVERLAP_STEPS } : undefined
          )
          yield* Effect.annotateCurrentSpan("fleet.overlap_steps", overlapWork() - before)
          if (conflicts === undefined) return yield* new OverlapWorkExceeded()
          // Built from validated rows: skipping the schema check keeps a long list cheap under the lock.
          if (conflicts.length > 0) return yield* new ReservationConflict({ conflicts }, true)

          return yield* writeReservations({ emit, now, projectKey, sql }, active, {
            callsign: input.callsign,
            paths,
            exclusive,
            reason,
            expiresAt: now + ttl,
            caseInsensitive
          })
        }))
      const again = (bounded: boolean) => Effect.zipRight(prepare, attempt(bounded))
      return yield* attempt(true).pipe(
        Effect.catchTag("OverlapWorkExceeded", () => again(true)),
        Effect.catchTag("OverlapWorkExceeded", () => again(false)),
        Effect.catchTag("OverlapWorkExceeded", () => Effect.dieMessage("an unmetered overlap check always decides"))
      )
    })

  const release: ReservationsShape["release"] = (raw) =>
    Effect.flatMap(decodeRelease(raw), (input) =>
      Effect.flatMap(placeOptional(input.paths), (paths) =>
      command("Reservations.release", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const active = yield* selectActive(sql, projectKey, now)
          const own = ownByPattern(active, input.callsign, caseInsensitive)
          const ids = paths === undefined
            ? Array.from(own.values()).flat()
            : paths.flatMap(({ key }) => own.get(key) ?? [])
          if (ids.length === 0) return []
          const rows = yield* decodeRows(
            yield* sql`UPDATE reservations SET released_at = ${now}
              WHERE project_key = ${projectKey} AND ${sql.in("id", ids)}
              RETURNING ${sql.literal(COLUMNS)}`
          )
          const sorted = [...rows].sort((a, b) => a.id - b.id)
          yield* emit("file_released", {
            callsign: input.callsign,
            reservations: sorted.map((row) => ({ reservation_id: row.id, path_pattern: row.path_pattern })),
            reason: "released"
          })
          return sorted
        }))))

  const renew: ReservationsShape["renew"] = (raw) =>
    Effect.gen(function*() {
      const input = yield* decodeRenew(raw)
      const ttl = yield* decodeTtl(raw.ttl)
      const paths = yield* placeOptional(input.paths)
      return yield* command("Reservations.renew", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const active = yield* selectActive(sql, projectKey, now)
          const own = ownByPattern(active, input.callsign, caseInsensitive)
          if (paths !== undefined) {
            const missing = paths.filter(({ key }) => !own.has(key)).map(({ path }) => path)
            if (missing.length > 0) return yield* new ReservationNotHeld({ callsign: input.callsign, paths: missing })
          }
          const ids = paths === undefined
            ? Array.from(own.values()).flat()
            : paths.flatMap(({ key }) => own.get(key) ?? [])
          if (ids.length === 0) return []
          const expiresAt = now + ttl
          const rows = yield* decodeRows(
            yield* sql`UPDATE reservations SET expires_at = ${expiresAt}
              WHERE project_key = ${projectKey} AND ${sql.in("id", ids)}
              RETURNING ${sql.literal(COLUMNS)}`
          )
          const sorted = [...rows].sort((a, b) => a.id - b.id)
          yield* emit("file_renewed", {
            callsign: input.callsign,
            reservations: sorted.map((row) => ({ reservation_id: row.id, path_pattern: row.path_pattern })),
            expires_at: DateTime.unsafeMake(expiresAt)
          })
          return sorted
        }))
    })

  const conflicts: ReservationsShape["conflicts"] = (raw) =>
    Effect.flatMap(decodeCheck(raw), (input) =>
      Effect.flatMap(place(input.paths), (paths) =>
        query("Reservations.conflicts", ({ now, projectKey, sql }) =>
          Effect.map(
            selectActive(sql, projectKey, now),
            (active) => findConflicts(active, input.callsign, paths, input.exclusive ?? true, caseInsensitive) ?? []
          ))))

  const active: ReservationsShape["active"] = (raw = {}) =>
    Effect.flatMap(decodeActive(raw), (options) =>
      query("Reservations.active", ({ now, projectKey, sql }) =>
        Effect.flatMap(
          sql`SELECT ${sql.literal(COLUMNS)} FROM reservations
              WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at > ${now}
                ${options.callsign === undefined ? sql`` : sql`AND callsign = ${options.callsign}`}
              ORDER BY id ${limitClause(sql, options.limit)}`,
          decodeRows
        )))

  const countActive: ReservationsShape["countActive"] = () =>
    query("Reservations.countActive", ({ now, projectKey, sql }) =>
      Effect.map(
        sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM reservations
            WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at > ${now}`,
        countOf
      ))

  return Reservations.of({ reserve, release, renew, conflicts, active, countActive })
})

/** The Reservations service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Reservations, make)
