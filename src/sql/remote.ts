/**
 * Reaching a libSQL server (sqld, Turso) before handing it to the driver: one HTTP request that
 * tells "unreachable" from "wrong auth token" from "fine", within a bounded time.
 *
 * Why not just let the driver fail: over WebSocket a refused token is only "closed with code
 * 1006", over HTTP it is "HTTP status 401" under a generic code, and an embedded replica syncs
 * synchronously inside the driver's constructor, blocking the event loop, so a server that
 * accepts connections but never answers would hang the process where no timeout can interrupt it.
 *
 * @module
 */
import { Effect, Redacted } from "effect"
import { DatabaseOpenError } from "../errors.js"
import { realClock } from "./transaction.js"

/** Default bound on reaching a server when a layer opens, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/**
 * The HTTP endpoint of a server URL: `libsql://` is `https://` (`http://` with `?tls=0`, as the
 * driver reads it), `ws(s)://` is `http(s)://`. The query string and credentials are dropped.
 */
export const httpBase = (url: string): URL => {
  const parsed = new URL(url)
  const scheme = parsed.protocol.slice(0, -1).toLowerCase()
  const tls = scheme === "libsql"
    ? parsed.searchParams.get("tls") !== "0"
    : scheme === "https" || scheme === "wss"
  const path = parsed.pathname.endsWith("/") ? parsed.pathname : `${parsed.pathname}/`
  return new URL(`${tls ? "https" : "http"}://${parsed.host}${path}`)
}

const errorText = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  // fetch reports "fetch failed" and puts the reason (ECONNREFUSED, a TLS failure, …) in `cause`.
  const cause = (error as { cause?: unknown }).cause
  const inner = cause instanceof Error
    ? `: ${(cause as { code?: unknown }).code ?? ""} ${cause.message}`.replace(/\s+/g, " ")
    : ""
  return `${error.message}${inner}`
}

/** Reading the answer's body failed (after its status and headers had arrived). */
class BrokeOff {
  constructor(readonly cause: unknown) {}
}

/**
 * `SELECT 1` through the server's Hrana-over-HTTP pipeline (`v2/pipeline`, served by sqld and
 * Turso alike), with the auth token as a bearer token. Fails with `DatabaseOpenError` naming
 * `target` (never the token): `"auth"` for 401/403, `"unreachable"` for a refused connection,
 * no answer within `timeoutMs`, or a server error.
 */
export const probe = (options: {
  readonly url: string
  readonly authToken: Redacted.Redacted<string> | undefined
  readonly target: string
  readonly timeoutMs: number
}): Effect.Effect<void, DatabaseOpenError> => {
  const fail = (reason: DatabaseOpenError["reason"], detail: string) =>
    new DatabaseOpenError({ target: options.target, reason, detail })
  return Effect.gen(function*() {
    const endpoint = yield* Effect.try({
      try: () => new URL("v2/pipeline", httpBase(options.url)),
      catch: (error) => fail("url", errorText(error))
    })
    const headers: Record<string, string> = { "content-type": "application/json" }
    if (options.authToken !== undefined) headers.authorization = `Bearer ${Redacted.value(options.authToken)}`
    const response = yield* Effect.tryPromise({
      try: async (signal) => {
        const answer = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify({
            baton: null,
            requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }, { type: "close" }]
          }),
          signal
        })
        const text = await answer.text().catch((error: unknown) => {
          throw new BrokeOff(error)
        })
        return { status: answer.status, ok: answer.ok, text }
      },
      catch: (error) =>
        fail("unreachable", error instanceof BrokeOff ? `the server's answer broke off: ${errorText(error.cause)}` : errorText(error))
    }).pipe(
      // Interrupting aborts the request. Not `AbortSignal.timeout` inside `AbortSignal.any`: Node
      // 20 drops that timer when a garbage collection runs before it fires, and the request to a
      // server that never answers then waits forever.
      Effect.timeoutFail({
        duration: options.timeoutMs,
        onTimeout: () => fail("unreachable", `no answer from the server within ${options.timeoutMs} ms`)
      }),
      Effect.withClock(realClock)
    )
    const text = response.text
    if (response.status === 401 || response.status === 403) {
      return yield* fail(
        "auth",
        `the server refused the auth token (HTTP ${response.status})${
          options.authToken === undefined ? ": it requires one and none was given" : ""
        }`
      )
    }
    if (!response.ok) {
      return yield* fail("unreachable", `the server answered HTTP ${response.status}: ${text.slice(0, 200)}`)
    }
    const result = yield* Effect.try({
      try: () => (JSON.parse(text) as { results?: ReadonlyArray<{ type?: string; error?: { message?: string } }> }).results?.[0],
      catch: () => fail("other", `not a libSQL server: ${text.slice(0, 200)}`)
    })
    if (result?.type !== "ok") {
      return yield* fail("other", `the server refused SELECT 1: ${result?.error?.message ?? text.slice(0, 200)}`)
    }
  })
}
