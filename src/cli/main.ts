#!/usr/bin/env node
/**
 * The `fleet-db` executable (the package's `bin`).
 *
 * @module
 */
// Deep imports: the package index would load every Node module of the platform (HTTP, workers…).
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Exit, Option } from "effect"

// `fleet-db events --follow | head` closes the pipe early: that is a normal end, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

// `fleet-db mcp` starts once per agent session: a plain invocation skips the command-line
// framework (see mcpServe.ts); everything else loads the full command line.
const mcp = process.argv[2] === "mcp"
  ? await import("./mcpServe.js").then((m) => Option.map(m.parseArgs(process.argv.slice(3)), m.serveMain))
  : Option.none()
const program = Option.isSome(mcp)
  ? mcp.value
  : Effect.flatMap(Effect.promise(() => import("./app.js")), (app) => app.run(process.argv))

NodeRuntime.runMain(program.pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  // The program's value is its exit code; it only ends otherwise when interrupted (Ctrl-C).
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130)
})
