import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck as fc, Fiber, Layer, Runtime, Stream, TestClock } from "effect"
import type { Consumed } from "../src/index.js"
import { Cursors, Events, FleetDb, FleetProject } from "../src/index.js"
import { backends, projectOn, tempDir } from "./support/backends.js"

/** Append `n` events of `type` (one transaction) and return their sequences. */
const appendN = (n: number, type = "test.tick") =>
  Effect.flatMap(Events, (events) =>
    Effect.map(
      events.appendAll(Array.from({ length: n }, (_, i) => ({ type, data: { i } }))),
      (appended) => appended.map((e) => e.sequence)
    ))

const cursorRows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  return yield* sql<{ readonly consumer_id: string; readonly position: number; readonly updated_at: number }>`
    SELECT consumer_id, position, updated_at FROM cursors WHERE project_key = ${projectKey} ORDER BY consumer_id`
})

const take = (stream: Stream.Stream<Consumed, unknown>, n: number) =>
  Effect.map(Stream.runCollect(Stream.take(stream, n)), Chunk.toReadonlyArray)

describe.each(backends.map((b) => [b.name, b] as const))("Cursors on %s", (_, backend) => {
  it.effect("get is 0 for a new consumer; commit advances, never moves backwards, and writes no event", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const events = yield* Events
      const seqs = yield* appendN(5)
      expect(yield* cursors.get("indexer")).toBe(0)
      const latest = yield* events.latestSequence
      yield* TestClock.adjust(100)
      expect(yield* cursors.commit("indexer", seqs[2]!)).toBe(seqs[2])
      expect(yield* cursors.get("indexer")).toBe(seqs[2])
      yield* TestClock.adjust(100)
      // Lower and equal positions are no-ops: the row, including updated_at, stays as it was.
      expect(yield* cursors.commit("indexer", seqs[0]!)).toBe(seqs[2])
      expect(yield* cursors.commit("indexer", seqs[2]!)).toBe(seqs[2])
      expect(yield* cursors.commit("indexer", 0)).toBe(seqs[2])
      expect(yield* cursorRows).toEqual([{ consumer_id: "indexer", position: seqs[2], updated_at: 100 }])
      expect(yield* cursors.commit("indexer", seqs[4]!)).toBe(seqs[4])
      expect(yield* cursorRows).toEqual([{ consumer_id: "indexer", position: seqs[4], updated_at: 200 }])
      // Cursor moves are event-free.
      expect(yield* events.latestSequence).toBe(latest)
      // Consumers are independent.
      expect(yield* cursors.get("other")).toBe(0)
    }).pipe(Effect.provide(backend.layer())))

  it.effect("property: after any sequence of commits the cursor is the largest position committed", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const seqs = yield* appendN(30)
      const runtime = yield* Effect.runtime<never>()
      let round = 0
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(fc.constantFrom(0, ...seqs), { minLength: 1, maxLength: 12 }), async (positions) => {
            const consumer = `c${round++}`
            let max = 0
            for (const position of positions) {
              max = Math.max(max, position)
              const result = await Runtime.runPromise(runtime)(cursors.commit(consumer, position))
              expect(result).toBe(max)
            }
            // Concurrent commits of the same positions in another consumer land on the same maximum.
            const concurrent = `${consumer}-concurrent`
            await Runtime.runPromise(runtime)(
              Effect.forEach(positions, (p) => cursors.commit(concurrent, p), { concurrency: "unbounded", discard: true })
            )
            expect(await Runtime.runPromise(runtime)(cursors.get(concurrent))).toBe(max)
            expect(await Runtime.runPromise(runtime)(cursors.get(consumer))).toBe(max)
          }),
          // Same statements on every backend: memory (60) and file (25) carry the logic; on sqld,
          // 8 runs still drive sequential and concurrent commits over the network.
          { numRuns: backend.name === "memory" ? 60 : backend.name === "file" ? 25 : 8 }
        )
      )
    }).pipe(Effect.provide(backend.layer())))

  it.effect("bad input is InvalidInput naming the field and writes nothing; a position beyond the log is refused", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const events = yield* Events
      const [last] = (yield* appendN(3)).slice(-1)
      const latest = yield* events.latestSequence
      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string; readonly field?: string }>]> = [
        ["position", cursors.commit("c", -1)],
        ["position", cursors.commit("c", 1.5)],
        ["position", cursors.commit("c", Number.NaN)],
        ["position", cursors.commit("c", last! + 1)],
        ["position", cursors.reset("c", last! + 1)],
        ["position", cursors.reset("c", -1)],
        ["consumer_id", cursors.commit("", 1)],
        ["consumer_id", cursors.reset(" c", 1)],
        ["consumer_id", cursors.get("bad\u0000id")],
        ["consumer_id", cursors.commit("x".repeat(257), 1)]
      ]
      for (const [field, call] of cases) {
        const error = yield* Effect.flip(call)
        expect(error).toMatchObject({ _tag: "InvalidInput", field })
      }
      expect(yield* cursorRows).toEqual([])
      expect(yield* events.latestSequence).toBe(latest)
      // SQL metacharacters in a consumer id are just data.
      const tricky = "'; DELETE FROM cursors; --"
      expect(yield* cursors.commit(tricky, last!)).toBe(last)
      expect(yield* cursors.get(tricky)).toBe(last)
    }).pipe(Effect.provide(backend.layer())))

  it.effect("reset moves either way and logs cursor_moved only when the position changes", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const events = yield* Events
      const seqs = yield* appendN(4)
      yield* cursors.commit("replayer", seqs[3]!)
      expect(yield* cursors.reset("replayer", seqs[0]!)).toBe(seqs[0])
      expect(yield* cursors.get("replayer")).toBe(seqs[0])
      const afterBack = yield* events.latestSequence
      expect(yield* cursors.reset("replayer", seqs[0]!)).toBe(seqs[0])
      expect(yield* events.latestSequence).toBe(afterBack)
      expect(yield* cursors.reset("replayer", seqs[2]!)).toBe(seqs[2])
      expect(yield* cursors.reset("fresh", seqs[1]!)).toBe(seqs[1])
      const moves = yield* events.read({ types: ["cursor_moved"] })
      expect(moves.map((e) => e.data)).toEqual([
        { consumer_id: "replayer", from: seqs[3], to: seqs[0] },
        { consumer_id: "replayer", from: seqs[0], to: seqs[2] },
        { consumer_id: "fresh", from: 0, to: seqs[1] }
      ])
      // After a reset backwards, commit still only moves forwards from the new position.
      expect(yield* cursors.commit("replayer", seqs[1]!)).toBe(seqs[2])
    }).pipe(Effect.provide(backend.layer())))

  it.effect("consume delivers the events after the cursor in order, and each commit advances the cursor to its event", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const events = yield* Events
      yield* appendN(6)
      const log = yield* events.read()
      const delivered = yield* take(cursors.consume("worker"), log.length)
      expect(delivered.map((d) => d.event)).toEqual(log)
      expect(yield* cursors.get("worker")).toBe(0)
      expect(yield* delivered[3]!.commit).toBe(log[3]!.sequence)
      expect(yield* cursors.get("worker")).toBe(log[3]!.sequence)
      // An older element's commit does not move the cursor back.
      expect(yield* delivered[1]!.commit).toBe(log[3]!.sequence)
      expect(yield* cursors.get("worker")).toBe(log[3]!.sequence)
      // Untyped callers passing null get the defaults, not a defect.
      const rest = yield* take(cursors.consume("worker", null as unknown as undefined), 2)
      expect(rest.map((d) => d.event)).toEqual(log.slice(4))
    }).pipe(Effect.provide(backend.layer())))

  it.effect("at-least-once: a new stream resumes after the last commit, redelivering what was not committed", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const seqs = yield* appendN(5)
      const first = yield* take(cursors.consume("at-least-once"), 3)
      yield* first[0]!.commit
      yield* first[1]!.commit
      // first[2] was processed but not committed: the "crash" happens here.
      const second = yield* take(cursors.consume("at-least-once"), 3)
      expect(second.map((d) => d.event.sequence)).toEqual(seqs.slice(2))
      yield* second[2]!.commit
      expect(yield* cursors.get("at-least-once")).toBe(seqs[4])
    }).pipe(Effect.provide(backend.layer())))

  it.effect("consume with types skips other events; committing a later event moves past the skipped ones", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      const a1 = yield* appendN(2, "a")
      const b = yield* appendN(3, "b")
      const a2 = yield* appendN(1, "a")
      const delivered = yield* take(cursors.consume("only-a", { types: ["a"] }), 3)
      expect(delivered.map((d) => d.event.sequence)).toEqual([...a1, ...a2])
      expect(delivered.every((d) => d.event.type === "a")).toBe(true)
      yield* delivered[2]!.commit
      expect(yield* cursors.get("only-a")).toBe(a2[0])
      expect(a2[0]!).toBeGreaterThan(b[2]!)
      const bad = yield* Effect.flip(Stream.runDrain(cursors.consume("x", { types: [""] })))
      expect(bad).toMatchObject({ _tag: "InvalidInput" })
      expect(yield* Effect.flip(Stream.runDrain(cursors.consume("")))).toMatchObject({ _tag: "InvalidInput", field: "consumer_id" })
      expect(yield* Effect.flip(Stream.runDrain(cursors.consume("x", { pollInterval: -5 })))).toMatchObject({
        _tag: "InvalidInput",
        field: "pollInterval"
      })
    }).pipe(Effect.provide(backend.layer())))

  it.live("consume is live: events appended after the stream started are delivered, other types never", () =>
    Effect.gen(function*() {
      const cursors = yield* Cursors
      yield* appendN(1, "wanted")
      const fiber = yield* Effect.fork(take(cursors.consume("live", { types: ["wanted"], pollInterval: 5 }), 3))
      // Unwanted events first: the poller must keep waiting for the wanted ones.
      yield* appendN(3, "unwanted")
      yield* Effect.sleep(30)
      yield* appendN(1, "wanted")
      yield* appendN(2, "unwanted")
      yield* Effect.sleep(30)
      yield* appendN(1, "wanted")
      const delivered = yield* Fiber.join(fiber)
      expect(delivered.map((d) => d.event.type)).toEqual(["wanted", "wanted", "wanted"])
      const sequences = delivered.map((d) => d.event.sequence)
      expect([...sequences].sort((x, y) => x - y)).toEqual(sequences)
    }).pipe(Effect.provide(backend.layer())))
})

