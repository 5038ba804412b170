/**
 * `fleet-db serve`: the dashboard's HTTP server (read-only). Routes:
 *
 * - `GET /` the page; `GET /api/status` the fleet as JSON; `GET /api/events?after=N&limit=M`
 *   events as JSON; `GET /api/stream` Server-Sent Events, one per fleet event, `id:` its
 *   sequence, resuming after `Last-Event-ID` (or `?after=N`).
 * - With a token, every request must carry it (`Authorization: Bearer T` or `?token=T`), else 401.
 * - When the database cannot be read, the API answers 503 with a JSON error; the server stays up.
 *
 * @module
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Cause, Chunk, Clock, Deferred, Duration, Effect, Option, Ref, Stream } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import { createServer } from "node:http"
import { Events } from "../index.js"
import { type Feed, makeFeed } from "./feed.js"
import { pageHtml } from "./page.js"
import { status } from "./status.js"

/** The default port of `fleet-db serve`. */
export const DEFAULT_PORT = 4180

/** How the server listens. */
export interface ServeOptions {
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  /** Required of every request when set. */
  readonly token: Option.Option<string>
}

/** Whether `host` is a loopback address (only then may the dashboard run without a token). */
export const isLoopback = (host: string): boolean => {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "")
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1"
}

const MAX_EVENTS = 1000
const encoder = new TextEncoder()
const retryField = encoder.encode("retry: 1000\n\n")
const keepAliveComment = encoder.encode(": keep-alive\n\n")

const unavailable = (cause: Cause.Cause<unknown>) => {
  const failure = Cause.failureOption(cause)
  const detail = Option.isSome(failure) && typeof failure.value === "object" && failure.value !== null && "message" in failure.value
    ? String(failure.value.message)
    : Cause.pretty(cause).split("\n")[0] ?? "unknown error"
  return HttpServerResponse.unsafeJson({ error: "database unavailable", detail }, { status: 503 })
}

const noStore = { "cache-control": "no-store" }

const concatBytes = (parts: Chunk.Chunk<Uint8Array>): Uint8Array => {
  if (Chunk.size(parts) === 1) return Chunk.unsafeHead(parts)
  const out = new Uint8Array(Chunk.reduce(parts, 0, (n, part) => n + part.length))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const integerParam = (params: URLSearchParams, name: string): Option.Option<number> => {
  const raw = params.get(name)
  return raw !== null && /^\d+$/.test(raw) ? Option.some(Number(raw)) : Option.none()
}

const authorized = (request: HttpServerRequest.HttpServerRequest, params: URLSearchParams, token: string): boolean => {
  const header = request.headers["authorization"]
  return header === `Bearer ${token}` || params.get("token") === token
}

const stream = (feed: Feed, request: HttpServerRequest.HttpServerRequest, params: URLSearchParams) => {
  // The browser's own reconnection sends Last-Event-ID: it wins over the URL's ?after.
  const lastId = request.headers["last-event-id"]
  const after = lastId !== undefined && /^\d+$/.test(lastId.trim())
    ? Number(lastId.trim())
    : Option.getOrElse(integerParam(params, "after"), () => -1)
  return Effect.map(
    after >= 0 ? Effect.succeed(after) : Effect.flatMap(Events, (events) => events.latestSequence),
    (from) => {
      // The events the page has waiting go out as one write, not one write each.
      const events = feed.after(from).pipe(Stream.mapChunks((chunk) => Chunk.isEmpty(chunk) ? Chunk.empty() : Chunk.of(concatBytes(Chunk.map(chunk, feed.message)))))
      // A comment every 15 s keeps proxies from closing an idle stream and finds dead clients.
      const keepAlive = Stream.tick(Duration.seconds(15)).pipe(Stream.as(keepAliveComment))
      const body = Stream.concat(Stream.make(retryField), Stream.merge(events, keepAlive, { haltStrategy: "left" }))
      return HttpServerResponse.stream(body, {
        contentType: "text/event-stream",
        headers: { "cache-control": "no-store", "x-accel-buffering": "no" }
      })
    }
  )
}

/** A snapshot younger than this is reused while the log has not moved (time left, liveness). */
const SNAPSHOT_MAX_AGE_MS = 1_000

/**
 * A snapshot (`read`), shared: one read at a time for every page. A request waits for the next
 * read that starts after it arrived, and every request waiting for that read shares it: however
 * many pages ask, and however fast the fleet writes, there is at most one read running and one
 * waiting. A read is skipped when the log's newest sequence is unchanged (every change to the
 * fleet appends an event) and the last snapshot is under a second old.
 */
export const shareSnapshot = <A, E, R>(read: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    type Batch = Option.Option<Deferred.Deferred<A, E | SqlError>>
    const events = yield* Events
    const cache = yield* Ref.make(Option.none<{ readonly sequence: number; readonly at: number; readonly view: A }>())
    // The requests waiting for the next read (none until a request comes).
    const waiting = yield* Ref.make(Option.none<Deferred.Deferred<A, E | SqlError>>())
    const reading = yield* Effect.makeSemaphore(1)
    const fresh = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const sequence = yield* events.latestSequence
      const current = yield* Ref.get(cache)
      if (Option.isSome(current) && current.value.sequence === sequence && now - current.value.at < SNAPSHOT_MAX_AGE_MS) {
        return current.value.view
      }
      // Read after the sequence: the snapshot is at least as new as the sequence it is filed under.
      const view = yield* read
      yield* Ref.set(cache, Option.some({ sequence, at: now, view }))
      return view
    })
    // Once the read before it is done, the batch closes (later requests form the next one) and reads.
    const serve = (batch: Deferred.Deferred<A, E | SqlError>) =>
      reading.withPermits(1)(Effect.zipRight(Ref.set(waiting, Option.none()), Effect.exit(fresh))).pipe(
        Effect.flatMap((exit) => Deferred.done(batch, exit))
      )
    return Effect.flatMap(
      // Joining a batch and starting its read are one step: an interrupted request never leaves
      // a batch that nobody serves. The read runs in a fiber of its own, so a page that goes away
      // does not take the others' snapshot with it.
      Effect.uninterruptible(Effect.gen(function*() {
        const mine = yield* Deferred.make<A, E | SqlError>()
        const joined = yield* Ref.modify(waiting, (open): [Batch, Batch] =>
          Option.isSome(open) ? [open, open] : [Option.none(), Option.some(mine)])
        if (Option.isNone(joined)) yield* Effect.forkDaemon(serve(mine))
        return Option.getOrElse(joined, () => mine)
      })),
      Deferred.await
    )
  })

