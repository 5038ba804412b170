/**
 * The `fleet-db` command tree and its runner: parses the arguments, runs the command, and turns
 * any failure into one line on stderr and an exit code (see `outcome.ts`).
 *
 * @module
 */
import { Command } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import { Cause, Config, Effect, Exit, Option } from "effect"
import * as Help from "./help.js"
import { outcomeOf } from "./outcome.js"
import * as Render from "./render.js"
import { packageVersion } from "./version.js"

/**
 * A subcommand as the registry loads it. Its name and parsed options stay its own: `any` as in
 * `Command.withSubcommands`, which takes commands of any options (a handler's parameter type is
 * contravariant and its name invariant, so no narrower type admits them all).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Subcommand = Command.Command<any, CliApp.CliApp.Environment, unknown, any>

/**
 * Every subcommand, by name, with the module that defines it. A module is imported only when its
 * command runs (start-up time is the cost of every call: see bench/README.md), so commands must
 * not import each other's modules at top level unless they share code anyway.
 *
 * To add a command: write `src/cli/commands/NAME.ts` exporting its `Command.make("NAME", …)` and
 * add one line here, `NAME: () => import("./commands/NAME.js").then((m) => m.NAME)`, in the
 * order `fleet-db --help` should list it. (A module may define several commands: `lists.ts`.)
 * The build compiles the command line into one CommonJS script (for V8's code cache: see
 * scripts/bundle-cli.mjs), so modules under `src/cli` use no top-level `await`, and of
 * `import.meta` only `import.meta.url`.
 */
const registry: Readonly<Record<string, () => Promise<Subcommand>>> = {
  init: () => import("./commands/init.js").then((m) => m.init),
  status: () => import("./commands/status.js").then((m) => m.status),
  events: () => import("./commands/events.js").then((m) => m.events),
  pilots: () => import("./commands/lists.js").then((m) => m.pilots),
  locks: () => import("./commands/lists.js").then((m) => m.locks),
  reservations: () => import("./commands/lists.js").then((m) => m.reservations),
  sorties: () => import("./commands/lists.js").then((m) => m.sorties),
  ready: () => import("./commands/graph.js").then((m) => m.ready),
  missions: () => import("./commands/lists.js").then((m) => m.missions),
  inbox: () => import("./commands/lists.js").then((m) => m.inbox),
  sweep: () => import("./commands/sweep.js").then((m) => m.sweep),
  doctor: () => import("./commands/doctor.js").then((m) => m.doctor),
  guard: () => import("./commands/guard.js").then((m) => m.guard),
  demo: () => import("./commands/demo.js").then((m) => m.demo),
  mcp: () => import("./commands/mcp.js").then((m) => m.mcp),
  serve: () => import("./commands/serve.js").then((m) => m.serve),
  register: () => import("./commands/pilot.js").then((m) => m.register),
  heartbeat: () => import("./commands/pilot.js").then((m) => m.heartbeat),
  send: () => import("./commands/mail.js").then((m) => m.send),
  reply: () => import("./commands/mail.js").then((m) => m.reply),
  ack: () => import("./commands/mail.js").then((m) => m.ack),
  read: () => import("./commands/mail.js").then((m) => m.read),
  reserve: () => import("./commands/reserve.js").then((m) => m.reserve),
  renew: () => import("./commands/reserve.js").then((m) => m.renew),
  release: () => import("./commands/reserve.js").then((m) => m.release),
  check: () => import("./commands/reserve.js").then((m) => m.check),
  lock: () => import("./commands/lock.js").then((m) => m.lock),
  claim: () => import("./commands/work.js").then((m) => m.claim),
  complete: () => import("./commands/work.js").then((m) => m.complete),
  block: () => import("./commands/work.js").then((m) => m.block),
  unblock: () => import("./commands/work.js").then((m) => m.unblock),
  unclaim: () => import("./commands/work.js").then((m) => m.unclaim),
  sortie: () => import("./commands/work.js").then((m) => m.sortie),
  depend: () => import("./commands/graph.js").then((m) => m.depend),
  mission: () => import("./commands/mission.js").then((m) => m.mission),
  checkpoint: () => import("./commands/checkpoint.js").then((m) => m.checkpoint)
}

/** The subcommand names, in `--help` order. */
export const names: ReadonlyArray<string> = Object.keys(registry)

/**
 * The subcommands `argv` needs: the one it names (its first word), or, for anything else
 * (`--help`, an unknown word), all of them, so help and errors list every command.
 */
const wanted = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const first = argv.slice(2).find((arg) => !arg.startsWith("-"))
  return first !== undefined && Object.hasOwn(registry, first) ? [first] : names
}

/** Load the named subcommands (default: all of them, in `--help` order). */
export const loadCommands = (which: ReadonlyArray<string> = names): Promise<readonly [Subcommand, ...Array<Subcommand>]> =>
  Promise.all(which.map((name) => registry[name]!())).then(([first, ...rest]) => [first!, ...rest])

/** The root command with the given subcommands. */
export const rootCommand = (subcommands: readonly [Subcommand, ...Array<Subcommand>]) =>
  Command.make("fleet-db").pipe(
    Command.withDescription("The FleetTools coordination database: inspect it, check it, watch it, demo it"),
    Command.withSubcommands(subcommands)
  )

/**
 * Run the command line `argv` (as `process.argv`: runtime, script, arguments…) and return the exit
 * code. Never fails: every failure has been reported on stderr.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.flatMap(Effect.promise(() => loadCommands(wanted(argv))), (subcommands) =>
    // Help is this tool's own (see help.ts), not @effect/cli's.
    Help.requested(argv.slice(2))
      ? Effect.as(Render.out(Help.helpText(rootCommand(subcommands), subcommands, argv.slice(2), packageVersion())), 0)
      : parseAndRun(argv, rootCommand(subcommands)))

const parseAndRun = (
  argv: ReadonlyArray<string>,
  root: ReturnType<typeof rootCommand>
): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.flatMap(Effect.console, (console) =>
    // @effect/cli prints its parse errors (with usage) on the console's error channel; we print
    // one line of our own instead, so that channel is silenced while the command line is handled.
    Effect.withConsole(
      Command.run(root, { name: "fleet-db", version: packageVersion() })(argv),
      { ...console, error: () => Effect.void }
    )).pipe(
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(0)
      const outcome = outcomeOf(exit.cause, argv.slice(2), names)
      return Effect.flatMap(debugRequested, (debugging) => {
        const debug = debugging && outcome.code !== 0 && !Cause.isInterruptedOnly(exit.cause)
        return Effect.as(
        Effect.zipRight(
          Option.match(outcome.message, { onNone: () => Effect.void, onSome: Render.errLine }),
          debug ? Render.errLine(Cause.pretty(exit.cause)) : Effect.void
        ),
        outcome.code
      )
      })
    })
  )

/** `FLEET_DB_DEBUG` set: a failure also prints its full cause. */
const debugRequested: Effect.Effect<boolean> = Effect.orElseSucceed(
  Effect.map(Config.option(Config.string("FLEET_DB_DEBUG")), Option.isSome),
  () => false
)
