/**
 * `fleet-db mcp`: the MCP server on stdio, for one pilot (see the README's MCP section). The
 * server's modules load only when this command runs, so the other commands do not pay for them.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Cause, Config, Effect, Exit, Fiber, Layer, Option } from "effect"
import { readFileSync } from "node:fs"
import { project, url } from "../options.js"
import { withDatabase } from "../connection.js"

const packageVersion = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown }
    return typeof pkg.version === "string" ? pkg.version : "0.0.0"
  } catch {
    return "0.0.0"
  }
}

/** `fleet-db mcp` */
export const mcp = Command.make("mcp", {
  project,
  url,
  tools: Options.choice("tools", ["minimal", "core", "full"]).pipe(
    Options.withDescription("Which tools to list: minimal (9), core (21, default) or full (every tool)"),
    Options.withDefault("core" as const)
  ),
  callsign: Options.text("callsign").pipe(
    Options.withDescription("Act as this pilot from the start (default $FLEET_CALLSIGN, else the first start_session)"),
    Options.optional
  )
}, (options) =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.orElseSucceed(Config.option(Config.string("FLEET_CALLSIGN")), () => Option.none<string>())
    const server = yield* Effect.promise(() => import("../../mcp/server.js"))
    // The server interrupts itself when stdin ends (the client went away): a normal end, exit 0.
    const running = yield* Effect.fork(Layer.launch(server.layer({
      profile: options.tools,
      callsign: Option.orElse(options.callsign, () => fromEnv),
      version: packageVersion()
    })))
    const exit = yield* Fiber.await(running)
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) return yield* Effect.failCause(exit.cause)
  }).pipe(withDatabase(options, { mustExist: false }))).pipe(
    Command.withDescription("Serve the fleet to one AI agent over the Model Context Protocol (stdio)")
  )
