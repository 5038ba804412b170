/**
 * Rows another tool wrote that do not decode into their model: the read that meets one fails with
 * `UndecodableRow` naming the table, the row and the column — a typed error, not a defect — and
 * every other read keeps working. On every backend.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import {
  Checkpoints,
  Cursors,
  FleetProject,
  Locks,
  Messages,
  Missions,
  Pilots,
  Reservations,
  Sorties,
  UndecodableRow,
  WorkOrders
} from "../src/index.js"
import { backends } from "./support/backends.js"

/** The typed failure of `effect`: it must fail with `UndecodableRow` (a defect fails the test). */
const undecodable = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    if (Exit.isSuccess(exit)) throw new Error(`expected UndecodableRow, got a success: ${String(exit.value)}`)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) throw new Error(`expected UndecodableRow, got ${Cause.pretty(exit.cause)}`)
    expect(failure.value).toBeInstanceOf(UndecodableRow)
    return failure.value as UndecodableRow
  })

const NOW = 1_750_000_000_000

describe.each(backends.map((b) => [b.name, b] as const))("foreign rows on %s", (_, backend) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, backend.layer())

  it.effect("a pilot whose registered_at is text: get and list fail typed naming pilots/id/registered_at; other pilots read", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const pilots = yield* Pilots
      yield* pilots.register({ callsign: "good" })
      const [row] = yield* sql<{ id: number }>`INSERT INTO pilots (project_key, callsign, registered_at, last_active_at)
        VALUES (${projectKey}, ${"weird"}, ${"yesterday"}, ${NOW}) RETURNING id`
      const expected = { table: "pilots", row_id: String(row!.id), column: "registered_at" }
      expect(yield* undecodable(pilots.get("weird"))).toMatchObject(expected)
      expect(yield* undecodable(pilots.list())).toMatchObject(expected)
      expect((yield* undecodable(pilots.heartbeat("weird"))).message).toContain("pilots")
      expect((yield* pilots.get("good")).callsign).toBe("good")
      expect((yield* pilots.heartbeat("good")).callsign).toBe("good")
    }).pipe(provide))

  it.effect("a sortie with priority 'x' and one with status 'weird': reads fail typed; others read; claimNext still works", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const sorties = yield* Sorties
      const good = yield* sorties.create({ title: "good" })
      yield* sql`INSERT INTO sorties (id, project_key, title, status, priority, created_at)
        VALUES (${"srt_foreign_priority"}, ${projectKey}, ${"f"}, ${"closed"}, ${"x"}, ${NOW})`
      yield* sql`INSERT INTO sorties (id, project_key, title, status, priority, created_at)
        VALUES (${"srt_foreign_status"}, ${projectKey}, ${"f"}, ${"weird"}, ${1}, ${NOW})`
      expect(yield* undecodable(sorties.get("srt_foreign_priority"))).toMatchObject({
        table: "sorties",
        row_id: "srt_foreign_priority",
        column: "priority"
      })
      expect(yield* undecodable(sorties.get("srt_foreign_status"))).toMatchObject({
        table: "sorties",
        row_id: "srt_foreign_status",
        column: "status"
      })
      expect((yield* undecodable(sorties.list())).table).toBe("sorties")
      expect((yield* sorties.get(good.id)).title).toBe("good")
      expect(Option.map(yield* sorties.claimNext("viper"), (s) => s.id)).toEqual(Option.some(good.id))
    }).pipe(provide))

  it.effect("a lock with a text expires_at: current and list fail typed naming locks/id/expires_at; other keys work", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const locks = yield* Locks
      const [row] = yield* sql<{ id: number }>`INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, fence)
        VALUES (${projectKey}, ${"foreign"}, ${"other-tool"}, ${NOW}, ${"tomorrow"}, ${1}) RETURNING id`
      const expected = { table: "locks", row_id: String(row!.id), column: "expires_at" }
      expect(yield* undecodable(locks.current("foreign"))).toMatchObject(expected)
      expect(yield* undecodable(locks.list())).toMatchObject(expected)
      const held = yield* locks.acquire("mine", { holder: "viper", ttl: 60_000 })
      expect(Option.map(yield* locks.current("mine"), (l) => l.id)).toEqual(Option.some(held.id))
      yield* locks.release(held)
    }).pipe(provide))

  it.effect("missions, work orders, messages, recipients, reservations, checkpoints and cursors: each names its table, row and column", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const missions = yield* Missions
      const workOrders = yield* WorkOrders
      const messages = yield* Messages
      const reservations = yield* Reservations
      const checkpoints = yield* Checkpoints
      const pilots = yield* Pilots
      yield* pilots.register({ callsign: "alpha" })
      yield* pilots.register({ callsign: "bravo" })

      yield* sql`INSERT INTO missions (id, project_key, title, status, created_at)
        VALUES (${"msn_foreign"}, ${projectKey}, ${"m"}, ${"weird"}, ${NOW})`
      expect(yield* undecodable(missions.get("msn_foreign"))).toMatchObject({ table: "missions", row_id: "msn_foreign", column: "status" })
      expect((yield* undecodable(missions.list())).table).toBe("missions")

      yield* sql`INSERT INTO work_orders (id, project_key, title, status, created_at)
        VALUES (${"wo_foreign"}, ${projectKey}, ${"w"}, ${"pending"}, ${"noon"})`
      expect(yield* undecodable(workOrders.get("wo_foreign"))).toMatchObject({ table: "work_orders", row_id: "wo_foreign", column: "created_at" })

      const [message] = yield* sql<{ id: number }>`INSERT INTO messages
        (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
        VALUES (${projectKey}, ${"other-tool"}, ${"s"}, ${"b"}, ${"t-foreign"}, ${"weird"}, ${0}, ${NOW}) RETURNING id`
      expect(yield* undecodable(messages.thread("t-foreign"))).toMatchObject({
        table: "messages",
        row_id: String(message!.id),
        column: "importance"
      })
      const sent = yield* messages.send({ from: "alpha", to: "bravo", subject: "hi", body: "ok" })
      yield* sql`INSERT INTO message_recipients (message_id, callsign, read_at) VALUES (${sent.message.id}, ${"charlie"}, ${"soon"})`
      expect(yield* undecodable(messages.markRead(sent.message.id, "charlie"))).toMatchObject({
        table: "message_recipients",
        row_id: `${sent.message.id}/charlie`,
        column: "read_at"
      })
      expect((yield* messages.inbox("bravo")).map((e) => e.message.id)).toEqual([sent.message.id])

      const [reservation] = yield* sql<{ id: number }>`INSERT INTO reservations
        (project_key, callsign, path_pattern, exclusive, created_at, expires_at)
        VALUES (${projectKey}, ${"other-tool"}, ${"src/**"}, ${1}, ${"dawn"}, ${NOW * 2}) RETURNING id`
      expect(yield* undecodable(reservations.active())).toMatchObject({
        table: "reservations",
        row_id: String(reservation!.id),
        column: "created_at"
      })

      yield* checkpoints.create({ callsign: "alpha", trigger: "auto" })
      yield* sql`INSERT INTO checkpoints (id, project_key, callsign, trigger, created_at)
        VALUES (${"chk_foreign"}, ${projectKey}, ${"bravo"}, ${"weird"}, ${NOW})`
      // JSON nested deeper than the stack can follow, read back by a recursive schema.
      const deep = `${"[".repeat(10_000)}1${"]".repeat(10_000)}`
      yield* sql`INSERT INTO checkpoints (id, project_key, callsign, trigger, context_data, created_at)
        VALUES (${"chk_deep"}, ${projectKey}, ${"charlie"}, ${"auto"}, ${deep}, ${NOW})`
      expect(yield* undecodable(checkpoints.latest({ callsign: "bravo" }))).toMatchObject({
        table: "checkpoints",
        row_id: "chk_foreign",
        column: "trigger"
      })
      expect(yield* undecodable(checkpoints.latest({ callsign: "charlie" }))).toMatchObject({
        table: "checkpoints",
        row_id: "chk_deep",
        column: "context_data"
      })
      expect(Option.map(yield* checkpoints.latest({ callsign: "alpha" }), (c) => c.callsign)).toEqual(Option.some("alpha"))

      const cursors = yield* Cursors
      const [cursor] = yield* sql<{ id: number }>`INSERT INTO cursors (project_key, consumer_id, position, updated_at)
        VALUES (${projectKey}, ${"foreign"}, ${"abc"}, ${NOW}) RETURNING id`
      const expected = { table: "cursors", row_id: String(cursor!.id), column: "position" }
      expect(yield* undecodable(cursors.get("foreign"))).toMatchObject(expected)
      expect(yield* undecodable(cursors.reset("foreign", 0))).toMatchObject(expected)
      expect(yield* cursors.get("mine")).toBe(0)
    }).pipe(provide))
})
