/**
 * `fleet-db serve`: the live web dashboard (see the README's dashboard section). Read-only; binds
 * loopback by default; any other address needs a token, which every request must then carry.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Config, Effect, Option } from "effect"
import { withDatabase } from "../connection.js"
import { UsageError } from "../errors.js"
import { integerWithin, project, url } from "../options.js"
import * as Render from "../render.js"

/** The dashboard flags, shared with `demo --serve`. */
export interface DashboardFlags {
  readonly host: string
  readonly port: number
  readonly token: Option.Option<string>
}

/** Check the flags: no token (an empty one is none), loopback only. */
export const dashboardSettings = (flags: DashboardFlags) =>
  Effect.gen(function*() {
    const { isLoopback } = yield* Effect.promise(() => import("../../dashboard/server.js"))
    const token = Option.filter(flags.token, (t) => t.length > 0)
    if (!isLoopback(flags.host) && Option.isNone(token)) {
      return yield* new UsageError({
        message: `refusing to serve the dashboard on ${flags.host} without a token: anyone who can reach it could read the fleet; ` +
          "pass --token T (or set FLEET_DASHBOARD_TOKEN), or bind 127.0.0.1"
      })
    }
    return { host: flags.host, port: flags.port, token }
  })

/** The checked dashboard settings. */
export type DashboardSettings = Effect.Effect.Success<ReturnType<typeof dashboardSettings>>

/**
 * Serve the dashboard against the current database until interrupted; prints the listening line
 * on stderr, then calls `onListening` with the URL.
 */
export const runDashboard = (settings: DashboardSettings, onListening: (url: string) => Effect.Effect<void> = () => Effect.void) =>
  Effect.flatMap(Effect.promise(() => import("../../dashboard/server.js")), (server) =>
    server.serve(settings, (where) => Effect.zipRight(Render.errLine(`fleet-db serve: listening on ${where}`), onListening(where))))

/** `--host`, `--port`, `--token` */
export const dashboardOptions = {
  host: Options.text("host").pipe(
    Options.withDescription("The address to listen on (default 127.0.0.1; any other needs --token)"),
    Options.withDefault("127.0.0.1")
  ),
  port: integerWithin("port", { min: 0, max: 65535 }).pipe(
    Options.withDescription("The port (default 4180; 0 picks a free one)"),
    Options.withDefault(4180)
  ),
  token: Options.text("token").pipe(
    Options.withDescription("Require this token of every request (Authorization: Bearer T, or ?token=T); default $FLEET_DASHBOARD_TOKEN"),
    Options.withFallbackConfig(Config.string("FLEET_DASHBOARD_TOKEN")),
    Options.optional
  )
} as const

/** `fleet-db serve` */
export const serve = Command.make("serve", { project, url, ...dashboardOptions }, (options) =>
  Effect.flatMap(dashboardSettings(options), (settings) =>
    runDashboard(settings).pipe(withDatabase(options, { mustExist: true })))).pipe(
    Command.withDescription("Serve the live web dashboard (read-only): pilots, sorties, locks, reservations, mail, events")
  )
