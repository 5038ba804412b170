/**
 * File reservation verbs: `fleet-db reserve`, `renew`, `release` and `check` (read-only).
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Reservation, ReservationConflict, Reservations } from "../../index.js"
import { readOptions, requireCallsign, runAs, untilText, writeOptions, verb } from "../verb.js"
import { withDatabase } from "../connection.js"
import { parseDuration } from "../duration.js"
import * as Render from "../render.js"

const ReservationsResult = Schema.Struct({ reservations: Schema.Array(Reservation) })

const paths = Args.text({ name: "PATH" }).pipe(
  Args.withDescription("Path globs relative to the project root, e.g. 'src/auth/**'"),
  Args.atLeast(1)
)
const somePaths = Args.text({ name: "PATH" }).pipe(
  Args.withDescription("Path globs relative to the project root (default: all of the pilot's)"),
  Args.repeated
)
const ttl = Options.text("ttl").pipe(
  Options.withDescription("How long it lasts, e.g. 30m, 2h or \"45 minutes\" (default 30m)"),
  Options.withDefault("30m")
)
const shared = Options.boolean("shared").pipe(
  Options.withDescription("Shared instead of exclusive: conflicts only with exclusive reservations")
)

const listed = (verb: string, empty: string) =>
({ reservations }: { readonly reservations: ReadonlyArray<Reservation> }, now: number): ReadonlyArray<string> =>
  reservations.length === 0
    ? [empty]
    : reservations.map((r) => `${verb} ${r.path_pattern} (${r.exclusive ? "exclusive" : "shared"}) ${untilText(r.expires_at, now)}`)

/** `fleet-db reserve PATH…` */
export const reserve = Command.make("reserve", {
  ...writeOptions,
  paths,
  ttl,
  shared,
  reason: Options.text("reason").pipe(Options.withDescription("Why: shown to pilots that run into it"), Options.optional)
}, (options) =>
  runAs(options, (callsign) => {
    const input = {
      callsign,
      paths: options.paths,
      exclusive: !options.shared,
      reason: Option.getOrUndefined(options.reason)
    }
    return verb({
      command: "Reservations.reserve",
      callsign,
      input: { ...input, ttl: options.ttl },
      result: ReservationsResult,
      run: Effect.flatMap(parseDuration("--ttl", options.ttl), (ttl) =>
        Effect.map(Effect.flatMap(Reservations, (r) => r.reserve({ ...input, ttl })), (reservations) => ({ reservations }))),
      text: listed("reserved", "nothing reserved")
    })
  })).pipe(Command.withDescription("Reserve files for the pilot, all or none (refused: who holds them, until when)"))

/** `fleet-db renew [PATH…]` */
export const renew = Command.make("renew", { ...writeOptions, paths: somePaths, ttl }, (options) =>
  runAs(options, (callsign) => {
    const input = { callsign, paths: options.paths.length === 0 ? undefined : options.paths }
    return verb({
      command: "Reservations.renew",
      callsign,
      input: { ...input, ttl: options.ttl },
      result: ReservationsResult,
      run: Effect.flatMap(parseDuration("--ttl", options.ttl), (ttl) =>
        Effect.map(Effect.flatMap(Reservations, (r) => r.renew({ ...input, ttl })), (reservations) => ({ reservations }))),
      text: listed("renewed", "nothing to renew")
    })
  })).pipe(Command.withDescription("Extend the pilot's reservations to --ttl from now"))

/** `fleet-db release [PATH…]` */
export const release = Command.make("release", { ...writeOptions, paths: somePaths }, (options) =>
  runAs(options, (callsign) => {
    const input = { callsign, paths: options.paths.length === 0 ? undefined : options.paths }
    return verb({
      command: "Reservations.release",
      callsign,
      input,
      result: ReservationsResult,
      run: Effect.map(Effect.flatMap(Reservations, (r) => r.release(input)), (reservations) => ({ reservations })),
      text: ({ reservations }) =>
        reservations.length === 0 ? ["nothing to release"] : reservations.map((r) => `released ${r.path_pattern}`)
    })
  })).pipe(Command.withDescription("Release the pilot's reservations of these paths (default: all of them)"))

/** `fleet-db check PATH…`: exit 0 when free, 1 (refused, naming the holders) when not. */
export const check = Command.make("check", { ...readOptions, paths, shared }, (options) =>
  Effect.gen(function*() {
    const callsign = yield* requireCallsign(options)
    const conflicts = yield* withDatabase(options, { mustExist: true })(
      Effect.flatMap(Reservations, (r) => r.conflicts({ callsign, paths: options.paths, exclusive: !options.shared }))
    )
    if (options.json) yield* Render.json({ conflicts })
    else if (conflicts.length === 0) yield* Render.lines(`free: ${options.paths.join(" ")}`)
    // The refusal line on stderr names every holder (see refusal.ts).
    if (conflicts.length > 0) return yield* new ReservationConflict({ conflicts })
  })).pipe(Command.withDescription("Would reserving these paths be refused? Exit 0 if free, 1 naming the holders"))
