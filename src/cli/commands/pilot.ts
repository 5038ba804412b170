/**
 * `fleet-db register` and `fleet-db heartbeat`: a pilot joins the fleet and says it is alive.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Pilot, Pilots } from "../../index.js"
import { runAs, writeOptions, verb } from "../verb.js"

const PilotResult = Schema.Struct({ pilot: Pilot })

/** `fleet-db register` */
export const register = Command.make("register", {
  ...writeOptions,
  program: Options.text("program").pipe(Options.withDescription("The agent program, e.g. claude-code"), Options.optional),
  model: Options.text("model").pipe(Options.withDescription("The model, e.g. opus"), Options.optional),
  task: Options.text("task").pipe(Options.withDescription("What the pilot is working on"), Options.optional)
}, (options) =>
  runAs(options, (callsign) => {
    const input = {
      callsign,
      program: Option.getOrUndefined(options.program),
      model: Option.getOrUndefined(options.model),
      task_description: Option.getOrUndefined(options.task)
    }
    return verb({
      command: "Pilots.register",
      callsign,
      input,
      result: PilotResult,
      run: Effect.map(Effect.flatMap(Pilots, (pilots) => pilots.register(input)), (pilot) => ({ pilot })),
      text: ({ pilot }) => [`registered ${pilot.callsign}${pilot.task_description === null ? "" : `: ${pilot.task_description}`}`]
    })
  })).pipe(Command.withDescription("Register the pilot (again: updates its program, model and task)"))

/** `fleet-db heartbeat` */
export const heartbeat = Command.make("heartbeat", writeOptions, (options) =>
  runAs(options, (callsign) => verb({
    command: "Pilots.heartbeat",
    callsign,
    input: { callsign },
    result: PilotResult,
    run: Effect.map(Effect.flatMap(Pilots, (pilots) => pilots.heartbeat(callsign)), (pilot) => ({ pilot })),
    text: ({ pilot }) => [`${pilot.callsign} is alive`]
  }))).pipe(Command.withDescription("Tell the fleet the pilot is alive (a pilot silent too long is swept)"))
