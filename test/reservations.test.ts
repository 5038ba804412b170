/**
 * Reservations on every backend: all-or-nothing reserve with every conflict listed, shared vs
 * exclusive, re-reserve and renew (TestClock), expiry, release, read-only conflicts, input
 * validation, project isolation, rows written by other tools.
 */
import { SqlClient } from "@effect/sql"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Either, Exit, Fiber, Layer, TestClock, Tracer } from "effect"
import {
  Events,
  FleetDb,
  FleetProject,
  InvalidInput,
  Paths,
  ReservationConflict,
  ReservationNotHeld,
  Reservations,
  Sorties
} from "../src/index.js"
import type { FleetEvent } from "../src/index.js"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { backends, projectOn, tempDir } from "./support/backends.js"

const MINUTE = 60_000

/** The failure of an effect that must fail, as a value. */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail"
      ? Effect.succeed(exit.cause.error)
      : Effect.dieMessage(`expected a failure, got ${String(exit)}`))

const eventsOf = (type: string) =>
  Effect.flatMap(Events, (events) => events.read({ types: [type] })) as Effect.Effect<ReadonlyArray<FleetEvent>, never, Events>

const activeSummary = Effect.flatMap(Reservations, (r) => r.active()).pipe(
  Effect.map((rows) => rows.map((row) => `${row.callsign}:${row.path_pattern}:${row.exclusive ? "x" : "s"}`))
)

