import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Either, Exit, FastCheck as fc, Option, Runtime, TestClock } from "effect"
import type { InvalidInput, InvalidTransition, Sortie, SortieAlreadyClaimed } from "../src/index.js"
import { Events, FleetDb, FleetProject, Missions, Paths, Sorties, WorkOrders } from "../src/index.js"
import { binaryString } from "./support/arbitraries.js"
import { backends } from "./support/backends.js"
import { expectEvents, expectFailure, snapshot, twoProjects } from "./support/work.js"

const millis = (dt: { readonly epochMillis: number }) => dt.epochMillis

/** A sortie's mutable state, as the reference model of the status machine sees it. */
const stateOf = (s: Sortie) => ({ status: s.status, assigned_to: s.assigned_to, blocked_reason: s.blocked_reason })

/** JSON-safe text: the oracle for "well-formed UTF-16" (encodeURIComponent throws on a lone surrogate). */
const wellFormed = (s: string) => {
  try {
    encodeURIComponent(s)
    return true
  } catch {
    return false
  }
}

/** The oracle for stored text: well-formed and free of NUL (libSQL reads text only up to a NUL). */
const validText = (s: string) => wellFormed(s) && !s.includes("\u0000")

describe.each(backends.map((b) => [b.name, b] as const))("Sorties on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  describe("create / get / list", () => {
    it.effect("create applies defaults, stores the row and logs sortie_created", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        yield* TestClock.adjust(5_000)
        const [sortie, events] = yield* expectEvents(sorties.create({ title: "Fix the login form" }), ["sortie_created"])
        expect(sortie.id).toMatch(/^srt_[0-9a-f]{8}-[0-9a-f]{4}-7/)
        expect(sortie).toMatchObject({
          title: "Fix the login form",
          description: null,
          mission_id: null,
          status: "open",
          priority: 1,
          assigned_to: null,
          files: null,
          started_at: null,
          completed_at: null,
          blocked_reason: null
        })
        expect(millis(sortie.created_at)).toBe(5_000)
        expect(events[0]!.data).toEqual({
          sortie_id: sortie.id,
          mission_id: null,
          title: "Fix the login form",
          description: null,
          priority: 1,
          files: null
        })
        expect(yield* sorties.get(sortie.id)).toEqual(sortie)
      })))

    it.effect("create stores every field: mission, priority, description and files as a JSON array", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const mission = yield* (yield* Missions).create({ title: "Auth" })
        const [sortie, events] = yield* expectEvents(
          sorties.create({
            title: "Tests",
            description: "all of them\nwith 'quotes'; DROP TABLE sorties; --",
            mission_id: mission.id,
            priority: 0,
            files: ["src/auth/**", "test/auth.test.ts"]
          }),
          ["sortie_created"]
        )
        expect(sortie).toMatchObject({
          mission_id: mission.id,
          priority: 0,
          description: "all of them\nwith 'quotes'; DROP TABLE sorties; --",
          files: ["src/auth/**", "test/auth.test.ts"]
        })
        const sql = yield* SqlClient.SqlClient
        const raw = yield* sql<{ readonly files: string }>`SELECT files FROM sorties WHERE id = ${sortie.id}`
        expect(JSON.parse(raw[0]!.files)).toEqual(["src/auth/**", "test/auth.test.ts"])
        expect(events[0]!.data).toMatchObject({ mission_id: mission.id, priority: 0, files: ["src/auth/**", "test/auth.test.ts"] })
        const empty = yield* sorties.create({ title: "No files", files: [] })
        expect(empty.files).toEqual([])
      })))

    it.effect("create with an unknown mission fails with MissionNotFound and writes nothing", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const error = yield* expectFailure(sorties.create({ title: "x", mission_id: "msn_missing" }), "MissionNotFound")
        expect(error).toMatchObject({ id: "msn_missing" })
      })))

    it.effect("create refuses bad input with InvalidInput naming the field", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ title: "" }, "title"],
          [{ title: "x".repeat(501) }, "title"],
          [{ title: "bad \uD800 text" }, "title"],
          // libSQL would store it, but every read would stop at the NUL.
          [{ title: "ab\u0000cd" }, "title"],
          [{ title: "ok", description: "a\u0000" }, "description"],
          [{ title: "ok", files: ["src/\u0000"] }, "files.0"],
          [{}, "title"],
          [{ title: 42 }, "title"],
          [{ title: "ok", description: "d".repeat(65_537) }, "description"],
          [{ title: "ok", priority: 5 }, "priority"],
          [{ title: "ok", priority: -1 }, "priority"],
          [{ title: "ok", priority: 1.5 }, "priority"],
          [{ title: "ok", priority: "1" }, "priority"],
          [{ title: "ok", priority: Number.NaN }, "priority"],
          [{ title: "ok", mission_id: "" }, "mission_id"],
          [{ title: "ok", files: "src/**" }, "files"],
          [{ title: "ok", files: ["src/**", ""] }, "files.1"],
          [{ title: "ok", files: [3] }, "files.0"],
          [null, "input"]
        ]
        for (const [input, field] of cases) {
          const error = yield* expectFailure(sorties.create(input as never), "InvalidInput")
          expect((error as InvalidInput).field, JSON.stringify(input)?.slice(0, 80)).toBe(field)
        }
      })))

    it.effect("get fails with SortieNotFound for an unknown id and InvalidInput for an empty one", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        expect(yield* Effect.flip(sorties.get("srt_nope"))).toMatchObject({ _tag: "SortieNotFound", id: "srt_nope" })
        expect(yield* Effect.flip(sorties.get(""))).toMatchObject({ _tag: "InvalidInput", field: "id" })
        expect(yield* Effect.flip(sorties.get("x".repeat(129)))).toMatchObject({ _tag: "InvalidInput", field: "id" })
      })))

    it.effect("list filters by status, mission and assignee (ANDed) in claim order", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const mission = yield* (yield* Missions).create({ title: "M" })
        yield* sorties.create({ title: "a", priority: 3 })
        yield* TestClock.adjust(10)
        yield* sorties.create({ title: "b", priority: 0, mission_id: mission.id })
        yield* TestClock.adjust(10)
        const c = yield* sorties.create({ title: "c", priority: 3, mission_id: mission.id })
        yield* TestClock.adjust(10)
        const d = yield* sorties.create({ title: "d", priority: 1 })
        yield* sorties.claim(c.id, "viper-1")
        yield* sorties.claim(d.id, "viper-2")
        const ids = (list: ReadonlyArray<Sortie>) => list.map((s) => s.title)
        expect(ids(yield* sorties.list())).toEqual(["b", "d", "a", "c"])
        expect(ids(yield* sorties.list({}))).toEqual(["b", "d", "a", "c"])
        expect(ids(yield* sorties.list({ status: "open" }))).toEqual(["b", "a"])
        expect(ids(yield* sorties.list({ status: "in_progress" }))).toEqual(["d", "c"])
        expect(ids(yield* sorties.list({ status: "closed" }))).toEqual([])
        expect(ids(yield* sorties.list({ mission_id: mission.id }))).toEqual(["b", "c"])
        expect(ids(yield* sorties.list({ mission_id: mission.id, status: "open" }))).toEqual(["b"])
        expect(ids(yield* sorties.list({ assigned_to: "viper-1" }))).toEqual(["c"])
        expect(ids(yield* sorties.list({ assigned_to: "viper-1", status: "open" }))).toEqual([])
        expect(ids(yield* sorties.list({ assigned_to: "nobody" }))).toEqual([])
      })))

    it.effect("list: limit takes the first N of the order; recently_completed puts the latest completion first", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const made: Array<Sortie> = []
        for (const [title, priority] of [["a", 2], ["b", 0], ["c", 1], ["d", 3]] as const) {
          made.push(yield* sorties.create({ title, priority }))
          yield* TestClock.adjust(10)
        }
        const titles = (list: ReadonlyArray<Sortie>) => list.map((s) => s.title)
        expect(titles(yield* sorties.list({ limit: 2 }))).toEqual(["b", "c"])
        expect(titles(yield* sorties.list({ limit: 10_000 }))).toEqual(["b", "c", "a", "d"])
        expect(titles(yield* sorties.list({ order: "claim", limit: 1 }))).toEqual(["b"])
        // Completed in the order a, d, c (b stays open): the latest completion comes first.
        for (const sortie of [made[0]!, made[3]!, made[2]!]) {
          yield* sorties.claim(sortie.id, "viper-1")
          yield* TestClock.adjust(10)
          yield* sorties.complete(sortie.id)
        }
        expect(titles(yield* sorties.list({ status: "closed", order: "recently_completed" }))).toEqual(["c", "d", "a"])
        expect(titles(yield* sorties.list({ status: "closed", order: "recently_completed", limit: 2 }))).toEqual(["c", "d"])
        // Never completed: last.
        expect(titles(yield* sorties.list({ order: "recently_completed" }))).toEqual(["c", "d", "a", "b"])
        expect(titles(yield* sorties.list({ status: "closed" }))).toEqual(["c", "a", "d"])
      })))

    it.effect("counts: per status, filtered by mission and assignee, without reading the rows", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const mission = yield* (yield* Missions).create({ title: "M" })
        expect(yield* sorties.counts()).toEqual({ total: 0, by_status: { open: 0, in_progress: 0, blocked: 0, closed: 0 } })
        const a = yield* sorties.create({ title: "a", mission_id: mission.id })
        const b = yield* sorties.create({ title: "b", mission_id: mission.id })
        const c = yield* sorties.create({ title: "c" })
        yield* sorties.create({ title: "d" })
        yield* sorties.claim(a.id, "viper-1")
        yield* sorties.complete(a.id)
        yield* sorties.claim(b.id, "viper-1")
        yield* sorties.block(b.id, "waiting")
        yield* sorties.claim(c.id, "viper-2")
        expect(yield* sorties.counts()).toEqual({ total: 4, by_status: { open: 1, in_progress: 1, blocked: 1, closed: 1 } })
        expect(yield* sorties.counts({})).toEqual(yield* sorties.counts())
        expect(yield* sorties.counts({ mission_id: mission.id })).toEqual({ total: 2, by_status: { open: 0, in_progress: 0, blocked: 1, closed: 1 } })
        expect(yield* sorties.counts({ assigned_to: "viper-1" })).toEqual({ total: 2, by_status: { open: 0, in_progress: 0, blocked: 1, closed: 1 } })
        expect(yield* sorties.counts({ assigned_to: "viper-2", mission_id: mission.id })).toEqual({ total: 0, by_status: { open: 0, in_progress: 0, blocked: 0, closed: 0 } })
        // The counts agree with the lists.
        for (const status of ["open", "in_progress", "blocked", "closed"] as const) {
          expect((yield* sorties.list({ status })).length).toBe((yield* sorties.counts()).by_status[status])
        }
        expect(yield* Effect.flip(sorties.counts({ mission_id: "" }))).toMatchObject({ _tag: "InvalidInput", field: "mission_id" })
        expect(yield* Effect.flip(sorties.counts({ assigned_to: "" }))).toMatchObject({ _tag: "InvalidInput", field: "assigned_to" })
      })))

    it.effect("list refuses an unknown status or a bad filter with InvalidInput", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        expect(yield* Effect.flip(sorties.list({ status: "done" as never }))).toMatchObject({
          _tag: "InvalidInput",
          field: "status",
          reason: "must be one of \"open\", \"in_progress\", \"blocked\", \"closed\""
        })
        expect(yield* Effect.flip(sorties.list({ status: "OPEN" as never }))).toMatchObject({ field: "status" })
        expect(yield* Effect.flip(sorties.list({ assigned_to: "" }))).toMatchObject({ field: "assigned_to" })
        expect(yield* Effect.flip(sorties.list({ mission_id: "" }))).toMatchObject({ field: "mission_id" })
        for (const limit of [0, -1, 1.5, 10_001]) {
          expect(yield* Effect.flip(sorties.list({ limit }))).toMatchObject({
            _tag: "InvalidInput",
            field: "limit",
            reason: "must be an integer from 1 to 10000"
          })
        }
        expect(yield* Effect.flip(sorties.list({ order: "newest" as never }))).toMatchObject({
          _tag: "InvalidInput",
          field: "order",
          reason: "must be \"claim\" or \"recently_completed\""
        })
      })))
  })

  describe("claim", () => {
    it.effect("claims an open sortie: in_progress, assigned, started now; logs sortie_claimed", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* sorties.create({ title: "x" })
        yield* TestClock.adjust(1_234)
        const [claimed, events] = yield* expectEvents(sorties.claim(sortie.id, "viper-1"), ["sortie_claimed"])
        expect(claimed).toMatchObject({ id: sortie.id, status: "in_progress", assigned_to: "viper-1" })
        expect(claimed.started_at === null ? null : millis(claimed.started_at)).toBe(1_234)
        expect(events[0]!.data).toEqual({ sortie_id: sortie.id, callsign: "viper-1" })
        expect(yield* sorties.get(sortie.id)).toEqual(claimed)
      })))

    it.effect("a claimed sortie cannot be claimed again, not even by its holder", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* sorties.create({ title: "x" })
        yield* sorties.claim(sortie.id, "viper-1")
        for (const callsign of ["viper-2", "viper-1"]) {
          const error = yield* expectFailure(sorties.claim(sortie.id, callsign), "SortieAlreadyClaimed")
          expect(error).toMatchObject({ id: sortie.id, assigned_to: "viper-1", status: "in_progress" })
        }
      })))

    it.effect("blocked and closed sorties cannot be claimed; the error reports status and holder", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const blocked = yield* sorties.create({ title: "b" })
        yield* sorties.claim(blocked.id, "viper-1")
        yield* sorties.block(blocked.id, "waiting for review")
        expect(yield* expectFailure(sorties.claim(blocked.id, "viper-2"), "SortieAlreadyClaimed"))
          .toMatchObject({ assigned_to: "viper-1", status: "blocked" })
        const closed = yield* sorties.create({ title: "c" })
        yield* sorties.claim(closed.id, "viper-1")
        yield* sorties.complete(closed.id)
        expect(yield* expectFailure(sorties.claim(closed.id, "viper-2"), "SortieAlreadyClaimed"))
          .toMatchObject({ assigned_to: "viper-1", status: "closed" })
      })))

    it.effect("an open row that another tool assigned is not claimable (the guard checks assigned_to too)", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sql = yield* SqlClient.SqlClient
        const sortie = yield* sorties.create({ title: "x" })
        yield* sql`UPDATE sorties SET assigned_to = 'legacy' WHERE id = ${sortie.id}`
        expect(yield* expectFailure(sorties.claim(sortie.id, "viper-1"), "SortieAlreadyClaimed"))
          .toMatchObject({ assigned_to: "legacy", status: "open" })
        expect(yield* sorties.claimNext("viper-1")).toEqual(Option.none())
      })))

    it.effect("claim of an unknown sortie fails with SortieNotFound; bad arguments with InvalidInput", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        expect(yield* expectFailure(sorties.claim("srt_missing", "viper-1"), "SortieNotFound")).toMatchObject({ id: "srt_missing" })
        const sortie = yield* sorties.create({ title: "x" })
        for (const callsign of ["", " viper", "a\u0000b", "x".repeat(129)]) {
          expect(yield* expectFailure(sorties.claim(sortie.id, callsign), "InvalidInput")).toMatchObject({ field: "callsign" })
        }
        expect(yield* expectFailure(sorties.claim("", "viper-1"), "InvalidInput")).toMatchObject({ field: "id" })
      })))

    it.effect("of many concurrent claims of one sortie exactly one wins", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* sorties.create({ title: "contested" })
        const results = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) => Effect.either(sorties.claim(sortie.id, `pilot-${i}`))),
          { concurrency: "unbounded" }
        )
        const winners = results.filter((r) => r._tag === "Right")
        expect(winners).toHaveLength(1)
        for (const r of results) {
          if (r._tag === "Left") expect(r.left._tag).toBe("SortieAlreadyClaimed")
        }
        const claimed = yield* (yield* Events).read({ types: ["sortie_claimed"] })
        expect(claimed).toHaveLength(1)
      })))
  })

  describe("claimNext", () => {
    it.effect("claims by priority, then oldest, then id; None (and no event) when nothing is open", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        yield* TestClock.setTime(7_000_000)
        const low = yield* sorties.create({ title: "p2-old", priority: 2 })
        yield* TestClock.adjust(10)
        const urgentOld = yield* sorties.create({ title: "p0-old", priority: 0 })
        yield* TestClock.adjust(10)
        // Same created_at: the id decides.
        const twinA = yield* sorties.create({ title: "p0-twin", priority: 0 })
        const twinB = yield* sorties.create({ title: "p0-twin", priority: 0 })
        yield* TestClock.adjust(10)
        const normal = yield* sorties.create({ title: "p1", priority: 1 })
        const taken = yield* sorties.create({ title: "p0-taken", priority: 0 })
        yield* sorties.claim(taken.id, "other")
        const twins = [twinA, twinB].sort((x, y) => (x.id < y.id ? -1 : 1)).map((s) => s.id)
        const expected = [urgentOld.id, ...twins, normal.id, low.id]
        for (const id of expected) {
          const [next, events] = yield* expectEvents(sorties.claimNext("viper-1"), ["sortie_claimed"])
          expect(Option.map(next, (s) => s.id)).toEqual(Option.some(id))
          expect(Option.getOrThrow(next)).toMatchObject({ status: "in_progress", assigned_to: "viper-1" })
          expect(events[0]!.data).toEqual({ sortie_id: id, callsign: "viper-1" })
        }
        const before = yield* snapshot
        expect(yield* sorties.claimNext("viper-1")).toEqual(Option.none())
        expect(yield* snapshot).toEqual(before)
      })))

    it.effect("oldest means created_at, not id order (rows imported by other tools keep their own times)", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sql = yield* SqlClient.SqlClient
        yield* TestClock.setTime(9_000_000)
        const first = yield* sorties.create({ title: "first", priority: 2 })
        yield* TestClock.adjust(10)
        const second = yield* sorties.create({ title: "second", priority: 2 })
        expect(first.id < second.id).toBe(true)
        // The later id carries the older time.
        yield* sql`UPDATE sorties SET created_at = ${1_000} WHERE id = ${second.id}`
        expect((yield* sorties.list()).map((s) => s.id)).toEqual([second.id, first.id])
        expect(Option.map(yield* sorties.claimNext("v"), (s) => s.id)).toEqual(Option.some(second.id))
        expect(Option.map(yield* sorties.claimNext("v"), (s) => s.id)).toEqual(Option.some(first.id))
      })))

    it.effect("skips blocked, closed and released-then-reclaimed rows; a released sortie is claimable again", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const a = yield* sorties.create({ title: "a", priority: 0 })
        const b = yield* sorties.create({ title: "b", priority: 4 })
        yield* sorties.claim(a.id, "viper-1")
        yield* sorties.release(a.id)
        const next = yield* sorties.claimNext("viper-2")
        expect(Option.map(next, (s) => [s.id, s.assigned_to])).toEqual(Option.some([a.id, "viper-2"]))
        yield* sorties.block(a.id, "stuck")
        expect(Option.map(yield* sorties.claimNext("viper-3"), (s) => s.id)).toEqual(Option.some(b.id))
        expect(yield* sorties.claimNext("viper-3")).toEqual(Option.none())
      })))

    it.effect("with mission_id only that mission's sorties are considered; an unknown mission fails", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const missions = yield* Missions
        const m1 = yield* missions.create({ title: "one" })
        const m2 = yield* missions.create({ title: "two" })
        yield* sorties.create({ title: "loose", priority: 0 })
        const s1 = yield* sorties.create({ title: "in one", priority: 3, mission_id: m1.id })
        yield* sorties.create({ title: "in two", priority: 0, mission_id: m2.id })
        expect(Option.map(yield* sorties.claimNext("v", { mission_id: m1.id }), (s) => s.id)).toEqual(Option.some(s1.id))
        expect(yield* sorties.claimNext("v", { mission_id: m1.id })).toEqual(Option.none())
        expect(yield* expectFailure(sorties.claimNext("v", { mission_id: "msn_nope" }), "MissionNotFound"))
          .toMatchObject({ id: "msn_nope" })
        expect(yield* expectFailure(sorties.claimNext("", {}), "InvalidInput")).toMatchObject({ field: "callsign" })
        expect(yield* expectFailure(sorties.claimNext("v", { mission_id: "" }), "InvalidInput")).toMatchObject({ field: "mission_id" })
      })))

    it.effect("concurrent claimNext calls never hand out one sortie twice", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        for (let i = 0; i < 10; i++) yield* sorties.create({ title: `s${i}`, priority: i % 5 })
        const results = yield* Effect.all(
          Array.from({ length: 14 }, (_, i) => sorties.claimNext(`pilot-${i}`)),
          { concurrency: "unbounded" }
        )
        const ids = results.flatMap((r) => Option.toArray(r)).map((s) => s.id)
        expect(ids).toHaveLength(10)
        expect(new Set(ids).size).toBe(10)
        expect(results.filter(Option.isNone)).toHaveLength(4)
      })))
  })

  describe("block / unblock / release / complete", () => {
    const claimed = Effect.gen(function*() {
      const sorties = yield* Sorties
      const sortie = yield* sorties.create({ title: "work" })
      return yield* sorties.claim(sortie.id, "viper-1")
    })

    it.effect("block records the reason and keeps the holder; unblock clears it; both are logged", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* claimed
        const [blocked, e1] = yield* expectEvents(sorties.block(sortie.id, "needs API key"), ["sortie_blocked"])
        expect(blocked).toMatchObject({ status: "blocked", assigned_to: "viper-1", blocked_reason: "needs API key" })
        expect(e1[0]!.data).toEqual({ sortie_id: sortie.id, callsign: "viper-1", reason: "needs API key" })
        const [unblocked, e2] = yield* expectEvents(sorties.unblock(sortie.id, { callsign: "viper-1" }), ["sortie_unblocked"])
        expect(unblocked).toMatchObject({ status: "in_progress", assigned_to: "viper-1", blocked_reason: null })
        expect(unblocked.started_at).toEqual(sortie.started_at)
        expect(e2[0]!.data).toEqual({ sortie_id: sortie.id, callsign: "viper-1" })
      })))

    it.effect("release makes the sortie open and unassigned again and logs who released it", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* claimed
        const [released, events] = yield* expectEvents(sorties.release(sortie.id), ["sortie_released"])
        expect(released).toMatchObject({ status: "open", assigned_to: null, started_at: null, blocked_reason: null })
        expect(events[0]!.data).toEqual({ sortie_id: sortie.id, callsign: "viper-1", from: "in_progress", reason: "released" })
      })))

    it.effect("complete closes the sortie at Clock time and logs sortie_completed; closed is final", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* claimed
        yield* TestClock.adjust(60_000)
        const [done, events] = yield* expectEvents(sorties.complete(sortie.id, { callsign: "viper-1" }), ["sortie_completed"])
        expect(done).toMatchObject({ status: "closed", assigned_to: "viper-1" })
        expect(done.completed_at === null ? null : millis(done.completed_at)).toBe(60_000)
        expect(events[0]!.data).toEqual({ sortie_id: sortie.id, callsign: "viper-1" })
        for (const attempt of [
          sorties.complete(sortie.id),
          sorties.release(sortie.id),
          sorties.block(sortie.id, "x"),
          sorties.unblock(sortie.id)
        ]) {
          const error = yield* expectFailure(attempt, "InvalidTransition")
          expect((error as InvalidTransition).from).toBe("closed")
        }
      })))

    it.effect("every move the machine does not allow fails with InvalidTransition { entity, id, from, to }", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const open = yield* sorties.create({ title: "open" })
        const blocked = yield* claimed
        yield* sorties.block(blocked.id, "r")
        const inProgress = yield* claimed
        const cases = [
          [sorties.block(open.id, "r"), open.id, "open", "blocked"],
          [sorties.unblock(open.id), open.id, "open", "in_progress"],
          [sorties.release(open.id), open.id, "open", "open"],
          [sorties.complete(open.id), open.id, "open", "closed"],
          [sorties.block(blocked.id, "again"), blocked.id, "blocked", "blocked"],
          [sorties.release(blocked.id), blocked.id, "blocked", "open"],
          [sorties.complete(blocked.id), blocked.id, "blocked", "closed"],
          [sorties.unblock(inProgress.id), inProgress.id, "in_progress", "in_progress"]
        ] as const
        for (const [attempt, id, from, to] of cases) {
          const error = yield* expectFailure(attempt, "InvalidTransition")
          expect(error).toMatchObject({ _tag: "InvalidTransition", entity: "sortie", id, from, to })
        }
      })))

    it.effect("with a callsign, only the holder may move the sortie (SortieAlreadyClaimed names the holder)", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const sortie = yield* claimed
        for (const attempt of [
          sorties.block(sortie.id, "r", { callsign: "viper-2" }),
          sorties.release(sortie.id, { callsign: "viper-2" }),
          sorties.complete(sortie.id, { callsign: "viper-2" })
        ]) {
          const error = yield* expectFailure(attempt, "SortieAlreadyClaimed")
          expect(error as SortieAlreadyClaimed).toMatchObject({ id: sortie.id, assigned_to: "viper-1", status: "in_progress" })
        }
        yield* sorties.block(sortie.id, "r", { callsign: "viper-1" })
        yield* expectFailure(sorties.unblock(sortie.id, { callsign: "viper-2" }), "SortieAlreadyClaimed")
        yield* sorties.unblock(sortie.id, { callsign: "viper-1" })
        const released = yield* sorties.release(sortie.id, { callsign: "viper-1" })
        expect(released.status).toBe("open")
      })))

    it.effect("unknown ids fail with SortieNotFound and bad arguments with InvalidInput, writing nothing", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        for (const attempt of [
          sorties.block("srt_x", "r"),
          sorties.unblock("srt_x"),
          sorties.release("srt_x"),
          sorties.complete("srt_x")
        ]) {
          expect(yield* expectFailure(attempt, "SortieNotFound")).toMatchObject({ id: "srt_x" })
        }
        const sortie = yield* claimed
        expect(yield* expectFailure(sorties.block(sortie.id, ""), "InvalidInput")).toMatchObject({ field: "reason" })
        expect(yield* expectFailure(sorties.block(sortie.id, "\uDC00"), "InvalidInput")).toMatchObject({ field: "reason" })
        expect(yield* expectFailure(sorties.block(sortie.id, "a\u0000b"), "InvalidInput")).toMatchObject({ field: "reason" })
        expect(yield* expectFailure(sorties.block(sortie.id, "r".repeat(65_537)), "InvalidInput")).toMatchObject({ field: "reason" })
        expect(yield* expectFailure(sorties.complete(sortie.id, { callsign: "" }), "InvalidInput")).toMatchObject({ field: "callsign" })
        expect(yield* expectFailure(sorties.release(""), "InvalidInput")).toMatchObject({ field: "id" })
      })))
  })

  describe("properties", () => {
    type Op =
      | { readonly op: "claim"; readonly target: number; readonly callsign: string }
      | { readonly op: "claimNext"; readonly callsign: string }
      | { readonly op: "block"; readonly target: number; readonly reason: string; readonly actor: string | undefined }
      | { readonly op: "unblock" | "release" | "complete"; readonly target: number; readonly actor: string | undefined }

    const callsign = fc.constantFrom("alpha", "bravo")
    const actor = fc.option(callsign, { nil: undefined })
    const target = fc.nat(2)
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant("claim" as const), target, callsign }),
      fc.record({ op: fc.constant("claimNext" as const), callsign }),
      fc.record({
        op: fc.constant("block" as const),
        target,
        reason: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom("", "\uD800", "a\u0000")),
        actor
      }),
      fc.record({ op: fc.constantFrom("unblock" as const, "release" as const, "complete" as const), target, actor })
    )

    interface ModelSortie {
      readonly status: "open" | "in_progress" | "blocked" | "closed"
      readonly assigned_to: string | null
      readonly blocked_reason: string | null
    }
    type Expected =
      | { readonly ok: true; readonly target: number | null; readonly next: ModelSortie | null; readonly event: string | null }
      | { readonly ok: false; readonly error: Record<string, unknown> }

    /** The reference model: what each operation must do to the state, independent of the implementation. */
    const expectedOf = (op: Op, state: ReadonlyArray<ModelSortie>, priorities: ReadonlyArray<number>, ids: ReadonlyArray<string>): Expected => {
      if (op.op === "claimNext") {
        const candidates = state.map((s, i) => [s, i] as const).filter(([s]) => s.status === "open" && s.assigned_to === null)
        // created_at increases with the index (the clock moves between creations).
        candidates.sort(([, i], [, j]) => priorities[i]! - priorities[j]! || i - j)
        const first = candidates[0]
        return first === undefined
          ? { ok: true, target: null, next: null, event: null }
          : { ok: true, target: first[1], next: { status: "in_progress", assigned_to: op.callsign, blocked_reason: null }, event: "sortie_claimed" }
      }
      const id = ids[op.target]!
      const s = state[op.target]!
      if (op.op === "claim") {
        return s.status === "open" && s.assigned_to === null
          ? { ok: true, target: op.target, next: { status: "in_progress", assigned_to: op.callsign, blocked_reason: null }, event: "sortie_claimed" }
          : { ok: false, error: { _tag: "SortieAlreadyClaimed", id, assigned_to: s.assigned_to, status: s.status } }
      }
      if (op.op === "block" && (op.reason === "" || !validText(op.reason))) {
        return { ok: false, error: { _tag: "InvalidInput", field: "reason" } }
      }
      const [from, to, next, event] = op.op === "block"
        ? ["in_progress", "blocked", { ...s, status: "blocked", blocked_reason: op.reason }, "sortie_blocked"] as const
        : op.op === "unblock"
        ? ["blocked", "in_progress", { ...s, status: "in_progress", blocked_reason: null }, "sortie_unblocked"] as const
        : op.op === "release"
        ? ["in_progress", "open", { status: "open", assigned_to: null, blocked_reason: null }, "sortie_released"] as const
        : ["in_progress", "closed", { ...s, status: "closed" }, "sortie_completed"] as const
      if (s.status !== from) return { ok: false, error: { _tag: "InvalidTransition", entity: "sortie", id, from: s.status, to } }
      if (op.actor !== undefined && op.actor !== s.assigned_to) {
        return { ok: false, error: { _tag: "SortieAlreadyClaimed", id, assigned_to: s.assigned_to, status: s.status } }
      }
      return { ok: true, target: op.target, next: next as ModelSortie, event }
    }

    it.effect("random operation sequences follow the reference status machine: typed error or success, never a defect or a partial write", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const missions = yield* Missions
        const events = yield* Events
        const sql = yield* SqlClient.SqlClient
        const { projectKey } = yield* FleetProject
        const runtime = yield* Effect.runtime<FleetDb.FleetServices>()
        const property = fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }),
          fc.array(opArb, { minLength: 1, maxLength: 25 }),
          (priorities, ops) =>
            Runtime.runPromise(runtime)(Effect.gen(function*() {
              // A mission per run keeps claimNext away from earlier runs' sorties in the same database.
              const mission = yield* missions.create({ title: "run" })
              const ids: Array<string> = []
              for (const priority of priorities) {
                yield* TestClock.adjust(1)
                ids.push((yield* sorties.create({ title: "s", priority, mission_id: mission.id })).id)
              }
              // Cheaper than the whole-file snapshot (the file grows with every run): the log's head,
              // the row counts, and every row this run can touch.
              const observe = Effect.all({
                latestSequence: events.latestSequence,
                counts: sql`SELECT (SELECT COUNT(*) FROM sorties WHERE project_key = ${projectKey}) AS s,
                                   (SELECT COUNT(*) FROM missions WHERE project_key = ${projectKey}) AS m,
                                   (SELECT COUNT(*) FROM events WHERE project_key = ${projectKey}) AS e`,
                rows: sql`SELECT * FROM sorties WHERE ${sql.in("id", ids)} ORDER BY id`
              })
              let state: ReadonlyArray<ModelSortie> = ids.map(() => ({ status: "open", assigned_to: null, blocked_reason: null }))
              for (const op of ops) {
                const expected = expectedOf(op, state, priorities, ids)
                const before = yield* observe
                const call = op.op === "claim"
                  ? sorties.claim(ids[op.target]!, op.callsign)
                  : op.op === "claimNext"
                  ? sorties.claimNext(op.callsign, { mission_id: mission.id })
                  : op.op === "block"
                  ? sorties.block(ids[op.target]!, op.reason, { callsign: op.actor })
                  : sorties[op.op](ids[op.target]!, { callsign: op.actor })
                const exit = yield* Effect.exit(call as Effect.Effect<unknown, { readonly _tag: string }>)
                const label = JSON.stringify({ op, state })
                if (Exit.isFailure(exit)) {
                  const failure = Cause.failureOption(exit.cause)
                  expect(Option.isSome(failure), `${label}: ${Cause.pretty(exit.cause)}`).toBe(true)
                  expect(expected.ok, `${label}: unexpected ${JSON.stringify(Option.getOrNull(failure))}`).toBe(false)
                  if (!expected.ok) expect(Option.getOrThrow(failure), label).toMatchObject(expected.error)
                  expect(yield* observe, label).toEqual(before)
                } else {
                  expect(expected.ok, `${label}: unexpected success`).toBe(true)
                  if (expected.ok) {
                    const appended = yield* events.read({ after: before.latestSequence })
                    expect(appended.map((e) => e.type), label).toEqual(expected.event === null ? [] : [expected.event])
                    if (expected.target === null) {
                      expect(exit.value, label).toEqual(Option.none())
                      expect(yield* observe, label).toEqual(before)
                    } else {
                      state = state.map((s, i) => (i === expected.target ? expected.next! : s))
                    }
                  }
                }
                const actual = yield* Effect.forEach(ids, (id) => Effect.map(sorties.get(id), stateOf))
                expect(actual, label).toEqual(state)
              }
            }))
        )
        // The transitions run the same statements on every backend, so memory (50) and file (25)
        // carry the logic; on sqld, 8 runs still drive every operation over the network.
        yield* Effect.promise(() =>
          fc.assert(property, { numRuns: backend.name === "memory" ? 50 : backend.name === "file" ? 25 : 8 })
        )
      })), 120_000)

    it.effect("random input is either accepted exactly when valid or refused with InvalidInput naming the field", () =>
      run(Effect.gen(function*() {
        const sorties = yield* Sorties
        const runtime = yield* Effect.runtime<FleetDb.FleetServices>()
        const title = fc.oneof(
          binaryString({ maxLength: 40 }),
          fc.string({ minLength: 495, maxLength: 505 }),
          fc.constantFrom("", "'; DROP TABLE sorties; --", "\u0000", "\uD83D", "ok")
        )
        const priority = fc.oneof(
          fc.constant(undefined),
          fc.integer({ min: -10, max: 10 }),
          fc.double(),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1e308, 2 ** 53, -0, 4.0000001)
        )
        const files = fc.oneof(
          fc.constant(undefined),
          fc.array(binaryString({ maxLength: 8 }), { maxLength: 4 })
        )
        const status = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("open", "in_progress", "blocked", "closed"))
        const property = fc.asyncProperty(title, priority, files, status, (t, p, f, st) =>
          Runtime.runPromise(runtime)(Effect.gen(function*() {
            const titleOk = t.length >= 1 && t.length <= 500 && validText(t)
            const priorityOk = p === undefined || (Number.isInteger(p) && p >= 0 && p <= 4)
            // Files are canonical path patterns; absolute ones are refused after every other check
            // (this project has no root), so they are named only when nothing else is wrong.
            const refusals = (f ?? []).map((x) => Either.getLeft(Paths.canonicalize(x)))
            const firstRefused = (absolute: boolean) =>
              refusals.findIndex((r) => Option.isSome(r) && r.value.startsWith("is an absolute path") === absolute)
            const filesOk = refusals.every(Option.isNone)
            const canonicalFiles = f === undefined || !filesOk
              ? null
              : Array.from(new Set(f.map((x) => Either.getOrThrow(Paths.canonicalize(x)))))
            const input = { title: t, priority: p, files: f }
            const expectedField = !titleOk
              ? "title"
              : !priorityOk
              ? "priority"
              : !filesOk
              ? `files.${firstRefused(false) >= 0 ? firstRefused(false) : firstRefused(true)}`
              : null
            if (expectedField === null) {
              const [sortie] = yield* expectEvents(sorties.create(input), ["sortie_created"])
              expect(sortie.title).toBe(t)
              expect(sortie.priority).toBe(p === undefined ? 1 : Math.abs(p))
              expect(sortie.files).toEqual(canonicalFiles)
              expect(yield* sorties.get(sortie.id)).toEqual(sortie)
            } else {
              const error = yield* expectFailure(sorties.create(input), "InvalidInput")
              expect(error).toMatchObject({ field: expectedField })
            }
            const statusOk = ["open", "in_progress", "blocked", "closed"].includes(st)
            const listed = yield* Effect.either(sorties.list({ status: st as "open" }))
            if (statusOk) expect(listed._tag).toBe("Right")
            else expect(listed).toMatchObject({ _tag: "Left", left: { _tag: "InvalidInput", field: "status" } })
          }))
        )
        yield* Effect.promise(() => fc.assert(property, { numRuns: backend.name === "memory" ? 150 : 50 }))
      })), 120_000)
  })
})

