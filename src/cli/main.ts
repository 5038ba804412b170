#!/usr/bin/env node
/**
 * The `fleet-db` executable (the package's `bin`). It only picks a path and loads what that path
 * needs: a command runs at every step of an agent and in git hooks, so start-up time is the
 * command's cost (see bench/README.md, "Command start-up").
 *
 * @module
 */
import { packageVersion } from "./version.js"

// `fleet-db events --follow | head` closes the pipe early: that is a normal end, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

const args = process.argv.slice(2)

if (args.length === 1 && args[0] === "--version") {
  // Answered before any module of the command line is loaded.
  process.stdout.write(`${packageVersion()}\n`)
} else {
  const { runMain } = await import("./runMain.js")
  runMain(process.argv)
}

