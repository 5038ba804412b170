/**
 * `Pilots.sweep`: declaring pilots lost whose process stopped without a word, and handing what
 * they held back to the fleet. Each lost pilot is one command: its locks and active reservations
 * are released, its in-progress and blocked sorties reopen (unassigned, with the sortie's latest
 * checkpoint in the event so the next pilot can resume), `pilots.lost_at` is set, and
 * `pilot_lost` is appended, followed by the `lock_released`, `file_released` and
 * `sortie_released` events (reason `"pilot_lost"`) of each thing released.
 *
 * A pilot is lost while `lost_at > last_active_at`: the sweep sets `lost_at` to its `now`, which
 * is past the stale `last_active_at`, and any later heartbeat or registration (even in the same
 * millisecond) brings `last_active_at` up to it again.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import type { Duration } from "effect"
import { DateTime, Effect, Option } from "effect"
import type { InvalidInput } from "../../errors.js"
import type { EventPayload } from "../../schema/events.js"
import { leaseFields } from "../../schema/events.js"
import type { CommandContext, makeCommands } from "./command.js"
import { decodeDuration } from "./input.js"

/** Options of `Pilots.sweep`. */
export interface SweepOptions {
  /**
   * A pilot is lost when its last activity (registration or heartbeat) is older than this:
   * a `Duration`, milliseconds, or e.g. `"10 minutes"` (1 ms to one year).
   */
  readonly staleAfter: Duration.DurationInput
}

/** What a sweep did to one lost pilot: the payload of its `pilot_lost` event. */
export type LostPilot = EventPayload<"pilot_lost">

type Commands = Effect.Effect.Success<typeof makeCommands>

const decodeStaleAfter = decodeDuration("staleAfter")

interface PilotRow {
  readonly id: number
  readonly callsign: string
  readonly last_active_at: number
  readonly lost_at: number | null
}

interface LockRow {
  readonly id: number
  readonly lock_key: string
  readonly holder_id: string
  readonly fence: number
}

interface ReservationRow {
  readonly id: number
  readonly path_pattern: string
}

interface SortieRow {
  readonly id: string
  readonly status: "in_progress" | "blocked"
}

/**
 * Lose one pilot, if it is still stale and not already lost: everything happens in the caller's
 * write transaction, so a pilot that heartbeats meanwhile is left alone.
 */
const losePilot = (
  { emit, now, projectKey, sql }: CommandContext,
  callsign: string,
  staleMs: number
): Effect.Effect<Option.Option<LostPilot>, SqlError> =>
  Effect.gen(function*() {
    const found = yield* sql<PilotRow>`SELECT id, callsign, last_active_at, lost_at FROM pilots
        WHERE project_key = ${projectKey} AND callsign = ${callsign}`
    const pilot = found[0]
    if (
      pilot === undefined || pilot.last_active_at >= now - staleMs ||
      (pilot.lost_at !== null && pilot.lost_at > pilot.last_active_at)
    ) {
      return Option.none()
    }
    // Expired but unreleased leases go too: they are the lost pilot's, and nobody else's yet.
    const locks = [
      ...(yield* sql<LockRow>`UPDATE locks SET released_at = ${now}
        WHERE project_key = ${projectKey} AND holder_id = ${callsign} AND released_at IS NULL
        RETURNING id, lock_key, holder_id, fence`)
    ].sort((a, b) => a.id - b.id)
    // Expired reservations are already free and stay as they are (as `Reservations.release` does).
    const reservations = [
      ...(yield* sql<ReservationRow>`UPDATE reservations SET released_at = ${now}
        WHERE project_key = ${projectKey} AND callsign = ${callsign} AND released_at IS NULL AND expires_at > ${now}
        RETURNING id, path_pattern`)
    ].sort((a, b) => a.id - b.id)
    const sorties = yield* sql<SortieRow>`SELECT id, status FROM sorties
        WHERE project_key = ${projectKey} AND assigned_to = ${callsign} AND status IN ('in_progress', 'blocked')
        ORDER BY id`
    const reopened: Array<{ readonly sortie_id: string; readonly checkpoint_id: string | null; readonly from: SortieRow["status"] }> = []
    for (const sortie of sorties) {
      // The sortie's latest checkpoint by anyone: the most recent state of the work.
      const checkpoint = yield* sql<{ readonly id: string }>`SELECT id FROM checkpoints
          WHERE project_key = ${projectKey} AND sortie_id = ${sortie.id}
          ORDER BY created_at DESC, id DESC LIMIT 1`
      reopened.push({ sortie_id: sortie.id, checkpoint_id: checkpoint[0]?.id ?? null, from: sortie.status })
    }
    if (sorties.length > 0) {
      yield* sql`UPDATE sorties SET status = 'open', assigned_to = NULL, started_at = NULL, blocked_reason = NULL
          WHERE project_key = ${projectKey} AND assigned_to = ${callsign} AND status IN ('in_progress', 'blocked')`
    }
    yield* sql`UPDATE pilots SET lost_at = ${now} WHERE id = ${pilot.id}`

    const lost: LostPilot = {
      callsign,
      last_active_at: DateTime.unsafeMake(pilot.last_active_at),
      released_locks: locks.map((lock) => lock.lock_key),
      released_reservations: reservations.map((row) => row.path_pattern),
      reopened_sorties: reopened.map(({ checkpoint_id, sortie_id }) => ({ sortie_id, checkpoint_id }))
    }
    yield* emit("pilot_lost", lost)
    for (const lock of locks) {
      yield* emit("lock_released", { ...leaseFields(lock), reason: "pilot_lost" })
    }
    if (reservations.length > 0) {
      yield* emit("file_released", {
        callsign,
        reservations: reservations.map((row) => ({ reservation_id: row.id, path_pattern: row.path_pattern })),
        reason: "pilot_lost"
      })
    }
    for (const sortie of reopened) {
      yield* emit("sortie_released", {
        sortie_id: sortie.sortie_id,
        callsign,
        from: sortie.from,
        reason: "pilot_lost",
        checkpoint_id: sortie.checkpoint_id
      })
    }
    return Option.some(lost)
  })

/**
 * The sweep, bound to a service's command runner: finds the stale pilots with a read, then loses
 * each in its own command (which checks again). Returns the pilots lost by this call, stalest
 * first; a second sweep finds none of them again until they come back and go quiet once more.
 */
export const makeSweep = ({ command, query }: Pick<Commands, "command" | "query">) =>
(options: SweepOptions): Effect.Effect<ReadonlyArray<LostPilot>, InvalidInput | SqlError> =>
  Effect.gen(function*() {
    // `?.`: untyped callers may pass anything.
    const staleMs = yield* decodeStaleAfter((options as Partial<SweepOptions> | null | undefined)?.staleAfter)
    const stale = yield* query("Pilots.sweep.find", ({ now, projectKey, sql }) =>
      sql<{ readonly callsign: string }>`SELECT callsign FROM pilots
          WHERE project_key = ${projectKey} AND last_active_at < ${now - staleMs}
            AND (lost_at IS NULL OR lost_at <= last_active_at)
          ORDER BY last_active_at, id`)
    const lost: Array<LostPilot> = []
    for (const { callsign } of stale) {
      const result = yield* command("Pilots.sweep.pilot", (ctx) => losePilot(ctx, callsign, staleMs))
      if (Option.isSome(result)) lost.push(result.value)
    }
    return lost
  }).pipe(Effect.withSpan("Pilots.sweep", { captureStackTrace: false }))
