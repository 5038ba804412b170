import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Chunk, Clock, DateTime, Deferred, Duration, Effect, Exit, FastCheck as fc, Fiber, Layer, Option, Ref, TestClock, Tracer } from "effect"
import type { Lock } from "../src/index.js"
import { Events, FleetDb, FleetProject, Locks } from "../src/index.js"
import { backends, projectOn, tempDir } from "./support/backends.js"

const millis = (dt: { readonly epochMillis: number }) => dt.epochMillis

/** Let real I/O (file/sqld backends) make progress while the TestClock stands still. */
const liveTick = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1)))

/** Wait (in real time) until some fiber sleeps on the TestClock. */
const untilSleeping = (count = 1) =>
  Effect.gen(function*() {
    for (;;) {
      if (Chunk.size(yield* TestClock.sleeps()) >= count) return
      yield* liveTick
    }
  })

/** Advance the TestClock by `step` whenever something sleeps, until `fiber` is done. */
const drive = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, step: Duration.DurationInput) =>
  Effect.gen(function*() {
    for (;;) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* done.value
      if (Chunk.size(yield* TestClock.sleeps()) > 0) yield* TestClock.adjust(step)
      else yield* liveTick
    }
  })

/** A tracer that records span names (to count write attempts vs. polling reads). */
const recordSpans = Effect.gen(function*() {
  const names: Array<string> = []
  const base = yield* Effect.tracer
  const tracer = Tracer.make({
    span: (name, ...rest) => {
      names.push(name)
      return base.span(name, ...rest)
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  const count = (name: string) => names.filter((n) => n === name).length
  return { tracer, count }
})

const eventsOf = (type: string) =>
  Effect.flatMap(Events, (events) => events.read({ types: [type] }))

describe.each(backends.map((b) => [b.name, b] as const))("Locks on %s", (_, backend) => {
  const run = <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, backend.layer())

  it.effect("acquire returns a fenced lease and logs lock_acquired", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      yield* TestClock.adjust(1_000)
      const lock = yield* locks.acquire("deploy", { holder: "viper-1", ttl: "30 seconds" })
      expect(lock.lock_key).toBe("deploy")
      expect(lock.holder_id).toBe("viper-1")
      expect(lock.fence).toBe(1)
      expect(millis(lock.acquired_at)).toBe(1_000)
      expect(millis(lock.expires_at)).toBe(31_000)
      expect(lock.released_at).toBeNull()
      const acquired = yield* eventsOf("lock_acquired")
      expect(acquired.map((e) => e.data)).toEqual([{
        lock_id: lock.id,
        lock_key: "deploy",
        holder_id: "viper-1",
        fence: 1,
        acquired_at: DateTime.unsafeMake(1_000),
        expires_at: DateTime.unsafeMake(31_000)
      }])
      expect(Option.map(yield* locks.current("deploy"), (l) => l.fence)).toEqual(Option.some(1))
      expect((yield* locks.list()).map((l) => l.id)).toEqual([lock.id])
    })))

  it.effect("a held lock refuses other holders and its own holder (not re-entrant); nothing is written", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const events = yield* Events
      const lock = yield* locks.acquire("deploy", { holder: "viper-1", ttl: 10_000 })
      const before = yield* events.latestSequence
      const other = yield* Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: 10_000 }))
      expect(other._tag).toBe("LockHeld")
      expect(other).toMatchObject({ key: "deploy", holder: "viper-1", expires_at: lock.expires_at })
      const again = yield* Effect.flip(locks.acquire("deploy", { holder: "viper-1", ttl: 10_000 }))
      expect(again).toMatchObject({ _tag: "LockHeld", holder: "viper-1" })
      expect(yield* events.latestSequence).toBe(before)
      // One millisecond before expiry the lease still holds.
      yield* TestClock.adjust(9_999)
      expect(yield* Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: 10_000 }))).toMatchObject({ _tag: "LockHeld" })
      expect(yield* events.latestSequence).toBe(before)
      // Another key is independent.
      expect((yield* locks.acquire("build", { holder: "viper-2", ttl: 10_000 })).fence).toBe(1)
    })))

  it.effect("expiry lets another holder in, releasing the expired lease with reason expired", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const first = yield* locks.acquire("deploy", { holder: "viper-1", ttl: "5 seconds" })
      yield* TestClock.adjust("5 seconds")
      expect(yield* locks.current("deploy")).toEqual(Option.none())
      expect(yield* locks.list()).toEqual([])
      const second = yield* locks.acquire("deploy", { holder: "viper-2", ttl: "5 seconds" })
      expect(second.fence).toBe(2)
      expect(millis(second.acquired_at)).toBe(5_000)
      const released = yield* eventsOf("lock_released")
      expect(released.map((e) => e.data)).toEqual([{
        lock_id: first.id,
        lock_key: "deploy",
        holder_id: "viper-1",
        fence: 1,
        reason: "expired"
      }])
      // The expired lease is gone for good: its holder cannot release or extend it.
      expect(yield* Effect.flip(locks.release(first))).toMatchObject({ _tag: "LockNotHeld", fence: 1, holder: "viper-1" })
      expect(yield* Effect.flip(locks.extend(first, "5 seconds"))).toMatchObject({ _tag: "LockNotHeld" })
      expect(Option.map(yield* locks.current("deploy"), (l) => l.holder_id)).toEqual(Option.some("viper-2"))
    })))

  it.effect("fences strictly increase per key across acquire, release and expiry", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const fences: Array<number> = []
      const a = yield* locks.acquire("k", { holder: "a", ttl: 1_000 })
      fences.push(a.fence)
      yield* locks.release(a)
      const b = yield* locks.acquire("k", { holder: "b", ttl: 1_000 })
      fences.push(b.fence)
      yield* TestClock.adjust(1_000)
      const c = yield* locks.acquire("k", { holder: "c", ttl: 1_000 })
      fences.push(c.fence)
      yield* locks.extend(c, 5_000)
      yield* locks.release(c)
      const a2 = yield* locks.acquire("k", { holder: "a", ttl: 1_000 })
      fences.push(a2.fence)
      expect(fences).toEqual([1, 2, 3, 4])
      expect((yield* locks.acquire("other", { holder: "a", ttl: 1_000 })).fence).toBe(1)
    })))

  it.effect("release gives the lock up once; stale, foreign and expired leases get LockNotHeld", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const events = yield* Events
      const lock = yield* locks.acquire("deploy", { holder: "viper-1", ttl: 10_000 })
      yield* TestClock.adjust(100)
      // Someone else's claim on the same row is refused.
      const forged = yield* Effect.flip(locks.release({ ...lock, holder_id: "viper-2" }))
      expect(forged).toMatchObject({ _tag: "LockNotHeld", key: "deploy", holder: "viper-2", fence: 1 })
      expect(yield* Effect.flip(locks.release({ ...lock, fence: 2 }))).toMatchObject({ _tag: "LockNotHeld" })
      const released = yield* locks.release(lock)
      expect(released.released_at === null ? null : millis(released.released_at)).toBe(100)
      expect((yield* eventsOf("lock_released")).map((e) => e.data)).toEqual([{
        lock_id: lock.id,
        lock_key: "deploy",
        holder_id: "viper-1",
        fence: 1,
        reason: "released"
      }])
      expect(yield* locks.current("deploy")).toEqual(Option.none())
      const before = yield* events.latestSequence
      expect(yield* Effect.flip(locks.release(lock))).toMatchObject({ _tag: "LockNotHeld", fence: 1 })
      // A stale lease never touches the next holder's.
      const next = yield* locks.acquire("deploy", { holder: "viper-1", ttl: 10_000 })
      const seq = yield* events.latestSequence
      expect(yield* Effect.flip(locks.release(lock))).toMatchObject({ _tag: "LockNotHeld" })
      expect(yield* Effect.flip(locks.extend(lock, 10_000))).toMatchObject({ _tag: "LockNotHeld" })
      expect(yield* events.latestSequence).toBe(seq)
      expect(Option.map(yield* locks.current("deploy"), (l) => l.fence)).toEqual(Option.some(next.fence))
      expect(seq).toBeGreaterThan(before)
      // An expired lease cannot be released.
      yield* TestClock.adjust(10_000)
      expect(yield* Effect.flip(locks.release(next))).toMatchObject({ _tag: "LockNotHeld", fence: 2 })
      expect(yield* events.latestSequence).toBe(seq)
    })))

  it.effect("extend renews the lease from now, keeps the fence and logs lock_extended", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const lock = yield* locks.acquire("deploy", { holder: "viper-1", ttl: "10 seconds" })
      yield* TestClock.adjust("8 seconds")
      const extended = yield* locks.extend(lock, "10 seconds")
      expect(extended.fence).toBe(lock.fence)
      expect(extended.id).toBe(lock.id)
      expect(millis(extended.expires_at)).toBe(18_000)
      expect((yield* eventsOf("lock_extended")).map((e) => e.data)).toEqual([{
        lock_id: lock.id,
        lock_key: "deploy",
        holder_id: "viper-1",
        fence: 1,
        expires_at: DateTime.unsafeMake(18_000)
      }])
      // Past the original expiry the lease still excludes others.
      yield* TestClock.adjust("5 seconds")
      expect(yield* Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: 1_000 }))).toMatchObject({
        _tag: "LockHeld",
        expires_at: DateTime.unsafeMake(18_000)
      })
      yield* TestClock.adjust("5 seconds")
      expect(yield* Effect.flip(locks.extend(extended, "10 seconds"))).toMatchObject({ _tag: "LockNotHeld" })
      expect((yield* locks.acquire("deploy", { holder: "viper-2", ttl: 1_000 })).fence).toBe(2)
    })))

  it.effect("bad input fails with InvalidInput naming the field and writes nothing", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const events = yield* Events
      const field = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
        Effect.map(Effect.flip(effect), (e) => "field" in e ? String(e.field) : e._tag)
      expect(yield* field(locks.acquire("", { holder: "a", ttl: 1_000 }))).toBe("key")
      expect(yield* field(locks.acquire("k\u0000", { holder: "a", ttl: 1_000 }))).toBe("key")
      expect(yield* field(locks.acquire("x".repeat(513), { holder: "a", ttl: 1_000 }))).toBe("key")
      expect(yield* field(locks.acquire("k", { holder: " a", ttl: 1_000 }))).toBe("holder")
      expect(yield* field(locks.acquire("k", { holder: "", ttl: 1_000 }))).toBe("holder")
      expect(yield* field(locks.acquire("k", { holder: "a", ttl: -5 }))).toBe("ttl")
      expect(yield* field(locks.acquire("k", { holder: "a", ttl: 0 }))).toBe("ttl")
      expect(yield* field(locks.acquire("k", { holder: "a", ttl: "soon" as Duration.DurationInput }))).toBe("ttl")
      expect(yield* field(locks.acquire("k", { holder: "a", ttl: 1_000, wait: -1 }))).toBe("wait")
      expect(yield* field(locks.withLock("k", { holder: "a", ttl: Number.NaN })(Effect.void))).toBe("ttl")
      expect(yield* field(locks.current("'; DROP TABLE locks; --\u0007"))).toBe("key")
      expect(yield* field(locks.release({ id: 1, lock_key: "k", holder_id: "a", fence: 1.5 }))).toBe("lock.fence")
      const lock = yield* locks.acquire("'; DROP TABLE locks; --", { holder: "a", ttl: 1_000 })
      const seq = yield* events.latestSequence
      expect(yield* field(locks.extend(lock, "-1 seconds" as Duration.DurationInput))).toBe("ttl")
      expect(yield* events.latestSequence).toBe(seq)
      // Only the one successful acquire wrote anything in this project.
      expect((yield* events.read()).map((e) => e.type)).toEqual(["lock_acquired"])
      expect(Option.isSome(yield* locks.current("'; DROP TABLE locks; --"))).toBe(true)
    })))

  // TestClock-driven timing: over a network every command takes real time while `drive` moves
  // the test clock, so these run where statements are instant (the logic is backend-independent).
  it.effect.skipIf(backend.name === "sqld")("wait: succeeds when the holder releases mid-wait, with one extra write attempt", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const spans = yield* recordSpans
      const held = yield* locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
      const waiter = yield* Effect.fork(
        locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute", wait: "30 seconds" }).pipe(Effect.withTracer(spans.tracer))
      )
      // Let it poll a few times before the holder lets go.
      for (let i = 0; i < 5; i++) {
        yield* untilSleeping()
        yield* TestClock.adjust(100)
      }
      yield* untilSleeping()
      yield* locks.release(held)
      const lock = yield* drive(waiter, 100)
      expect(lock.holder_id).toBe("viper-2")
      expect(lock.fence).toBe(2)
      expect(millis(lock.acquired_at)).toBeLessThan(30_000)
      expect(spans.count("Locks.acquire.attempt")).toBe(2)
      expect(spans.count("Locks.acquire.poll")).toBeGreaterThanOrEqual(6)
    })))

  // TestClock-driven timing: over a network every command takes real time while `drive` moves
  // the test clock, so these run where statements are instant (the logic is backend-independent).
  it.effect.skipIf(backend.name === "sqld")("wait: takes the lock once the holder's lease expires", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      yield* locks.acquire("deploy", { holder: "viper-1", ttl: "2 seconds" })
      const waiter = yield* Effect.fork(locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute", wait: "30 seconds" }))
      const lock = yield* drive(waiter, 250)
      expect(lock.fence).toBe(2)
      expect(millis(lock.acquired_at)).toBeGreaterThanOrEqual(2_000)
      expect(millis(lock.acquired_at)).toBeLessThan(3_000)
      expect((yield* eventsOf("lock_released")).map((e) => (e.data as { reason: string }).reason)).toEqual(["expired"])
    })))

  it.effect("wait: times out with LockTimeout, polling with reads only and writing nothing", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const events = yield* Events
      const spans = yield* recordSpans
      yield* locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
      const seq = yield* events.latestSequence
      const waiter = yield* Effect.fork(
        locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute", wait: "3 seconds" }).pipe(
          Effect.withTracer(spans.tracer),
          Effect.flip
        )
      )
      const error = yield* drive(waiter, 50)
      expect(error._tag).toBe("LockTimeout")
      expect(error).toMatchObject({ key: "deploy", holder: "viper-1" })
      const waited = (error as { waited_ms: number }).waited_ms
      expect(waited).toBeGreaterThanOrEqual(3_000)
      expect(waited).toBeLessThan(3_200)
      expect(spans.count("Locks.acquire.attempt")).toBe(1)
      expect(spans.count("Locks.acquire.poll")).toBeGreaterThan(10)
      expect(yield* events.latestSequence).toBe(seq)
    })))

  it.effect("withLock holds the lock for the effect, hands it the lease, and releases on success", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const result = yield* locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" })((lock: Lock) =>
        Effect.gen(function*() {
          const current = yield* locks.current("deploy")
          expect(Option.map(current, (l) => l.fence)).toEqual(Option.some(lock.fence))
          expect(yield* Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: 1_000 }))).toMatchObject({ _tag: "LockHeld" })
          return `fence ${lock.fence}`
        })
      )
      expect(result).toBe("fence 1")
      expect(yield* locks.current("deploy")).toEqual(Option.none())
      expect((yield* eventsOf("lock_released")).map((e) => (e.data as { reason: string }).reason)).toEqual(["released"])
    })))

  it.effect("withLock releases on failure and passes the failure through", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const exit = yield* Effect.exit(locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" })(Effect.fail("boom" as const)))
      expect(exit).toEqual(Exit.fail("boom"))
      expect(yield* locks.current("deploy")).toEqual(Option.none())
      expect((yield* eventsOf("lock_released")).length).toBe(1)
      const defect = yield* Effect.exit(locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" })(Effect.die("bug")))
      expect(Exit.isFailure(defect)).toBe(true)
      expect(yield* locks.current("deploy")).toEqual(Option.none())
    })))

  it.effect("withLock releases on interruption", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" })(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      )
      yield* Deferred.await(started)
      expect(Option.isSome(yield* locks.current("deploy"))).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(yield* locks.current("deploy")).toEqual(Option.none())
      expect((yield* eventsOf("lock_released")).map((e) => (e.data as { reason: string }).reason)).toEqual(["released"])
    })))

  // TestClock-driven timing: over a network every command takes real time while `drive` moves
  // the test clock, so these run where statements are instant (the logic is backend-independent).
  it.effect.skipIf(backend.name === "sqld")("withLock keeps extending while the effect runs past the ttl", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const fiber = yield* Effect.fork(
        locks.withLock("deploy", { holder: "viper-1", ttl: "3 seconds" })(
          // Ten seconds in, three ttls later, another holder is still shut out.
          Effect.zipRight(Effect.sleep("10 seconds"), Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: 1_000 })))
        )
      )
      const refused = yield* drive(fiber, 500)
      expect(refused._tag).toBe("LockHeld")
      expect((yield* eventsOf("lock_extended")).length).toBeGreaterThanOrEqual(3)
      expect(yield* locks.current("deploy")).toEqual(Option.none())
    })))

  it.effect("withLock interrupts the effect and fails with LockNotHeld when the lease is lost", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      const leased = yield* Deferred.make<Lock>()
      const finished = yield* Ref.make(false)
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.fork(
        locks.withLock("deploy", { holder: "viper-1", ttl: "3 seconds" })((lock: Lock) =>
          Deferred.succeed(leased, lock).pipe(
            Effect.zipRight(Effect.sleep("1 minute")),
            Effect.zipRight(Ref.set(finished, true)),
            Effect.onInterrupt(() => Ref.set(interrupted, true))
          )
        )
      )
      // Someone with the lease (an operator, a stale copy) releases it behind withLock's back.
      yield* locks.release(yield* Deferred.await(leased))
      const error = yield* Effect.flip(drive(fiber, 500))
      expect(error).toMatchObject({ _tag: "LockNotHeld", key: "deploy", holder: "viper-1", fence: 1 })
      expect(yield* Ref.get(finished)).toBe(false)
      expect(yield* Ref.get(interrupted)).toBe(true)
    })))

  it.effect("withLock fails with LockHeld without running the effect when the lock is taken", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      yield* locks.acquire("deploy", { holder: "viper-2", ttl: "30 seconds" })
      const ran = yield* Ref.make(false)
      const error = yield* Effect.flip(locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" })(Ref.set(ran, true)))
      expect(error._tag).toBe("LockHeld")
      expect(yield* Ref.get(ran)).toBe(false)
    })))

  it.effect("list({ limit }) gives the first leases by key; count is every active lease; a bad limit is InvalidInput", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      for (const key of ["d", "b", "a", "c"]) yield* locks.acquire(key, { holder: "h", ttl: 10_000 })
      yield* locks.acquire("gone", { holder: "h", ttl: 10_000 }).pipe(Effect.flatMap(locks.release))
      yield* locks.acquire("expiring", { holder: "h", ttl: 1_000 })
      yield* TestClock.adjust(1_000)
      expect((yield* locks.list({ limit: 3 })).map((l) => l.lock_key)).toEqual(["a", "b", "c"])
      expect(yield* locks.list({ limit: 10 })).toHaveLength(4)
      expect(yield* locks.count()).toBe(4)
      for (const limit of [0, 2.5, 10_001]) {
        expect(yield* Effect.flip(locks.list({ limit }))).toMatchObject({ _tag: "InvalidInput", field: "limit" })
      }
    })))

  it.effect("list returns the project's active leases by key", () =>
    run(Effect.gen(function*() {
      const locks = yield* Locks
      yield* locks.acquire("zeta", { holder: "a", ttl: 10_000 })
      const alpha = yield* locks.acquire("alpha", { holder: "b", ttl: 10_000 })
      yield* locks.acquire("short", { holder: "c", ttl: 1_000 })
      yield* locks.acquire("gone", { holder: "c", ttl: 10_000 }).pipe(Effect.flatMap(locks.release))
      yield* TestClock.adjust(1_000)
      expect((yield* locks.list()).map((l) => [l.lock_key, l.holder_id])).toEqual([["alpha", "b"], ["zeta", "a"]])
      yield* locks.release(alpha)
      expect((yield* locks.list()).map((l) => l.lock_key)).toEqual(["zeta"])
    })))

  it.effect.prop(
    "random acquire/release/extend by several holders with clock jumps: one active holder, rising fences",
    [fc.array(
      fc.oneof(
        fc.record({ op: fc.constant("acquire" as const), holder: fc.nat(2), ttl: fc.integer({ min: 1, max: 5_000 }) }),
        fc.record({ op: fc.constant("release" as const), holder: fc.nat(2) }),
        fc.record({ op: fc.constant("extend" as const), holder: fc.nat(2), ttl: fc.integer({ min: 1, max: 5_000 }) }),
        fc.record({ op: fc.constant("jump" as const), ms: fc.oneof(fc.nat(100), fc.nat(6_000)) })
      ),
      { minLength: 1, maxLength: 25 }
    )],
    ([ops]) =>
      run(Effect.gen(function*() {
        const locks = yield* Locks
        const sql = yield* SqlClient.SqlClient
        const events = yield* Events
        const { projectKey } = yield* FleetProject
        let model: { holder: number; fence: number; expires: number } | undefined
        let maxFence = 0
        const leases = new Map<number, Lock>()
        let now = yield* Clock.currentTimeMillis
        for (const step of ops) {
          const live = model !== undefined && model.expires > now ? model : undefined
          if (step.op === "jump") {
            yield* TestClock.adjust(step.ms)
            now += step.ms
          } else if (step.op === "acquire") {
            const result = yield* Effect.either(locks.acquire("k", { holder: `h${step.holder}`, ttl: step.ttl }))
            if (live === undefined) {
              if (result._tag === "Left") throw new Error(`acquire refused: ${result.left.message}`)
              expect(result.right.fence).toBe(maxFence + 1)
              maxFence = result.right.fence
              model = { holder: step.holder, fence: result.right.fence, expires: now + step.ttl }
              leases.set(step.holder, result.right)
            } else {
              expect(result).toMatchObject({ _tag: "Left", left: { _tag: "LockHeld", holder: `h${live.holder}`, expires_at: DateTime.unsafeMake(live.expires) } })
            }
          } else {
            const lease = leases.get(step.holder)
            if (lease === undefined) continue
            const mine = live !== undefined && live.fence === lease.fence
            const result = yield* Effect.either(
              step.op === "release" ? locks.release(lease) : locks.extend(lease, step.ttl)
            )
            if (mine) {
              if (result._tag === "Left") throw new Error(`${step.op} refused: ${result.left.message}`)
              // An extension never shortens a lease.
              model = step.op === "release" ? undefined : { ...live, expires: Math.max(live.expires, now + step.ttl) }
            } else {
              expect(result).toMatchObject({ _tag: "Left", left: { _tag: "LockNotHeld", fence: lease.fence } })
            }
          }
          const [counts] = yield* sql<{ readonly unreleased: number; readonly active: number }>`
            SELECT COUNT(*) AS unreleased, COALESCE(SUM(expires_at > ${now}), 0) AS active
            FROM locks WHERE project_key = ${projectKey} AND lock_key = 'k' AND released_at IS NULL`
          expect(counts!.unreleased).toBeLessThanOrEqual(1)
          expect(counts!.active).toBeLessThanOrEqual(1)
          const current = yield* locks.current("k")
          const expected = model !== undefined && model.expires > now ? model : undefined
          expect(Option.map(current, (l) => [l.holder_id, l.fence])).toEqual(
            expected === undefined ? Option.none() : Option.some([`h${expected.holder}`, expected.fence])
          )
        }
        const fences = (yield* events.read({ types: ["lock_acquired"] })).map((e) => (e.data as { fence: number }).fence)
        expect(fences).toEqual(Array.from({ length: maxFence }, (_, i) => i + 1))
      })),
    { fastCheck: { numRuns: backend.name === "memory" ? 60 : 12 } }
  )
})

