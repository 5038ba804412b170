/**
 * The live feed: ONE reader of the event log (`Events.stream`) fanned out to every open page.
 * Each page has a small bounded buffer; a page that falls that far behind is dropped (its stream
 * ends and the browser reconnects with `Last-Event-ID`), so a slow or dead browser never slows
 * the reader, the server or the fleet. Each SSE message's `id:` is the event's sequence.
 *
 * @module
 */
import { Chunk, Duration, Effect, Option, Queue, Ref, Schedule, Stream } from "effect"
import type { FleetEvent } from "../index.js"
import { Events, Missions, Sorties } from "../index.js"
import { type EventView, eventView } from "./status.js"

/** Events a page may have waiting before it is dropped. */
export const CLIENT_BUFFER = 1024
const BACKLOG_PAGE = 1000

/** The shared feed. */
export interface Feed {
  /**
   * Every event after `after`, then new ones as they are written, each exactly once and in order:
   * the backlog read from the database, then the shared reader's events. Ends when the client
   * falls `CLIENT_BUFFER` events behind.
   */
  readonly after: (after: number) => Stream.Stream<FleetEvent, unknown>
  /** How many pages are attached (for tests and benchmarks). */
  readonly clients: Effect.Effect<number>
  /** The event in words (sorties, missions and work orders by title). */
  readonly view: (event: FleetEvent) => EventView
  /** The SSE message carrying the event, UTF-8: made once, shared by every page that sends it. */
  readonly message: (event: FleetEvent) => Uint8Array
}

/** Titles remembered for the feed's words; older ones are forgotten (their ids are shortened instead). */
export const MAX_TITLES = 10_000
/** SSE messages kept for the pages that have yet to send them (twice a page's buffer). */
const MESSAGES_KEPT = 2 * CLIENT_BUFFER

/** `map.set`, forgetting the oldest entries beyond `max` (a Map iterates in insertion order). */
const setBounded = <K, V>(map: Map<K, V>, key: K, value: V, max: number) => {
  map.delete(key)
  map.set(key, value)
  for (const oldest of map.keys()) {
    if (map.size <= max) break
    map.delete(oldest)
  }
}

/**
 * Start the shared reader (in the current scope) from the log's current end. When the database
 * cannot be read it retries every second, from where it stopped.
 */
export const makeFeed = Effect.gen(function*() {
  const events = yield* Events
  // Titles for the feed's words: what exists now, then whatever the log creates. A server runs
  // for days while the fleet creates sorties: only the newest MAX_TITLES are kept.
  const titles = new Map<string, string>()
  const known = Effect.all([Effect.flatMap(Sorties, (s) => s.list({ limit: MAX_TITLES })), Effect.flatMap(Missions, (m) => m.list({ limit: MAX_TITLES }))])
  const [sorties, missions] = yield* Effect.retry(known, Schedule.spaced(Duration.seconds(1)))
  for (const item of [...sorties, ...missions]) setBounded(titles, item.id as string, item.title, MAX_TITLES)
  const names = (id: string) => titles.get(id)
  const view = (event: FleetEvent): EventView => {
    if (event.known && (event.type === "sortie_created" || event.type === "mission_created" || event.type === "work_order_created")) {
      const data = event.data
      setBounded(titles, "work_order_id" in data ? data.work_order_id : "sortie_id" in data ? data.sortie_id : data.mission_id, data.title, MAX_TITLES)
    }
    return eventView(event, names)
  }
  const subscribers = yield* Ref.make(new Set<Queue.Queue<FleetEvent>>())
  const detach = (queue: Queue.Queue<FleetEvent>) =>
    Effect.zipRight(Ref.update(subscribers, (set) => {
      const next = new Set(set)
      next.delete(queue)
      return next
    }), queue.shutdown)
  const start = yield* Effect.retry(events.latestSequence, Schedule.spaced(Duration.seconds(1)))
  const position = yield* Ref.make(start)
  const publish = (event: FleetEvent) =>
    Effect.flatMap(Ref.get(subscribers), (queues) =>
      Effect.forEach(queues, (queue) =>
        Effect.flatMap(queue.offer(event), (accepted) =>
          // A full buffer: that page is too far behind; drop it (it reconnects and resumes).
          accepted ? Effect.void : detach(queue)), { discard: true }))
  const reader = Effect.flatMap(Ref.get(position), (after) =>
    Stream.runForEach(events.stream({ after, pollInterval: "100 millis" }), (event) =>
      Effect.zipRight(Ref.set(position, event.sequence), publish(event))))
  yield* Effect.forkScoped(Effect.retry(reader, Schedule.spaced(Duration.seconds(1))))

  const subscribe = Effect.acquireRelease(
    Effect.tap(Queue.dropping<FleetEvent>(CLIENT_BUFFER), (queue) => Ref.update(subscribers, (set) => new Set(set).add(queue))),
    detach
  )

  const backlog = (after: number): Stream.Stream<FleetEvent, unknown> =>
    Stream.paginateChunkEffect(after, (from) =>
      Effect.map(events.read({ after: from, limit: BACKLOG_PAGE }), (page) => {
        const last = page.at(-1)
        return [Chunk.fromIterable(page), page.length < BACKLOG_PAGE || last === undefined ? Option.none() : Option.some(last.sequence)] as const
      }))

  const after = (from: number): Stream.Stream<FleetEvent, unknown> =>
    Stream.unwrapScoped(Effect.gen(function*() {
      // Subscribe first, then read the backlog: whatever the reader publishes from now on is in
      // the queue, everything before is in the database; the overlap is skipped by sequence.
      const queue = yield* subscribe
      let sent = from
      const fresh = (event: FleetEvent) => {
        if (event.sequence <= sent) return false
        sent = event.sequence
        return true
      }
      const live = Stream.fromQueue(queue).pipe(
        Stream.catchAllCause(() => Stream.empty)
      )
      return Stream.concat(backlog(from), live).pipe(Stream.filter(fresh))
    }))

  // Twenty pages send the same events: each is put in words, serialized and encoded once.
  const messages = new Map<number, Uint8Array>()
  const encoder = new TextEncoder()
  const message = (event: FleetEvent): Uint8Array => {
    const known = messages.get(event.sequence)
    if (known !== undefined) return known
    const bytes = encoder.encode(`id: ${event.sequence}\ndata: ${JSON.stringify(view(event))}\n\n`)
    setBounded(messages, event.sequence, bytes, MESSAGES_KEPT)
    return bytes
  }

  return {
    after,
    clients: Effect.map(Ref.get(subscribers), (set) => set.size),
    view,
    message
  } satisfies Feed
})

