/**
 * Runs the command line in the Node runtime: a plain `fleet-db mcp` straight to its server, the
 * rest through `app.ts`.
 *
 * @module
 */
// Deep imports: the package index would load every Node module of the platform (HTTP, workers…).
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Exit, Layer, Option } from "effect"

/**
 * What the command line needs (`CliApp.Environment`): NodeContext's layer without its command
 * executor and workers, whose modules cost start-up time and which no command uses.
 */
export const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/** Run `argv` (as `process.argv`) and exit with the command's exit code. */
export const runMain = (argv: ReadonlyArray<string>): void => {
  // `fleet-db mcp` starts once per agent session: a plain invocation skips the command-line
  // framework (see mcpServe.ts); everything else loads the command line.
  const program = argv[2] === "mcp"
    ? Effect.flatMap(Effect.promise(() => import("./mcpServe.js")), (m) =>
      Option.match(m.parseArgs(argv.slice(3)), {
        onNone: () => Effect.flatMap(Effect.promise(() => import("./app.js")), (app) => app.run(argv)),
        onSome: m.serveMain
      }))
    : Effect.flatMap(Effect.promise(() => import("./app.js")), (app) => app.run(argv))

  // Spans cost every service call something, and the command exports them nowhere: off.
  NodeRuntime.runMain(program.pipe(Effect.provide(platform), Effect.withTracerEnabled(false)), {
    disableErrorReporting: true,
    // The program's value is its exit code; it only ends otherwise when interrupted (Ctrl-C).
    teardown: (exit, onExit) => {
      const code = Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130
      // Done, and the output written: end now rather than when the event loop drains, which would
      // first run the full garbage collection the closed database asked for in the background
      // (see the library's release.ts; tens of milliseconds, and useless to a process that exits).
      // Output still queued (a pipe can be asynchronous, e.g. on macOS) waits for the drain.
      if (code === 0 && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(0)
      onExit(code)
    }
  })
}
