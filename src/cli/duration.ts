/**
 * Durations on the command line: `10m`, `30s`, `1ms`, `2h` or Effect's `"10 minutes"`.
 *
 * @module
 */
import type { Duration } from "effect"
import { Effect } from "effect"
import { UsageError } from "./errors.js"

const units: Readonly<Record<string, string>> = { ms: "millis", s: "seconds", m: "minutes", h: "hours", d: "days", w: "weeks" }

/**
 * The duration `text` given to `flag`: `10m` as Effect's `"10 minutes"`; text in Effect's own
 * form (`"10 minutes"`) passed on for the library to accept or refuse naming its field. A bare
 * number is refused here: its unit is anybody's guess (`30` meant as minutes would be 30 ms).
 */
export const parseDuration = (flag: string, text: string): Effect.Effect<Duration.DurationInput, UsageError> => {
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(text)) {
    const n = text.trim()
    return Effect.fail(new UsageError({ message: `${flag} ${n} needs a unit, e.g. ${n}ms, ${n}s or ${n}m` }))
  }
  const short = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text)
  return Effect.succeed((short === null ? text : `${short[1]} ${units[short[2]!]}`) as Duration.DurationInput)
}
