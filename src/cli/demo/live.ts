/**
 * The demo's live log: follows the event log while the pilots work and prints what they do, with
 * a redrawn status line at the bottom of a color terminal.
 *
 * @module
 */
import { Effect, Fiber, Option, Ref, Schedule, Stream } from "effect"
import type { FleetEvent } from "../../index.js"
import { Events } from "../../index.js"
import { eventLine } from "../eventText.js"
import * as Render from "../render.js"

/** What the live log shows. */
export interface LiveView {
  /** `S1`, `S2`, … by sortie id. */
  readonly labels: ReadonlyMap<string, string>
  readonly callsigns: ReadonlyArray<string>
  /** The lock every build takes. */
  readonly lockKey: string
  /** Print the events (not with `--json`). */
  readonly print: boolean
  /** Stdout is a color terminal: redraw a status line under the log. */
  readonly tty: boolean
}

/** What each pilot is doing, derived from the events, for the live status line. */
const activityOf = (
  event: FleetEvent,
  label: (id: string) => string,
  lockKey: string
): Option.Option<readonly [string, string]> => {
  if (!event.known) return Option.none()
  switch (event.type) {
    case "sortie_claimed":
      return Option.some([event.data.callsign, `working on ${label(event.data.sortie_id)}`])
    case "sortie_blocked":
      return Option.some([event.data.callsign ?? "", `${label(event.data.sortie_id)} waits for files`])
    case "sortie_unblocked":
      return Option.some([event.data.callsign ?? "", `working on ${label(event.data.sortie_id)}`])
    case "lock_acquired":
      return event.data.lock_key === lockKey ? Option.some([event.data.holder_id, "building"]) : Option.none()
    case "sortie_completed":
      return Option.some([event.data.callsign ?? "", `finished ${label(event.data.sortie_id)}`])
    default:
      return Option.none()
  }
}

// Routine chatter that would drown the interesting lines.
const quiet = new Set(["message_read", "lock_extended", "file_renewed", "sortie_created", "mission_created"])

/**
 * Follow the log after sequence `after` in the background. The returned `stop` waits (up to 5 s)
 * until the log has been printed up to the latest event, then stops following.
 */
export const followLog = (after: number, view: LiveView) =>
  Effect.gen(function*() {
    const events = yield* Events
    const printed = yield* Ref.make(after)
    const activity = new Map<string, string>(view.callsigns.map((c) => [c, "starting"]))
    const total = view.labels.size
    const label = (id: string) => view.labels.get(id) ?? id
    let closed = 0
    // One line at the bottom of a terminal, cut to its width so that redrawing it in place works.
    const statusLine = (columns: number) => {
      const text = `${closed}/${total} closed  ${view.callsigns.map((c) => `${c}: ${activity.get(c)}`).join(" · ")}`
      const room = Math.max(10, columns - 14)
      return `${Render.bar(closed, total, 12)} ${text.length > room ? `${text.slice(0, room - 1)}…` : text}`
    }
    const show = (event: FleetEvent) =>
      Effect.gen(function*() {
        yield* Ref.set(printed, event.sequence)
        if (event.known && event.type === "sortie_completed" && view.labels.has(event.data.sortie_id)) closed++
        Option.map(activityOf(event, label, view.lockKey), ([who, what]) => activity.set(who, what))
        if (!view.print || quiet.has(event.type)) return
        const progress = event.known && event.type === "sortie_completed" ? Render.style.dim(`  [${closed}/${total}]`) : ""
        const line = `${eventLine(event, (id) => view.labels.get(id), 8)}${progress}`
        yield* Render.out(view.tty ? `\r\u001b[2K${line}\n${statusLine((yield* Render.terminalColumns) ?? 80)}` : `${line}\n`)
      })
    const follower = yield* Effect.fork(Stream.runForEach(events.stream({ after, pollInterval: "100 millis" }), show))

    const stop = Effect.gen(function*() {
      // Let the follower catch up with the last event the pilots wrote, then stop it.
      const end = yield* events.latestSequence
      yield* Effect.repeat(Ref.get(printed), {
        until: (seq) => seq >= end,
        schedule: Schedule.spaced("50 millis").pipe(Schedule.upTo("5 seconds"))
      })
      yield* Fiber.interrupt(follower)
      if (view.tty) yield* Render.out("\r\u001b[2K")
    })
    return { stop }
  })
