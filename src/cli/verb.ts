/**
 * What every write verb shares (`register`, `reserve`, `claim`, …): the options `--callsign`
 * (default `$FLEET_CALLSIGN`) and `--idempotency-key`, and `runVerb`, which runs one service call
 * as the pilot on the selected database, under the key when one is given, and prints one line per
 * result (or one JSON object). A refusal becomes exit 1 with a line naming who holds what (see
 * `outcome.ts`); with `--json` the error is also printed on stdout as `{ "error": { … } }`.
 *
 * @module
 */
import { Options } from "@effect/cli"
import type { Schema } from "effect"
import { Clock, Config, Effect, Option } from "effect"
import { Idempotency } from "../index.js"
import type { Connection } from "./connection.js"
import { withDatabase } from "./connection.js"
import { UsageError } from "./errors.js"
import { common } from "./options.js"
import { refusalText } from "./refusal.js"
import * as Render from "./render.js"

/** `--callsign NAME`: the pilot the verb acts as (default `$FLEET_CALLSIGN`). */
export const callsign = Options.text("callsign").pipe(
  Options.withDescription("Act as this pilot (default: $FLEET_CALLSIGN)"),
  Options.withFallbackConfig(Config.string("FLEET_CALLSIGN")),
  Options.optional
)

/** `--idempotency-key KEY`: a retried call with the same key and input applies once. */
export const idempotencyKey = Options.text("idempotency-key").pipe(
  Options.withDescription(
    "Retry-safe key (1-256 chars): a repeat with the same key and input applies once and prints the first result"
  ),
  Options.optional
)

/** The options of a write verb. */
export const writeOptions = { ...common, callsign, idempotencyKey } as const

/** The options of a read-only verb that acts as a pilot (`check`). */
export const readOptions = { ...common, callsign } as const

/** The parsed options every verb has. */
export interface VerbOptions extends Connection {
  readonly json: boolean
  readonly callsign: Option.Option<string>
  readonly idempotencyKey?: Option.Option<string>
}

/** The callsign from `--callsign` or `$FLEET_CALLSIGN`, if any (a blank one is none). */
export const optionalCallsign = (options: VerbOptions): Effect.Effect<Option.Option<string>> =>
  Effect.succeed(Option.filter(options.callsign, (value) => value.trim().length > 0))

/** The callsign the verb acts as; a usage error when neither `--callsign` nor `$FLEET_CALLSIGN` is set. */
export const requireCallsign = (options: VerbOptions): Effect.Effect<string, UsageError> =>
  Effect.flatMap(optionalCallsign(options), (found) =>
    Option.match(found, {
      onNone: () => Effect.fail(new UsageError({ message: "who is acting? pass --callsign NAME or set FLEET_CALLSIGN" })),
      onSome: Effect.succeed
    }))

/** One service call, as a verb runs it. */
export interface Verb<A, I, E, R> {
  /** The call's name, part of the idempotency fingerprint (e.g. `"Reservations.reserve"`). */
  readonly command: string
  /** The pilot it acts as (scopes the idempotency key), if any. */
  readonly callsign: string | undefined
  /** The request as given, fingerprinted with the idempotency key. */
  readonly input: unknown
  /** How the result is stored under an idempotency key and read back on a replay. */
  readonly result: Schema.Schema<A, I>
  /** The call itself. */
  readonly run: Effect.Effect<A, E, R>
  /** The lines printed for people; `now` is the current time in epoch ms (for "in 10m"). */
  readonly text: (value: NoInfer<A>, now: number) => ReadonlyArray<string>
}

/** `until 2026-01-01T10:30:00.000Z (in 30m)`: an expiry for people. */
export const untilText = (expires: Parameters<typeof Render.millisOf>[0], now: number): string =>
  `until ${new Date(Render.millisOf(expires)).toISOString()} (${Render.ago(expires, now)})`

const errorJson = (error: unknown): Record<string, unknown> => {
  const fields = typeof error === "object" && error !== null ? { ...error } : {}
  const tag = typeof error === "object" && error !== null && "_tag" in error ? error._tag : undefined
  return { _tag: tag, ...fields, message: refusalText(error) }
}

/**
 * Print the result of a verb's call (already on a database): one line per result or, with
 * `--json`, one JSON object (`replayed: true` added when an idempotency key replayed it).
 */
export const printVerb = <A, I, E, R>(options: VerbOptions, verb: Verb<A, I, E, R>) =>
  Effect.gen(function*() {
    const key = options.idempotencyKey ?? Option.none()
    const outcome = Option.isSome(key)
      ? yield* Idempotency.run(
        { key: key.value, command: verb.command, callsign: verb.callsign, input: verb.input, result: verb.result },
        verb.run
      )
      : { value: yield* verb.run, replayed: false }
    if (options.json) return yield* Render.json(outcome.replayed ? { ...(outcome.value as object), replayed: true } : outcome.value)
    const lines = verb.text(outcome.value, yield* Clock.currentTimeMillis)
    yield* Render.lines(...lines, ...(outcome.replayed ? ["(replayed: this idempotency key was already used; nothing changed)"] : []))
  }).pipe(
    // A script reading --json output gets the refusal as data too (the line on stderr stays).
    Effect.tapError((error) =>
      options.json && typeof error === "object" && error !== null && "_tag" in error
        ? Render.json({ error: errorJson(error) })
        : Effect.void
    )
  )

/** Run a verb on the database the options select (which must exist: verbs never create one). */
export const runVerb = <A, I, E, R>(options: VerbOptions, verb: Verb<A, I, E, R>) =>
  withDatabase(options, { mustExist: true })(printVerb(options, verb))

/** Run a verb that acts as a pilot: `--callsign` or `$FLEET_CALLSIGN` is required. */
export const runAs = <A, I, E, R>(
  options: VerbOptions,
  build: (callsign: string) => Verb<A, I, E, R>
) => Effect.flatMap(requireCallsign(options), (pilot) => runVerb(options, build(pilot)))

/** A verb's call, with its types inferred from its own fields. */
export const verb = <A, I, E, R>(spec: Verb<A, I, E, R>): Verb<A, I, E, R> => spec
