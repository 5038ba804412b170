/**
 * Locks: named, leased, fenced mutual exclusion between the pilots (and processes) of a project.
 *
 * @module
 */
import type { Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, DateTime, Duration, Effect, Layer, Option, Random, Schema } from "effect"
import { InvalidInput, LockHeld, LockNotHeld, LockTimeout } from "../errors.js"
import type { UndecodableRow } from "../errors.js"
import { Callsign, LockKey } from "../schema/common.js"
import { Replica } from "../Replica.js"
import { leaseFields } from "../schema/events.js"
import { Lock } from "../schema/coordinationTables.js"
import { changeProbe } from "../sql/sqlClient.js"
import { isUniqueViolation } from "../sql/errors.js"
import { countOf, limitClause } from "./internal/sqlParts.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows } from "./internal/rows.js"
import { decodeDuration, decodeInput, decodeListLimit } from "./internal/input.js"

/** Options of `Locks.acquire` and `Locks.withLock`. */
export interface AcquireLockOptions {
  /** Who takes the lock (a callsign or any identifier of the same shape). */
  readonly holder: string
  /** How long the lease lasts unless extended: a `Duration`, milliseconds, or e.g. `"30 seconds"`. */
  readonly ttl: Duration.DurationInput
  /**
   * Wait up to this long for the lock instead of failing with `LockHeld`; gives up with
   * `LockTimeout`. While waiting, only cheap reads poll the lock; a write is attempted only when it
   * looks free or expired.
   */
  readonly wait?: Duration.DurationInput | undefined
}

/** What `release` and `extend` need to know about a held lock (a `Lock` from `acquire` has it all). */
export interface LockLease {
  readonly id: number
  readonly lock_key: string
  readonly holder_id: string
  readonly fence: number
}

/**
 * The Locks service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface LocksShape {
  /**
   * Take the lock `key` for `holder` for `ttl`. In one write transaction: expired leases on the key
   * are released (`lock_released`, reason `"expired"`), then a new lease is inserted with a fence
   * one above every fence the key ever had (`lock_acquired`). Fails with `LockHeld` when an
   * unexpired lease exists — also when it is the caller's own: locks are not re-entrant (use
   * `extend`). With `wait`, retries until the lock is free and fails with `LockTimeout` after it.
   */
  readonly acquire: (
    key: string,
    options: AcquireLockOptions
  ) => Effect.Effect<Lock, LockHeld | LockTimeout | InvalidInput | UndecodableRow | SqlError>
  /**
   * Give the lock up (`lock_released`, reason `"released"`); returns the released row. Fails with
   * `LockNotHeld` unless this exact lease (id and fence) is still unreleased and unexpired.
   */
  readonly release: (lock: LockLease) => Effect.Effect<Lock, LockNotHeld | InvalidInput | UndecodableRow | SqlError>
  /**
   * Renew the lease to end `ttl` from now, or keep its expiry if that is later: an extension never
   * shortens a lease (`lock_extended`); returns the updated lock. The fence does not change. Fails with `LockNotHeld` unless the lease is still unreleased and unexpired.
   */
  readonly extend: (
    lock: LockLease,
    ttl: Duration.DurationInput
  ) => Effect.Effect<Lock, LockNotHeld | InvalidInput | UndecodableRow | SqlError>
  /**
   * Run `use` while holding `key`: acquire (as `acquire`), extend every `ttl / 3` in a background
   * fiber while `use` runs, release when it ends — by success, failure or interruption. If the
   * lease is lost anyway (an extension fails with `LockNotHeld`), `use` is interrupted and the
   * result is that `LockNotHeld`. `use` may be an effect or a function of the held `Lock` (for its
   * fence). A release that fails after `use` ended is logged, not raised: the lease then expires.
   */
  readonly withLock: (
    key: string,
    options: AcquireLockOptions
  ) => <A, E, R>(
    use: Effect.Effect<A, E, R> | ((lock: Lock) => Effect.Effect<A, E, R>)
  ) => Effect.Effect<A, E | LockHeld | LockTimeout | LockNotHeld | InvalidInput | UndecodableRow | SqlError, R>
  /** The unreleased, unexpired lease on `key`, if any. */
  readonly current: (key: string) => Effect.Effect<Option.Option<Lock>, InvalidInput | UndecodableRow | SqlError>
  /** Every unreleased, unexpired lease of the project, by key; the first `limit` (1 … 10,000) when given. */
  readonly list: (options?: ListLocksOptions) => Effect.Effect<ReadonlyArray<Lock>, InvalidInput | UndecodableRow | SqlError>
  /** How many unreleased, unexpired leases the project has. */
  readonly count: () => Effect.Effect<number, SqlError>
}

