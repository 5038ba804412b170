/**
 * One time authority per database. Two "processes" (two layers on one database), each with its own
 * clock: on a file database the process clock decides, and activity, leases and the lost state stay
 * coherent whatever the other clock says; on a libSQL server the server's clock decides, so a
 * client whose clock runs ahead or behind can neither steal, shorten nor declare lost anything.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, DateTime, Duration, Effect, Exit, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import type { FleetServices } from "../src/FleetDb.js"
import { Diagnostics, FleetDb, FleetProject, Locks, Pilots, Reservations } from "../src/index.js"
import { sqldContext, sqldUrl, tempDir } from "./support/backends.js"

const MINUTE = 60_000
const ms = DateTime.toEpochMillis

/** A clock that reads `offset()` ms off the real one and sleeps in real time. */
const skewedClock = (offset: () => number): Clock.Clock => {
  const real = Clock.make()
  const millis = () => Date.now() + offset()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: () => BigInt(millis()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(millis()) * 1_000_000n),
    sleep: (duration: Duration.Duration) => real.sleep(duration)
  }
}

/** One process: a built layer and the clock its effects run with. */
interface Proc {
  readonly context: Context.Context<FleetServices>
  /** Milliseconds this process's clock is ahead of the real one (negative: behind). */
  offset: number
}

const openProc = (layer: Layer.Layer<FleetServices, unknown>, offset = 0) =>
  Effect.map(Layer.build(layer), (context): Proc => ({ context, offset }))

/** Run `effect` in `proc`: its services, its clock. */
const inProc = <A, E>(proc: Proc, effect: Effect.Effect<A, E, FleetServices>) =>
  effect.pipe(Effect.provide(proc.context), Effect.withClock(skewedClock(() => proc.offset)))

const pilotRow = (callsign: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { projectKey } = yield* FleetProject
    const rows = yield* sql<{ readonly last_active_at: number; readonly lost_at: number | null }>`
      SELECT last_active_at, lost_at FROM pilots WHERE project_key = ${projectKey} AND callsign = ${callsign}`
    return rows[0]!
  })

const isLost = (row: { readonly last_active_at: number; readonly lost_at: number | null }) =>
  row.lost_at !== null && row.lost_at > row.last_active_at

const register = (callsign: string) => Effect.flatMap(Pilots, (p) => p.register({ callsign }))
const heartbeat = (callsign: string) => Effect.flatMap(Pilots, (p) => p.heartbeat(callsign))
const sweep = (staleAfter: Duration.DurationInput) =>
  Effect.map(Effect.flatMap(Pilots, (p) => p.sweep({ staleAfter })), (lost) => lost.map((l) => l.callsign))

