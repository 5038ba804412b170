/**
 * The server's input, screened line by line before the protocol sees it. `@effect/ai` 0.37 stops
 * serving at the first line that is not JSON, answers an unknown method with the wrong id (so the
 * client waits forever), and refuses a `tools/call` without `arguments` (optional in the spec).
 * Here a line that is not JSON gets a JSON-RPC parse error (-32700), a request for an unknown
 * method gets "method not found" (-32601) with its own id, a missing `arguments` becomes `{}`, and
 * the server keeps serving.
 *
 * @module
 */
import { Effect, Option, Stream } from "effect"

/** The methods the server implements (requests and notifications). */
const methods = new Set([
  "initialize",
  "ping",
  "completion/complete",
  "logging/setLevel",
  "prompts/get",
  "prompts/list",
  "resources/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "resources/templates/list",
  "tools/call",
  "tools/list",
  "notifications/cancelled",
  "notifications/initialized",
  "notifications/progress",
  "notifications/roots/list_changed"
])

type Reply = (message: unknown) => Effect.Effect<void>

const errorReply = (id: unknown, code: number, message: string) => ({ jsonrpc: "2.0", id, error: { code, message } })

/** What to pass on for one line (or nothing, after answering it here). */
export const screen = (line: string, reply: Reply): Effect.Effect<Option.Option<string>> => {
  if (line.trim() === "") return Effect.succeed(Option.none())
  let message: unknown
  try {
    message = JSON.parse(line)
  } catch {
    return Effect.as(reply(errorReply(null, -32700, "Parse error: the line is not JSON")), Option.none())
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    // A batch (or anything else) goes to the protocol layer as it is.
    return Effect.succeed(Option.some(line))
  }
  const request = message as Record<string, unknown>
  const hasId = "id" in request && request.id !== null
  if (typeof request.method === "string" && !methods.has(request.method)) {
    return hasId
      ? Effect.as(reply(errorReply(request.id, -32601, `Method not found: ${request.method}`)), Option.none())
      : Effect.succeed(Option.none())
  }
  if (request.method === "tools/call" && typeof request.params === "object" && request.params !== null && !("arguments" in request.params)) {
    return Effect.succeed(Option.some(JSON.stringify({ ...request, params: { ...request.params, arguments: {} } })))
  }
  return Effect.succeed(Option.some(line))
}

const encoder = new TextEncoder()

/** `input`, screened (see the module documentation); answers go through `reply`. */
export const screened = <E, R>(input: Stream.Stream<Uint8Array, E, R>, reply: Reply): Stream.Stream<Uint8Array, E, R> =>
  input.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.mapEffect((line) => screen(line, reply)),
    Stream.filterMap((line) => Option.map(line, (text) => encoder.encode(text + "\n")))
  )
