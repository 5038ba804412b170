/**
 * Reading the log the way people ask (issue: newest first, by time window): `order: "desc"`,
 * `before`, `since`/`until` (since inclusive, until exclusive) on every backend, and the query
 * plans at 100,000 events / 100,000 recipients — no full scan of `events` or `message_recipients`.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, TestClock } from "effect"
import { Events, FleetProject, InvalidInput, Messages, Pilots } from "../src/index.js"
import { backends, file } from "./support/backends.js"

const T0 = 1_700_000_000_000

/** Append `n` events of the given types in turn, one per millisecond from T0; their sequences. */
const appendTimed = (types: ReadonlyArray<string>, n: number) =>
  Effect.gen(function*() {
    const events = yield* Events
    const sequences: Array<number> = []
    for (let i = 0; i < n; i++) {
      yield* TestClock.setTime(T0 + i)
      sequences.push((yield* events.append({ type: types[i % types.length]!, data: { i } })).sequence)
    }
    return sequences
  })

describe.each(backends.map((b) => [b.name, b] as const))("Events.read bounds on %s", (_, backend) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, backend.layer())

  it.effect("order desc: the newest matches first; before pages further back", () =>
    Effect.gen(function*() {
      const events = yield* Events
      const seqs = yield* appendTimed(["a", "b", "c"], 12)
      const newestA = yield* events.read({ types: ["a"], order: "desc", limit: 3 })
      expect(newestA.map((e) => e.sequence)).toEqual([seqs[9], seqs[6], seqs[3]])
      const olderA = yield* events.read({ types: ["a"], order: "desc", limit: 3, before: newestA[2]!.sequence })
      expect(olderA.map((e) => e.sequence)).toEqual([seqs[0]])
      const newestAny = yield* events.read({ order: "desc", limit: 2 })
      expect(newestAny.map((e) => e.sequence)).toEqual([seqs[11], seqs[10]])
      const twoTypes = yield* events.read({ types: ["a", "c"], order: "desc", limit: 3 })
      expect(twoTypes.map((e) => e.sequence)).toEqual([seqs[11], seqs[9], seqs[8]])
      // before and after are both exclusive, in either order.
      const between = yield* events.read({ after: seqs[2], before: seqs[5] })
      expect(between.map((e) => e.sequence)).toEqual([seqs[3], seqs[4]])
      const betweenDesc = yield* events.read({ after: seqs[2], before: seqs[5], order: "desc" })
      expect(betweenDesc.map((e) => e.sequence)).toEqual([seqs[4], seqs[3]])
    }).pipe(provide))

  it.effect("since is inclusive, until exclusive; DateTime, Date and epoch ms mean the same", () =>
    Effect.gen(function*() {
      const events = yield* Events
      const seqs = yield* appendTimed(["a", "b"], 10)
      const window = [seqs[3], seqs[4], seqs[5], seqs[6]]
      for (
        const [since, until] of [
          [T0 + 3, T0 + 7],
          [new Date(T0 + 3), new Date(T0 + 7)],
          [DateTime.unsafeMake(T0 + 3), DateTime.unsafeMake(T0 + 7)],
          [DateTime.unsafeMakeZoned(T0 + 3, { timeZone: "Europe/Paris" }), DateTime.unsafeMake(T0 + 7)]
        ] as const
      ) {
        expect((yield* events.read({ since, until })).map((e) => e.sequence)).toEqual(window)
      }
      expect((yield* events.read({ since: T0 + 3, until: T0 + 7, order: "desc", limit: 2 })).map((e) => e.sequence))
        .toEqual([seqs[6], seqs[5]])
      expect((yield* events.read({ since: T0 + 3, until: T0 + 7, types: ["b"] })).map((e) => e.sequence))
        .toEqual([seqs[3], seqs[5]])
      expect((yield* events.read({ since: T0 + 8 })).map((e) => e.sequence)).toEqual([seqs[8], seqs[9]])
      expect((yield* events.read({ until: T0 + 1 })).map((e) => e.sequence)).toEqual([seqs[0]])
      expect(yield* events.read({ since: T0 + 5, until: T0 + 5 })).toEqual([])
    }).pipe(provide))

  it.effect("bad bounds are refused with InvalidInput naming the field", () =>
    Effect.gen(function*() {
      const events = yield* Events
      for (
        const [options, field] of [
          [{ order: "newest" }, "order"],
          [{ before: 0 }, "before"],
          [{ since: "yesterday" }, "since"],
          [{ until: new Date(Number.NaN) }, "until"],
          [{ since: 1.5 }, "since"]
        ] as const
      ) {
        const error = yield* Effect.flip(events.read(options as never))
        expect(error).toBeInstanceOf(InvalidInput)
        expect(error._tag === "InvalidInput" && error.field).toBe(field)
      }
    }).pipe(provide))
})

/** The lines of `EXPLAIN QUERY PLAN` for a statement. */
const planOf = (text: string, params: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ readonly detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params as Array<unknown>)
    return rows.map((row) => row.detail)
  })