describe("Sorties: project isolation", () => {
  it.scoped("two projects sharing one file see none of each other's sorties, missions or work orders", () =>
    Effect.gen(function*() {
      const { alpha, beta } = yield* twoProjects
      const { mission, sortie, workOrder } = yield* alpha(Effect.gen(function*() {
        const mission = yield* (yield* Missions).create({ title: "alpha mission" })
        const sortie = yield* (yield* Sorties).create({ title: "alpha sortie", mission_id: mission.id, priority: 0 })
        const workOrder = yield* (yield* WorkOrders).create({ sortie_id: sortie.id, title: "alpha wo" })
        yield* (yield* Sorties).create({ title: "alpha second" })
        return { mission, sortie, workOrder }
      }))
      yield* beta(Effect.gen(function*() {
        const sorties = yield* Sorties
        const missions = yield* Missions
        const workOrders = yield* WorkOrders
        expect(yield* sorties.list()).toEqual([])
        expect(yield* missions.list()).toEqual([])
        expect(yield* workOrders.list()).toEqual([])
        expect(yield* (yield* Events).read()).toEqual([])
        expect(yield* sorties.claimNext("beta-pilot")).toEqual(Option.none())
        yield* expectFailure(sorties.get(sortie.id), "SortieNotFound")
        yield* expectFailure(sorties.claim(sortie.id, "beta-pilot"), "SortieNotFound")
        yield* expectFailure(sorties.block(sortie.id, "r"), "SortieNotFound")
        yield* expectFailure(sorties.complete(sortie.id), "SortieNotFound")
        yield* expectFailure(sorties.create({ title: "x", mission_id: mission.id }), "MissionNotFound")
        yield* expectFailure(sorties.claimNext("beta-pilot", { mission_id: mission.id }), "MissionNotFound")
        yield* expectFailure(missions.get(mission.id), "MissionNotFound")
        yield* expectFailure(missions.start(mission.id), "MissionNotFound")
        yield* expectFailure(missions.progress(mission.id), "MissionNotFound")
        yield* expectFailure(workOrders.create({ sortie_id: sortie.id, title: "x" }), "SortieNotFound")
        yield* expectFailure(workOrders.get(workOrder.id), "WorkOrderNotFound")
        yield* expectFailure(workOrders.start(workOrder.id), "WorkOrderNotFound")
        const own = yield* sorties.create({ title: "beta sortie", priority: 4 })
        expect(Option.map(yield* sorties.claimNext("beta-pilot"), (s) => s.id)).toEqual(Option.some(own.id))
      }))
      yield* alpha(Effect.gen(function*() {
        const sorties = yield* Sorties
        expect((yield* sorties.list()).map((s) => s.title).sort()).toEqual(["alpha second", "alpha sortie"])
        expect((yield* (yield* Events).read()).every((e) => e.project_key === "alpha")).toBe(true)
        expect(Option.map(yield* sorties.claimNext("alpha-pilot"), (s) => s.id)).toEqual(Option.some(sortie.id))
      }))
    }))
})
