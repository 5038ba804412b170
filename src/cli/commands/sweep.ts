/**
 * `fleet-db sweep --stale-after DURATION`: declare pilots lost whose last activity is older than
 * the duration, and hand back what they held (locks, reservations, sorties). Prints what it did.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Clock, Effect } from "effect"
import type { LostPilot } from "../../index.js"
import { Pilots } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import { parseDuration } from "../duration.js"
import * as Render from "../render.js"

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
  // A bad duration is reported before the database is opened; the library decodes the rest (an
  // InvalidInput naming `staleAfter`, exit 2).
  Effect.flatMap(parseDuration("--stale-after", options.staleAfter), (staleAfter) =>
    Effect.gen(function*() {
      const lost = yield* (yield* Pilots).sweep({ staleAfter })
      if (options.json) return yield* Render.json(lost)
      yield* Render.lines(lostTable(lost, yield* Clock.currentTimeMillis))
    }).pipe(withDatabase(options, { mustExist: true })))).pipe(
    Command.withDescription("Declare pilots silent longer than --stale-after lost; release their locks and reservations, reopen their sorties")
  )