/** Options of `Locks.list`. */
export interface ListLocksOptions {
  /** At most this many leases (1 … 10,000); all of them when omitted. */
  readonly limit?: number | undefined
}

/** The Locks service. */
export class Locks extends Context.Tag("@fleettools/db/Locks")<Locks, LocksShape>() {}

const LeaseInput = Schema.Struct({
  id: Schema.Int,
  lock_key: LockKey,
  holder_id: Schema.String,
  fence: Schema.Int
})

const decodeKey = decodeInput(LockKey, "key")
const decodeHolder = decodeInput(Callsign, "holder")
const decodeLease = decodeInput(LeaseInput, "lock")
const decodeTtl = decodeDuration("ttl")
const decodeWait = decodeDuration("wait")
const decodeLock = decodeRow("locks", Lock)
const decodeLocks = decodeRows("locks", Lock)

/** What a waiter's look found: the live lease (if any) at `now`, and the change probe's value. */
interface Look {
  readonly now: number
  readonly live: LockRow | undefined
  readonly version: string | undefined
}

interface LockRow {
  readonly id: number
  readonly project_key: string
  readonly lock_key: string
  readonly holder_id: string
  readonly acquired_at: number
  readonly expires_at: number
  readonly released_at: number | null
  readonly fence: number
}

// Polling backoff while waiting: starts short so a quickly released lock is taken quickly, grows
// so a long wait costs few reads, and is jittered so waiters in several processes spread out.
const POLL_BASE_MS = 2
const POLL_MAX_MS = 100
const POLL_GROWTH = 1.5
// With a change probe (local databases), a look that finds nothing committed costs one trivial
// statement: waiters can afford to look often, and notice a release within a few milliseconds.
const PROBED_POLL_MAX_MS = 10