/**
 * `status` as the UTF-8 JSON body of `/api/status`, shared by every page (see `shareSnapshot`):
 * serialized and encoded once per read, not once per page that asks.
 */
export const sharedStatus = shareSnapshot(Effect.map(status, (view) => encoder.encode(JSON.stringify(view))))

/** The request handler. */
export const app = (feed: Feed, snapshot: Effect.Effect.Success<typeof sharedStatus>, token: Option.Option<string>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://dashboard")
    if (Option.isSome(token) && !authorized(request, url.searchParams, token.value)) {
      return HttpServerResponse.unsafeJson({ error: "unauthorized: pass the token as Authorization: Bearer T or ?token=T" }, {
        status: 401,
        headers: { "www-authenticate": "Bearer" }
      })
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return HttpServerResponse.unsafeJson({ error: "the dashboard is read-only" }, { status: 405, headers: { allow: "GET" } })
    }
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return HttpServerResponse.text(pageHtml, { contentType: "text/html; charset=utf-8", headers: noStore })
      case "/api/status":
        return yield* Effect.map(snapshot, (body) => HttpServerResponse.uint8Array(body, { contentType: "application/json", headers: noStore }))
      case "/api/events": {
        const limit = Math.min(MAX_EVENTS, Math.max(1, Option.getOrElse(integerParam(url.searchParams, "limit"), () => 100)))
        const after = integerParam(url.searchParams, "after")
        const events = yield* Events
        // Without ?after: the newest `limit`, oldest first.
        const page = Option.isSome(after)
          ? yield* events.read({ after: after.value, limit })
          : [...(yield* events.read({ order: "desc", limit }))].reverse()
        return HttpServerResponse.unsafeJson({ events: page.map(feed.view) }, { headers: noStore })
      }
      case "/api/stream":
        return yield* stream(feed, request, url.searchParams)
      default:
        return HttpServerResponse.unsafeJson({ error: `no such page: ${url.pathname}` }, { status: 404 })
    }
  }).pipe(Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.succeed(unavailable(cause))))

/**
 * Listen and serve until interrupted. `onListening` gets the URL (with the real port when the
 * port was 0).
 */
export const serve = (options: ServeOptions, onListening: (url: string) => Effect.Effect<void>) =>
  Effect.scoped(Effect.gen(function*() {
    const feed = yield* makeFeed
    const node = createServer()
    const server = yield* NodeHttpServer.make(() => node, { host: options.host, port: options.port })
    // Open event streams would keep `close` waiting forever: end them first (finalizers run last-in first).
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(app(feed, yield* sharedStatus, options.token))
    const address = server.address
    const where = address._tag === "TcpAddress"
      ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
      : address.path
    yield* onListening(where)
    return yield* Effect.never
  })).pipe(Effect.withSpan("Dashboard.serve"))