it.scoped("two projects sharing one database never see each other's locks or fences", () =>
  Effect.gen(function*() {
    const projectPath = yield* tempDir
    const base = yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "alpha" }))
    const other = yield* projectOn(base, "beta")
    const alpha = <A, E>(effect: Effect.Effect<A, E, Locks>) => Effect.provide(effect, base)
    const beta = <A, E>(effect: Effect.Effect<A, E, Locks>) => Effect.provide(effect, other)
    const a1 = yield* alpha(Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder: "viper-1", ttl: 60_000 })))
    yield* alpha(Effect.flatMap(Locks, (l) => l.release(a1)))
    yield* alpha(Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder: "viper-1", ttl: 60_000 })))
    const b1 = yield* beta(Effect.flatMap(Locks, (l) => l.acquire("deploy", { holder: "viper-2", ttl: 60_000 })))
    expect(b1.fence).toBe(1)
    expect(yield* beta(Effect.flatMap(Locks, (l) => l.list()))).toHaveLength(1)
    expect(yield* Effect.flip(beta(Effect.flatMap(Locks, (l) => l.release(a1))))).toMatchObject({ _tag: "LockNotHeld" })
    expect(Option.map(yield* alpha(Effect.flatMap(Locks, (l) => l.current("deploy"))), (l) => l.fence)).toEqual(Option.some(2))
  }))
