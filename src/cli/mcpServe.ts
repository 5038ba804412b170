/**
 * `fleet-db mcp` itself, without the command-line framework: the server starts for an agent on
 * every session, and loading `@effect/cli` (and every other command) would cost it about as much
 * as the server. `main.ts` comes here for a plain `fleet-db mcp [flags]`; anything else (help, an
 * unknown flag) goes through the full command line, which calls `serve` too.
 *
 * @module
 */
import { Cause, Config, Effect, Exit, Fiber, Layer, Option } from "effect"
import { readFileSync } from "node:fs"
import { DatabaseOpenError } from "../index.js"
import { withDatabase } from "./connection.js"
import { DatabaseMissing } from "./errors.js"
import { Io } from "./io.js"

/** The flags of `fleet-db mcp`. */
export interface McpArgs {
  readonly project: Option.Option<string>
  readonly url: Option.Option<string>
  readonly tools: "minimal" | "core" | "full"
  readonly callsign: Option.Option<string>
}

const profiles = new Set(["minimal", "core", "full"])

/**
 * The flags after `mcp` (`--flag value` or `--flag=value`), or `None` when they are anything else
 * (the full command line then parses, and explains, them).
 */
export const parseArgs = (args: ReadonlyArray<string>): Option.Option<McpArgs> => {
  const values = new Map<string, string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const match = /^--(project|url|tools|callsign)(?:=(.*))?$/.exec(arg)
    if (match === null || values.has(match[1]!)) return Option.none()
    const value = match[2] ?? args[++i]
    if (value === undefined) return Option.none()
    values.set(match[1]!, value)
  }
  const tools = values.get("tools") ?? "core"
  if (!profiles.has(tools)) return Option.none()
  return Option.some({
    project: Option.fromNullable(values.get("project")),
    url: Option.fromNullable(values.get("url")),
    tools: tools as McpArgs["tools"],
    callsign: Option.fromNullable(values.get("callsign"))
  })
}

const packageVersion = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown }
    return typeof pkg.version === "string" ? pkg.version : "0.0.0"
  } catch {
    return "0.0.0"
  }
}

/** Serve until stdin ends (a normal end). Fails only when the database cannot be opened. */
export const serve = (args: McpArgs) =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.orElseSucceed(Config.option(Config.string("FLEET_CALLSIGN")), () => Option.none<string>())
    const server = yield* Effect.promise(() => import("../mcp/server.js"))
    // The server interrupts itself when stdin ends (the client went away): a normal end.
    const running = yield* Effect.fork(Layer.launch(server.layer({
      profile: args.tools,
      callsign: Option.orElse(args.callsign, () => fromEnv),
      version: packageVersion()
    })))
    const exit = yield* Fiber.await(running)
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) return yield* Effect.failCause(exit.cause)
  }).pipe(withDatabase(args, { mustExist: false }))

/**
 * `serve`, with a failure reported as one line on stderr: the exit code (0; 3 when the database
 * cannot be opened, as for every command; else 2).
 */
export const serveMain = (args: McpArgs): Effect.Effect<number> =>
  serve(args).pipe(
    Effect.as(0),
    Effect.catchAllCause((cause) => {
      const error = Cause.failureOption(cause)
      const message = Option.isSome(error) && typeof error.value === "object" && error.value !== null && "message" in error.value
        ? String(error.value.message)
        : Cause.pretty(cause)
      const unopened = Option.isSome(error) &&
        (error.value instanceof DatabaseMissing || (error.value instanceof DatabaseOpenError && error.value.reason !== "url"))
      return Effect.as(
        Effect.flatMap(Io, (io) => Effect.sync(() => io.stderr(`fleet-db: ${message.replace(/\s*\n\s*/g, " ")}\n`))),
        unopened ? 3 : 2
      )
    })
  )