describe.each(backends.map((b) => [b.name, b] as const))("Reservations on %s", (_, backend) => {
  const provide = <A, E>(effect: Effect.Effect<A, E, Reservations | Events | SqlClient.SqlClient | FleetProject>) =>
    Effect.provide(effect, backend.layer())

  it.effect("reserves several patterns, normalised, exclusive by default, with one file_reserved event", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const rows = yield* res.reserve({
        callsign: "viper-1",
        paths: ["./src\\a.ts", "docs/**", "src/a.ts"],
        reason: "refactor",
        ttl: "5 minutes"
      })
      expect(rows.map((r) => r.path_pattern)).toEqual(["src/a.ts", "docs/**"])
      expect(rows.every((r) => r.exclusive && r.callsign === "viper-1" && r.reason === "refactor")).toBe(true)
      expect(rows.map((r) => r.expires_at.epochMillis)).toEqual([5 * MINUTE, 5 * MINUTE])
      expect(rows.every((r) => r.released_at === null)).toBe(true)
      expect(yield* activeSummary).toEqual(["viper-1:src/a.ts:x", "viper-1:docs/**:x"])

      const [event] = yield* eventsOf("file_reserved")
      expect(event?.data).toEqual({
        callsign: "viper-1",
        reservations: rows.map((r) => ({ reservation_id: r.id, path_pattern: r.path_pattern, renewed: false })),
        exclusive: true,
        reason: "refactor",
        expires_at: DateTime.unsafeMake(5 * MINUTE)
      })
    })))

  it.effect("refuses an overlapping exclusive request, listing every conflict, and writes nothing", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const events = yield* Events
      yield* res.reserve({ callsign: "alpha", paths: ["src/**"], ttl: MINUTE })
      yield* res.reserve({ callsign: "bravo", paths: ["lib/a/*.ts"], exclusive: false, ttl: 2 * MINUTE })
      const before = yield* events.latestSequence
      const activeBefore = yield* activeSummary

      const error = yield* failure(res.reserve({
        callsign: "charlie",
        paths: ["docs/free.md", "src/api/x.ts", "lib/**/x.ts", "src/*.ts"],
        ttl: MINUTE
      }))
      expect(error).toBeInstanceOf(ReservationConflict)
      expect((error as ReservationConflict).conflicts).toEqual([
        { path: "src/api/x.ts", holder: "alpha", pattern: "src/**", exclusive: true, expires_at: DateTime.unsafeMake(MINUTE) },
        { path: "lib/**/x.ts", holder: "bravo", pattern: "lib/a/*.ts", exclusive: false, expires_at: DateTime.unsafeMake(2 * MINUTE) },
        { path: "src/*.ts", holder: "alpha", pattern: "src/**", exclusive: true, expires_at: DateTime.unsafeMake(MINUTE) }
      ])
      // All or nothing: the free path was not reserved either, and no event was appended.
      expect(yield* events.latestSequence).toBe(before)
      expect(yield* activeSummary).toEqual(activeBefore)
      expect(yield* res.active({ callsign: "charlie" })).toEqual([])
    })))

  it.effect("active({ limit }) gives the oldest first; countActive counts every active reservation; a bad limit is InvalidInput", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      yield* res.reserve({ callsign: "alpha", paths: ["a/1", "a/2"], ttl: MINUTE })
      yield* res.reserve({ callsign: "bravo", paths: ["b/1"], ttl: 2 * MINUTE })
      yield* res.reserve({ callsign: "alpha", paths: ["a/3"], ttl: MINUTE })
      yield* res.release({ callsign: "alpha", paths: ["a/2"] })
      expect((yield* res.active({ limit: 2 })).map((r) => r.path_pattern)).toEqual(["a/1", "b/1"])
      expect((yield* res.active({ callsign: "alpha", limit: 1 })).map((r) => r.path_pattern)).toEqual(["a/1"])
      expect(yield* res.countActive()).toBe(3)
      yield* TestClock.adjust(MINUTE)
      expect(yield* res.countActive()).toBe(1)
      for (const limit of [0, 0.5, 10_001]) {
        expect(yield* Effect.flip(res.active({ limit }))).toMatchObject({ _tag: "InvalidInput", field: "limit" })
      }
    })))

  it.effect("disjoint patterns do not conflict; a pilot's own overlapping patterns never do", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      yield* res.reserve({ callsign: "alpha", paths: ["src/*.ts"], ttl: MINUTE })
      yield* res.reserve({ callsign: "bravo", paths: ["src/a/b.ts", "src/*.js", "docs/**", "srcx/a.ts"], ttl: MINUTE })
      yield* res.reserve({ callsign: "alpha", paths: ["src/**", "src/a.ts"], ttl: MINUTE }).pipe(
        Effect.flip,
        Effect.map((e) => expect(e._tag).toBe("ReservationConflict"))
      )
      yield* res.reserve({ callsign: "alpha", paths: ["src/x.ts", "src/*.tsx"], ttl: MINUTE })
      expect((yield* res.active({ callsign: "alpha" })).map((r) => r.path_pattern)).toEqual(["src/*.ts", "src/x.ts", "src/*.tsx"])
    })))

  it.effect("shared reservations coexist; exclusive ones conflict with shared ones both ways", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      yield* res.reserve({ callsign: "alpha", paths: ["src/**"], exclusive: false, ttl: MINUTE })
      yield* res.reserve({ callsign: "bravo", paths: ["src/a.ts"], exclusive: false, ttl: MINUTE })

      const exclusive = yield* failure(res.reserve({ callsign: "charlie", paths: ["src/a.ts"], ttl: MINUTE }))
      expect((exclusive as ReservationConflict).conflicts.map((c) => c.holder)).toEqual(["alpha", "bravo"])

      yield* res.reserve({ callsign: "charlie", paths: ["lib/**"], ttl: MINUTE })
      const shared = yield* failure(res.reserve({ callsign: "delta", paths: ["lib/x.ts"], exclusive: false, ttl: MINUTE }))
      expect((shared as ReservationConflict).conflicts).toEqual([
        { path: "lib/x.ts", holder: "charlie", pattern: "lib/**", exclusive: true, expires_at: DateTime.unsafeMake(MINUTE) }
      ])
      expect(yield* activeSummary).toEqual(["alpha:src/**:s", "bravo:src/a.ts:s", "charlie:lib/**:x"])
    })))

  it.effect("an expired reservation no longer conflicts (expiry is exclusive of expires_at)", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      yield* res.reserve({ callsign: "alpha", paths: ["src/**"], ttl: "10 seconds" })
      yield* TestClock.adjust("9999 millis")
      const early = yield* failure(res.reserve({ callsign: "bravo", paths: ["src/a.ts"], ttl: MINUTE }))
      expect(early).toBeInstanceOf(ReservationConflict)
      yield* TestClock.adjust("1 millis")
      expect(yield* res.conflicts({ callsign: "bravo", paths: ["src/a.ts"] })).toEqual([])
      const rows = yield* res.reserve({ callsign: "bravo", paths: ["src/a.ts"], ttl: MINUTE })
      expect(rows[0]!.expires_at.epochMillis).toBe(10_000 + MINUTE)
      expect(yield* activeSummary).toEqual(["bravo:src/a.ts:x"])
    })))

  it.effect("re-reserving an own pattern updates that row (expiry, exclusive, reason) instead of adding one", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const [first] = yield* res.reserve({ callsign: "alpha", paths: ["src/a.ts"], reason: "one", ttl: MINUTE })
      yield* TestClock.adjust("30 seconds")
      const [again, fresh] = yield* res.reserve({
        callsign: "alpha",
        paths: ["./src/a.ts", "src/b.ts"],
        exclusive: false,
        reason: "two",
        ttl: MINUTE
      })
      expect(again!.id).toBe(first!.id)
      expect(again!.expires_at.epochMillis).toBe(30_000 + MINUTE)
      expect(again!.exclusive).toBe(false)
      expect(again!.reason).toBe("two")
      expect(again!.created_at.epochMillis).toBe(0)
      expect(fresh!.id).not.toBe(first!.id)
      expect(yield* activeSummary).toEqual(["alpha:src/a.ts:s", "alpha:src/b.ts:s"])

      const reserved = yield* eventsOf("file_reserved")
      expect(reserved).toHaveLength(2)
      expect((reserved[1]!.data as { reservations: unknown }).reservations).toEqual([
        { reservation_id: first!.id, path_pattern: "src/a.ts", renewed: true },
        { reservation_id: fresh!.id, path_pattern: "src/b.ts", renewed: false }
      ])
      // The original reservation outlives its first TTL.
      yield* TestClock.adjust("45 seconds")
      expect(yield* res.conflicts({ callsign: "bravo", paths: ["src/a.ts"] })).toHaveLength(1)
    })))

  it.effect("re-reserving as exclusive still checks other pilots' shared reservations", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      yield* res.reserve({ callsign: "alpha", paths: ["src/a.ts"], exclusive: false, ttl: MINUTE })
      yield* res.reserve({ callsign: "bravo", paths: ["src/**"], exclusive: false, ttl: MINUTE })
      const error = yield* failure(res.reserve({ callsign: "alpha", paths: ["src/a.ts"], ttl: MINUTE }))
      expect((error as ReservationConflict).conflicts.map((c) => c.holder)).toEqual(["bravo"])
      expect(yield* activeSummary).toEqual(["alpha:src/a.ts:s", "bravo:src/**:s"])
    })))

  it.effect("renew extends the lease from now; a pattern not held fails and renews nothing", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const events = yield* Events
      yield* res.reserve({ callsign: "alpha", paths: ["src/**", "docs/a.md"], ttl: "10 seconds" })
      yield* TestClock.adjust("5 seconds")
      const renewed = yield* res.renew({ callsign: "alpha", paths: ["src/**"], ttl: "10 seconds" })
      expect(renewed.map((r) => [r.path_pattern, r.expires_at.epochMillis])).toEqual([["src/**", 15_000]])
      const [event] = yield* eventsOf("file_renewed")
      expect(event?.data).toEqual({
        callsign: "alpha",
        reservations: [{ reservation_id: renewed[0]!.id, path_pattern: "src/**" }],
        expires_at: DateTime.unsafeMake(15_000)
      })

      const before = yield* events.latestSequence
      const notHeld = yield* failure(res.renew({ callsign: "alpha", paths: ["src/**", "lib/x.ts"], ttl: MINUTE }))
      expect(notHeld).toEqual(new ReservationNotHeld({ callsign: "alpha", paths: ["lib/x.ts"] }))
      const otherPilot = yield* failure(res.renew({ callsign: "bravo", paths: ["src/**"], ttl: MINUTE }))
      expect(otherPilot).toBeInstanceOf(ReservationNotHeld)
      expect(yield* events.latestSequence).toBe(before)

      // At 14 s the renewed one still holds; docs/a.md expired at 10 s and cannot be renewed.
      yield* TestClock.adjust("9 seconds")
      expect(yield* res.conflicts({ callsign: "bravo", paths: ["src/x.ts", "docs/a.md"] })).toEqual([
        { path: "src/x.ts", holder: "alpha", pattern: "src/**", exclusive: true, expires_at: DateTime.unsafeMake(15_000) }
      ])
      expect(yield* failure(res.renew({ callsign: "alpha", paths: ["docs/a.md"], ttl: MINUTE }))).toBeInstanceOf(
        ReservationNotHeld
      )
      // Renewing everything renews only what is still active.
      const all = yield* res.renew({ callsign: "alpha", ttl: MINUTE })
      expect(all.map((r) => r.path_pattern)).toEqual(["src/**"])
      yield* TestClock.adjust("2 minutes")
      expect(yield* res.renew({ callsign: "alpha", ttl: MINUTE })).toEqual([])
      expect(yield* eventsOf("file_renewed")).toHaveLength(2)
    })))

  it.effect("release some, then all; releasing frees the paths for others", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const events = yield* Events
      yield* res.reserve({ callsign: "alpha", paths: ["src/a.ts", "src/b.ts", "docs/**"], ttl: MINUTE })
      yield* TestClock.adjust("1 second")
      const some = yield* res.release({ callsign: "alpha", paths: ["src\\a.ts", "not/held.ts"] })
      expect(some.map((r) => [r.path_pattern, r.released_at?.epochMillis])).toEqual([["src/a.ts", 1_000]])
      expect(yield* activeSummary).toEqual(["alpha:src/b.ts:x", "alpha:docs/**:x"])
      yield* res.reserve({ callsign: "bravo", paths: ["src/a.ts"], ttl: MINUTE })
      // Releasing another pilot's pattern is a no-op for that other pilot.
      expect(yield* res.release({ callsign: "bravo", paths: ["src/b.ts"] })).toEqual([])

      const rest = yield* res.release({ callsign: "alpha" })
      expect(rest.map((r) => r.path_pattern)).toEqual(["src/b.ts", "docs/**"])
      expect(yield* activeSummary).toEqual(["bravo:src/a.ts:x"])

      const before = yield* events.latestSequence
      expect(yield* res.release({ callsign: "alpha" })).toEqual([])
      expect(yield* events.latestSequence).toBe(before)
      const released = yield* eventsOf("file_released")
      expect(released.map((e) => e.data)).toEqual([
        { callsign: "alpha", reservations: [{ reservation_id: some[0]!.id, path_pattern: "src/a.ts" }], reason: "released" },
        {
          callsign: "alpha",
          reservations: rest.map((r) => ({ reservation_id: r.id, path_pattern: r.path_pattern })),
          reason: "released"
        }
      ])
    })))

  it.effect("conflicts() answers what reserve would refuse, and writes nothing", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const events = yield* Events
      yield* res.reserve({ callsign: "alpha", paths: ["src/**"], exclusive: false, ttl: MINUTE })
      const before = yield* events.latestSequence
      const found = yield* res.conflicts({ callsign: "bravo", paths: ["src/a.ts", "docs/x.md"] })
      expect(found).toEqual([{ path: "src/a.ts", holder: "alpha", pattern: "src/**", exclusive: false, expires_at: DateTime.unsafeMake(MINUTE) }])
      expect(yield* res.conflicts({ callsign: "bravo", paths: ["src/a.ts"], exclusive: false })).toEqual([])
      expect(yield* res.conflicts({ callsign: "alpha", paths: ["src/a.ts"] })).toEqual([])
      const refused = yield* failure(res.reserve({ callsign: "bravo", paths: ["src/a.ts", "docs/x.md"], ttl: MINUTE }))
      expect((refused as ReservationConflict).conflicts).toEqual(found)
      expect(yield* events.latestSequence).toBe(before)
      expect(yield* activeSummary).toEqual(["alpha:src/**:s"])
    })))

  it.effect("bad input is InvalidInput naming the field, and writes nothing", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const events = yield* Events
      const field = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.map(failure(effect), (error) => {
          expect(error).toBeInstanceOf(InvalidInput)
          return (error as InvalidInput).field
        })
      const ok = { callsign: "alpha", paths: ["src/a.ts"], ttl: MINUTE }
      expect(yield* field(res.reserve({ ...ok, callsign: "" }))).toBe("callsign")
      expect(yield* field(res.reserve({ ...ok, paths: [] }))).toBe("paths")
      expect(yield* field(res.reserve({ ...ok, paths: [""] }))).toBe("paths.0")
      expect(yield* field(res.reserve({ ...ok, paths: ["src/a.ts", "../x"] }))).toBe("paths.1")
      const escaping = yield* failure(res.reserve({ ...ok, paths: ["src/a.ts", "../x"] }))
      expect(escaping.message).toBe("Invalid paths.1: must stay inside the project (a \"..\" goes above the project root)")
      const tooMany = yield* failure(res.reserve({ ...ok, paths: Array.from({ length: 101 }, (_, i) => `f${i}`) }))
      expect(tooMany.message).toBe("Invalid paths: must list at most 100 path patterns")
      expect(yield* field(res.reserve({ ...ok, paths: ["a/../../x"] }))).toBe("paths.0")
      expect(yield* field(res.reserve({ ...ok, paths: ["C:\\x\\y.ts"] }))).toBe("paths.0")
      expect(yield* field(res.reserve({ ...ok, paths: ["a\u0000b"] }))).toBe("paths.0")
      expect(yield* field(res.reserve({ ...ok, paths: ["x".repeat(1025)] }))).toBe("paths.0")
      expect(yield* field(res.reserve({ ...ok, paths: Array.from({ length: 101 }, (_, i) => `f${i}`) }))).toBe("paths")
      expect(yield* field(res.reserve({ ...ok, paths: "src/a.ts" as unknown as Array<string> }))).toBe("paths")
      expect(yield* field(res.reserve({ ...ok, ttl: -1 }))).toBe("ttl")
      expect(yield* field(res.reserve({ ...ok, ttl: 0 }))).toBe("ttl")
      expect(yield* field(res.reserve({ ...ok, ttl: "soon" as unknown as number }))).toBe("ttl")
      expect(yield* field(res.reserve({ ...ok, exclusive: "yes" as unknown as boolean }))).toBe("exclusive")
      expect(yield* field(res.renew({ callsign: "alpha", paths: ["../x"], ttl: MINUTE }))).toBe("paths.0")
      expect(yield* field(res.renew({ callsign: "alpha", ttl: "forever" as unknown as number }))).toBe("ttl")
      expect(yield* field(res.release({ callsign: "alpha", paths: [] }))).toBe("paths")
      expect(yield* field(res.conflicts({ callsign: "alpha", paths: ["/ok", "\u0001"] }))).toBe("paths.1")
      expect(yield* field(res.active({ callsign: " x" }))).toBe("callsign")
      // SQL metacharacters are just characters.
      yield* res.reserve({ ...ok, paths: ["src/'; DROP TABLE reservations; --.ts"] })
      expect(yield* activeSummary).toEqual(["alpha:src/'; DROP TABLE reservations; --.ts:x"])
      // Only the valid reserve wrote anything.
      expect((yield* events.read()).map((e) => e.type)).toEqual(["file_reserved"])
    })))

  it.effect("rows written by other tools: NULL exclusive counts as exclusive, patterns are compared normalised", () =>
    provide(Effect.gen(function*() {
      const res = yield* Reservations
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      yield* sql`INSERT INTO reservations (project_key, callsign, path_pattern, exclusive, created_at, expires_at)
                 VALUES (${projectKey}, 'legacy', './src\\api', NULL, 0, ${MINUTE})`
      yield* TestClock.adjust("1 millis")
      const found = yield* res.conflicts({ callsign: "bravo", paths: ["src/api/x.ts"], exclusive: false })
      expect(found).toEqual([{ path: "src/api/x.ts", holder: "legacy", pattern: "./src\\api", exclusive: true, expires_at: DateTime.unsafeMake(MINUTE) }])
      expect((yield* res.active()).map((r) => [r.callsign, r.exclusive])).toEqual([["legacy", true]])
      // The legacy holder re-reserving the same pattern, written another way, updates its row.
      const [row] = yield* res.reserve({ callsign: "legacy", paths: ["src/api"], ttl: 2 * MINUTE })
      expect(row!.expires_at.epochMillis).toBe(1 + 2 * MINUTE)
      expect(yield* res.active()).toHaveLength(1)
      expect((yield* res.release({ callsign: "legacy", paths: ["src/api/"] })).map((r) => r.id)).toEqual([row!.id])
    })))
})

