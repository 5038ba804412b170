/**
 * The Events service (README "Pilots and the event log"): append/appendAll in one transaction, read by sequence and
 * project, latestSequence, the live stream, typed known events, foreign and malformed rows read
 * back as unknown events, and bad input refused with `InvalidInput` naming the field — on every
 * backend.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, FastCheck as fc, Fiber, Layer, Option, Queue, Stream, TestClock } from "effect"
import type { FleetEvent, NewEvent } from "../src/index.js"
import type { JsonValue } from "../src/index.js"
import { EventPayloads, Events, FleetProject, InvalidInput, MAX_JSON_CHARS, MAX_JSON_DEPTH } from "../src/index.js"
import * as Project from "../src/Project.js"
import * as EventsService from "../src/services/Events.js"
import { randomUUID } from "node:crypto"
import { sharedLayer } from "./support/shared-layer.js"
import { backends, propertyRuns } from "./support/backends.js"

/** The Events service of another project on the same database (same `SqlClient`). */
const otherProject = (projectKey: string) =>
  EventsService.layer.pipe(Layer.provide(Project.layer({ projectKey, location: "test" })))

/**
 * Make the database itself refuse inserts into `events` of type `type` until the scope closes.
 * DDL takes no bound parameters, so the statement is built from this test's own constants: a
 * fresh trigger name and a type unique to the test (the sqld backend shares one database).
 */
const refuseEventsOfType = (type: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const name = `refuse_${randomUUID().replaceAll("-", "")}`
      yield* sql.unsafe(
        `CREATE TRIGGER ${name} BEFORE INSERT ON events WHEN NEW.type = '${type.replaceAll("'", "''")}' ` +
          `BEGIN SELECT RAISE(ABORT, 'refused by test'); END`
      )
      return { sql, name }
    }),
    ({ name, sql }) => Effect.orDie(sql.unsafe(`DROP TRIGGER IF EXISTS ${name}`))
  )

/** The failure of `effect`, which must fail (a defect fails the test). */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

/** Wait (in real time) until a fiber sleeps on the TestClock, i.e. the stream is idle and polling. */
const awaitIdle = Effect.gen(function*() {
  for (let i = 0; i < 2_000; i++) {
    if (Chunk.isNonEmpty(yield* TestClock.sleeps())) return
    yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
  }
  return yield* Effect.dieMessage("the stream never went idle: it keeps querying without sleeping")
})

/** One `data` column row written by "another tool", straight through SQL. */
const rawInsert = (type: string, timestamp: number | string, data: string, projectKey?: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const key = projectKey ?? (yield* FleetProject).projectKey
    const rows = yield* sql<{ id: number }>`INSERT INTO events (type, project_key, timestamp, data)
      VALUES (${type}, ${key}, ${timestamp}, ${data}) RETURNING id`
    return rows[0]!.id
  })

const registered = (callsign: string, first = true) => ({
  type: "pilot_registered" as const,
  data: { callsign, program: "opencode", model: "m", task_description: null, first }
})

/** `depth` arrays and objects nested in each other around one leaf. */
const nested = (depth: number): unknown => {
  let value: unknown = "leaf"
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value }
  return value
}

const jsonRoundTrip = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

