/**
 * The one line that says why the fleet refused a request: who holds what, until when.
 *
 * @module
 */
import { DateTime } from "effect"
import type { ReservationConflictEntry } from "../index.js"
import { ReservationConflict } from "../index.js"

const until = (time: DateTime.Utc): string => DateTime.formatIso(time)

/** One conflict of a refused reservation: `src/a.ts: reserved by "bravo" as src/** (exclusive) until …`. */
export const conflictText = (conflict: ReservationConflictEntry): string =>
  `${conflict.path}: reserved by "${conflict.holder}" as ${conflict.pattern} (${
    conflict.exclusive ? "exclusive" : "shared"
  }) until ${until(conflict.expires_at)}`

/**
 * The refusal's text. The library's own messages already name the holder (and, for a lock, the
 * expiry); a reservation conflict's also needs each holder's expiry.
 */
export const refusalText = (error: unknown): string => {
  if (error instanceof ReservationConflict) return error.conflicts.map(conflictText).join("; ")
  return error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error)
}