// A scan of a table (or of a whole index of it) reads "SCAN <table or alias>…"; a SEARCH is a
// range of an index. Temp B-trees for ORDER BY are neither.
const scans = (plan: ReadonlyArray<string>) => plan.filter((line) => line.startsWith("SCAN "))

describe("query plans at scale", () => {
  it.scoped("every Events.read shape is one indexed query at 100,000 events", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      // 100,000 events of 20 types, one a millisecond, plus another project's rows.
      yield* sql`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
        INSERT INTO events (type, project_key, timestamp, data)
        SELECT 'type_' || (i % 20), ${projectKey}, ${T0} + i, '{}' FROM n`
      yield* sql`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
        INSERT INTO events (type, project_key, timestamp, data)
        SELECT 'type_' || (i % 20), 'other', ${T0} + i, '{}' FROM n`
      yield* sql`ANALYZE`
      const events = yield* Events
      const shapes = [
        { types: ["type_3"], order: "desc", limit: 100 },
        { order: "desc", limit: 100 },
        { types: ["type_3", "type_7"], order: "desc", limit: 100 },
        { types: ["type_3"], order: "desc", before: 50_000, limit: 100 },
        { before: 50_000, order: "desc", limit: 100 },
        { after: 50_000, limit: 100 },
        { after: 50_000, types: ["type_3"], limit: 100 },
        { since: T0 + 40_000, until: T0 + 40_500 },
        { since: T0 + 40_000, until: T0 + 40_500, order: "desc", limit: 100 },
        { since: T0 + 40_000, until: T0 + 41_000, types: ["type_3"] },
        { since: T0 + 99_000 },
        { until: T0 + 100 }
      ] as const
      const { selectEvents } = yield* Effect.promise(() => import("../src/services/internal/eventLog.js"))
      for (const shape of shapes) {
        const statement = selectEvents(sql, projectKey, { order: "asc", limit: 1000, ...shape }).compile()
        const plan = yield* planOf(statement[0], statement[1])
        expect(scans(plan), `${JSON.stringify(shape)}: ${plan.join(" | ")}`).toEqual([])
        // …and the search is narrowed by the read's own bounds, not by the project alone (which
        // would walk all its events): a time window by timestamp, a type by type, else by sequence.
        const search = plan.filter((line) => line.startsWith("SEARCH events"))
        expect(search.length, plan.join(" | ")).toBe(1)
        const has = (key: string) => Object.hasOwn(shape, key)
        const narrowed = has("since") || has("until")
          ? /timestamp[<>]/.test(search[0]!)
          : has("before") || has("after")
          ? /rowid[<>]/.test(search[0]!)
          : !has("types") || search[0]!.includes("type=?")
        expect(narrowed, `${JSON.stringify(shape)}: ${plan.join(" | ")}`).toBe(true)
        if (has("types")) expect(search[0], JSON.stringify(shape)).toContain("type=?")
        // The service runs this same statement shape.
        const read = yield* events.read(shape)
        expect(read.length).toBeGreaterThan(0)
      }
    }).pipe(Effect.provide(file.layer())), { timeout: 120_000 })

  it.scoped("pendingAcks over the whole project uses an index at 100,000 recipients", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const pilots = yield* Pilots
      const messages = yield* Messages
      yield* pilots.register({ callsign: "alpha" })
      yield* pilots.register({ callsign: "bravo" })
      const sent = yield* messages.send({ from: "alpha", to: "bravo", subject: "s", body: "b", ack_required: true })
      // 50,000 messages with two recipients each; one in a hundred asks for acknowledgement.
      yield* sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
        INSERT INTO messages (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
        SELECT ${projectKey}, 'alpha', 's', 'b', 't' || i, 'normal', CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END, ${T0} + i FROM n`
      yield* sql`INSERT INTO message_recipients (message_id, callsign)
        SELECT id, 'bravo' FROM messages WHERE id != ${sent.message.id} UNION ALL
        SELECT id, 'charlie' FROM messages WHERE id != ${sent.message.id}`
      yield* sql`ANALYZE`
      const { pendingAcksStatement } = yield* Effect.promise(() => import("../src/services/Messages.js"))
      for (const options of [{}, { from: "alpha" }, { callsign: "bravo" }]) {
        const statement = pendingAcksStatement(sql, projectKey, options).compile()
        const plan = yield* planOf(statement[0], statement[1])
        expect(scans(plan), `${JSON.stringify(options)}: ${plan.join(" | ")}`).toEqual([])
      }
      // 1 + 2 × 500 acknowledgements are owed; the first page is the oldest 1,000.
      const pending = yield* messages.pendingAcks({ limit: 1_000 })
      expect(pending.length).toBe(1_000)
      expect(pending[0]!.message.id).toBe(sent.message.id)
    }).pipe(Effect.provide(file.layer())), { timeout: 120_000 })
})