describe("time on a file database (the process clock decides)", () => {
  const twoProcs = Effect.gen(function*() {
    const projectPath = yield* tempDir
    const a = yield* openProc(FleetDb.layerFile({ projectPath }))
    const b = yield* openProc(FleetDb.layerFile({ projectPath }))
    return { a, b }
  })

  it.live("register by a process whose clock runs behind never moves last_active_at backwards", () =>
    Effect.scoped(Effect.gen(function*() {
      const { a, b } = yield* twoProcs
      b.offset = -10 * MINUTE
      const first = yield* inProc(a, register("alpha"))
      const again = yield* inProc(b, register("alpha"))
      expect(ms(again.last_active_at)).toBeGreaterThanOrEqual(ms(first.last_active_at))
      expect((yield* inProc(a, pilotRow("alpha"))).last_active_at).toBe(ms(again.last_active_at))
    })))

  it.live("extend by a process whose clock runs behind never shortens the lease", () =>
    Effect.scoped(Effect.gen(function*() {
      const { a, b } = yield* twoProcs
      b.offset = -10 * MINUTE
      const lock = yield* inProc(a, Effect.flatMap(Locks, (l) => l.acquire("k", { holder: "alpha", ttl: "1 minute" })))
      const extended = yield* inProc(b, Effect.flatMap(Locks, (l) => l.extend(lock, "30 seconds")))
      expect(ms(extended.expires_at)).toBe(ms(lock.expires_at))
      const current = yield* inProc(a, Effect.flatMap(Locks, (l) => l.current("k")))
      expect(Option.map(current, (l) => [l.fence, ms(l.expires_at)])).toEqual(Option.some([lock.fence, ms(lock.expires_at)]))
    })))

  it.live("a heartbeat or registration after being declared lost ends the lost state, whatever the sweeper's clock said", () =>
    Effect.scoped(Effect.gen(function*() {
      const { a, b } = yield* twoProcs
      // The sweeper's clock runs 10 minutes ahead of the pilots'.
      a.offset = 10 * MINUTE
      yield* inProc(b, register("bravo"))
      yield* inProc(b, register("charlie"))
      expect(yield* inProc(a, sweep("1 minute"))).toEqual(["bravo", "charlie"])
      expect(isLost(yield* inProc(a, pilotRow("bravo")))).toBe(true)

      yield* inProc(b, heartbeat("bravo"))
      yield* inProc(b, register("charlie"))
      for (const callsign of ["bravo", "charlie"]) {
        expect(isLost(yield* inProc(a, pilotRow(callsign))), callsign).toBe(false)
      }
      // Active again: a sweep by the same clock now leaves them alone (their activity is not older
      // than its now minus staleAfter), and once they go quiet again, it loses them again.
      expect(yield* inProc(a, sweep("1 minute"))).toEqual([])
      a.offset = 20 * MINUTE
      expect(yield* inProc(a, sweep("1 minute"))).toEqual(["bravo", "charlie"])
    })))

  it.live("a sweep never declares lost a pilot whose last activity is newer than its now minus staleAfter", () =>
    Effect.scoped(Effect.gen(function*() {
      const { a, b } = yield* twoProcs
      b.offset = 10 * MINUTE
      yield* inProc(b, register("ahead"))
      expect(yield* inProc(a, sweep("1 minute"))).toEqual([])
      expect(isLost(yield* inProc(a, pilotRow("ahead")))).toBe(false)
    })))
})

const sqld = sqldContext()

