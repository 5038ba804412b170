/**
 * The end of a demo run: what it wrote (counted from the event log itself), the summary (its
 * `--json` document), the final state and summary for people, and the failure when a pilot failed.
 *
 * @module
 */
import { Clock, Effect, Option } from "effect"
import type { Lock, Mission, MissionProgress, Reservation, Sortie } from "../../index.js"
import { Events } from "../../index.js"
import { CommandFailed } from "../errors.js"
import * as Render from "../render.js"
import { locksTable, missionsTable, reservationsTable, sortiesTable } from "../tables.js"
import type { PilotRun } from "./pilots.js"
import type { PilotReport } from "./protocol.js"

/** What a run wrote, counted from the log. */
export interface Tally {
  readonly total: number
  readonly first: number | null
  readonly last: number | null
  readonly counts: ReadonlyMap<string, number>
  readonly builds: number
}

/** Count what was written after sequence `after` (builds: acquisitions of `lockKey`). */
export const tallyEvents = (after: number, lockKey: string) =>
  Effect.gen(function*() {
    const events = yield* Events
    const counts = new Map<string, number>()
    let builds = 0
    let first = Number.POSITIVE_INFINITY
    let last = after
    let total = 0
    for (let from = after;;) {
      const page = yield* events.read({ after: from, limit: 10_000 })
      for (const event of page) {
        total++
        first = Math.min(first, event.sequence)
        last = event.sequence
        counts.set(event.type, (counts.get(event.type) ?? 0) + 1)
        if (event.known && event.type === "lock_acquired" && event.data.lock_key === lockKey) builds++
      }
      if (page.length < 10_000) break
      from = page.at(-1)!.sequence
    }
    return { total, first: total === 0 ? null : first, last: total === 0 ? null : last, counts, builds } satisfies Tally
  })

/** Everything a run ended with. */
export interface Outcome {
  readonly database: string
  readonly mission: Mission
  readonly progress: MissionProgress
  readonly sorties: ReadonlyArray<Sortie>
  readonly locks: ReadonlyArray<Lock>
  readonly reservations: ReadonlyArray<Reservation>
  readonly pilots: number
  readonly runs: ReadonlyArray<PilotRun>
  readonly tally: Tally
  readonly wallMs: number
}

/** The summary (printed as is with `--json`). */
export const summaryOf = (outcome: Outcome) => {
  const reports = outcome.runs.flatMap((r) => Option.toArray(r.report))
  const sum = (key: keyof PilotReport) => reports.reduce((n, r) => n + Number(r[key]), 0)
  const count = (type: string) => outcome.tally.counts.get(type) ?? 0
  return {
    database: outcome.database,
    mission_id: outcome.mission.id,
    mission_status: outcome.mission.status,
    pilots: outcome.pilots,
    sorties: { total: outcome.progress.total, done: outcome.progress.by_status.closed },
    conflicts_refused: sum("conflicts_refused"),
    sorties_blocked: count("sortie_blocked"),
    lock_waits: sum("lock_waits"),
    builds: outcome.tally.builds,
    mail: { sent: count("message_sent"), read: count("message_read"), acked: count("message_acked") },
    checkpoints: count("checkpoint_created"),
    events_written: outcome.tally.total,
    first_sequence: outcome.tally.first,
    last_sequence: outcome.tally.last,
    wall_ms: outcome.wallMs,
    pilot_reports: outcome.runs.map((r) => ({
      callsign: r.callsign,
      exit_code: r.code,
      ...Option.getOrElse(Option.map(r.report, (report) => ({ ...report })), () => ({}))
    }))
  }
}

/** The final state and the summary, for people; `lookAround` is the closing hint. */
export const summaryText = (outcome: Outcome, lockKey: string, lookAround: string) =>
  Effect.map(Clock.currentTimeMillis, (now): ReadonlyArray<string> => {
    const summary = summaryOf(outcome)
    const { tally, runs } = outcome
    return [
      "",
      Render.heading("Final state"),
      missionsTable([{ mission: outcome.mission, progress: outcome.progress }]),
      "",
      sortiesTable(outcome.sorties),
      "",
      Render.heading(`Locks held: ${outcome.locks.length}`),
      locksTable(outcome.locks, now),
      Render.heading(`Reservations: ${outcome.reservations.length} active`),
      reservationsTable(outcome.reservations, now),
      "",
      Render.heading("Summary"),
      `  sorties done       ${summary.sorties.done}/${summary.sorties.total}  (mission ${summary.mission_status})`,
      `  conflicts refused  ${summary.conflicts_refused}  (${summary.sorties_blocked} sorties blocked until their files were free)`,
      `  lock waits         ${summary.lock_waits}  (${summary.builds} builds under lock "${lockKey}")`,
      `  mail               ${summary.mail.sent} sent, ${summary.mail.read} read, ${summary.mail.acked} acked`,
      `  checkpoints        ${summary.checkpoints}`,
      `  events written     ${summary.events_written}${tally.first === null ? "" : `  (#${tally.first} … #${tally.last})`}`,
      `  pilot processes    ${
        runs.map((r) => `${r.callsign} (pid ${Option.match(r.report, { onNone: () => "?", onSome: (x) => x.pid })}, exit ${r.code})`)
          .join(", ")
      }`,
      `  wall time          ${Render.formatDuration(summary.wall_ms)}`,
      "",
      Render.style.dim(lookAround)
    ]
  })

/** The failure when a pilot process failed: how many, and the first one's last line of stderr. */
export const pilotFailure = (runs: ReadonlyArray<PilotRun>): Option.Option<CommandFailed> => {
  const failed = runs.filter((r) => r.code !== 0)
  if (failed.length === 0) return Option.none()
  const first = failed[0]!
  const reason = first.stderr.trim().split("\n").at(-1) ?? ""
  return Option.some(
    new CommandFailed({
      message: `${failed.length} of ${runs.length} pilots failed; ${first.callsign} exited with code ${first.code}${
        reason === "" ? "" : `: ${reason}`
      }`
    })
  )
}
