import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, FastCheck as fc, Runtime, TestClock } from "effect"
import { randomUUID } from "node:crypto"
import type { InvalidInput } from "../src/index.js"
import { FleetDb, FleetProject, Missions, Sorties } from "../src/index.js"
import { backends } from "./support/backends.js"
import { expectEvents, expectFailure, twoProjects } from "./support/work.js"

const millis = (dt: { readonly epochMillis: number } | null) => dt === null ? null : dt.epochMillis

/** encodeURIComponent throws on a lone surrogate: an oracle independent of the library's regex. */
const wellFormed = (s: string) => {
  try {
    encodeURIComponent(s)
    return true
  } catch {
    return false
  }
}

describe.each(backends.map((b) => [b.name, b] as const))("Missions on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("create makes a pending mission with defaults and logs mission_created", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      yield* TestClock.adjust(42)
      const [mission, events] = yield* expectEvents(missions.create({ title: "Auth rewrite" }), ["mission_created"])
      expect(mission.id).toMatch(/^msn_/)
      expect(mission).toMatchObject({
        title: "Auth rewrite",
        description: null,
        status: "pending",
        priority: 1,
        started_at: null,
        completed_at: null,
        created_by: null
      })
      expect(millis(mission.created_at)).toBe(42)
      expect(events[0]!.data).toEqual({
        mission_id: mission.id,
        title: "Auth rewrite",
        description: null,
        priority: 1,
        created_by: null
      })
      expect(yield* missions.get(mission.id)).toEqual(mission)
    })))

  it.effect("create stores description, priority and created_by", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const [mission, events] = yield* expectEvents(
        missions.create({ title: "T", description: "why", priority: 4, created_by: "viper-1" }),
        ["mission_created"]
      )
      expect(mission).toMatchObject({ description: "why", priority: 4, created_by: "viper-1" })
      expect(events[0]!.data).toMatchObject({ description: "why", priority: 4, created_by: "viper-1" })
    })))

  it.effect("create refuses bad input with InvalidInput naming the field, writing nothing", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ title: "" }, "title"],
        [{ title: "t".repeat(501) }, "title"],
        [{ title: "a\u0000" }, "title"],
        [{ title: "\uDFFF" }, "title"],
        [{ title: "ok", description: "\uD800" }, "description"],
        [{ title: "ok", priority: 7 }, "priority"],
        [{ title: "ok", priority: -0.5 }, "priority"],
        [{ title: "ok", created_by: "" }, "created_by"],
        [{ title: "ok", created_by: "a\nb" }, "created_by"],
        [undefined, "input"]
      ]
      for (const [input, field] of cases) {
        const error = yield* expectFailure(missions.create(input as never), "InvalidInput")
        expect((error as InvalidInput).field, String(field)).toBe(field)
      }
    })))

  it.effect("get fails with MissionNotFound / InvalidInput", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      expect(yield* Effect.flip(missions.get("msn_nope"))).toMatchObject({ _tag: "MissionNotFound", id: "msn_nope" })
      expect(yield* Effect.flip(missions.get(""))).toMatchObject({ _tag: "InvalidInput", field: "id" })
    })))

  it.effect("start and complete walk pending → in_progress → completed with Clock timestamps and events", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const mission = yield* missions.create({ title: "M" })
      yield* TestClock.adjust(1_000)
      const [started, e1] = yield* expectEvents(missions.start(mission.id), ["mission_started"])
      expect(started.status).toBe("in_progress")
      expect(millis(started.started_at)).toBe(1_000)
      expect(e1[0]!.data).toEqual({ mission_id: mission.id })
      yield* TestClock.adjust(1_000)
      const [completed, e2] = yield* expectEvents(missions.complete(mission.id), ["mission_completed"])
      expect(completed.status).toBe("completed")
      expect(millis(completed.started_at)).toBe(1_000)
      expect(millis(completed.completed_at)).toBe(2_000)
      expect(e2[0]!.data).toEqual({ mission_id: mission.id })
      expect(yield* missions.get(mission.id)).toEqual(completed)
    })))

  it.effect("every other move fails with InvalidTransition and writes nothing", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const pending = yield* missions.create({ title: "p" })
      const running = yield* missions.create({ title: "r" })
      yield* missions.start(running.id)
      const done = yield* missions.create({ title: "d" })
      yield* missions.start(done.id)
      yield* missions.complete(done.id)
      const cases = [
        [missions.complete(pending.id), pending.id, "pending", "completed"],
        [missions.start(running.id), running.id, "in_progress", "in_progress"],
        [missions.start(done.id), done.id, "completed", "in_progress"],
        [missions.complete(done.id), done.id, "completed", "completed"]
      ] as const
      for (const [attempt, id, from, to] of cases) {
        const error = yield* expectFailure(attempt, "InvalidTransition")
        expect(error).toMatchObject({ entity: "mission", id, from, to })
      }
      yield* expectFailure(missions.start("msn_nope"), "MissionNotFound")
      yield* expectFailure(missions.complete("msn_nope"), "MissionNotFound")
      yield* expectFailure(missions.start(""), "InvalidInput")
    })))

  it.effect("list filters by status, most urgent first, and refuses unknown statuses", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      yield* missions.create({ title: "low", priority: 3 })
      yield* TestClock.adjust(1)
      const urgent = yield* missions.create({ title: "urgent", priority: 0 })
      yield* TestClock.adjust(1)
      yield* missions.create({ title: "normal" })
      yield* missions.start(urgent.id)
      const titles = (list: ReadonlyArray<{ readonly title: string }>) => list.map((m) => m.title)
      expect(titles(yield* missions.list())).toEqual(["urgent", "normal", "low"])
      expect(titles(yield* missions.list({ status: "pending" }))).toEqual(["normal", "low"])
      expect(titles(yield* missions.list({ status: "in_progress" }))).toEqual(["urgent"])
      expect(titles(yield* missions.list({ status: "completed" }))).toEqual([])
      for (const status of ["open", "closed", "", "PENDING", "pending "]) {
        expect(yield* Effect.flip(missions.list({ status: status as "pending" }))).toMatchObject({
          _tag: "InvalidInput",
          field: "status"
        })
      }
    })))

  it.effect("list({ limit }) gives the first in list order; counts gives every mission by status; a bad limit is InvalidInput", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const low = yield* missions.create({ title: "low", priority: 3 })
      const urgent = yield* missions.create({ title: "urgent", priority: 0 })
      const normal = yield* missions.create({ title: "normal" })
      yield* missions.start(urgent.id)
      yield* missions.cancel(low.id, "not needed")
      expect((yield* missions.list({ limit: 2 })).map((m) => m.title)).toEqual(["urgent", "normal"])
      expect((yield* missions.list({ status: "cancelled", limit: 5 })).map((m) => m.id)).toEqual([low.id])
      expect(yield* missions.counts()).toEqual({ total: 3, by_status: { pending: 1, in_progress: 1, completed: 0, cancelled: 1 } })
      yield* missions.start(normal.id)
      yield* missions.complete(normal.id)
      expect((yield* missions.counts()).by_status).toEqual({ pending: 0, in_progress: 1, completed: 1, cancelled: 1 })
      for (const limit of [0, 1.5, 10_001]) {
        expect(yield* Effect.flip(missions.list({ limit }))).toMatchObject({ _tag: "InvalidInput", field: "limit" })
      }
    })))

  it.effect("progress counts the mission's sorties by status; percent = closed / total, rounded down", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const sorties = yield* Sorties
      const mission = yield* missions.create({ title: "M" })
      expect(yield* missions.progress(mission.id)).toEqual({
        mission_id: mission.id,
        total: 0,
        by_status: { open: 0, in_progress: 0, blocked: 0, closed: 0 },
        percent: 0
      })
      const other = yield* missions.create({ title: "other" })
      yield* sorties.create({ title: "elsewhere", mission_id: other.id })
      yield* sorties.create({ title: "loose" })
      const ids: Array<string> = []
      for (let i = 0; i < 6; i++) ids.push((yield* sorties.create({ title: `s${i}`, mission_id: mission.id })).id)
      for (const id of ids.slice(0, 4)) yield* sorties.claim(id, "viper-1")
      yield* sorties.block(ids[0]!, "r")
      yield* sorties.complete(ids[1]!)
      yield* sorties.complete(ids[2]!)
      expect(yield* missions.progress(mission.id)).toEqual({
        mission_id: mission.id,
        total: 6,
        by_status: { open: 2, in_progress: 1, blocked: 1, closed: 2 },
        percent: 33
      })
      yield* sorties.complete(ids[3]!)
      yield* sorties.claim(ids[4]!, "viper-2")
      yield* sorties.complete(ids[4]!)
      // 4 of 6 is 66.7 %: rounded down, so that 100 only ever means done.
      expect(yield* missions.progress(mission.id)).toMatchObject({
        total: 6,
        by_status: { open: 1, in_progress: 0, blocked: 1, closed: 4 },
        percent: 66
      })
      yield* sorties.claim(ids[5]!, "viper-2")
      yield* sorties.complete(ids[5]!)
      expect((yield* missions.progress(mission.id)).percent).toBe(83)
      yield* sorties.unblock(ids[0]!)
      yield* sorties.complete(ids[0]!)
      expect(yield* missions.progress(mission.id)).toMatchObject({ total: 6, percent: 100 })
      expect(yield* missions.progress(other.id)).toMatchObject({ total: 1, by_status: { open: 1 }, percent: 0 })
      expect(yield* Effect.flip(missions.progress("msn_nope"))).toMatchObject({ _tag: "MissionNotFound" })
      expect(yield* Effect.flip(missions.progress(""))).toMatchObject({ _tag: "InvalidInput", field: "id" })
    })))

  it.effect("progress counts rows other tools wrote with unknown statuses in the total only", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const mission = yield* missions.create({ title: "M" })
      yield* (yield* Sorties).create({ title: "ours", mission_id: mission.id })
      yield* sql`INSERT INTO sorties (id, project_key, mission_id, title, status, priority, created_at)
                 VALUES (${`srt_legacy_${randomUUID()}`}, ${projectKey}, ${mission.id}, 'legacy', 'done', 1, 0)`
      expect(yield* missions.progress(mission.id)).toEqual({
        mission_id: mission.id,
        total: 2,
        by_status: { open: 1, in_progress: 0, blocked: 0, closed: 0 },
        percent: 0
      })
    })))

  it.effect("property: random priorities/titles are accepted exactly when valid", () =>
    run(Effect.gen(function*() {
      const missions = yield* Missions
      const runtime = yield* Effect.runtime<FleetDb.FleetServices>()
      const property = fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("", "\u0000", "\uD800x")),
        fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.double(), fc.constant(undefined)),
        fc.string({ maxLength: 12 }),
        (title, priority, status) =>
          Runtime.runPromise(runtime)(Effect.gen(function*() {
            const titleOk = title.length >= 1 && !title.includes("\u0000") && wellFormed(title)
            const priorityOk = priority === undefined || (Number.isInteger(priority) && priority >= 0 && priority <= 4)
            if (titleOk && priorityOk) {
              const [mission] = yield* expectEvents(missions.create({ title, priority }), ["mission_created"])
              expect(mission.title).toBe(title)
            } else {
              const error = yield* expectFailure(missions.create({ title, priority }), "InvalidInput")
              expect(error).toMatchObject({ field: titleOk ? "priority" : "title" })
            }
            const listed = yield* Effect.either(missions.list({ status: status as "pending" }))
            expect(listed._tag).toBe(["pending", "in_progress", "completed"].includes(status) ? "Right" : "Left")
          }))
      )
      yield* Effect.promise(() => fc.assert(property, { numRuns: backend.name === "memory" ? 100 : 40 }))
    })), 120_000)
})

