/**
 * Sortie verbs: `fleet-db claim [ID]`, `complete`, `block`, `unblock`, `unclaim`, and
 * `fleet-db sortie create`.
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Sortie, Sorties } from "../../index.js"
import { Refused, UsageError } from "../errors.js"
import { optionalCallsign, runAs, runVerb, writeOptions, verb } from "../verb.js"

const SortieResult = Schema.Struct({ sortie: Sortie })

const sortieId = Args.text({ name: "ID" }).pipe(Args.withDescription("The sortie's id (see `fleet-db sorties`)"))

const sortieText = (verb: string) => ({ sortie }: { readonly sortie: Sortie }): ReadonlyArray<string> => [
  `${verb} ${sortie.id} "${sortie.title}" (${sortie.status}${sortie.assigned_to === null ? "" : `, ${sortie.assigned_to}`})`
]

/** `fleet-db claim [ID]` */
export const claim = Command.make("claim", {
  ...writeOptions,
  id: Args.text({ name: "ID" }).pipe(
    Args.withDescription("The sortie to claim (default: the most urgent open one)"),
    Args.optional
  ),
  mission: Options.text("mission").pipe(
    Options.withDescription("Without ID: only a sortie of this mission"),
    Options.optional
  )
}, (options) =>
  runAs(options, (callsign) => verb({
    command: Option.isSome(options.id) ? "Sorties.claim" : "Sorties.claimNext",
    callsign,
    input: { id: Option.getOrUndefined(options.id), mission_id: Option.getOrUndefined(options.mission) },
    result: SortieResult,
    run: Effect.gen(function*() {
      const sorties = yield* Sorties
      if (Option.isSome(options.id)) {
        if (Option.isSome(options.mission)) {
          return yield* new UsageError({ message: "--mission picks the next sortie: give it without ID" })
        }
        return { sortie: yield* sorties.claim(options.id.value, callsign) }
      }
      const next = yield* sorties.claimNext(callsign, { mission_id: Option.getOrUndefined(options.mission) })
      if (Option.isNone(next)) return yield* new Refused({ message: "nothing to claim: no open sortie" })
      return { sortie: next.value }
    }),
    text: sortieText("claimed")
  }))).pipe(Command.withDescription("Claim a sortie for the pilot: the given one, or the most urgent open one"))

type Move = "complete" | "unblock" | "release"

const move = (name: string, method: Move, label: string, description: string) =>
  Command.make(name, { ...writeOptions, id: sortieId }, (options) =>
    runAs(options, (callsign) => verb({
      command: `Sorties.${method}`,
      callsign,
      input: { id: options.id },
      result: SortieResult,
      run: Effect.map(Effect.flatMap(Sorties, (sorties) => sorties[method](options.id, { callsign })), (sortie) => ({ sortie })),
      text: sortieText(label)
    }))).pipe(Command.withDescription(description))

/** `fleet-db complete ID` */
export const complete = move("complete", "complete", "completed", "Mark the pilot's sortie done (final)")

/** `fleet-db unblock ID` */
export const unblock = move("unblock", "unblock", "unblocked", "Resume the pilot's blocked sortie")

/** `fleet-db unclaim ID` */
export const unclaim = move("unclaim", "release", "unclaimed", "Give the pilot's sortie back: open and unassigned again")

/** `fleet-db block ID --reason TEXT` */
export const block = Command.make("block", {
  ...writeOptions,
  id: sortieId,
  reason: Options.text("reason").pipe(Options.withDescription("What blocks it"))
}, (options) =>
  runAs(options, (callsign) => verb({
    command: "Sorties.block",
    callsign,
    input: { id: options.id, reason: options.reason },
    result: SortieResult,
    run: Effect.map(
      Effect.flatMap(Sorties, (sorties) => sorties.block(options.id, options.reason, { callsign })),
      (sortie) => ({ sortie })
    ),
    text: sortieText("blocked")
  }))).pipe(Command.withDescription("Mark the pilot's sortie blocked, with the reason"))

const create = Command.make("create", {
  ...writeOptions,
  title: Args.text({ name: "TITLE" }).pipe(Args.withDescription("What is to be done")),
  description: Options.text("description").pipe(Options.withDescription("Details"), Options.optional),
  mission: Options.text("mission").pipe(Options.withDescription("The mission it belongs to (its id)"), Options.optional),
  priority: Options.integer("priority").pipe(Options.withDescription("0 (most urgent) to 4 (default 1)"), Options.optional),
  file: Options.text("file").pipe(
    Options.withDescription("A path glob it will touch (repeat for several)"),
    Options.repeated
  )
}, (options) =>
  Effect.flatMap(optionalCallsign(options), (callsign) => {
    const input = {
      title: options.title,
      description: Option.getOrUndefined(options.description),
      mission_id: Option.getOrUndefined(options.mission),
      priority: Option.getOrUndefined(options.priority),
      files: options.file.length === 0 ? undefined : options.file
    }
    return runVerb(options, verb({
      command: "Sorties.create",
      callsign: Option.getOrUndefined(callsign),
      input,
      result: SortieResult,
      run: Effect.map(Effect.flatMap(Sorties, (sorties) => sorties.create(input)), (sortie) => ({ sortie })),
      text: sortieText("created")
    }))
  })).pipe(Command.withDescription("Create an open sortie for any pilot to claim"))

/** `fleet-db sortie create` */
export const sortie = Command.make("sortie", {}, () =>
  Effect.fail(new UsageError({ message: "sortie needs a subcommand: create; run `fleet-db sortie --help`" }))).pipe(
    Command.withDescription("Create sorties (list them with `fleet-db sorties`)"),
    Command.withSubcommands([create])
  )
