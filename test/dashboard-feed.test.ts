/**
 * The dashboard's shared feed, in process: a page that stops reading is dropped once its bounded
 * buffer is full (the reader and the other pages go on), and a page resuming from the last event
 * it got sees every later event exactly once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Schedule, Stream } from "effect"
import { CLIENT_BUFFER, makeFeed } from "../src/dashboard/feed.js"
import { Events, FleetDb } from "../src/index.js"

const provide = Effect.provide(FleetDb.layerMemory())

describe("dashboard feed", () => {
  it.live("drops a page that stopped reading, without stopping the others; it resumes without loss", () =>
    Effect.scoped(Effect.gen(function*() {
      const events = yield* Events
      const feed = yield* makeFeed
      const stalled = yield* Stream.toPull(feed.after(0))
      const steady = yield* Stream.toPull(feed.after(0))
      yield* events.append({ type: "tick", data: 0 })
      // Both pages get the first event; from then on `stalled` never pulls.
      const first = Chunk.toReadonlyArray(yield* stalled)
      expect(first.map((e) => e.sequence)).toEqual([1])
      let seenBySteady = Chunk.toReadonlyArray(yield* steady).map((e) => e.sequence)
      const total = CLIENT_BUFFER + 200
      for (let i = 1; i < total; i += 100) {
        yield* events.appendAll(Array.from({ length: Math.min(100, total - i) }, (_, k) => ({ type: "tick", data: i + k })))
        // The steady page keeps up.
        while (seenBySteady.at(-1)! < Math.min(i + 100, total)) {
          seenBySteady = [...seenBySteady, ...Chunk.toReadonlyArray(yield* steady).map((e) => e.sequence)]
        }
      }
      expect(seenBySteady).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      // The stalled page was dropped: one page left.
      yield* Effect.repeat(feed.clients, { until: (n) => n === 1, schedule: Schedule.spaced("10 millis") })
      // Its stream ends after what it had buffered is discarded…
      const rest: Array<number> = []
      for (;;) {
        const pulled = yield* Effect.option(stalled)
        if (Option.isNone(pulled)) break
        rest.push(...Chunk.toReadonlyArray(pulled.value).map((e) => e.sequence))
      }
      expect(rest.length).toBeLessThan(total - 1)
      // …and resuming from the last event it got delivers every later one, once, in order.
      const lastSeen = rest.at(-1) ?? 1
      const resumed = yield* feed.after(lastSeen).pipe(Stream.take(total - lastSeen), Stream.runCollect)
      expect(Chunk.toReadonlyArray(resumed).map((e) => e.sequence)).toEqual(
        Array.from({ length: total - lastSeen }, (_, i) => lastSeen + i + 1)
      )
    })).pipe(provide), 60_000)
})
