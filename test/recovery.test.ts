/**
 * Lost pilots: `Pilots.sweep` releases what a silent pilot held and reopens its work, in one
 * command per pilot, idempotently; a pilot that comes back is active again.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Option, TestClock } from "effect"
import {
  Checkpoints,
  Events,
  FleetDb,
  Locks,
  Pilots,
  Projections,
  Reservations,
  Sorties
} from "../src/index.js"
import { backends } from "./support/backends.js"

const MINUTE = 60_000

/** viper-1 (to be lost) and viper-2 (active) with locks, reservations, sorties and checkpoints. */
const scene = Effect.gen(function*() {
  const pilots = yield* Pilots
  const sorties = yield* Sorties
  const locks = yield* Locks
  const reservations = yield* Reservations
  const checkpoints = yield* Checkpoints
  yield* TestClock.adjust(1_000)
  yield* pilots.register({ callsign: "viper-1" })
  yield* pilots.register({ callsign: "viper-2" })
  const working = yield* sorties.create({ title: "working" })
  const blocked = yield* sorties.create({ title: "blocked" })
  const done = yield* sorties.create({ title: "done" })
  const others = yield* sorties.create({ title: "viper-2's" })
  const open = yield* sorties.create({ title: "open" })
  yield* sorties.claim(working.id, "viper-1")
  yield* sorties.claim(blocked.id, "viper-1")
  yield* sorties.claim(done.id, "viper-1")
  yield* sorties.claim(others.id, "viper-2")
  yield* sorties.block(blocked.id, "waiting")
  yield* sorties.complete(done.id)
  yield* checkpoints.create({ callsign: "viper-1", trigger: "auto", sortie_id: working.id, progress_percent: 10 })
  yield* TestClock.adjust(10)
  const latest = yield* checkpoints.create({ callsign: "viper-1", trigger: "manual", sortie_id: working.id, progress_percent: 60 })
  yield* locks.acquire("build", { holder: "viper-1", ttl: "1 hour" })
  yield* locks.acquire("short", { holder: "viper-1", ttl: "1 second" })
  yield* locks.acquire("deploy", { holder: "viper-2", ttl: "1 hour" })
  yield* reservations.reserve({ callsign: "viper-1", paths: ["src/auth/**", "docs/a.md"], ttl: "1 hour" })
  yield* reservations.reserve({ callsign: "viper-1", paths: ["tmp/**"], ttl: "1 second" })
  yield* reservations.reserve({ callsign: "viper-2", paths: ["src/ui/**"], ttl: "1 hour" })
  return { working, blocked, done, others, open, latest }
})