describe("Missions: project isolation", () => {
  it.scoped("progress never counts another project's sorties, even ones pointing at this mission", () =>
    Effect.gen(function*() {
      const { alpha, beta } = yield* twoProjects
      const mission = yield* alpha(Effect.gen(function*() {
        const mission = yield* (yield* Missions).create({ title: "alpha" })
        const sortie = yield* (yield* Sorties).create({ title: "a", mission_id: mission.id })
        yield* (yield* Sorties).claim(sortie.id, "viper-1")
        return mission
      }))
      yield* beta(Effect.gen(function*() {
        // Another tool writing for project beta with alpha's mission id: must stay invisible to alpha.
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO sorties (id, project_key, mission_id, title, status, priority, created_at)
                   VALUES ('srt_beta', 'beta', ${mission.id}, 'b', 'closed', 1, 0)`
        expect(yield* (yield* Missions).list()).toEqual([])
        yield* expectFailure((yield* Missions).complete(mission.id), "MissionNotFound")
      }))
      yield* alpha(Effect.gen(function*() {
        expect(yield* (yield* Missions).progress(mission.id)).toEqual({
          mission_id: mission.id,
          total: 1,
          by_status: { open: 0, in_progress: 1, blocked: 0, closed: 0 },
          percent: 0
        })
        expect((yield* (yield* Missions).list()).map((m) => m.id)).toEqual([mission.id])
      }))
    }))
})
