/**
 * The dashboard's shared feed, in process: a page that stops reading is dropped once its bounded
 * buffer is full (the reader and the other pages go on), and a page resuming from the last event
 * it got sees every later event exactly once.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, FiberStatus, Option, Ref, Schedule, Stream } from "effect"
import { CLIENT_BUFFER, makeFeed } from "../src/dashboard/feed.js"
import { shareSnapshot } from "../src/dashboard/server.js"
import { status } from "../src/dashboard/status.js"
import { Events, FleetDb, Locks, Messages, Missions, Pilots, Reservations, Sorties } from "../src/index.js"

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

  it.live("status: exact counts, only the first rows of each view (newest closed sorties and threads first)", () =>
    Effect.gen(function*() {
      const sorties = yield* Sorties
      const messages = yield* Messages
      yield* (yield* Pilots).register({ callsign: "alpha" })
      yield* (yield* Pilots).register({ callsign: "bravo" })
      const made = yield* Effect.forEach(Array.from({ length: 95 }, (_, i) => i), (i) => sorties.create({ title: `task ${i}` }))
      // 35 closed (task 0 first, task 34 last), 5 in progress with alpha, 55 left open.
      for (const sortie of made.slice(0, 40)) yield* sorties.claim(sortie.id, "alpha")
      for (const sortie of made.slice(0, 35)) yield* sorties.complete(sortie.id)
      for (let i = 0; i < 55; i++) yield* messages.send({ from: "alpha", to: "bravo", subject: `note ${i}`, body: "b" })
      const view = yield* status
      expect(view.sorties.closed!.count).toBe(35)
      expect(view.sorties.closed!.items.map((s) => s.title)).toEqual(Array.from({ length: 30 }, (_, i) => `task ${34 - i}`))
      expect(view.sorties.open!.count).toBe(55)
      expect(view.sorties.open!.items.map((s) => s.title)).toEqual(Array.from({ length: 50 }, (_, i) => `task ${40 + i}`))
      expect(view.sorties.in_progress!.count).toBe(5)
      expect(view.sorties.blocked).toEqual({ count: 0, items: [] })
      expect(view.pilots.find((p) => p.callsign === "alpha")!.working_on.map((w) => w.title)).toEqual(
        ["task 35", "task 36", "task 37", "task 38", "task 39"]
      )
      expect(view.threads.map((t) => t.subject)).toEqual(Array.from({ length: 50 }, (_, i) => `note ${54 - i}`))
      expect(view.threads[0]).toMatchObject({ participants: ["alpha", "bravo"], messages: 1, unread: 1, unacked: 0 })
    }).pipe(provide), 60_000)

  it.live("status: pilots, locks, reservations and missions list their first rows, with exact counts", () =>
    Effect.gen(function*() {
      const pilots = yield* Pilots
      const locks = yield* Locks
      const reservations = yield* Reservations
      const missions = yield* Missions
      const callsigns = Array.from({ length: 55 }, (_, i) => `p${String(i).padStart(2, "0")}`)
      for (const callsign of callsigns) yield* pilots.register({ callsign })
      for (let i = 0; i < 105; i++) yield* locks.acquire(`key-${String(i).padStart(3, "0")}`, { holder: "p00", ttl: "10 minutes" })
      yield* reservations.reserve({ callsign: "p01", paths: Array.from({ length: 60 }, (_, i) => `src/f${i}.ts`), ttl: "10 minutes" })
      yield* reservations.reserve({ callsign: "p02", paths: Array.from({ length: 44 }, (_, i) => `lib/g${i}.ts`), ttl: "10 minutes" })
      const made = yield* Effect.forEach(Array.from({ length: 23 }, (_, i) => i), (i) => missions.create({ title: `mission ${i}`, priority: i < 20 ? 0 : 2 }))
      // A sortie of a mission beyond the listed 20 still shows its mission's title.
      yield* (yield* Sorties).create({ title: "late work", mission_id: made[22]!.id })
      const view = yield* status
      expect(view.pilots).toHaveLength(50)
      expect(view.locks.map((l) => l.key)).toEqual(Array.from({ length: 100 }, (_, i) => `key-${String(i).padStart(3, "0")}`))
      expect(view.reservations).toHaveLength(100)
      expect(view.missions.map((m) => m.title)).toEqual(Array.from({ length: 20 }, (_, i) => `mission ${i}`))
      expect(view.counts).toEqual({
        pilots: 55,
        locks: 105,
        reservations: 104,
        missions: { total: 23, by_status: { pending: 23, in_progress: 0, completed: 0, cancelled: 0 } }
      })
      expect(view.sorties.open!.items.map((s) => [s.title, s.mission])).toEqual([["late work", "mission 22"]])
    }).pipe(provide), 60_000)

  it.live("each event is put in words and encoded once, for every page that sends it", () =>
    Effect.scoped(Effect.gen(function*() {
      const events = yield* Events
      const feed = yield* makeFeed
      yield* events.append({ type: "tick", data: 1 })
      const [event] = yield* events.read()
      const bytes = feed.message(event!)
      expect(feed.message(event!)).toBe(bytes)
      expect(new TextDecoder().decode(bytes)).toMatch(/^id: 1\ndata: \{.*\}\n\n$/)
    })).pipe(provide))

  it.live("snapshots: requests that arrive during a read share the next one, however fast the log moves", () =>
    Effect.gen(function*() {
      const events = yield* Events
      const reads = yield* Ref.make(0)
      const gate = yield* Deferred.make<void>()
      // Each read waits at the gate, and the fleet writes during every read: no snapshot is ever current.
      const read = Effect.gen(function*() {
        const n = yield* Ref.updateAndGet(reads, (k) => k + 1)
        yield* events.append({ type: "tick", data: n })
        yield* Deferred.await(gate)
        return n
      })
      const snapshot = yield* shareSnapshot(read)
      const first = yield* Effect.fork(snapshot)
      yield* Effect.repeat(Ref.get(reads), { until: (n) => n === 1, schedule: Schedule.spaced("1 millis") })
      // Nineteen more pages ask while the first read runs; they wait for the next read, together.
      const others = yield* Effect.forEach(Array.from({ length: 19 }), () => Effect.fork(snapshot))
      const allWaiting = Effect.map(Effect.forEach(others, (fiber) => fiber.status), (all) => all.every(FiberStatus.isSuspended))
      yield* Effect.repeat(allWaiting, { until: (waiting) => waiting, schedule: Schedule.spaced("1 millis") })
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(first)).toBe(1)
      expect(yield* Effect.forEach(others, Fiber.join)).toEqual(Array.from({ length: 19 }, () => 2))
      expect(yield* Ref.get(reads)).toBe(2)
    }).pipe(provide))
})