describe.each(backends.map((b) => [b.name, b] as const))("Pilots.sweep on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("releases a lost pilot's locks and reservations and reopens its sorties, in one command", () =>
    run(Effect.gen(function*() {
      const { blocked, latest, others, working } = yield* scene
      const pilots = yield* Pilots
      const events = yield* Events
      const sorties = yield* Sorties
      const locks = yield* Locks
      const reservations = yield* Reservations
      yield* TestClock.adjust(5 * MINUTE)
      yield* pilots.heartbeat("viper-2")
      yield* TestClock.adjust(6 * MINUTE)
      const before = yield* events.latestSequence

      const lost = yield* pilots.sweep({ staleAfter: "10 minutes" })
      expect(lost).toEqual([{
        callsign: "viper-1",
        last_active_at: DateTime.unsafeMake(1_000),
        released_locks: ["build", "short"],
        released_reservations: ["src/auth/**", "docs/a.md"],
        reopened_sorties: [
          { sortie_id: working.id, checkpoint_id: latest.id },
          { sortie_id: blocked.id, checkpoint_id: null }
        ].sort((a, b) => a.sortie_id.localeCompare(b.sortie_id))
      }])

      const appended = yield* events.read({ after: before })
      expect(appended.map((e) => e.type)).toEqual([
        "pilot_lost",
        "lock_released",
        "lock_released",
        "file_released",
        "sortie_released",
        "sortie_released"
      ])
      // All of it in one transaction: one timestamp.
      expect(new Set(appended.map((e) => e.timestamp.epochMillis)).size).toBe(1)
      for (const event of appended.slice(1)) expect((event.data as { reason: string }).reason).toBe("pilot_lost")
      const reopenedWorking = appended.find((e) => e.type === "sortie_released" && (e.data as { sortie_id: string }).sortie_id === working.id)
      expect(reopenedWorking?.data).toEqual({
        sortie_id: working.id,
        callsign: "viper-1",
        from: "in_progress",
        reason: "pilot_lost",
        checkpoint_id: latest.id
      })
      const reopenedBlocked = appended.find((e) => e.type === "sortie_released" && (e.data as { sortie_id: string }).sortie_id === blocked.id)
      expect(reopenedBlocked?.data).toMatchObject({ from: "blocked", callsign: "viper-1", checkpoint_id: null })

      for (const id of [working.id, blocked.id]) {
        const sortie = yield* sorties.get(id)
        expect(sortie).toMatchObject({ status: "open", assigned_to: null, started_at: null, blocked_reason: null })
      }
      // viper-2's things are untouched.
      expect((yield* sorties.get(others.id)).assigned_to).toBe("viper-2")
      expect((yield* locks.list()).map((l) => l.lock_key)).toEqual(["deploy"])
      expect((yield* reservations.active()).map((r) => r.path_pattern)).toEqual(["src/ui/**"])
      // What viper-1 held is free for the next pilot, and its work can be resumed.
      yield* locks.acquire("build", { holder: "viper-3", ttl: "1 minute" })
      yield* reservations.reserve({ callsign: "viper-3", paths: ["src/auth/x.ts"], ttl: "1 minute" })
      const next = yield* sorties.claimNext("viper-3")
      expect(Option.map(next, (s) => s.id)).toEqual(Option.some([working.id, blocked.id].sort()[0]))
      expect(yield* Effect.flatMap(Projections, (p) => p.verify())).toEqual([])
    })))

  it.effect("is idempotent, and a pilot that heartbeats again is active again", () =>
    run(Effect.gen(function*() {
      yield* scene
      const pilots = yield* Pilots
      const events = yield* Events
      yield* TestClock.adjust(11 * MINUTE)
      expect((yield* pilots.sweep({ staleAfter: "10 minutes" })).map((p) => p.callsign)).toEqual(["viper-1", "viper-2"])
      const after = yield* events.latestSequence
      expect(yield* pilots.sweep({ staleAfter: "10 minutes" })).toEqual([])
      expect(yield* events.latestSequence).toBe(after)

      yield* pilots.heartbeat("viper-1")
      yield* TestClock.adjust(5 * MINUTE)
      expect(yield* pilots.sweep({ staleAfter: "10 minutes" })).toEqual([])
      yield* TestClock.adjust(6 * MINUTE)
      const again = yield* pilots.sweep({ staleAfter: "10 minutes" })
      expect(again).toEqual([{
        callsign: "viper-1",
        last_active_at: DateTime.unsafeMake(1_010 + 11 * MINUTE),
        released_locks: [],
        released_reservations: [],
        reopened_sorties: []
      }])
      // A registration also counts as coming back.
      yield* pilots.register({ callsign: "viper-2" })
      yield* TestClock.adjust(11 * MINUTE)
      expect((yield* pilots.sweep({ staleAfter: "10 minutes" })).map((p) => p.callsign)).toEqual(["viper-2"])
      expect((yield* events.read({ types: ["pilot_lost"] })).length).toBe(4)
      expect(yield* Effect.flatMap(Projections, (p) => p.verify())).toEqual([])
    })))

  it.effect("leaves pilots that are not stale yet alone", () =>
    run(Effect.gen(function*() {
      yield* scene
      const pilots = yield* Pilots
      yield* TestClock.adjust(10 * MINUTE - 30)
      expect(yield* pilots.sweep({ staleAfter: "10 minutes" })).toEqual([])
      expect(yield* pilots.sweep({ staleAfter: 10 * MINUTE })).toEqual([])
      expect((yield* pilots.sweep({ staleAfter: "1 minute" })).length).toBe(2)
    })))

  it.effect("bad staleAfter: InvalidInput naming it, nothing written", () =>
    run(Effect.gen(function*() {
      yield* scene
      const pilots = yield* Pilots
      const events = yield* Events
      yield* TestClock.adjust(60 * MINUTE)
      const before = yield* events.latestSequence
      for (const bad of [-1, 0, Number.NaN, "soon", null, undefined, {}, 1e15]) {
        const error = yield* Effect.flip(pilots.sweep({ staleAfter: bad as never }))
        expect(error).toMatchObject({ _tag: "InvalidInput", field: "staleAfter" })
      }
      expect(yield* Effect.flip(pilots.sweep(null as never))).toMatchObject({ _tag: "InvalidInput", field: "staleAfter" })
      expect(yield* events.latestSequence).toBe(before)
    })))
})

describe("Pilots.sweep across projects", () => {
  it.effect("sweeps only its own project's pilots", () =>
    Effect.gen(function*() {
      const layer = FleetDb.layerMemory()
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const pilots = yield* Pilots
        yield* TestClock.adjust(1_000)
        yield* pilots.register({ callsign: "mine" })
        // Another project's stale pilot in the same database.
        yield* sql`INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES ('other', 'theirs', 1, 1)`
        yield* sql`INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, fence) VALUES ('other', 'k', 'theirs', 1, 9999999999, 1)`
        yield* TestClock.adjust(60 * MINUTE)
        expect((yield* pilots.sweep({ staleAfter: "1 minute" })).map((p) => p.callsign)).toEqual(["mine"])
        const theirs = yield* sql<{ lost_at: number | null }>`SELECT lost_at FROM pilots WHERE project_key = 'other'`
        expect(theirs[0]!.lost_at).toBeNull()
        const lock = yield* sql<{ released_at: number | null }>`SELECT released_at FROM locks WHERE project_key = 'other'`
        expect(lock[0]!.released_at).toBeNull()
      }).pipe(Effect.provide(layer))
    }))
})
