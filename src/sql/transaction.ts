/**
 * Write transactions with a bounded, jittered retry on SQLITE_BUSY. Every command of every
 * service runs through `writeTransaction` (or a runner from `makeWriteTransaction`).
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Schedule } from "effect"
import { transactionRunner } from "./direct.js"
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
 * `attempt`, retried as a whole while it fails with SQLITE_BUSY. The schedule is only built once
 * an attempt has failed: the common path pays nothing for it.
 */
const retryBusy = <A, E, R>(
  attempt: Effect.Effect<A, E, R>,
  policy: WritePolicyShape
): Effect.Effect<A, E, R> =>
  Effect.catchIf(attempt, isBusyError, (first) => {
    // Replay the first failure into the retry loop, so it is counted and delayed like any other.
    let replay = true
    return Effect.retry(
      Effect.suspend(() => {
        if (replay) {
          replay = false
          return Effect.fail(first)
        }
        return attempt
      }),
      {
        schedule: Schedule.exponential(policy.busyBackoff).pipe(Schedule.jittered),
        times: policy.busyRetries,
        while: isBusyError
      }
    )
  })

/**
 * A write-transaction runner bound to `sql` and `policy`: each call runs its effect as one write
 * transaction (`BEGIN IMMEDIATE`, or a savepoint when already inside one), retried as a whole on
 * SQLITE_BUSY. Build it once (e.g. when a service is made) and call it per command.
 */
export const makeWriteTransaction = (sql: SqlClient.SqlClient, policy: WritePolicyShape) => {
  const run = transactionRunner(sql)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    retryBusy(run(effect), policy)
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
