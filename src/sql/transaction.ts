/**
 * Write transactions with a bounded, jittered retry on SQLITE_BUSY. Every command of every
 * service runs through `writeTransaction`.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Option, Schedule } from "effect"
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

/**
 * Run `effect` as one write transaction (`BEGIN IMMEDIATE`, or a savepoint when already inside
 * one). SQLITE_BUSY retries the whole transaction, so the body must read everything it decides
 * on inside it — time included. A failed commit surfaces as a `SqlError`, not a defect.
 */
export const writeTransaction = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError, R | SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const policy = yield* WritePolicy
    const attempt = sql.withTransaction(effect).pipe(
      // @effect/sql turns a failed COMMIT into a defect; it is a database failure like any other.
      Effect.catchSomeDefect((defect) =>
        defect instanceof SqlError ? Option.some(Effect.fail(defect)) : Option.none()
      )
    )
    return yield* Effect.retry(attempt, {
      schedule: Schedule.exponential(policy.busyBackoff).pipe(Schedule.jittered),
      times: policy.busyRetries,
      while: (error) => error instanceof SqlError && isBusy(error)
    })
  })
