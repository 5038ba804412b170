/**
 * `fleet-db mcp`: the MCP server on stdio, for one pilot (see the README's MCP section). A plain
 * invocation does not come through here (see `mcpServe.ts`); this command serves `--help` and
 * explains bad flags, then runs the same server.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { serve } from "../mcpServe.js"
import { project, url } from "../options.js"

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
}, serve).pipe(
  Command.withDescription("Serve the fleet to one AI agent over the Model Context Protocol (stdio)")
)
