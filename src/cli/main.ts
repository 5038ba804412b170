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

/**
 * The file name of the command-line bundle beside this one, set by the build
 * (scripts/bundle-cli.mjs); not set when this module runs from source.
 */
declare const __FLEET_DB_CLI_BUNDLE__: string | undefined

const args = process.argv.slice(2)

if (args.length === 1 && args[0] === "--version") {
  // Answered before any module of the command line is loaded.
  process.stdout.write(`${packageVersion()}\n`)
} else if (typeof __FLEET_DB_CLI_BUNDLE__ === "string") {
  const { loadBundle } = await import("./loadBundle.js")
  loadBundle(new URL(__FLEET_DB_CLI_BUNDLE__, import.meta.url)).runMain(process.argv)
} else {
  const { runMain } = await import("./runMain.js")
  runMain(process.argv)
}
