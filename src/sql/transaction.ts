/**
 * Write transactions with a bounded, jittered retry on SQLITE_BUSY. Every command of every
 * service runs through `writeTransaction` (or a runner from `makeWriteTransaction`).
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Duration, Effect, Random } from "effect"
import { transactionRunner } from "./sqlClient.js"
import { isBusy } from "./errors.js"

/** How whole write transactions are retried when the database stays busy past the busy timeout. */
export interface WritePolicyShape {
  /** Retries after the first attempt (default 4). */
  readonly busyRetries: number
  /** Base of the exponential, jittered backoff between attempts (default 25 ms). */
  readonly busyBackoff: Duration.Duration
}

/** The retry policy of write transactions; `FleetDb` layers set it from their options. */
export class WritePolicy extends Context.Reference<WritePolicy>()("@fleettools/db/WritePolicy", {
  defaultValue: (): WritePolicyShape => ({ busyRetries: 4, busyBackoff: Duration.millis(25) })
}) {}

const isBusyError = (error: unknown): boolean => error instanceof SqlError && isBusy(error)

/**
 * The wall clock, whatever `Clock` the caller runs on. Waiting for another process or a server
 * happens in real time: under a `TestClock` a backoff or a timeout on the fiber's clock would
 * never end (and would sit in the test clock's list of sleepers).
 */
export const realClock = Clock.make()

/**
 * `attempt`, retried up to `times` more times while it fails with an error that `isRetryable`
 * accepts, after an exponential, jittered delay (`base` × 2^n, ×0.8–1.2) of **real** time. Only
 * the delay is on the real clock: each attempt runs with the caller's `Clock`. The loop is only
 * built once an attempt has failed: the common path pays nothing for it.
 */
export const retryInRealTime = <A, E, R>(
  attempt: Effect.Effect<A, E, R>,
  options: { readonly times: number; readonly base: Duration.Duration; readonly isRetryable: (error: E) => boolean }
): Effect.Effect<A, E, R> => {
  const base = Duration.toMillis(options.base)
  const retry = (error: E, done: number): Effect.Effect<A, E, R> =>
    done >= options.times
      ? Effect.fail(error)
      : Effect.flatMap(Random.nextRange(0.8, 1.2), (jitter) =>
        Effect.sleep(Duration.millis(base * 2 ** done * jitter)).pipe(
          Effect.withClock(realClock),
          Effect.zipRight(Effect.catchIf(attempt, options.isRetryable, (next) => retry(next, done + 1)))
        ))
  return Effect.catchIf(attempt, options.isRetryable, (first) => retry(first, 0))
}

/** `attempt`, retried as a whole while it fails with SQLITE_BUSY, as `policy` says. */
const retryBusy = <A, E, R>(
  attempt: Effect.Effect<A, E, R>,
  policy: WritePolicyShape
): Effect.Effect<A, E, R> =>
  retryInRealTime(attempt, { times: policy.busyRetries, base: policy.busyBackoff, isRetryable: isBusyError })

/**
 * A write-transaction runner bound to `sql` and `policy`: each call runs its effect as one write
 * transaction (`BEGIN IMMEDIATE`, or a savepoint when already inside one), retried as a whole on
 * SQLITE_BUSY. Build it once (e.g. when a service is made) and call it per command.
 */
export const makeWriteTransaction = (sql: SqlClient.SqlClient, policy: WritePolicyShape) => {
  const run = transactionRunner(sql)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> => retryBusy(run(effect), policy)
}

/**
 * Run `effect` as one write transaction (`BEGIN IMMEDIATE`, or a savepoint when already inside
 * one). SQLITE_BUSY retries the whole transaction, so the body must read everything it decides
 * on inside it — time included. A failed commit surfaces as a `SqlError`, not a defect.
 */
export const writeTransaction = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.flatMap(
    Effect.zip(SqlClient.SqlClient, WritePolicy),
    ([sql, policy]) => makeWriteTransaction(sql, policy)(effect)
  )
