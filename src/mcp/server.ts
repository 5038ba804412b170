/**
 * The MCP server over stdio: one process = one pilot. Tools (of the chosen profile) and
 * resources over the library's services; logs on stderr, protocol alone on stdout.
 *
 * @module
 */
// Deep imports: the package barrels cost about a second of start-up.
import * as McpServer from "@effect/ai/McpServer"
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Effect, Layer, Logger, Option } from "effect"
import type { Profile } from "./profiles.js"
import { toolkitOf } from "./profiles.js"
import * as Resources from "./resources.js"
import * as Session from "./session.js"
import { screened } from "./stdin.js"
import { FleetToolkit, handlers } from "./toolkit.js"

export type { Profile } from "./profiles.js"
export { profileNames, profiles } from "./profiles.js"

/** Options of the server. */
export interface ServerOptions {
  readonly profile: Profile
  /** The pilot to act as from the start; otherwise the first `start_session` names it. */
  readonly callsign: Option.Option<string>
  readonly version: string
}

/**
 * The server as a layer over the library's services (`FleetDb.FleetServices`): launch it with
 * `Layer.launch`. It serves stdin/stdout until stdin ends.
 */
export const layer = (options: ServerOptions) =>
  Layer.mergeAll(McpServer.toolkit(toolkitOf(options.profile)), Resources.layer).pipe(
    Layer.provide(FleetToolkit.toLayer(handlers)),
    Layer.provide(Session.layer(options.callsign)),
    Layer.provide(McpServer.layerStdio({
      name: "fleet-db",
      version: options.version,
      stdin: screened(NodeStream.stdin, (message) => Effect.sync(() => void process.stdout.write(JSON.stringify(message) + "\n"))),
      stdout: NodeSink.stdout
    })),
    Layer.provide(Logger.add(Logger.prettyLogger({ stderr: true, colors: false })))
  )
