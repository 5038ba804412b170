/**
 * `fleet-db events`: the event log, as a tail, newest first, from a sequence or by time window,
 * optionally followed live.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { DateTime, Effect, Option, ParseResult, Schema, Stream } from "effect"
import type { FleetEvent } from "../../index.js"
import { Events } from "../../index.js"
import { common, integerWithin } from "../options.js"
import { withDatabase } from "../connection.js"
import { UsageError } from "../errors.js"
import { eventLine } from "../eventText.js"
import * as Render from "../render.js"

const DEFAULT_LIMIT = 100
const PAGE = 10_000

/** The newest `limit` events of the given types, oldest first (one indexed read, newest first). */
export const tail = (limit: number, types: ReadonlyArray<string>) =>
  Effect.map(Effect.flatMap(Events, (events) => events.read({ types, order: "desc", limit })), (page) => [...page].reverse())

/** `--NAME TIME`: ISO-8601 (`2026-12-01T14:00:00Z`) or epoch milliseconds, as epoch milliseconds. */
const timeOption = (name: string) =>
  Options.text(name).pipe(Options.withSchema(Schema.transformOrFail(Schema.String, Schema.Number, {
    strict: true,
    decode: (text, _, ast) => {
      const trimmed = text.trim()
      const parsed = /^-?\d+$/.test(trimmed) ? DateTime.make(Number(trimmed)) : DateTime.make(trimmed)
      return Option.match(parsed, {
        onNone: () =>
          ParseResult.fail(new ParseResult.Type(ast, text, `--${name} must be an ISO-8601 time or epoch milliseconds, got "${text}"`)),
        onSome: (time) => ParseResult.succeed(DateTime.toEpochMillis(time))
      })
    },
    encode: (millis) => ParseResult.succeed(String(millis))
  })))

/** `fleet-db events` */
export const events = Command.make("events", {
  ...common,
  type: Options.text("type").pipe(
    Options.withDescription("Only events of this type (repeat the flag, or separate types with commas)"),
    Options.repeated
  ),
  after: integerWithin("after", { min: 0 }).pipe(
    Options.withDescription("Only events after this sequence number (default: the newest --limit events)"),
    Options.optional
  ),
  since: timeOption("since").pipe(
    Options.withDescription("Only events written at or after this time (ISO-8601 or epoch ms; inclusive)"),
    Options.optional
  ),
  until: timeOption("until").pipe(
    Options.withDescription("Only events written before this time (ISO-8601 or epoch ms; exclusive)"),
    Options.optional
  ),
  newest: Options.boolean("newest").pipe(
    Options.withDescription("Newest first: the newest --limit matches, printed newest to oldest")
  ),
  limit: integerWithin("limit", { min: 1, max: PAGE }).pipe(
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
    if (options.follow && (options.newest || Option.isSome(options.until))) {
      return yield* new UsageError({ message: "--follow prints events as they come: it cannot be combined with --newest or --until" })
    }
    const since = Option.getOrUndefined(options.since)
    const until = Option.getOrUndefined(options.until)
    const types = options.type.flatMap((t) => t.split(",")).map((t) => t.trim()).filter((t) => t.length > 0)
    const print = (event: FleetEvent) => options.json ? Render.jsonLine(event) : Render.lines(eventLine(event))
    const service = yield* Events
    const after = Option.getOrUndefined(options.after)
    // Without a lower bound (no --after, no --since) the default is the tail: the newest --limit.
    const backlog = options.newest
      ? yield* service.read({ after, since, until, types, limit, order: "desc" })
      : after === undefined && since === undefined
      ? [...(yield* service.read({ until, types, limit, order: "desc" }))].reverse()
      : yield* service.read({ after, since, until, types, limit })
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
    Command.withDescription(
      "Print the event log: the newest events, those after --after, or a time window (--since, --until); " +
        "--newest prints newest first; --follow tails it live"
    )
  )