describe.each(backends.map((b) => [b.name, b] as const))("Events on %s", (_, backend) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, backend.layer())

  describe("append", () => {
    it.effect("appends a known event, which reads back typed, with sequence = id", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const sql = yield* SqlClient.SqlClient
        const { projectKey } = yield* FleetProject
        yield* TestClock.setTime(1_700_000_000_000)
        const appended = yield* events.append(registered("viper"))
        expect(appended).toMatchObject({ known: true, type: "pilot_registered", project_key: projectKey })
        expect(appended.timestamp.epochMillis).toBe(1_700_000_000_000)
        const [read] = yield* events.read()
        expect(read).toEqual(appended)
        // Narrowing on `known` and `type` gives the payload's static type.
        if (!(read!.known && read!.type === "pilot_registered")) throw new Error("expected a known pilot_registered")
        const first: boolean = read.data.first
        expect(first).toBe(true)
        expect(read.data.callsign).toBe("viper")
        expect(yield* events.latestSequence).toBe(appended.sequence)
        const rows = yield* sql<{ id: number; sequence: number }>`SELECT id, sequence FROM events WHERE project_key = ${projectKey}`
        expect(rows).toEqual([{ id: appended.sequence, sequence: appended.sequence }])
      }).pipe(provide))

    it.effect("appends an event of a type it does not know, with any JSON data", () =>
      Effect.gen(function*() {
        const events = yield* Events
        // NUL inside JSON data is escaped, so it survives even where stored text stops at a NUL.
        const data = { nested: [1, "two", null, true, { deep: -0.5 }], unicode: "héllo ✈ 🛩️", empty: {}, nul: "a\u0000b", ["k\u0000"]: 1 }
        const appended = yield* events.append({ type: "custom.thing", data })
        expect(appended).toMatchObject({ known: false, type: "custom.thing", data })
        expect(yield* events.read()).toEqual([appended])
      }).pipe(provide))

    it.effect("latestSequence is 0 for an empty log and follows appends", () =>
      Effect.gen(function*() {
        const events = yield* Events
        expect(yield* events.latestSequence).toBe(0)
        const a = yield* events.append({ type: "t", data: 1 })
        const b = yield* events.append({ type: "t", data: 2 })
        expect(b.sequence).toBeGreaterThan(a.sequence)
        expect(yield* events.latestSequence).toBe(b.sequence)
      }).pipe(provide))

    it.effect("refuses a known type whose payload does not match its schema, naming the field", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ type: "pilot_registered", data: { callsign: "a", program: null, model: null, task_description: null } }, "data.first"],
          [{ type: "pilot_registered", data: { ...registered("a").data, callsign: 5 } }, "data.callsign"],
          [{ type: "pilot_registered", data: "nope" }, "data"],
          [{ type: "lock_acquired", data: { lock_id: 1, lock_key: "k", holder_id: "h", fence: "1", acquired_at: 0, expires_at: 1 } }, "data.fence"],
          // NaN and Infinity are numbers but not JSON: they would come back as null.
          [{ type: "lock_acquired", data: { lock_id: Number.NaN, lock_key: "k", holder_id: "h", fence: 1, acquired_at: 0, expires_at: 1 } }, "data.lock_id"],
          [{ type: "lock_extended", data: { lock_id: 1, lock_key: "k", holder_id: "h", fence: 1, expires_at: Infinity } }, "data.expires_at"],
          [{ type: "sortie_claimed", data: { sortie_id: "s", callsign: "a\uD800" } }, "data.callsign"],
          [{
            type: "pilot_lost",
            data: { callsign: "a", last_active_at: 0, released_locks: [], released_reservations: [], reopened_sorties: [{ sortie_id: 7, checkpoint_id: null }] }
          }, "data.reopened_sorties.0.sortie_id"],
          [{ type: "sortie_released", data: { sortie_id: "s", callsign: null, from: "bogus", reason: "released" } }, "data.from"]
        ]
        for (const [event, field] of cases) {
          const error = yield* failure(events.append(event as NewEvent))
          expect(error, JSON.stringify(event)).toBeInstanceOf(InvalidInput)
          expect(error, JSON.stringify(event)).toMatchObject({ field })
        }
        expect(yield* events.latestSequence).toBe(0)
      }).pipe(provide))

    it.effect("keeps only the schema's fields of a known payload", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const sql = yield* SqlClient.SqlClient
        const { projectKey } = yield* FleetProject
        yield* events.append({ type: "sortie_claimed", data: { sortie_id: "s", callsign: "c", extra: 1 } } as NewEvent)
        const [row] = yield* sql<{ data: string }>`SELECT data FROM events WHERE project_key = ${projectKey}`
        expect(JSON.parse(row!.data)).toEqual({ sortie_id: "s", callsign: "c" })
      }).pipe(provide))

    // Appends build their result from what they validated rather than reading it back: it must
    // still equal what a read returns — extra fields dropped, a negative zero read back as 0.
    it.effect("append and appendAll return exactly what reading the log returns", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const batch = [
          { type: "sortie_claimed", data: { sortie_id: "s", callsign: "c", extra: 1 } },
          { type: "lock_released", data: { lock_id: 1, lock_key: "k", holder_id: "h", fence: -0, reason: "released" } },
          { type: "custom.zero", data: { n: -0, list: [-0, 1] } },
          { type: "custom.plain", data: ["a", { b: null }] }
        ] as ReadonlyArray<NewEvent>
        const one = yield* Effect.forEach(batch, (event) => events.append(event))
        const all = yield* events.appendAll(batch)
        const read = yield* events.read()
        expect([...one, ...all]).toEqual(read)
        expect(read[0]!.data).toEqual({ sortie_id: "s", callsign: "c" })
        expect(Object.is((read[1]!.data as { fence: number }).fence, 0)).toBe(true)
        expect(Object.is((all[2]!.data as { n: number }).n, 0)).toBe(true)
      }).pipe(provide))

    it.effect("refuses data that is not JSON, or a bad type, naming the field", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const cyclic: Record<string, unknown> = {}
        cyclic.self = cyclic
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ type: "", data: 1 }, "type"],
          [{ type: "x".repeat(201), data: 1 }, "type"],
          [{ type: 42, data: 1 }, "type"],
          [{ type: "\uDC00", data: 1 }, "type"],
          [{ type: "a\u0000b", data: 1 }, "type"],
          [{ data: 1 }, "type"],
          [null, "type"],
          [42, "type"],
          [{ type: "t" }, "data"],
          [{ type: "t", data: undefined }, "data"],
          [{ type: "t", data: Number.NaN }, "data"],
          [{ type: "t", data: { a: [1, Infinity] } }, "data.a.1"],
          [{ type: "t", data: { a: ["x", "\uD800"] } }, "data.a.1"],
          [{ type: "t", data: { ["\uDFFF"]: 1 } }, "data.\uDFFF"],
          [{ type: "t", data: { f: () => 1 } }, "data.f"],
          [{ type: "t", data: { d: new Date(0) } }, "data.d"],
          [{ type: "t", data: { n: 10n } }, "data.n"],
          [{ type: "t", data: cyclic }, "data.self"]
        ]
        for (const [event, field] of cases) {
          const error = yield* failure(events.append(event as NewEvent))
          expect(error).toBeInstanceOf(InvalidInput)
          expect(error).toMatchObject({ field })
        }
        expect(yield* events.latestSequence).toBe(0)
      }).pipe(provide))
  })

  describe("appendAll", () => {
    it.effect("appends more events than one INSERT chunk, in order, with contiguous sequences", () =>
      Effect.gen(function*() {
        const events = yield* Events
        yield* events.append({ type: "before", data: null })
        const batch: Array<NewEvent> = Array.from({ length: 1_234 }, (_, i) =>
          i % 3 === 0 ? registered(`pilot-${i}`, i === 0) : { type: "tick", data: { i, label: `tick ${i}` } })
        const appended = yield* events.appendAll(batch)
        expect(appended).toHaveLength(1_234)
        const first = appended[0]!.sequence
        expect(appended.map((e) => e.sequence)).toEqual(Array.from({ length: 1_234 }, (_, i) => first + i))
        expect(appended.map((e) => ({ type: e.type, data: e.data }))).toEqual(batch)
        expect(appended.map((e) => e.known)).toEqual(batch.map((e) => e.type === "pilot_registered"))
        // One transaction: one `now` for the whole batch.
        expect(new Set(appended.map((e) => e.timestamp.epochMillis)).size).toBe(1)
        // Read pages back (default limit 1000) and get exactly the same events.
        const page1 = yield* events.read()
        expect(page1).toHaveLength(1_000)
        const page2 = yield* events.read({ after: page1.at(-1)!.sequence })
        expect([...page1, ...page2]).toEqual([expect.objectContaining({ type: "before" }), ...appended])
        expect(yield* events.latestSequence).toBe(appended.at(-1)!.sequence)
      }).pipe(provide))

    it.effect("writes nothing when any event is invalid, naming it by index", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const batch: Array<unknown> = Array.from({ length: 600 }, (_, i) => ({ type: "tick", data: i }))
        batch[555] = { type: "tick", data: { bad: Number.NaN } }
        expect(yield* failure(events.appendAll(batch as Array<NewEvent>))).toMatchObject({ _tag: "InvalidInput", field: "events.555.data.bad" })
        batch[555] = { type: "", data: 1 }
        expect(yield* failure(events.appendAll(batch as Array<NewEvent>))).toMatchObject({ _tag: "InvalidInput", field: "events.555.type" })
        batch[555] = { type: "pilot_registered", data: {} }
        expect(yield* failure(events.appendAll(batch as Array<NewEvent>))).toMatchObject({ _tag: "InvalidInput", field: "events.555.data.callsign" })
        expect(yield* failure(events.appendAll("nope" as never))).toMatchObject({ _tag: "InvalidInput", field: "events" })
        expect(yield* failure(events.appendAll(null as never))).toMatchObject({ _tag: "InvalidInput", field: "events" })
        expect(yield* events.latestSequence).toBe(0)
        expect(yield* events.appendAll([])).toEqual([])
        expect(yield* events.latestSequence).toBe(0)
      }).pipe(provide))

    it.effect("refuses data nested too deep or too large as InvalidInput naming the field, writing nothing", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const checkpoint = (context_data: unknown) => ({
          type: "checkpoint_created",
          data: {
            checkpoint_id: "chk_1",
            callsign: "a",
            mission_id: null,
            sortie_id: null,
            trigger: "auto",
            progress_percent: null,
            summary: null,
            context_data
          }
        }) as NewEvent
        const cyclic: Record<string, unknown> = {}
        cyclic.self = cyclic
        const cases: ReadonlyArray<readonly [Effect.Effect<unknown, unknown>, string]> = [
          [events.append({ type: "tick", data: nested(10_000) as JsonValue }), "data."],
          [events.append({ type: "tick", data: nested(MAX_JSON_DEPTH + 1) as JsonValue }), "data."],
          [events.append(checkpoint(nested(10_000))), "data.context_data."],
          [events.append(checkpoint(cyclic)), "data.context_data"],
          [events.append({ type: "tick", data: "x".repeat(MAX_JSON_CHARS) }), "data"],
          [events.append({ type: "tick", data: Array.from({ length: MAX_JSON_CHARS / 2 }, () => 1) }), "data"],
          [events.append({ type: "tick", data: "x".repeat(20 * MAX_JSON_CHARS) }), "data"],
          [events.append(checkpoint("c".repeat(MAX_JSON_CHARS))), "data"],
          [events.appendAll([{ type: "tick", data: 1 }, { type: "tick", data: nested(10_000) as JsonValue }]), "events.1.data."],
          [events.appendAll([{ type: "tick", data: 1 }, checkpoint(nested(10_000))]), "events.1.data.context_data."],
          [events.appendAll([{ type: "tick", data: "x".repeat(MAX_JSON_CHARS) }]), "events.0.data"]
        ]
        for (const [attempt, field] of cases) {
          const error = yield* failure(attempt)
          expect(error, field).toBeInstanceOf(InvalidInput)
          expect((error as InvalidInput).field.startsWith(field), (error as InvalidInput).field).toBe(true)
        }
        expect(yield* events.latestSequence).toBe(0)
        // The limits are inclusive.
        const atLimit = yield* events.appendAll([
          { type: "tick", data: nested(MAX_JSON_DEPTH) as JsonValue },
          { type: "tick", data: "x".repeat(MAX_JSON_CHARS - 2) },
          checkpoint(nested(MAX_JSON_DEPTH - 2))
        ])
        expect(atLimit.map((e) => e.known)).toEqual([false, false, true])
        expect(yield* events.read()).toEqual(atLimit)
      }).pipe(provide))

    it.effect("is one transaction: a database failure in a later chunk leaves nothing written", () =>
      Effect.gen(function*() {
        const events = yield* Events
        yield* events.append({ type: "kept", data: 1 })
        const before = yield* events.latestSequence
        // A failure the database raises itself, after the first chunks were inserted.
        const boom = `boom-${randomUUID()}`
        yield* refuseEventsOfType(boom)
        const batch: Array<NewEvent> = Array.from({ length: 900 }, (_, i) => ({ type: i === 800 ? boom : "tick", data: i }))
        const error = yield* failure(events.appendAll(batch))
        expect(error._tag).toBe("SqlError")
        expect(yield* events.latestSequence).toBe(before)
        expect((yield* events.read()).map((e) => e.type)).toEqual(["kept"])
        // The client is still usable afterwards.
        const next = yield* events.append({ type: "after", data: 2 })
        expect(next.sequence).toBeGreaterThan(before)
      }).pipe(Effect.scoped, provide))
  })

  describe("read", () => {
    it.effect("filters by after, types and limit, ascending by sequence", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const all = yield* events.appendAll(
          Array.from({ length: 10 }, (_, i) => ({ type: i % 2 === 0 ? "even" : "odd", data: i }))
        )
        const seq = all.map((e) => e.sequence)
        expect(yield* events.read()).toEqual(all)
        expect((yield* events.read({ after: seq[4] })).map((e) => e.data)).toEqual([5, 6, 7, 8, 9])
        expect((yield* events.read({ types: ["odd"] })).map((e) => e.data)).toEqual([1, 3, 5, 7, 9])
        expect((yield* events.read({ types: ["odd", "even"] })).map((e) => e.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        expect((yield* events.read({ types: ["none"] }))).toEqual([])
        expect((yield* events.read({ limit: 3 })).map((e) => e.data)).toEqual([0, 1, 2])
        expect((yield* events.read({ after: seq[2], types: ["odd"], limit: 2 })).map((e) => e.data)).toEqual([3, 5])
        expect((yield* events.read({ after: seq[9] }))).toEqual([])
        // An empty types list is no filter.
        expect(yield* events.read({ types: [] })).toEqual(all)
      }).pipe(provide))

    it.effect("refuses bad options, naming the field", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ after: -1 }, "after"],
          [{ after: 1.5 }, "after"],
          [{ after: "1" }, "after"],
          [{ limit: 0 }, "limit"],
          [{ limit: 10_001 }, "limit"],
          [{ limit: Number.NaN }, "limit"],
          [{ types: "odd" }, "types"],
          [{ types: [""] }, "types.0"],
          [{ types: ["ok", 5] }, "types.1"],
          [null, "input"]
        ]
        for (const [options, field] of cases) {
          expect(yield* failure(events.read(options as never))).toMatchObject({ _tag: "InvalidInput", field })
        }
      }).pipe(provide))

    it.effect("reads rows written by other tools: unknown types, invalid JSON and bad timestamps never fail", () =>
      Effect.gen(function*() {
        const events = yield* Events
        yield* rawInsert("other.tool", 1_700_000_000_000, "{\"x\":[1,2]}")
        yield* rawInsert("other.tool", 1, "{not json")
        yield* rawInsert("other.tool", 2, "")
        // A known type whose payload does not match: unknown, with its parsed data.
        yield* rawInsert("pilot_registered", 3, "{\"callsign\":5}")
        yield* rawInsert("pilot_registered", 4, "[]")
        // Timestamps that are not epoch milliseconds.
        yield* rawInsert("other.tool", "1700000000001", "null")
        yield* rawInsert("other.tool", "2024-01-02T03:04:05.000Z", "1")
        yield* rawInsert("other.tool", "yesterday", "2")
        const log = yield* events.read()
        expect(log.map((e) => ({ known: e.known, type: e.type, data: e.data, at: e.timestamp.epochMillis }))).toEqual([
          { known: false, type: "other.tool", data: { x: [1, 2] }, at: 1_700_000_000_000 },
          { known: false, type: "other.tool", data: "{not json", at: 1 },
          { known: false, type: "other.tool", data: "", at: 2 },
          { known: false, type: "pilot_registered", data: { callsign: 5 }, at: 3 },
          { known: false, type: "pilot_registered", data: [], at: 4 },
          { known: false, type: "other.tool", data: null, at: 1_700_000_000_001 },
          { known: false, type: "other.tool", data: 1, at: Date.UTC(2024, 0, 2, 3, 4, 5) },
          { known: false, type: "other.tool", data: 2, at: 0 }
        ])
        // The stream and a typed append after them are not disturbed either.
        const streamed = yield* events.stream().pipe(Stream.take(8), Stream.runCollect)
        expect(Chunk.toReadonlyArray(streamed)).toEqual(log)
        const ok = yield* events.append(registered("after-foreign"))
        expect(ok.known).toBe(true)
      }).pipe(provide))
    it.effect("reads another tool's known-type row nested too deep for its payload schema as an unknown event", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const context = `${"[".repeat(10_000)}1${"]".repeat(10_000)}`
        yield* rawInsert(
          "checkpoint_created",
          5,
          `{"checkpoint_id":"chk_x","callsign":"a","mission_id":null,"sortie_id":null,"trigger":"auto",` +
            `"progress_percent":null,"summary":null,"context_data":${context}}`
        )
        const [event] = yield* events.read()
        expect(event).toMatchObject({ known: false, type: "checkpoint_created" })
        let inner = (event!.data as { context_data: unknown }).context_data
        for (let depth = 0; depth < 10_000; depth++) inner = (inner as ReadonlyArray<unknown>)[0]
        expect(inner).toBe(1)
      }).pipe(provide))
  })

  describe("projects", () => {
    it.effect("two project keys on one database never see each other's events", () =>
      Effect.gen(function*() {
        const mine = yield* Events
        const other = `other-project-${randomUUID()}`
        const theirs = yield* Effect.provide(Events, otherProject(other))
        const a = yield* mine.append({ type: "t", data: "mine" })
        const b = yield* theirs.append({ type: "t", data: "theirs" })
        yield* rawInsert("t", 0, "\"raw theirs\"", other)
        expect(b.project_key).toBe(other)
        expect(yield* mine.read()).toEqual([a])
        expect((yield* theirs.read()).map((e) => e.data)).toEqual(["theirs", "raw theirs"])
        expect(yield* mine.latestSequence).toBe(a.sequence)
        expect(yield* theirs.latestSequence).toBeGreaterThan(b.sequence)
        expect((yield* mine.read({ types: ["t"], after: 0 })).map((e) => e.data)).toEqual(["mine"])
        const streamed = yield* mine.stream().pipe(Stream.take(1), Stream.runCollect)
        expect(Chunk.toReadonlyArray(streamed)).toEqual([a])
      }).pipe(provide))
  })

  describe("stream", () => {
    it.effect("drains the backlog, then delivers new events; filtered, it idles instead of spinning; never ends; interruptible", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const a1 = yield* events.append({ type: "a", data: 1 })
        yield* events.append({ type: "b", data: 1 })
        const a2 = yield* events.append({ type: "a", data: 2 })
        const received = yield* Queue.unbounded<FleetEvent>()
        const fiber = yield* events.stream({ types: ["a"], pollInterval: "1 minute" }).pipe(
          Stream.runForEach((e) => Queue.offer(received, e)),
          Effect.fork
        )
        expect([yield* Queue.take(received), yield* Queue.take(received)]).toEqual([a1, a2])

        // Idle: waiting on the clock, not querying in a loop.
        yield* awaitIdle
        // Events of other types and of other projects wake it but deliver nothing; it idles again.
        yield* events.append({ type: "b", data: 2 })
        yield* rawInsert("a", 0, "\"other project\"", `someone-else-${randomUUID()}`)
        yield* TestClock.adjust("1 minute")
        yield* awaitIdle
        expect(yield* Queue.size(received)).toBe(0)

        // A new matching event arrives on the next poll.
        const a3 = yield* events.append({ type: "a", data: 3 })
        yield* TestClock.adjust("1 minute")
        expect(yield* Queue.take(received)).toEqual(a3)

        // Hours of silence (each adjust runs every poll in between): the stream is still running.
        for (let i = 0; i < 4; i++) {
          yield* awaitIdle
          yield* TestClock.adjust("30 minutes")
        }
        yield* awaitIdle
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)

        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
      }).pipe(provide))

    it.effect("starts after the given sequence", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const [, second, third] = yield* events.appendAll([
          { type: "t", data: 1 },
          { type: "t", data: 2 },
          { type: "t", data: 3 }
        ])
        const got = yield* events.stream({ after: second!.sequence - 1 }).pipe(Stream.take(2), Stream.runCollect)
        expect(Chunk.toReadonlyArray(got)).toEqual([second, third])
      }).pipe(provide))

    it.effect("fails with InvalidInput for bad options", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ pollInterval: 0 }, "pollInterval"],
          [{ pollInterval: -5 }, "pollInterval"],
          [{ pollInterval: "soon" }, "pollInterval"],
          [{ after: -1 }, "after"],
          [{ types: "a" }, "types"]
        ]
        for (const [options, field] of cases) {
          expect(yield* failure(Stream.runDrain(events.stream(options as never)))).toMatchObject({ _tag: "InvalidInput", field })
        }
        // null is "no options" for an untyped caller.
        yield* events.append({ type: "t", data: 1 })
        const got = yield* events.stream(null as never).pipe(Stream.take(1), Stream.runCollect)
        expect(Chunk.size(got)).toBe(1)
      }).pipe(provide))

    it.live("in real time: delivers events appended while it runs, in order", () =>
      Effect.gen(function*() {
        const events = yield* Events
        const backlog = yield* events.appendAll([{ type: "t", data: 1 }, { type: "t", data: 2 }])
        const fiber = yield* events.stream({ pollInterval: "10 millis" }).pipe(Stream.take(5), Stream.runCollect, Effect.fork)
        yield* Effect.sleep("50 millis")
        const later = [
          yield* events.append({ type: "t", data: 3 }),
          ...(yield* events.appendAll([{ type: "t", data: 4 }, { type: "t", data: 5 }]))
        ]
        const got = yield* Fiber.join(fiber)
        expect(Chunk.toReadonlyArray(got)).toEqual([...backlog, ...later])
      }).pipe(provide))
  })

  describe("properties", () => {
    const knownTypes = Object.keys(EventPayloads)
    const validUnknownType = fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.fullUnicodeString({ minLength: 1, maxLength: 60 }))
      // A type is text: NUL is refused (the Text schema), and ASCII strings do draw it.
      .filter((t) => t.length <= 200 && !t.includes("\u0000") && !knownTypes.includes(t))

    {
      // One database for all runs of each property.
      const shared = sharedLayer(backend.layer())
      const runs = propertyRuns(backend)
      it.effect.prop(
        "any JSON data of an unknown type round-trips exactly",
        [validUnknownType, fc.jsonValue()],
        ([type, data]) =>
          Effect.gen(function*() {
            const events = yield* Events
            const before = yield* events.latestSequence
            const appended = yield* events.append({ type, data: data as never })
            expect(appended).toMatchObject({ known: false, type, data: jsonRoundTrip(data) })
            expect(yield* events.latestSequence).toBe(appended.sequence)
            expect(yield* events.read({ after: before })).toEqual([appended])
          }).pipe(shared),
        runs
      )

      it.effect.prop(
        "arbitrary input from an untyped caller: one event or InvalidInput, never a defect or a partial write",
        [
          fc.oneof(
            fc.record({
              type: fc.oneof(
                validUnknownType,
                fc.constantFrom(...knownTypes, "valueOf", "__proto__", "constructor", "a\u0000b", " ", ""),
                fc.string({ unit: anyUnit, maxLength: 8 }),
                fc.anything()
              ),
              data: fc.oneof(fc.jsonValue(), fc.anything(), fc.object(), fc.constant(Number.NaN))
            }, { requiredKeys: [] }),
            fc.anything()
          )
        ],
        ([input]) =>
          Effect.gen(function*() {
            const events = yield* Events
            const before = yield* events.latestSequence
            const exit = yield* Effect.exit(events.append(input as NewEvent))
            if (Exit.isSuccess(exit)) {
              expect(yield* events.latestSequence).toBe(exit.value.sequence)
              expect(yield* events.read({ after: before })).toEqual([exit.value])
              expect(exit.value.type).toBe((input as { type: string }).type)
            } else {
              expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "InvalidInput", String(exit)).toBe(true)
              expect(yield* events.latestSequence).toBe(before)
            }
          }).pipe(shared),
        runs
      )

      it.effect.prop(
        "appendAll is all or nothing",
        [fc.array(fc.oneof({ weight: 5, arbitrary: fc.record({ type: validUnknownType, data: fc.jsonValue() }) }, {
          weight: 1,
          arbitrary: fc.record({ type: fc.anything(), data: fc.anything() })
        }), { maxLength: 30 })],
        ([batch]) =>
          Effect.gen(function*() {
            const events = yield* Events
            const before = yield* events.latestSequence
            const exit = yield* Effect.exit(events.appendAll(batch as Array<NewEvent>))
            if (Exit.isSuccess(exit)) {
              expect(exit.value).toHaveLength(batch.length)
              expect(yield* events.read({ after: before })).toEqual(exit.value)
            } else {
              expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag === "InvalidInput", String(exit)).toBe(true)
              expect(yield* events.latestSequence).toBe(before)
            }
          }).pipe(shared),
        runs
      )
    }
  })
})
