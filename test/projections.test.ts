/**
 * Projections: verify() replays the log and finds every drift; rebuild() recreates the tables
 * from the log (batched, with progress, one final swap), keeps what the log cannot know, and
 * leaves the live tables untouched when it fails.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"
import type { ProjectionProgress } from "../src/index.js"
import { Cursors, Events, FleetDb, FleetProject, Pilots, Projections, Sorties, uncheckedColumns } from "../src/index.js"
import { backends, projectOn, tempDir } from "./support/backends.js"
import { dumpProjections, fullWorkload, stagingTables } from "./support/recovery.js"

describe.each(backends.map((b) => [b.name, b] as const))("Projections on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("a database written only through the services verifies clean", () =>
    run(Effect.gen(function*() {
      yield* fullWorkload
      const projections = yield* Projections
      expect(yield* projections.verify()).toEqual([])
      // The workload really produced something to compare.
      const dump = yield* dumpProjections
      for (const table of ["pilots", "missions", "sorties", "sortie_dependencies", "work_orders", "checkpoints", "messages", "message_recipients", "reservations", "locks", "cursors"]) {
        expect(dump[table]!.length, table).toBeGreaterThan(0)
      }
    })))

  it.effect("verify names every kind of drift; rebuild repairs it and restores the exact rows", () =>
    run(Effect.gen(function*() {
      const { messages, sorties } = yield* fullWorkload
      const before = yield* dumpProjections
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const projections = yield* Projections

      yield* sql`UPDATE sorties SET status = 'closed', assigned_to = NULL WHERE id = ${sorties[1].id}`
      // The log carries each body's digest, not the body: a deleted message (a case of its own,
      // below) cannot come back, but every other column of it can.
      yield* sql`UPDATE messages SET subject = 'tampered', importance = 'low' WHERE id = ${messages[1].id}`
      yield* sql`DELETE FROM message_recipients WHERE message_id = ${messages[1].id}`
      yield* sql`INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES (${projectKey}, 'ghost', 1, 1)`
      yield* sql`UPDATE message_recipients SET acked_at = NULL WHERE message_id = ${messages[0].id} AND callsign = 'viper-2'`
      yield* sql`DELETE FROM cursors WHERE project_key = ${projectKey} AND consumer_id = 'replayer'`
      yield* sql`UPDATE cursors SET position = 0 WHERE project_key = ${projectKey} AND consumer_id = 'indexer'`
      yield* sql`UPDATE locks SET released_at = NULL WHERE project_key = ${projectKey} AND lock_key = 'build'`

      const differences = yield* projections.verify()
      const summary = differences.map((d) => `${d.kind} ${d.table}${d.column === undefined ? "" : `.${d.column}`}`).sort()
      expect(summary).toEqual([
        "mismatch cursors.position",
        "mismatch locks.released_at",
        "mismatch message_recipients.acked_at",
        "mismatch messages.importance",
        "mismatch messages.subject",
        "mismatch sorties.assigned_to",
        "mismatch sorties.status",
        "missing cursors",
        "missing message_recipients",
        "unexpected pilots"
      ])
      const status = differences.find((d) => d.column === "status")!
      expect(status).toMatchObject({ table: "sorties", key: { id: sorties[1].id }, expected: "in_progress", actual: "closed" })
      expect(status.message).toContain(sorties[1].id)
      expect(differences.find((d) => d.table === "pilots")!.key).toEqual({ callsign: "ghost" })

      const summaryOfRebuild = yield* projections.rebuild()
      expect(yield* projections.verify()).toEqual([])
      const after = yield* dumpProjections
      // Everything is back as it was, ids and all, except the cursors (which only move forward to
      // their latest reset: "indexer" was moved back behind it, "replayer" deleted).
      const { cursors: cursorsBefore, ...restBefore } = before
      const { cursors: cursorsAfter, ...restAfter } = after
      expect(restAfter).toEqual(restBefore)
      const positions = (rows: ReadonlyArray<unknown>) =>
        Object.fromEntries((rows as Array<{ consumer_id: string; position: number }>).map((r) => [r.consumer_id, r.position]))
      expect(positions(cursorsBefore!)).toEqual({ indexer: 5, other: 3, replayer: 1 })
      expect(positions(cursorsAfter!)).toEqual({ indexer: 2, other: 3, replayer: 1 })
      expect(summaryOfRebuild.rows.sorties).toBe(8)
      expect(summaryOfRebuild.rows.sortie_dependencies).toBe(2)
      expect(summaryOfRebuild.rows.cursors).toBe(2)
      expect(summaryOfRebuild.sequence).toBe(yield* Effect.flatMap(Events, (e) => e.latestSequence))
      expect(yield* stagingTables).toEqual([])
    })))

  it.effect("heartbeats and cursor commits are not drift, and a rebuild keeps them", () =>
    run(Effect.gen(function*() {
      const pilots = yield* Pilots
      const cursors = yield* Cursors
      const projections = yield* Projections
      yield* pilots.register({ callsign: "hb" })
      yield* TestClock.adjust(60_000)
      const beat = yield* pilots.heartbeat("hb")
      yield* cursors.commit("c", 1)
      expect(yield* projections.verify()).toEqual([])
      yield* projections.rebuild()
      const after = yield* pilots.get("hb")
      expect(after.id).toBe(beat.id)
      expect(after.last_active_at.epochMillis).toBe(60_000)
      expect(yield* cursors.get("c")).toBe(1)
      expect(uncheckedColumns.map((c) => `${c.table}.${c.column}`)).toEqual(
        expect.arrayContaining(["pilots.last_active_at", "cursors.position"])
      )
    })))

  it.effect("rebuild reports progress in batches, phase by phase", () =>
    run(Effect.gen(function*() {
      yield* fullWorkload
      const projections = yield* Projections
      const seen: Array<ProjectionProgress> = []
      const summary = yield* projections.rebuild({ batchSize: 7, onProgress: (p) => Effect.sync(() => seen.push(p)) })
      const phases = seen.map((p) => p.phase).filter((phase, i, all) => all[i - 1] !== phase)
      expect(phases).toEqual(["replay", "write", "swap"])
      const replay = seen.filter((p) => p.phase === "replay")
      expect(replay.length).toBeGreaterThan(summary.events / 7)
      expect(replay.at(-1)).toMatchObject({ done: summary.events, total: summary.events })
      const write = seen.filter((p) => p.phase === "write")
      for (let i = 1; i < write.length; i++) expect(write[i]!.done - write[i - 1]!.done).toBeLessThanOrEqual(7)
      expect(write.at(-1)!.done).toBe(write.at(-1)!.total)
      expect(seen.at(-1)).toEqual({ phase: "swap", done: 1, total: 1 })
      expect(yield* projections.verify({ batchSize: 3 })).toEqual([])
    })))

  it.effect("commands that run while a rebuild stages are caught up by its final swap", () =>
    run(Effect.gen(function*() {
      yield* fullWorkload
      const projections = yield* Projections
      const pilots = yield* Pilots
      const sorties = yield* Sorties
      let once = true
      const meanwhile = Effect.gen(function*() {
        // The rows of these are already staged (or not yet): the swap must reflect both.
        yield* pilots.register({ callsign: "latecomer" })
        const created = yield* sorties.create({ title: "late" })
        yield* sorties.claim(created.id, "latecomer")
        yield* sorties.release(created.id)
      })
      yield* projections.rebuild({
        batchSize: 5,
        onProgress: (p) =>
          p.phase === "write" && p.done > 10 && once ? Effect.zipRight(Effect.sync(() => (once = false)), Effect.orDie(meanwhile)) : Effect.void
      })
      expect(once).toBe(false)
      expect(yield* projections.verify()).toEqual([])
      expect((yield* pilots.get("latecomer")).callsign).toBe("latecomer")
      expect((yield* sorties.list({ status: "open" })).map((s) => s.title)).toContain("late")
    })))

  it.effect("a rebuild that fails midway changes nothing and leaves no staging tables", () =>
    run(Effect.gen(function*() {
      yield* fullWorkload
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      yield* sql`INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES (${projectKey}, 'ghost', 1, 1)`
      const before = yield* dumpProjections
      const projections = yield* Projections
      const exit = yield* Effect.exit(projections.rebuild({
        batchSize: 5,
        onProgress: (p) => p.phase === "write" && p.done > 0 ? Effect.dieMessage("power cut") : Effect.void
      }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* dumpProjections).toEqual(before)
      expect(yield* stagingTables).toEqual([])
      expect((yield* projections.verify()).map((d) => d.kind)).toEqual(["unexpected"])
    })))

  it.effect("message bodies: verify checks them against the log's digest; rebuild keeps them from the stored rows", () =>
    run(Effect.gen(function*() {
      const { messages } = yield* fullWorkload
      const before = yield* dumpProjections
      const sql = yield* SqlClient.SqlClient
      const projections = yield* Projections
      // The workload's third message is the reply to the first.
      const reply = (before.messages as Array<{ id: number }>).map((m) => m.id).find((id) => id !== messages[0].id && id !== messages[1].id)!
      const [kept, changed, deleted] = [messages[0].id, reply, messages[1].id]

      yield* sql`UPDATE messages SET body = 'rewritten by hand' WHERE id = ${changed}`
      yield* sql`DELETE FROM message_recipients WHERE message_id = ${deleted}`
      yield* sql`DELETE FROM messages WHERE id = ${deleted}`
      const differences = yield* projections.verify()
      const body = differences.find((d) => d.column === "body")!
      expect(body).toMatchObject({ table: "messages", key: { id: changed }, kind: "mismatch", actual: "rewritten by hand" })
      expect(String(body.expected)).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(differences.filter((d) => d.kind === "missing").map((d) => `${d.table} ${JSON.stringify(d.key)}`))
        .toEqual([`messages {"id":${deleted}}`, `message_recipients {"message_id":${deleted},"callsign":"viper-1"}`])
      expect(differences).toHaveLength(3)

      const summary = yield* projections.rebuild()
      const after = yield* dumpProjections
      // Every other message is back with its body, taken from the row the swap replaced.
      const bodyOf = (dump: typeof before, id: number) =>
        (dump.messages as Array<{ id: number; body: string }>).find((m) => m.id === id)?.body
      expect(bodyOf(after, kept)).toBe(bodyOf(before, kept))
      expect(bodyOf(after, changed)).toBe("rewritten by hand")
      // The deleted one cannot be: its body is nowhere. Nor are its receipts.
      expect(bodyOf(after, deleted)).toBeUndefined()
      expect(summary.rows.messages).toBe(before.messages!.length - 1)
      const receipts = (dump: typeof before) => (dump.message_recipients as Array<{ message_id: number }>)
      expect(receipts(after).filter((r) => r.message_id === deleted)).toEqual([])
      expect(summary.rows.message_recipients).toBe(receipts(after).length)
      expect(yield* stagingTables).toEqual([])
    })))

  it.effect("a database written before message bodies left the log reads, replays and rebuilds the same", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const pilots = yield* Pilots
      yield* pilots.register({ callsign: "alpha" })
      yield* pilots.register({ callsign: "bravo" })
      // What the previous version wrote for one send: the rows and a message_sent with the body.
      const [row] = yield* sql<{ id: number }>`INSERT INTO messages
          (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
          VALUES (${projectKey}, 'alpha', 'Old', 'The old body', 'th_old', 'high', 1, 1700000000000) RETURNING id`
      const id = row!.id
      yield* sql`INSERT INTO message_recipients (message_id, callsign) VALUES (${id}, 'bravo')`
      const data = { message_id: id, from: "alpha", to: ["bravo"], subject: "Old", body: "The old body", thread_id: "th_old", importance: "high", ack_required: true }
      yield* sql`INSERT INTO events (type, project_key, timestamp, data)
          VALUES ('message_sent', ${projectKey}, 1700000000000, ${JSON.stringify(data)})`
      const events = yield* Events
      const [event] = yield* events.read({ types: ["message_sent"] })
      expect(event).toMatchObject({ known: true, type: "message_sent", data })
      const projections = yield* Projections
      expect(yield* projections.verify()).toEqual([])
      // Its body comes from the event itself, even with the row gone.
      yield* sql`DELETE FROM message_recipients WHERE message_id = ${id}`
      yield* sql`DELETE FROM messages WHERE id = ${id}`
      yield* projections.rebuild()
      expect(yield* projections.verify()).toEqual([])
      const restored = yield* sql<{ body: string; subject: string }>`SELECT body, subject FROM messages WHERE id = ${id}`
      expect(restored).toEqual([{ body: "The old body", subject: "Old" }])
    })))

  it.effect("bad options are InvalidInput naming the field", () =>
    run(Effect.gen(function*() {
      const projections = yield* Projections
      for (const bad of [{ batchSize: 0 }, { batchSize: 1.5 }, { batchSize: "10" }, { batchSize: 1e9 }]) {
        const error = yield* Effect.flip(projections.rebuild(bad as never))
        expect(error).toMatchObject({ _tag: "InvalidInput", field: "batchSize" })
        expect(yield* Effect.flip(projections.verify(bad as never))).toMatchObject({ _tag: "InvalidInput", field: "batchSize" })
      }
      const error = yield* Effect.flip(projections.verify({ onProgress: 42 } as never))
      expect(error).toMatchObject({ _tag: "InvalidInput", field: "onProgress" })
    })))
})

describe("Projections on a shared file", () => {
  it.scoped("a rebuild touches only its own project", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      // A file database is one project: the second is hand-composed on the same file.
      const alpha = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "alpha" }))
      const beta = yield* projectOn(alpha, "beta")
      yield* fullWorkload.pipe(Effect.provide(beta))
      const betaBefore = yield* dumpProjections.pipe(Effect.provide(beta))
      yield* fullWorkload.pipe(Effect.provide(alpha))
      const summary = yield* Effect.flatMap(Projections, (p) => p.rebuild()).pipe(Effect.provide(alpha))
      expect(summary.rows.pilots).toBe(3)
      expect(yield* dumpProjections.pipe(Effect.provide(beta))).toEqual(betaBefore)
      expect(yield* Effect.flatMap(Projections, (p) => p.verify()).pipe(Effect.provide(beta))).toEqual([])
      expect(yield* Effect.flatMap(Projections, (p) => p.verify()).pipe(Effect.provide(alpha))).toEqual([])
    }))

  it.scoped("staging tables of a rebuild killed long ago are dropped by the next one", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const layer = FleetDb.layerFile({ projectPath: dir })
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* TestClock.adjust(10 * 3_600_000)
        const old = `fleet_rebuild_${(3_600_000).toString(36)}_abc_pilots`
        const recent = `fleet_rebuild_${(10 * 3_600_000 - 60_000).toString(36)}_abc_pilots`
        yield* sql`CREATE TABLE ${sql(old)} (x)`
        yield* sql`CREATE TABLE ${sql(recent)} (x)`
        yield* Effect.flatMap(Projections, (p) => p.rebuild())
        // The recent one may belong to a rebuild still running in another process.
        expect(yield* stagingTables).toEqual([recent])
      }).pipe(Effect.provide(layer))
    }))
})
