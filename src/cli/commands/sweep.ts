/**
 * `fleet-db sweep --stale-after DURATION`: declare pilots lost whose last activity is older than
 * the duration, and hand back what they held (locks, reservations, sorties). Prints what it did.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import type { Duration } from "effect"
import { Clock, Effect } from "effect"
import type { LostPilot } from "../../index.js"
import { Pilots } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import * as Render from "../render.js"

const units: Readonly<Record<string, string>> = { ms: "millis", s: "seconds", m: "minutes", h: "hours", d: "days", w: "weeks" }

/**
 * `10m`, `1ms`, `2h` as Effect's `"10 minutes"`, `"1 millis"`, `"2 hours"`; anything else is passed
 * on as given, for the library to accept (`"10 minutes"`) or refuse naming `staleAfter`.
 */
export const durationInput = (text: string): Duration.DurationInput => {
  const short = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text)
  return (short === null ? text : `${short[1]} ${units[short[2]!]}`) as Duration.DurationInput
}

const list = (items: ReadonlyArray<string>): string => items.length === 0 ? "-" : items.join(" ")

/** The table of lost pilots and what was released or reopened for each. */
export const lostTable = (lost: ReadonlyArray<LostPilot>, now: number): string =>
  Render.table(lost, [
    { header: "CALLSIGN", value: (p) => Render.style.bold(p.callsign) },
    { header: "LAST ACTIVE", value: (p) => Render.ago(p.last_active_at, now) },
    { header: "LOCKS RELEASED", value: (p) => list(p.released_locks) },
    { header: "RESERVATIONS RELEASED", value: (p) => list(p.released_reservations) },
    { header: "SORTIES REOPENED", value: (p) => list(p.reopened_sorties.map((s) => s.sortie_id)) }
  ], "no stale pilots: nothing to sweep")

/** `fleet-db sweep` */
export const sweep = Command.make("sweep", {
  ...common,
  staleAfter: Options.text("stale-after").pipe(
    Options.withDescription("A pilot is lost after this long without activity, e.g. 10m, 30s, 1ms or \"10 minutes\"")
  )
}, (options) =>
  Effect.gen(function*() {
    // The library decodes the duration: a bad one is an InvalidInput naming `staleAfter` (exit 2).
    const lost = yield* (yield* Pilots).sweep({ staleAfter: durationInput(options.staleAfter) })
    if (options.json) return yield* Render.json(lost)
    yield* Render.lines(lostTable(lost, yield* Clock.currentTimeMillis))
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(
    Command.withDescription("Declare pilots silent longer than --stale-after lost; release their locks and reservations, reopen their sorties")
  )
