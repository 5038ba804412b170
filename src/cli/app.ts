/**
 * The `fleet-db` command tree and its runner: parses the arguments, runs the command, and turns
 * any failure into one line on stderr and an exit code (see `outcome.ts`).
 *
 * @module
 */
import { Command } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import { Cause, Effect, Exit, HashMap, Option } from "effect"
import { readFileSync } from "node:fs"
import { demo } from "./commands/demo.js"
import { doctor } from "./commands/doctor.js"
import { events } from "./commands/events.js"
import { depend, ready } from "./commands/graph.js"
import { init } from "./commands/init.js"
import { mcp } from "./commands/mcp.js"
import { serve } from "./commands/serve.js"
import { inbox, locks, missions, pilots, reservations, sorties } from "./commands/lists.js"
import { status } from "./commands/status.js"
import { sweep } from "./commands/sweep.js"
import { outcomeOf } from "./outcome.js"
import * as Render from "./render.js"

const version = (): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    return typeof pkg === "object" && pkg !== null && "version" in pkg ? String(pkg.version) : "0.0.0"
  } catch {
    return "0.0.0"
  }
}

const subcommands = [
  init,
  status,
  events,
  pilots,
  locks,
  reservations,
  sorties,
  ready,
  depend,
  missions,
  inbox,
  sweep,
  doctor,
  demo,
  mcp,
  serve
] as const

/** The root command with every subcommand. */
export const command = Command.make("fleet-db").pipe(
  Command.withDescription("The FleetTools coordination database: inspect it, check it, watch it, demo it"),
  Command.withSubcommands(subcommands)
)

const names = Array.from(HashMap.keys(Command.getSubcommands(command)))

const cli = Command.run(command, { name: "fleet-db", version: version() })


/**
 * Run the command line `argv` (as `process.argv`: runtime, script, arguments…) and return the exit
 * code. Never fails: every failure has been reported on stderr.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.flatMap(Effect.console, (console) =>
    // @effect/cli prints its parse errors (with usage) on the console's error channel; we print
    // one line of our own instead, so that channel is silenced while the command line is handled.
    Effect.withConsole(cli(argv), { ...console, error: () => Effect.void })).pipe(
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(0)
      const outcome = outcomeOf(exit.cause, argv.slice(2), names)
      const debug = process.env["FLEET_DB_DEBUG"] !== undefined && outcome.code !== 0 && !Cause.isInterruptedOnly(exit.cause)
      return Effect.as(
        Effect.zipRight(
          Option.match(outcome.message, { onNone: () => Effect.void, onSome: Render.errLine }),
          debug ? Render.errLine(Cause.pretty(exit.cause)) : Effect.void
        ),
        outcome.code
      )
    })
  )