/** Build the Locks service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, projectKey, query, sql } = yield* makeCommands
  // An embedded replica reads its local copy, which learns of another process's release only when
  // it syncs: a waiter pulls before each poll, or it would wait for the holder's lease to expire.
  const replica = yield* Effect.serviceOption(Replica)
  const pull = Option.match(replica, {
    onNone: () => Effect.void,
    onSome: (replica) => replica.isReplica ? Effect.asVoid(replica.sync) : Effect.void
  })
  // Waiters look for a change before re-reading the lock (not on a replica, whose syncs the probe
  // would not see). Undefined for a server: every look reads the lock.
  const probe = Option.isSome(replica) && replica.value.isReplica ? undefined : changeProbe(sql)
  const pollMax = probe === undefined ? POLL_MAX_MS : PROBED_POLL_MAX_MS

  const selectHeld = (key: string) =>
    sql<LockRow>`SELECT * FROM locks WHERE project_key = ${projectKey} AND lock_key = ${key} AND released_at IS NULL`

  const heldError = (key: string, row: LockRow) =>
    new LockHeld({ key, holder: row.holder_id, expires_at: DateTime.unsafeMake(row.expires_at) })

  /**
   * One write attempt: release the key's expired lease (if any), then insert the next fence. No
   * read first: the partial unique index refuses the insert while a live lease exists, and only
   * then is the holder read, for `LockHeld`.
   */
  const attempt = (key: string, holder: string, ttl: number) =>
    command("Locks.acquire.attempt", ({ emit, now, projectKey, sql }) =>
      Effect.gen(function*() {
        const expired = yield* sql<LockRow>`UPDATE locks SET released_at = ${now}
          WHERE project_key = ${projectKey} AND lock_key = ${key} AND released_at IS NULL AND expires_at <= ${now}
          RETURNING *`
        for (const row of expired) {
          yield* emit("lock_released", { ...leaseFields(row), reason: "expired" })
        }
        // MAX(fence) covers released rows too, so a fence is never handed out twice for a key.
        const inserted = yield* sql<LockRow>`INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, released_at, fence)
            SELECT ${projectKey}, ${key}, ${holder}, ${now}, ${now + ttl}, NULL, COALESCE(MAX(fence), 0) + 1
            FROM locks WHERE project_key = ${projectKey} AND lock_key = ${key}
            RETURNING *`.pipe(
          Effect.catchIf(isUniqueViolation, (error) =>
            Effect.flatMap(
              selectHeld(key),
              (rows): Effect.Effect<never, LockHeld | SqlError> =>
                rows.length > 0 ? Effect.fail(heldError(key, rows[0]!)) : Effect.fail(error)
            ))
        )
        const row = inserted[0]!
        yield* emit("lock_acquired", { ...leaseFields(row), acquired_at: DateTime.unsafeMake(row.acquired_at), expires_at: DateTime.unsafeMake(row.expires_at) })
        return yield* decodeLock(row)
      }))

  /**
   * A cheap read while waiting: is the key free (or its lease expired) at `now`? When the probe
   * says nothing was committed since the previous look, that look's answer still holds (only the
   * clock moved), and the lock is not read again. The probe is read before the lock, so a commit
   * racing with the read shows up at the next look.
   */
  const poll = (key: string, previous: Look | undefined) =>
    query("Locks.acquire.poll", ({ now }) =>
      Effect.flatMap(probe ?? Effect.succeed(undefined), (version): Effect.Effect<Look, SqlError> => {
        if (previous !== undefined && version !== undefined && version === previous.version) {
          const live = previous.live !== undefined && previous.live.expires_at > now ? previous.live : undefined
          return Effect.succeed({ now, live, version })
        }
        return Effect.map(selectHeld(key), (rows) => ({ now, live: rows.find((row) => row.expires_at > now), version }))
      }))

  const acquireWaiting = (key: string, holder: string, ttl: number, wait: number) =>
    Effect.gen(function*() {
      // How long this caller waits is its own clock's business; whether a lease is live is the
      // time authority's (`look.now`), which may be another machine's clock.
      const start = yield* Clock.currentTimeMillis
      const deadline = start + wait
      let backoff = POLL_BASE_MS
      let tryWrite = true
      let previous: Look | undefined
      for (;;) {
        if (tryWrite) {
          previous = undefined
          const result = yield* Effect.either(attempt(key, holder, ttl))
          if (result._tag === "Right") return result.right
          if (!(result.left instanceof LockHeld)) return yield* result.left
        }
        // Read before the look, as the look's own `now` is: the wait is not charged for the read.
        const local = yield* Clock.currentTimeMillis
        yield* pull
        const look = yield* poll(key, previous)
        previous = look
        const { live, now } = look
        if (live === undefined) {
          tryWrite = true
          continue
        }
        if (local >= deadline) {
          return yield* new LockTimeout({ key, waited_ms: local - start, holder: live.holder_id })
        }
        tryWrite = false
        const jitter = yield* Random.nextRange(0.5, 1.5)
        // Never sleep past the deadline or past the holder's expiry: either may change the answer.
        const delay = Math.max(1, Math.min(Math.round(backoff * jitter), deadline - local, live.expires_at - now))
        backoff = Math.min(pollMax, backoff * POLL_GROWTH)
        yield* Effect.sleep(Duration.millis(delay))
      }
    })

  const acquire: LocksShape["acquire"] = (rawKey, options) =>
    Effect.gen(function*() {
      const key = yield* decodeKey(rawKey)
      const holder = yield* decodeHolder(options?.holder)
      const ttl = yield* decodeTtl(options?.ttl)
      const wait = options?.wait === undefined ? undefined : yield* decodeWait(options.wait)
      return yield* (wait === undefined ? attempt(key, holder, ttl) : acquireWaiting(key, holder, ttl, wait))
    }).pipe(Effect.withSpan("Locks.acquire", { captureStackTrace: false }))

  /** The guarded update shared by release and extend: only this exact, live lease matches. */
  const ownLease = (
    span: string,
    raw: LockLease,
    /** The `SET` of the update, e.g. sql`released_at = ${now}`. */
    set: (ctx: CommandContext) => Statement.Fragment,
    event: (row: LockRow, ctx: CommandContext) => Effect.Effect<number, SqlError>
  ) =>
    Effect.flatMap(decodeLease(raw), (lease) =>
      command(span, (ctx) =>
        Effect.gen(function*() {
          const { now, projectKey, sql } = ctx
          const rows = yield* sql<LockRow>`UPDATE locks SET ${set(ctx)}
            WHERE id = ${lease.id} AND project_key = ${projectKey} AND lock_key = ${lease.lock_key}
              AND holder_id = ${lease.holder_id} AND fence = ${lease.fence}
              AND released_at IS NULL AND expires_at > ${now}
            RETURNING *`
          if (rows.length === 0) {
            return yield* new LockNotHeld({ key: lease.lock_key, holder: lease.holder_id, fence: lease.fence })
          }
          yield* event(rows[0]!, ctx)
          return yield* decodeLock(rows[0])
        })))

  const release: LocksShape["release"] = (lock) =>
    ownLease(
      "Locks.release",
      lock,
      ({ now, sql }) => sql`released_at = ${now}`,
      (row, { emit }) =>
        emit("lock_released", { ...leaseFields(row), reason: "released" })
    )

  const extend: LocksShape["extend"] = (lock, rawTtl) =>
    Effect.flatMap(decodeTtl(rawTtl), (ttl) =>
      ownLease(
        "Locks.extend",
        lock,
        // Never shortens: an extension computed on a clock running behind must not cut the lease.
        ({ now, sql }) => sql`expires_at = MAX(expires_at, ${now + ttl})`,
        (row, { emit }) =>
          emit("lock_extended", { ...leaseFields(row), expires_at: DateTime.unsafeMake(row.expires_at) })
      ))

  const withLock: LocksShape["withLock"] = (key, options) => (use) =>
    Effect.gen(function*() {
      // Untyped callers: refuse anything that is neither an effect nor a function before holding anything.
      if (!Effect.isEffect(use) && typeof use !== "function") {
        return yield* new InvalidInput({ field: "use", reason: "must be an Effect or a function of the Lock returning one" })
      }
      // Decoded up front so the heartbeat interval is known before anything is held.
      const ttl = yield* decodeTtl(options?.ttl)
      const every = Duration.millis(Math.max(1, Math.floor(ttl / 3)))
      return yield* Effect.acquireUseRelease(
        acquire(key, options),
        (lock) => {
          const body = Effect.isEffect(use) ? use : use(lock)
          // A transient SqlError skips one beat: the lease has ttl/3-spaced chances before it runs
          // out, and once it has, the next extension reports LockNotHeld.
          const beat = Effect.uninterruptible(extend(lock, ttl)).pipe(
            Effect.catchTag("SqlError", () => Effect.void),
            Effect.catchTag("InvalidInput", (e) => Effect.die(e))
          )
          const heartbeat: Effect.Effect<never, LockNotHeld | UndecodableRow> = Effect.forever(
            Effect.zipRight(Effect.sleep(every), beat)
          )
          return Effect.raceFirst(body, heartbeat)
        },
        (lock) =>
          release(lock).pipe(
            Effect.catchTag("LockNotHeld", () => Effect.void),
            Effect.catchAll((error) =>
              Effect.logWarning("Locks.withLock: release failed; the lease will expire", error)
            )
          )
      )
    }).pipe(Effect.withSpan("Locks.withLock", { captureStackTrace: false }))

  const current: LocksShape["current"] = (rawKey) =>
    Effect.flatMap(decodeKey(rawKey), (key) =>
      query("Locks.current", ({ now, projectKey, sql }) =>
        sql<LockRow>`SELECT * FROM locks WHERE project_key = ${projectKey} AND lock_key = ${key}
            AND released_at IS NULL AND expires_at > ${now}`.pipe(
          Effect.flatMap((rows) =>
            rows.length === 0 ? Effect.succeed(Option.none()) : Effect.map(decodeLock(rows[0]), Option.some)
          )
        )))

  const list: LocksShape["list"] = (options) =>
    Effect.flatMap(decodeListLimit(options?.limit), (limit) =>
      // Without the hint the planner may walk every lease the project ever had (idx_locks_fence);
      // the partial index holds only unreleased rows, already in key order.
      query("Locks.list", ({ now, projectKey, sql }) =>
        sql<LockRow>`SELECT * FROM locks INDEXED BY idx_locks_held_unique WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at > ${now}
            ORDER BY lock_key ${limitClause(sql, limit)}`.pipe(Effect.flatMap((rows) => decodeLocks(rows)))))

  const count: LocksShape["count"] = () =>
    query("Locks.count", ({ now, projectKey, sql }) =>
      Effect.map(
        sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM locks INDEXED BY idx_locks_held_unique
            WHERE project_key = ${projectKey} AND released_at IS NULL AND expires_at > ${now}`,
        countOf
      ))

  return Locks.of({ acquire, release, extend, withLock, current, list, count })
})

/** The Locks service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Locks, make)