describe("Reservations across projects and connections", () => {
  it.scoped("two project keys on one database never see each other's reservations", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      // A file database is one project: the second is hand-composed on the same file.
      const alpha = yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "alpha" }))
      const beta = yield* projectOn(alpha, "beta")
      const inAlpha = <A, E>(effect: Effect.Effect<A, E, Reservations>) => Effect.provide(effect, alpha)
      const inBeta = <A, E>(effect: Effect.Effect<A, E, Reservations>) => Effect.provide(effect, beta)

      yield* inAlpha(Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "viper", paths: ["src/**"], ttl: MINUTE })))
      // Same file, same pattern, same and different callsigns: no conflict across projects.
      const shared = { exclusive: false, ttl: MINUTE }
      yield* inBeta(Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "other", paths: ["src/a.ts"], ...shared })))
      yield* inBeta(Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "viper", paths: ["src/**"], ...shared })))
      expect(yield* inBeta(Effect.flatMap(Reservations, (r) => r.conflicts({ callsign: "x", paths: ["src/a.ts"] }))))
        .toEqual([
          { path: "src/a.ts", holder: "other", pattern: "src/a.ts", exclusive: false, expires_at: DateTime.unsafeMake(MINUTE) },
          { path: "src/a.ts", holder: "viper", pattern: "src/**", exclusive: false, expires_at: DateTime.unsafeMake(MINUTE) }
        ])
      expect((yield* inAlpha(Effect.flatMap(Reservations, (r) => r.active()))).map((r) => r.callsign)).toEqual(["viper"])
      // Releasing in one project leaves the other's rows alone.
      expect(yield* inAlpha(Effect.flatMap(Reservations, (r) => r.release({ callsign: "viper" })))).toHaveLength(1)
      expect(yield* inBeta(Effect.flatMap(Reservations, (r) => r.active({ callsign: "viper" })))).toHaveLength(1)
      expect(yield* inAlpha(Effect.flatMap(Reservations, (r) => r.renew({ callsign: "viper", ttl: MINUTE })))).toEqual([])
      expect(yield* inBeta(Effect.flatMap(Reservations, (r) => r.renew({ callsign: "viper", ttl: MINUTE })))).toHaveLength(1)
    }))

  it.live("conflicts() is a plain read: it answers while another connection holds the write lock", () =>
    Effect.scoped(Effect.gen(function*() {
      const projectPath = yield* tempDir
      const writer = yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "p" }))
      const reader = yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "p", busyTimeout: 100, busyRetries: 0 }))
      yield* Effect.provide(
        Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "alpha", paths: ["src/**"], ttl: "10 minutes" })),
        writer
      )

      const locked = yield* Deferred.make<void>()
      const done = yield* Deferred.make<void>()
      const holder = yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql.withTransaction(Effect.gen(function*() {
            yield* sql`UPDATE reservations SET reason = 'held' WHERE project_key = 'p'`
            yield* Deferred.succeed(locked, undefined)
            yield* Deferred.await(done)
          }))),
        writer
      ).pipe(Effect.fork)
      yield* Deferred.await(locked)

      const res = yield* Effect.provide(Reservations, reader)
      const found = yield* res.conflicts({ callsign: "bravo", paths: ["src/a.ts"] })
      expect(found.map((c) => c.holder)).toEqual(["alpha"])
      // A write from the same connection cannot get in: proof the read took no write lock.
      const blocked = yield* Effect.exit(res.reserve({ callsign: "bravo", paths: ["docs/a.md"], ttl: "1 minute" }))
      expect(Exit.isFailure(blocked)).toBe(true)

      yield* Deferred.succeed(done, undefined)
      yield* Fiber.join(holder)
      expect((yield* res.reserve({ callsign: "bravo", paths: ["docs/a.md"], ttl: "1 minute" })).map((r) => r.path_pattern))
        .toEqual(["docs/a.md"])
    })))
})

