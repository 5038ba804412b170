import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import type { DependencyCycle, Sortie } from "../src/index.js"
import { FleetDb, FleetProject, Missions, Projections, Reservations, Sorties } from "../src/index.js"
import { backends } from "./support/backends.js"
import { expectEvents, expectFailure } from "./support/work.js"

const ids = (sorties: ReadonlyArray<Sortie>) => sorties.map((s) => s.id)

/** The project's dependency rows, to check that a refused command wrote none. */
const edges = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  return yield* sql`SELECT sortie_id, depends_on_id, kind FROM sortie_dependencies WHERE project_key = ${projectKey}
      ORDER BY sortie_id, depends_on_id`
})

/** `n` sorties titled s0…s(n-1), created in order (so oldest first), all priority 1. */
const make = (n: number) =>
  Effect.flatMap(Sorties, (sorties) => Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => sorties.create({ title: `s${i}` })))

describe.each(backends.map((b) => [b.name, b] as const))("the work graph on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("addDependency stores a blocks edge by default, logs it, and makes the sortie wait", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const [a, b] = yield* make(2)
      const [edge, events] = yield* expectEvents(sorties.addDependency(b!.id, a!.id), ["sortie_dependency_added"])
      expect(edge).toMatchObject({ sortie_id: b!.id, depends_on_id: a!.id, kind: "blocks" })
      expect(events[0]!.data).toEqual({ sortie_id: b!.id, depends_on_id: a!.id, kind: "blocks" })
      expect((yield* sorties.get(b!.id)).unclosed_blockers).toBe(1)
      expect(ids(yield* sorties.ready())).toEqual([a!.id])
      const graph = yield* sorties.dependencies(b!.id)
      expect(graph.depends_on).toEqual([{ sortie_id: a!.id, kind: "blocks", title: "s0", status: "open", outcome: null }])
      expect(graph.dependents).toEqual([])
      expect((yield* sorties.dependencies(a!.id)).dependents.map((l) => l.sortie_id)).toEqual([b!.id])
      // The same edge again changes nothing and logs nothing.
      yield* expectEvents(sorties.addDependency(b!.id, a!.id, { kind: "blocks" }), [])
      expect((yield* sorties.get(b!.id)).unclosed_blockers).toBe(1)
    })))

  it.effect("both sorties must exist: SortieNotFound, nothing written", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const [a] = yield* make(1)
      yield* expectFailure(sorties.addDependency(a!.id, "srt_missing"), "SortieNotFound")
      yield* expectFailure(sorties.addDependency("srt_missing", a!.id), "SortieNotFound")
      yield* expectFailure(sorties.addDependency(a!.id, ""), "InvalidInput")
      yield* expectFailure(sorties.addDependency(a!.id, a!.id, { kind: "other" as "blocks" }), "InvalidInput")
      expect(yield* edges).toEqual([])
    })))

  it.effect("cycles are refused with the path: self, direct and long; related edges never close one", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const s = yield* make(6)
      const id = (i: number) => s[i]!.id
      const self = yield* expectFailure(sorties.addDependency(id(0), id(0)), "DependencyCycle")
      expect((self as DependencyCycle).path).toEqual([id(0), id(0)])

      yield* sorties.addDependency(id(1), id(0))
      const direct = yield* expectFailure(sorties.addDependency(id(0), id(1)), "DependencyCycle")
      expect((direct as DependencyCycle).path).toEqual([id(0), id(1), id(0)])

      // A chain 5 → 4 → 3 → 2 → 1 → 0 (each depends on the previous).
      for (let i = 2; i < 6; i++) yield* sorties.addDependency(id(i), id(i - 1))
      const before = yield* edges
      const long = yield* expectFailure(sorties.addDependency(id(0), id(5)), "DependencyCycle")
      expect((long as DependencyCycle).path).toEqual([id(0), id(5), id(4), id(3), id(2), id(1), id(0)])
      expect(long.message).toContain("→")
      expect(yield* edges).toEqual(before)

      // Informational edges may point anywhere; turning one into `blocks` is checked.
      yield* sorties.addDependency(id(0), id(5), { kind: "related" })
      yield* expectFailure(sorties.addDependency(id(0), id(5), { kind: "blocks" }), "DependencyCycle")
      expect((yield* sorties.get(id(0))).unclosed_blockers).toBe(0)
    })))

  it.effect("ready: open, unassigned, no unclosed blocker; most urgent, then oldest; mission and limit filters", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const mission = yield* (yield* Missions).create({ title: "m" })
      const a = yield* sorties.create({ title: "a", priority: 2 })
      const b = yield* sorties.create({ title: "b", priority: 0 })
      const c = yield* sorties.create({ title: "c", priority: 2, mission_id: mission.id })
      const d = yield* sorties.create({ title: "d", priority: 1 })
      yield* sorties.addDependency(b.id, a.id)
      yield* sorties.claim(d.id, "viper-1")
      expect(ids(yield* sorties.ready())).toEqual([a.id, c.id])
      expect(ids(yield* sorties.ready({ limit: 1 }))).toEqual([a.id])
      expect(ids(yield* sorties.ready({ mission_id: mission.id }))).toEqual([c.id])
      yield* expectFailure(sorties.ready({ mission_id: "msn_missing" }), "MissionNotFound")
      yield* expectFailure(sorties.ready({ limit: 0 }), "InvalidInput")
      // Closing the blocker makes b ready, in the same transaction.
      yield* sorties.claim(a.id, "viper-1")
      expect(ids(yield* sorties.ready())).toEqual([c.id])
      yield* sorties.complete(a.id)
      expect(ids(yield* sorties.ready())).toEqual([b.id, c.id])
      expect((yield* sorties.get(b.id)).unclosed_blockers).toBe(0)
      expect((yield* sorties.get(a.id)).outcome).toBe("completed")
    })))

  it.effect("claimNext never hands out a blocked sortie, and claim refuses one with SortieNotReady", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const blocker = yield* sorties.create({ title: "blocker", priority: 4 })
      const urgent = yield* sorties.create({ title: "urgent but blocked", priority: 0 })
      yield* sorties.addDependency(urgent.id, blocker.id)
      const refused = yield* expectFailure(sorties.claim(urgent.id, "viper-1"), "SortieNotReady")
      expect(refused).toMatchObject({ id: urgent.id, blockers: [blocker.id] })
      const first = yield* sorties.claimNext("viper-1")
      expect(Option.getOrThrow(first).id).toBe(blocker.id)
      expect(yield* sorties.claimNext("viper-2")).toEqual(Option.none())
      // A blocker released back to open does not make its dependent ready.
      yield* sorties.release(blocker.id)
      expect(ids(yield* sorties.ready())).toEqual([blocker.id])
      yield* sorties.claim(blocker.id, "viper-1")
      yield* sorties.complete(blocker.id)
      expect(Option.getOrThrow(yield* sorties.claimNext("viper-2")).id).toBe(urgent.id)
    })))

  it.effect("removeDependency frees the sortie; related edges never block; a kind change moves the count", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const [a, b] = yield* make(2)
      expect(yield* sorties.removeDependency(b!.id, a!.id)).toEqual(Option.none())
      yield* sorties.addDependency(b!.id, a!.id)
      const [removed] = yield* expectEvents(sorties.removeDependency(b!.id, a!.id), ["sortie_dependency_removed"])
      expect(Option.getOrThrow(removed)).toMatchObject({ kind: "blocks" })
      expect(ids(yield* sorties.ready())).toEqual([a!.id, b!.id])
      yield* sorties.addDependency(b!.id, a!.id, { kind: "related" })
      expect(ids(yield* sorties.ready())).toEqual([a!.id, b!.id])
      yield* sorties.addDependency(b!.id, a!.id, { kind: "blocks" })
      expect(ids(yield* sorties.ready())).toEqual([a!.id])
      yield* sorties.addDependency(b!.id, a!.id, { kind: "related" })
      expect(ids(yield* sorties.ready())).toEqual([a!.id, b!.id])
    })))

  it.effect("a dependency on a closed sortie does not block", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const [a, b] = yield* make(2)
      yield* sorties.claim(a!.id, "viper-1")
      yield* sorties.complete(a!.id)
      yield* sorties.addDependency(b!.id, a!.id)
      expect((yield* sorties.get(b!.id)).unclosed_blockers).toBe(0)
      yield* sorties.removeDependency(b!.id, a!.id)
      expect((yield* sorties.get(b!.id)).unclosed_blockers).toBe(0)
    })))

  it.effect("cancel closes as cancelled (distinct from completed) and unblocks dependents", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const [a, b, c] = yield* make(3)
      yield* sorties.addDependency(b!.id, a!.id)
      yield* sorties.addDependency(c!.id, a!.id)
      yield* sorties.claim(a!.id, "viper-1")
      const [cancelled, events] = yield* expectEvents(sorties.cancel(a!.id, "not needed"), ["sortie_cancelled"])
      expect(cancelled).toMatchObject({ status: "closed", outcome: "cancelled", close_reason: "not needed" })
      expect(cancelled.completed_at).not.toBeNull()
      expect(events[0]!.data).toEqual({ sortie_id: a!.id, callsign: "viper-1", from: "in_progress", reason: "not needed" })
      expect(ids(yield* sorties.ready())).toEqual([b!.id, c!.id])
      yield* expectFailure(sorties.cancel(a!.id, "again"), "InvalidTransition")
      yield* expectFailure(sorties.complete(a!.id), "InvalidTransition")
      yield* expectFailure(sorties.cancel(b!.id, ""), "InvalidInput")
      yield* expectFailure(sorties.cancel("srt_missing", "x"), "SortieNotFound")
    })))

  it.effect("update edits an unclosed sortie (files canonical) and logs what changed; closed ones refuse", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const s = yield* sorties.create({ title: "old", files: ["src/a.ts"] })
      const [updated, events] = yield* expectEvents(
        sorties.update(s.id, { title: "new", priority: 0, files: ["./src//b.ts"], description: "why" }),
        ["sortie_updated"]
      )
      expect(updated).toMatchObject({ title: "new", priority: 0, files: ["src/b.ts"], description: "why" })
      expect(events[0]!.data).toMatchObject({ changed: ["title", "description", "priority", "files"] })
      yield* expectEvents(sorties.update(s.id, { title: "new" }), [])
      yield* expectFailure(sorties.update(s.id, { priority: 9 }), "InvalidInput")
      yield* expectFailure(sorties.update(s.id, { files: ["../../etc"] }), "InvalidInput")
      const cleared = yield* sorties.update(s.id, { files: null, description: null })
      expect(cleared).toMatchObject({ files: null, description: null })
      yield* sorties.cancel(s.id, "done with it")
      yield* expectFailure(sorties.update(s.id, { title: "late" }), "InvalidTransition")
    })))

  it.effect("Missions.cancel cancels its unclosed sorties, unblocking their dependents elsewhere", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const missions = yield* Missions
      const mission = yield* missions.create({ title: "m" })
      const inside = yield* sorties.create({ title: "inside", mission_id: mission.id })
      const done = yield* sorties.create({ title: "done", mission_id: mission.id })
      const outside = yield* sorties.create({ title: "outside" })
      yield* sorties.addDependency(outside.id, inside.id)
      yield* sorties.claim(done.id, "viper-1")
      yield* sorties.complete(done.id)
      const [cancelled, events] = yield* expectEvents(missions.cancel(mission.id, "scope cut"), ["sortie_cancelled", "mission_cancelled"])
      expect(cancelled).toMatchObject({ status: "cancelled", close_reason: "scope cut" })
      expect(events[1]!.data).toEqual({ mission_id: mission.id, from: "pending", reason: "scope cut", cancelled_sorties: [inside.id] })
      expect((yield* sorties.get(inside.id)).outcome).toBe("cancelled")
      expect((yield* sorties.get(done.id)).outcome).toBe("completed")
      expect(ids(yield* sorties.ready())).toEqual([outside.id])
      yield* expectFailure(missions.cancel(mission.id, "again"), "InvalidTransition")
      yield* expectFailure(missions.cancel("msn_missing", "x"), "MissionNotFound")
    })))

  it.effect("claimNext({ reserveFiles }) skips sorties whose files another pilot holds, and reserves the claimed one's", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const reservations = yield* Reservations
      yield* reservations.reserve({ callsign: "viper-1", paths: ["src/**"], ttl: "1 hour" })
      const busy = yield* sorties.create({ title: "busy", priority: 0, files: ["src/a.ts"] })
      const free = yield* sorties.create({ title: "free", priority: 1, files: ["docs/**", "README.md"] })
      const [claim, events] = yield* expectEvents(
        sorties.claimNext("viper-2", { reserveFiles: true, ttl: "30 minutes" }),
        ["sortie_claimed", "file_reserved"]
      )
      expect(claim.sortie?.id).toBe(free.id)
      expect(claim.sortie?.assigned_to).toBe("viper-2")
      expect(claim.reservations.map((r) => [r.path_pattern, r.exclusive, r.callsign])).toEqual([
        ["docs/**", true, "viper-2"],
        ["README.md", true, "viper-2"]
      ])
      expect(claim.skipped).toHaveLength(1)
      expect(claim.skipped[0]).toMatchObject({ sortie_id: busy.id, title: "busy" })
      expect(claim.skipped[0]!.conflicts).toMatchObject([{ path: "src/a.ts", holder: "viper-1", pattern: "src/**" }])
      expect(events[1]!.data).toMatchObject({ callsign: "viper-2", exclusive: true })

      // Nothing left whose files are free: null, with the reason.
      const none = yield* sorties.claimNext("viper-3", { reserveFiles: true, ttl: 60_000 })
      expect(none.sortie).toBeNull()
      expect(none.skipped.map((s) => s.sortie_id)).toEqual([busy.id])
      // The holder itself can take it (its own reservation is no conflict) and a sortie without files needs none.
      const own = yield* sorties.claimNext("viper-1", { reserveFiles: true, ttl: 60_000 })
      expect(own.sortie?.id).toBe(busy.id)
      const plain = yield* sorties.create({ title: "plain" })
      const [noFiles] = yield* expectEvents(sorties.claimNext("viper-3", { reserveFiles: true, ttl: 60_000 }), ["sortie_claimed"])
      expect(noFiles).toMatchObject({ sortie: { id: plain.id }, reservations: [], skipped: [] })
      yield* expectFailure(sorties.claimNext("viper-3", { reserveFiles: true, ttl: -1 }), "InvalidInput")
    })))

  it.effect("verify finds nothing after graph commands, and a rebuild restores a tampered readiness cache", () =>
    run(Effect.gen(function*() {
      const sorties = yield* Sorties
      const projections = yield* Projections
      const s = yield* make(5)
      const id = (i: number) => s[i]!.id
      yield* sorties.addDependency(id(1), id(0))
      yield* sorties.addDependency(id(2), id(1))
      yield* sorties.addDependency(id(3), id(1), { kind: "related" })
      yield* sorties.addDependency(id(4), id(2))
      yield* sorties.addDependency(id(4), id(3))
      yield* sorties.removeDependency(id(4), id(3))
      yield* sorties.claim(id(0), "viper-1")
      yield* sorties.complete(id(0))
      yield* sorties.cancel(id(1), "obsolete")
      yield* sorties.update(id(2), { title: "renamed", files: ["src/**"] })
      yield* sorties.claimNext("viper-2", { reserveFiles: true, ttl: "1 hour" })
      expect(yield* projections.verify()).toEqual([])

      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      yield* sql`UPDATE sorties SET unclosed_blockers = 7 WHERE id = ${id(4)} AND project_key = ${projectKey}`
      yield* sql`DELETE FROM sortie_dependencies WHERE sortie_id = ${id(2)} AND project_key = ${projectKey}`
      const found = yield* projections.verify()
      expect(found.map((d) => [d.table, d.kind, d.column])).toEqual(
        expect.arrayContaining([["sorties", "mismatch", "unclosed_blockers"], ["sortie_dependencies", "missing", undefined]])
      )
      const summary = yield* projections.rebuild()
      expect(summary.rows.sortie_dependencies).toBe(4)
      expect(yield* projections.verify()).toEqual([])
      expect((yield* sorties.get(id(4))).unclosed_blockers).toBe(1)
    })))
})