describe("Cursors on one file", () => {
  it.scoped("two projects never see each other's cursors or events", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const a = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "project-a" }))
      const b = yield* projectOn(a, "project-b")
      const seqsB = yield* Effect.provide(appendN(2, "b"), b)
      const seqsA = yield* Effect.provide(appendN(4, "a"), a)
      yield* Effect.provide(Effect.flatMap(Cursors, (c) => c.commit("shared-name", seqsA[2]!)), a)
      yield* Effect.provide(
        Effect.gen(function*() {
          const cursors = yield* Cursors
          expect(yield* cursors.get("shared-name")).toBe(0)
          const delivered = yield* take(cursors.consume("shared-name"), 2)
          expect(delivered.map((d) => d.event.sequence)).toEqual(seqsB)
          expect(delivered.every((d) => d.event.project_key === "project-b")).toBe(true)
          // Project A's newest sequence is beyond B's log: B cannot commit to it.
          expect(yield* Effect.flip(cursors.commit("shared-name", seqsA[3]!))).toMatchObject({ field: "position" })
          yield* delivered[1]!.commit
        }),
        b
      )
      expect(yield* Effect.provide(Effect.flatMap(Cursors, (c) => c.get("shared-name")), a)).toBe(seqsA[2])
      expect(yield* Effect.provide(Effect.flatMap(Cursors, (c) => c.get("shared-name")), b)).toBe(seqsB[1])
    }))

  it.scoped("a restarted consumer (a new layer on the same file) resumes after its last commit", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const open = FleetDb.layerFile({ projectPath: dir })
      const seqs = yield* Effect.provide(appendN(5), open)
      yield* Effect.provide(
        Effect.gen(function*() {
          const cursors = yield* Cursors
          const delivered = yield* take(cursors.consume("daemon"), 4)
          yield* delivered[0]!.commit
          yield* delivered[1]!.commit
        }),
        open
      )
      // The first layer is closed: this is a fresh process's view of the file.
      const resumed = yield* Effect.provide(
        Effect.flatMap(Cursors, (cursors) => take(cursors.consume("daemon"), 3)),
        open
      )
      expect(resumed.map((d) => d.event.sequence)).toEqual(seqs.slice(2))
    }))
})
