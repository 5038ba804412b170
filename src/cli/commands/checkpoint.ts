/**
 * `fleet-db checkpoint`: save where the pilot is, so it (or another pilot) can resume.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import { Checkpoint, Checkpoints } from "../../index.js"
import { UsageError } from "../errors.js"
import { runAs, writeOptions, verb } from "../verb.js"

const CheckpointResult = Schema.Struct({ checkpoint: Checkpoint })

const parseContext = (text: string): Effect.Effect<unknown, UsageError> =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) => new UsageError({ message: `--context is not JSON: ${error instanceof Error ? error.message : String(error)}` })
  })

/** `fleet-db checkpoint` */
export const checkpoint = Command.make("checkpoint", {
  ...writeOptions,
  summary: Options.text("summary").pipe(Options.withDescription("Where the pilot is and what is next"), Options.optional),
  sortie: Options.text("sortie").pipe(Options.withDescription("The sortie it concerns (its id)"), Options.optional),
  mission: Options.text("mission").pipe(Options.withDescription("The mission it concerns (its id)"), Options.optional),
  percent: Options.integer("percent").pipe(Options.withDescription("Progress, 0 to 100"), Options.optional),
  trigger: Options.choice("trigger", ["manual", "auto", "error"]).pipe(
    Options.withDescription("What made the pilot save it (default manual)"),
    Options.withDefault("manual" as const)
  ),
  context: Options.text("context").pipe(Options.withDescription("Any JSON value to resume from, e.g. '{\"step\":3}'"), Options.optional)
}, (options) =>
  runAs(options, (callsign) => verb({
    command: "Checkpoints.create",
    callsign,
    input: {
      summary: Option.getOrUndefined(options.summary),
      sortie_id: Option.getOrUndefined(options.sortie),
      mission_id: Option.getOrUndefined(options.mission),
      progress_percent: Option.getOrUndefined(options.percent),
      trigger: options.trigger,
      context: Option.getOrUndefined(options.context)
    },
    result: CheckpointResult,
    run: Effect.gen(function*() {
      const context_data = Option.isSome(options.context) ? yield* parseContext(options.context.value) : undefined
      const checkpoint = yield* (yield* Checkpoints).create({
        callsign,
        trigger: options.trigger,
        summary: Option.getOrUndefined(options.summary),
        sortie_id: Option.getOrUndefined(options.sortie),
        mission_id: Option.getOrUndefined(options.mission),
        progress_percent: Option.getOrUndefined(options.percent),
        ...(context_data === undefined ? {} : { context_data: context_data as never })
      })
      return { checkpoint }
    }),
    text: ({ checkpoint }) => [
      `saved checkpoint ${checkpoint.id} for ${checkpoint.callsign}` +
      (checkpoint.progress_percent === null ? "" : ` (${checkpoint.progress_percent}%)`)
    ]
  }))).pipe(Command.withDescription("Save the pilot's progress, to resume after losing context"))