describe.skipIf(sqld.status === "unsupported")("time on a libSQL server (the server's clock decides)", () => {
  /** Three clients of one project on the server: on time, 10 minutes ahead, 10 minutes behind. */
  const threeProcs = Effect.gen(function*() {
    const url = yield* sqldUrl()
    const projectKey = `time-test#${randomUUID()}`
    const onTime = yield* openProc(FleetDb.layer({ url, projectKey }))
    const ahead = yield* openProc(FleetDb.layer({ url, projectKey }), 10 * MINUTE)
    const behind = yield* openProc(FleetDb.layer({ url, projectKey }), -10 * MINUTE)
    return { onTime, ahead, behind }
  })

  it.live("Diagnostics.now reads the authority's clock: the server's, whatever the client's says", () =>
    Effect.scoped(Effect.gen(function*() {
      const { ahead, behind } = yield* threeProcs
      const [a, b] = [yield* inProc(ahead, Diagnostics.now), yield* inProc(behind, Diagnostics.now)]
      // Both ask the server: their answers lie within a few seconds of each other (and of real
      // time), not 20 minutes apart as their own clocks are.
      expect(Math.abs(a - b)).toBeLessThan(MINUTE)
      expect(Math.abs(a - Date.now())).toBeLessThan(MINUTE)
      const file = yield* openProc(FleetDb.layerFile({ projectPath: yield* tempDir }), 10 * MINUTE)
      expect((yield* inProc(file, Diagnostics.now)) - Date.now()).toBeGreaterThan(9 * MINUTE)
    })))

  it.live("a client whose clock runs ahead cannot take a live lock", () =>
    Effect.scoped(Effect.gen(function*() {
      const { ahead, onTime } = yield* threeProcs
      const held = yield* inProc(onTime, Effect.flatMap(Locks, (l) => l.acquire("k", { holder: "alpha", ttl: "1 minute" })))
      const stolen = yield* Effect.exit(inProc(ahead, Effect.flatMap(Locks, (l) => l.acquire("k", { holder: "bravo", ttl: "1 minute" }))))
      expect(Exit.isFailure(stolen) ? Exit.causeOption(stolen) : stolen).toMatchObject(
        Option.some({ _tag: "Fail", error: { _tag: "LockHeld", holder: "alpha" } })
      )
      const current = yield* inProc(ahead, Effect.flatMap(Locks, (l) => l.current("k")))
      expect(Option.map(current, (l) => [l.holder_id, l.fence])).toEqual(Option.some(["alpha", held.fence]))
    })))

  it.live("a client whose clock runs ahead is refused an exclusive reservation overlapping a live one", () =>
    Effect.scoped(Effect.gen(function*() {
      const { ahead, onTime } = yield* threeProcs
      yield* inProc(onTime, Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "alpha", paths: ["src/**"], ttl: "1 minute" })))
      const second = yield* Effect.exit(
        inProc(ahead, Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "bravo", paths: ["src/a.ts"], ttl: "1 minute" })))
      )
      expect(Exit.isFailure(second) ? Exit.causeOption(second) : second).toMatchObject(
        Option.some({ _tag: "Fail", error: { _tag: "ReservationConflict" } })
      )
    })))

  it.live("a client whose clock runs ahead does not declare healthy pilots lost", () =>
    Effect.scoped(Effect.gen(function*() {
      const { ahead, onTime } = yield* threeProcs
      yield* inProc(onTime, register("alpha"))
      expect(yield* inProc(ahead, sweep("1 minute"))).toEqual([])
      expect(isLost(yield* inProc(onTime, pilotRow("alpha")))).toBe(false)
    })))

  it.live("a client whose clock runs behind extends a lease forward, and registers without going backwards", () =>
    Effect.scoped(Effect.gen(function*() {
      const { behind, onTime } = yield* threeProcs
      const lock = yield* inProc(onTime, Effect.flatMap(Locks, (l) => l.acquire("k", { holder: "alpha", ttl: "1 minute" })))
      const extended = yield* inProc(behind, Effect.flatMap(Locks, (l) => l.extend(lock, "2 minutes")))
      expect(ms(extended.expires_at)).toBeGreaterThan(ms(lock.expires_at))
      const current = yield* inProc(onTime, Effect.flatMap(Locks, (l) => l.current("k")))
      expect(Option.map(current, (l) => l.fence)).toEqual(Option.some(lock.fence))

      const first = yield* inProc(onTime, register("alpha"))
      const again = yield* inProc(behind, register("alpha"))
      expect(ms(again.last_active_at)).toBeGreaterThanOrEqual(ms(first.last_active_at))
      // Stamped by the server's clock, not the client's 10 minutes behind.
      expect(Math.abs(ms(again.last_active_at) - Date.now())).toBeLessThan(MINUTE)
    })))

  it.effect("the server's clock decides even under a TestClock; timeAuthority: \"clock\" opts into the fiber's clock", () =>
    Effect.scoped(Effect.gen(function*() {
      const url = yield* sqldUrl()
      const projectKey = `time-test#${randomUUID()}`
      // The TestClock of `it.effect` stands at 0.
      const server = yield* Layer.build(FleetDb.layer({ url, projectKey }))
      const lock = yield* Effect.provide(Effect.flatMap(Locks, (l) => l.acquire("k", { holder: "alpha", ttl: "1 minute" })), server)
      expect(Math.abs(ms(lock.acquired_at) - Date.now())).toBeLessThan(MINUTE)
      const local = yield* Layer.build(FleetDb.layer({ url, projectKey, timeAuthority: "clock" }))
      const pilot = yield* Effect.provide(register("bravo"), local)
      expect(ms(pilot.registered_at)).toBe(0)
    })))
})
