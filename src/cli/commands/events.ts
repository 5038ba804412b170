/**
 * `fleet-db events`: the event log, as a tail or from a sequence on, optionally followed live.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Stream } from "effect"
import type { FleetEvent } from "../../index.js"
import { Events } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import { UsageError } from "../errors.js"
import { eventLine } from "../eventText.js"
import * as Render from "../render.js"

const DEFAULT_LIMIT = 100
const PAGE = 10_000

/**
 * The newest `limit` events of the given types. The log's sequence is shared by every project in
 * the file, so the window of sequences to look at grows until it holds enough of ours.
 */
export const tail = (limit: number, types: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const events = yield* Events
    const latest = yield* events.latestSequence
    let window = limit * 2
    for (;;) {
      const start = Math.max(0, latest - window)
      let kept: Array<FleetEvent> = []
      let after = start
      for (;;) {
        const page = yield* events.read({ after, types, limit: PAGE })
        kept = [...kept, ...page].slice(-limit)
        if (page.length < PAGE) break
        after = page.at(-1)!.sequence
      }
      if (kept.length >= limit || start === 0) return kept
      window *= 4
    }
  })

/** `fleet-db events` */
export const events = Command.make("events", {
  ...common,
  type: Options.text("type").pipe(
    Options.withDescription("Only events of this type (repeat the flag, or separate types with commas)"),
    Options.repeated
  ),
  after: Options.integer("after").pipe(
    Options.withDescription("Only events after this sequence number (default: the newest --limit events)"),
    Options.optional
  ),
  limit: Options.integer("limit").pipe(
    Options.withDescription(`At most this many events (default ${DEFAULT_LIMIT}; with --follow, of the backlog)`),
    Options.optional
  ),
  follow: Options.boolean("follow").pipe(
    Options.withAlias("f"),
    Options.withDescription("Keep printing new events as they are written, until Ctrl-C")
  )
}, (options) =>
  Effect.gen(function*() {
    const limit = Option.getOrElse(options.limit, () => DEFAULT_LIMIT)
    if (limit < 1 || limit > PAGE) {
      return yield* new UsageError({ message: `--limit must be between 1 and ${PAGE}, got ${limit}` })
    }
    if (Option.isSome(options.after) && options.after.value < 0) {
      return yield* new UsageError({ message: `--after must be 0 or more, got ${options.after.value}` })
    }
    const types = options.type.flatMap((t) => t.split(",")).map((t) => t.trim()).filter((t) => t.length > 0)
    const print = (event: FleetEvent) => options.json ? Render.jsonLine(event) : Render.lines(eventLine(event))
    const service = yield* Events
    const backlog = yield* Option.match(options.after, {
      onNone: () => tail(limit, types),
      onSome: (after) => service.read({ after, types, limit })
    })
    yield* Effect.forEach(backlog, print, { discard: true })
    if (!options.follow) {
      if (backlog.length === 0 && !options.json) yield* Render.lines(Render.style.dim("  (no events)"))
      return
    }
    // Continue after what was printed; an empty backlog starts at --after or at the log's end.
    const from = backlog.at(-1)?.sequence ?? Option.getOrElse(options.after, () => 0)
    const start = Option.isNone(options.after) && backlog.length === 0 ? yield* service.latestSequence : from
    yield* Stream.runForEach(service.stream({ after: start, types, pollInterval: "200 millis" }), print)
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(
    Command.withDescription("Print the event log (the newest events, or those after --after); --follow tails it live")
  )
