import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Runtime, TestClock } from "effect"
import type { InvalidInput, WorkOrder } from "../src/index.js"
import { FleetDb, Sorties, WorkOrders } from "../src/index.js"
import { backends } from "./support/backends.js"
import { expectEvents, expectFailure, twoProjects } from "./support/work.js"

const millis = (dt: { readonly epochMillis: number } | null) => dt === null ? null : dt.epochMillis

const aSortie = Effect.flatMap(Sorties, (sorties) => sorties.create({ title: "parent" }))

describe.each(backends.map((b) => [b.name, b] as const))("WorkOrders on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("create makes a pending work order in a sortie and logs work_order_created", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      const sortie = yield* aSortie
      yield* TestClock.adjust(77)
      const [wo, events] = yield* expectEvents(
        workOrders.create({ sortie_id: sortie.id, title: "write the migration" }),
        ["work_order_created"]
      )
      expect(wo.id).toMatch(/^wo_/)
      expect(wo).toMatchObject({
        sortie_id: sortie.id,
        title: "write the migration",
        description: null,
        status: "pending",
        assigned_to: null,
        completed_at: null
      })
      expect(millis(wo.created_at)).toBe(77)
      expect(events[0]!.data).toEqual({
        work_order_id: wo.id,
        sortie_id: sortie.id,
        title: "write the migration",
        description: null,
        assigned_to: null
      })
      expect(yield* workOrders.get(wo.id)).toEqual(wo)
      const [full] = yield* expectEvents(
        workOrders.create({ sortie_id: sortie.id, title: "t", description: "d", assigned_to: "viper-1" }),
        ["work_order_created"]
      )
      expect(full).toMatchObject({ description: "d", assigned_to: "viper-1" })
    })))

  it.effect("create in an unknown sortie fails with SortieNotFound; bad input with InvalidInput; nothing written", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      expect(yield* expectFailure(workOrders.create({ sortie_id: "srt_nope", title: "t" }), "SortieNotFound"))
        .toMatchObject({ id: "srt_nope" })
      const sortie = yield* aSortie
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ title: "t" }, "sortie_id"],
        [{ sortie_id: "", title: "t" }, "sortie_id"],
        [{ sortie_id: sortie.id, title: "" }, "title"],
        [{ sortie_id: sortie.id, title: "a\u0000b" }, "title"],
        [{ sortie_id: sortie.id, title: "t", description: 5 }, "description"],
        [{ sortie_id: sortie.id, title: "t", assigned_to: " x" }, "assigned_to"],
        ["nope", "input"]
      ]
      for (const [input, field] of cases) {
        const error = yield* expectFailure(workOrders.create(input as never), "InvalidInput")
        expect((error as InvalidInput).field, field).toBe(field)
      }
    })))

  it.effect("start and complete walk pending → in_progress → completed; start may assign", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      const sortie = yield* aSortie
      const wo = yield* workOrders.create({ sortie_id: sortie.id, title: "t", assigned_to: "viper-1" })
      const [started, e1] = yield* expectEvents(workOrders.start(wo.id), ["work_order_started"])
      expect(started).toMatchObject({ status: "in_progress", assigned_to: "viper-1" })
      expect(e1[0]!.data).toEqual({ work_order_id: wo.id, assigned_to: "viper-1" })
      yield* TestClock.adjust(500)
      const [done, e2] = yield* expectEvents(workOrders.complete(wo.id), ["work_order_completed"])
      expect(done).toMatchObject({ status: "completed" })
      expect(millis(done.completed_at)).toBe(500)
      expect(e2[0]!.data).toEqual({ work_order_id: wo.id })

      const other = yield* workOrders.create({ sortie_id: sortie.id, title: "u" })
      const [assigned, e3] = yield* expectEvents(workOrders.start(other.id, { assigned_to: "viper-2" }), ["work_order_started"])
      expect(assigned.assigned_to).toBe("viper-2")
      expect(e3[0]!.data).toEqual({ work_order_id: other.id, assigned_to: "viper-2" })
      expect(yield* expectFailure(workOrders.start(other.id, { assigned_to: "" }), "InvalidInput")).toMatchObject({ field: "assigned_to" })
    })))

  it.effect("every other move fails with InvalidTransition; unknown ids with WorkOrderNotFound; nothing written", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      const sortie = yield* aSortie
      const pending = yield* workOrders.create({ sortie_id: sortie.id, title: "p" })
      const running = yield* workOrders.create({ sortie_id: sortie.id, title: "r" })
      yield* workOrders.start(running.id)
      const done = yield* workOrders.create({ sortie_id: sortie.id, title: "d" })
      yield* workOrders.start(done.id)
      yield* workOrders.complete(done.id)
      const cases = [
        [workOrders.complete(pending.id), pending.id, "pending", "completed"],
        [workOrders.start(running.id), running.id, "in_progress", "in_progress"],
        [workOrders.start(done.id), done.id, "completed", "in_progress"],
        [workOrders.complete(done.id), done.id, "completed", "completed"]
      ] as const
      for (const [attempt, id, from, to] of cases) {
        expect(yield* expectFailure(attempt, "InvalidTransition")).toMatchObject({ entity: "work_order", id, from, to })
      }
      for (const attempt of [workOrders.start("wo_nope"), workOrders.complete("wo_nope"), workOrders.get("wo_nope")]) {
        expect(yield* expectFailure(attempt, "WorkOrderNotFound")).toMatchObject({ id: "wo_nope" })
      }
      expect(yield* expectFailure(workOrders.complete(""), "InvalidInput")).toMatchObject({ field: "id" })
    })))

  it.effect("list filters by sortie and status (ANDed), oldest first; unknown status is InvalidInput", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      const s1 = yield* aSortie
      const s2 = yield* aSortie
      const a = yield* workOrders.create({ sortie_id: s1.id, title: "a" })
      yield* TestClock.adjust(1)
      yield* workOrders.create({ sortie_id: s2.id, title: "b" })
      yield* TestClock.adjust(1)
      yield* workOrders.create({ sortie_id: s1.id, title: "c" })
      yield* workOrders.start(a.id)
      const titles = (list: ReadonlyArray<WorkOrder>) => list.map((w) => w.title)
      expect(titles(yield* workOrders.list())).toEqual(["a", "b", "c"])
      expect(titles(yield* workOrders.list({ sortie_id: s1.id }))).toEqual(["a", "c"])
      expect(titles(yield* workOrders.list({ status: "pending" }))).toEqual(["b", "c"])
      expect(titles(yield* workOrders.list({ sortie_id: s1.id, status: "in_progress" }))).toEqual(["a"])
      expect(titles(yield* workOrders.list({ sortie_id: "srt_none" }))).toEqual([])
      expect(yield* Effect.flip(workOrders.list({ status: "open" as "pending" }))).toMatchObject({
        _tag: "InvalidInput",
        field: "status",
        reason: "must be one of \"pending\", \"in_progress\", \"completed\""
      })
      expect(yield* Effect.flip(workOrders.list({ sortie_id: "" }))).toMatchObject({ _tag: "InvalidInput", field: "sortie_id" })
    })))

  it.effect("property: random status sequences follow pending → in_progress → completed", () =>
    run(Effect.gen(function*() {
      const workOrders = yield* WorkOrders
      const sortie = yield* aSortie
      const runtime = yield* Effect.runtime<FleetDb.FleetServices>()
      const order = ["pending", "in_progress", "completed"] as const
      const property = fc.asyncProperty(fc.array(fc.constantFrom("start", "complete") as fc.Arbitrary<"start" | "complete">, { maxLength: 6 }), (ops) =>
        Runtime.runPromise(runtime)(Effect.gen(function*() {
          const wo = yield* workOrders.create({ sortie_id: sortie.id, title: "w" })
          let at = 0
          for (const op of ops) {
            const allowed = (op === "start" && at === 0) || (op === "complete" && at === 1)
            if (allowed) {
              const [next] = yield* expectEvents(workOrders[op](wo.id), [op === "start" ? "work_order_started" : "work_order_completed"])
              at++
              expect(next.status).toBe(order[at])
            } else {
              expect(yield* expectFailure(workOrders[op](wo.id), "InvalidTransition")).toMatchObject({ from: order[at] })
            }
          }
          expect((yield* workOrders.get(wo.id)).status).toBe(order[at])
        })))
      yield* Effect.promise(() => fc.assert(property, { numRuns: backend.name === "memory" ? 50 : 20 }))
    })), 120_000)
})

