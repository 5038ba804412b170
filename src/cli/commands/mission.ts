/**
 * `fleet-db mission create|start|complete`.
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Mission, Missions } from "../../index.js"
import { UsageError } from "../errors.js"
import { optionalCallsign, runVerb, writeOptions, verb } from "../verb.js"

const MissionResult = Schema.Struct({ mission: Mission })

const missionText = (verb: string) => ({ mission }: { readonly mission: Mission }): ReadonlyArray<string> => [
  `${verb} mission ${mission.id} "${mission.title}" (${mission.status})`
]

const create = Command.make("create", {
  ...writeOptions,
  title: Args.text({ name: "TITLE" }).pipe(Args.withDescription("The mission's goal")),
  description: Options.text("description").pipe(Options.withDescription("Details"), Options.optional),
  priority: Options.integer("priority").pipe(Options.withDescription("0 (most urgent) to 4 (default 1)"), Options.optional)
}, (options) =>
  Effect.flatMap(optionalCallsign(options), (callsign) => {
    const input = {
      title: options.title,
      description: Option.getOrUndefined(options.description),
      priority: Option.getOrUndefined(options.priority),
      created_by: Option.getOrUndefined(callsign)
    }
    return runVerb(options, verb({
      command: "Missions.create",
      callsign: input.created_by,
      input,
      result: MissionResult,
      run: Effect.map(Effect.flatMap(Missions, (missions) => missions.create(input)), (mission) => ({ mission })),
      text: missionText("created")
    }))
  })).pipe(Command.withDescription("Create a pending mission (its creator: --callsign or $FLEET_CALLSIGN, if set)"))

const transition = (name: "start" | "complete", label: string, description: string) =>
  Command.make(name, {
    ...writeOptions,
    id: Args.text({ name: "ID" }).pipe(Args.withDescription("The mission's id (see `fleet-db missions`)"))
  }, (options) =>
    Effect.flatMap(optionalCallsign(options), (callsign) =>
      runVerb(options, verb({
        command: `Missions.${name}`,
        callsign: Option.getOrUndefined(callsign),
        input: { id: options.id },
        result: MissionResult,
        run: Effect.map(Effect.flatMap(Missions, (missions) => missions[name](options.id)), (mission) => ({ mission })),
        text: missionText(label)
      })))).pipe(Command.withDescription(description))

/** `fleet-db mission` */
export const mission = Command.make("mission", {}, () =>
  Effect.fail(new UsageError({ message: "mission needs a subcommand: create, start or complete; run `fleet-db mission --help`" }))).pipe(
    Command.withDescription("Missions (groups of sorties): create, start, complete; list them with `fleet-db missions`"),
    Command.withSubcommands([
      create,
      transition("start", "started", "Start a pending mission"),
      transition("complete", "completed", "Complete a mission in progress")
    ])
  )