/**
 * Issue 18, "a path is a path": a held reservation against every spelling of the same file.
 * Each row runs on a fresh database; `root` is how absolute paths spell the project root.
 */
describe("one canonical path per file", () => {
  // NFC `é` in the held pattern; spellings below use NFD (`e` + U+0301) where marked.
  const HELD = "src/caf\u00e9/main.rs"
  const NFD = "src/cafe\u0301/main.rs"

  type Expect = "conflict" | "free" | "invalid"
  /** Spellings of HELD (or not) and what an exclusive request by another pilot must meet. */
  const table = (root: string | undefined, caseInsensitive: boolean): ReadonlyArray<readonly [string, Expect]> => [
    [HELD, "conflict"],
    [`  ${HELD}  `, "conflict"],
    [`\t${HELD}\n`, "conflict"],
    [NFD, "conflict"],
    [`./${HELD}`, "conflict"],
    ["src//caf\u00e9//main.rs", "conflict"],
    [`${HELD}/`, "conflict"],
    ["src/x/../caf\u00e9/main.rs", "conflict"],
    ["src\\caf\u00e9\\main.rs", "conflict"],
    ["SRC/CAF\u00c9/main.rs", caseInsensitive ? "conflict" : "free"],
    ["src/caf\u00e9/MAIN.RS", caseInsensitive ? "conflict" : "free"],
    ["src/caf\u00e9/lib.rs", "free"],
    ["src/cafe/main.rs", "free"],
    ["src/caf\u00e9/main.rs.bak", "free"],
    ["../src/caf\u00e9/main.rs", "invalid"],
    ["src/../../caf\u00e9/main.rs", "invalid"],
    ["/elsewhere/src/caf\u00e9/main.rs", "invalid"],
    ...(root === undefined
      ? [[`/work/project/${HELD}`, "invalid"] as const]
      : [
        [`${root}/${HELD}`, "conflict"] as const,
        [`  ${root}//./${NFD}/ `, "conflict"] as const,
        [`${root}/src/../${HELD}`, "conflict"] as const,
        [`${root}/../${HELD}`, "invalid"] as const,
        [`${root}/..`, "invalid"] as const,
        [`${root}-sibling/${HELD}`, "invalid"] as const,
        [`${caseInsensitive ? root.toUpperCase() : `${root}/SRC/caf\u00e9`}/${caseInsensitive ? HELD : "main.rs"}`, caseInsensitive ? "conflict" : "free"] as const
      ])
  ]

  const runTable = (
    name: string,
    makeLayer: () => Layer.Layer<FleetDb.FleetServices, unknown>,
    root: string | undefined,
    caseInsensitive: boolean,
    /** The root refusals name: the canonical one. */
    namedRoot = root
  ) =>
    describe(name, () => {
      it.effect.each(table(root, caseInsensitive))("%j → %s", ([spelling, expected]) =>
        Effect.gen(function*() {
          const reservations = yield* Reservations
          yield* reservations.reserve({ callsign: "alpha", paths: [HELD], ttl: MINUTE })
          const asked = yield* Effect.either(reservations.conflicts({ callsign: "bravo", paths: [spelling] }))
          const taken = yield* Effect.either(reservations.reserve({ callsign: "bravo", paths: [spelling], ttl: MINUTE }))
          if (expected === "invalid") {
            expect(asked).toMatchObject({ _tag: "Left", left: { _tag: "InvalidInput", field: "paths.0" } })
            expect(taken).toMatchObject({ _tag: "Left", left: { _tag: "InvalidInput", field: "paths.0" } })
            if (spelling.startsWith("/") && root !== undefined && !spelling.startsWith(`${root}/..`)) {
              expect(taken._tag === "Left" && taken.left.message).toContain(`project root ${namedRoot}`)
            }
          } else if (expected === "conflict") {
            expect(asked).toMatchObject({ _tag: "Right", right: [{ holder: "alpha", pattern: HELD }] })
            expect(taken).toMatchObject({ _tag: "Left", left: { _tag: "ReservationConflict" } })
          } else {
            expect(asked).toMatchObject({ _tag: "Right", right: [] })
            expect(taken._tag).toBe("Right")
          }
          // Only the canonical spelling is ever stored.
          for (const row of yield* reservations.active()) {
            expect(row.path_pattern).not.toMatch(/^\s|\s$|^\/|\/\/|\/$|\\|\.\.|(^|\/)\.\//)
            expect(row.path_pattern).toBe(row.path_pattern.normalize("NFC"))
          }
          if (expected !== "invalid") {
            // The holder releases with the same spelling: an equivalent one releases its row.
            const released = yield* reservations.release({ callsign: "alpha", paths: [spelling] })
            expect(released.map((row) => row.path_pattern)).toEqual(expected === "conflict" ? [HELD] : [])
            // ...and renew finds it by any equivalent spelling too.
            if (expected === "free") {
              expect(yield* reservations.renew({ callsign: "alpha", paths: [NFD], ttl: MINUTE })).toHaveLength(1)
            }
          }
        }).pipe(Effect.provide(makeLayer())))
    })

  runTable("memory, no project root", () => FleetDb.layerMemory(), undefined, false)
  runTable(
    "memory, projectRoot, case-insensitive",
    () => FleetDb.layerMemory({ projectRoot: "/work/Project", caseInsensitive: true }),
    "/work/Project",
    true
  )

  // A file database opened through a symlink: absolute paths may use the real root or the link.
  const base = realpathSync(mkdtempSync(join(tmpdir(), "fleetdb-canon-")))
  const real = join(base, "real")
  const link = join(base, "link")
  mkdirSync(real)
  symlinkSync(real, link)
  afterAll(() => rmSync(base, { recursive: true, force: true }))
  let counter = 0
  const fileLayer = (caseInsensitive?: boolean) => () =>
    FleetDb.layerFile({ projectPath: link, filename: `t${counter++}.db`, caseInsensitive })
  runTable("file, real root (Linux tmp is case-sensitive)", fileLayer(), real, false)
  runTable("file, root as the symlink", fileLayer(), link, false, real)
  runTable("file, explicitly case-insensitive", fileLayer(true), real, true)

  it.effect("the file layer's root is the directory holding .fleet/, after symlinks; memory has none unless given", () =>
    Effect.gen(function*() {
      const project = yield* Effect.provide(FleetProject, fileLayer()())
      expect(project.root).toBe(real)
      expect(project.rootAliases).toEqual([link])
      expect(project.caseInsensitive).toBe(false)
      expect((yield* Effect.provide(FleetProject, FleetDb.layerMemory())).root).toBeUndefined()
    }))

  it.effect("sortie files are stored canonical, absolute ones placed under the root", () =>
    Effect.gen(function*() {
      const sorties = yield* Sorties
      const sortie = yield* sorties.create({ title: "t", files: [`${real}/${NFD}`, ` ${HELD} `, "src/x/../lib.rs"] })
      expect(sortie.files).toEqual([HELD, "src/lib.rs"])
      const bad = yield* failure(sorties.create({ title: "t", files: ["src/a.rs", "/etc/passwd"] }))
      expect(bad).toMatchObject({ _tag: "InvalidInput", field: "files.1" })
    }).pipe(Effect.provide(fileLayer()())))
})

/**
 * Issue 15, hostile globs: a reserve at the allowed maxima (100 patterns against 100 held) with
 * adversarial patterns spends a bounded amount of overlap work inside its write transaction,
 * counted in `Paths.Meter` steps (read from the `fleet.overlap_steps` attribute of each
 * `Reservations.reserve` span, one per transaction attempt), and still answers exactly.
 */
describe("hostile globs", () => {
  const a = (n: number) => "a".repeat(n)
  /** Single segments like `*a*aa*a…*aX`, literal runs of `a`, long fragments, `**` chains. */
  const hostile = (side: "held" | "wanted"): Array<string> =>
    Array.from({ length: 100 }, (_, i) => {
      const tag = `${side === "held" ? "X" : "Y"}${i}`
      switch (i % 4) {
        case 0:
          return ("*" + a(1 + (i % 3))).repeat(120).slice(0, 250) + "*" + tag
        case 1:
          return side === "held"
            ? Array.from({ length: 4 }, () => a(250) + "b").join("/")
            : Array.from({ length: 4 }, () => `*${a(100 + i)}c*`).join("/")
        case 2:
          return side === "held"
            ? `${"**/a*/".repeat(31)}${tag}.ts`
            : `${"a/".repeat(63)}${tag}.ts`
        default:
          return `${("*" + a(2)).repeat(80)}*/`.repeat(4) + tag
      }
    }).map((p) => p.slice(0, 1024).replace(/\/$/, ""))

  const recordSteps = Effect.gen(function*() {
    const steps: Array<number> = []
    const base = yield* Effect.tracer
    const tracer = Tracer.make({
      span: (name, ...rest) => {
        const span = base.span(name, ...rest)
        if (name !== "Reservations.reserve") return span
        const attribute = span.attribute.bind(span)
        span.attribute = (key, value) => {
          if (key === "fleet.overlap_steps") steps.push(Number(value))
          attribute(key, value)
        }
        return span
      },
      context: (f, fiber) => base.context(f, fiber)
    })
    return { tracer, steps }
  })

  it.effect("100 × 100 adversarial patterns: bounded work inside the transaction, exact answers", () =>
    Effect.gen(function*() {
      const held = hostile("held")
      const wanted = hostile("wanted")
      for (const p of [...held, ...wanted]) expect(Either.isRight(Paths.validate(p)), p).toBe(true)
      const reservations = yield* Reservations
      yield* reservations.reserve({ callsign: "alpha", paths: held, ttl: MINUTE })

      const { steps, tracer } = yield* recordSteps
      const taken = yield* reservations.reserve({ callsign: "bravo", paths: wanted, ttl: MINUTE, exclusive: false }).pipe(
        Effect.withTracer(tracer),
        Effect.either
      )
      // Every attempt's transaction stayed within its allowance (a step may overshoot by one
      // comparison run), and the first gave up: the patterns are costly enough to need the bound.
      for (const spent of steps) expect(spent).toBeLessThanOrEqual(Paths.TRANSACTION_OVERLAP_STEPS + 1_100)
      expect(steps.length).toBeGreaterThanOrEqual(2)
      expect(Paths.overlapWork()).toBeGreaterThan(Paths.TRANSACTION_OVERLAP_STEPS)
      // The answer is the exact one.
      const expected = wanted.flatMap((w) => [...new Set(held)].filter((h) => Paths.overlaps(w, h)).map((h) => `${w}|${h}`))
      if (expected.length === 0) expect(taken._tag).toBe("Right")
      else {
        expect(taken).toMatchObject({ _tag: "Left", left: { _tag: "ReservationConflict" } })
        const found = taken._tag === "Left" && taken.left._tag === "ReservationConflict" ? taken.left.conflicts : []
        expect(found.map((c) => `${c.path}|${c.pattern}`)).toEqual(expected)
      }
    }).pipe(Effect.provide(FleetDb.layerMemory())), 120_000)
})