describe("WorkOrders: project isolation", () => {
  it.scoped("another project cannot see, list, start or attach work orders to this project's sorties", () =>
    Effect.gen(function*() {
      const { alpha, beta } = yield* twoProjects
      const { sortie, wo } = yield* alpha(Effect.gen(function*() {
        const sortie = yield* aSortie
        const wo = yield* (yield* WorkOrders).create({ sortie_id: sortie.id, title: "alpha" })
        return { sortie, wo }
      }))
      yield* beta(Effect.gen(function*() {
        const workOrders = yield* WorkOrders
        expect(yield* workOrders.list()).toEqual([])
        expect(yield* workOrders.list({ sortie_id: sortie.id })).toEqual([])
        yield* expectFailure(workOrders.get(wo.id), "WorkOrderNotFound")
        yield* expectFailure(workOrders.start(wo.id), "WorkOrderNotFound")
        yield* expectFailure(workOrders.complete(wo.id), "WorkOrderNotFound")
        yield* expectFailure(workOrders.create({ sortie_id: sortie.id, title: "x" }), "SortieNotFound")
      }))
      yield* alpha(Effect.gen(function*() {
        expect((yield* (yield* WorkOrders).list()).map((w) => w.id)).toEqual([wo.id])
        expect((yield* (yield* WorkOrders).start(wo.id)).status).toBe("in_progress")
      }))
    }))
})
