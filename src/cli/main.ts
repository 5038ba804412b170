#!/usr/bin/env node
/**
 * The `fleet-db` executable (the package's `bin`).
 *
 * @module
 */
// Deep imports: the package index would load every Node module of the platform (HTTP, workers…).
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Exit } from "effect"
import { run } from "./app.js"

// `fleet-db events --follow | head` closes the pipe early: that is a normal end, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

NodeRuntime.runMain(run(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  // The program's value is its exit code; it only ends otherwise when interrupted (Ctrl-C).
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130)
})
