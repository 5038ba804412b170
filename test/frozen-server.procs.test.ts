/**
 * A frozen libSQL server (issue 15): sqld stopped with SIGSTOP. Every statement is bounded by the
 * layer's `statementTimeout`; the command fails with a typed, retryable error; after SIGCONT the
 * same client works, and what was cut short was not applied. A timeout on the commit itself says
 * its outcome is unknown.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Option } from "effect"
import { FleetDb, isRetryable, Pilots, StatementTimeout } from "../src/index.js"
import { writeTransaction } from "../src/sql/transaction.js"
import { findSqld, privateSqld } from "./support/sqld.js"
import { readdirSync, readFileSync } from "node:fs"

const binary = findSqld()

/**
 * SIGSTOP the server and return once every one of its threads is stopped: `kill` only queues the
 * signal, and on a busy machine a server thread could still answer the next request (seen in CI:
 * the COMMIT sent right after `kill` was applied).
 */
const freeze = (pid: number): void => {
  process.kill(pid, "SIGSTOP")
  const deadline = Date.now() + 10_000
  const state = (task: string) => {
    try {
      // The state follows the parenthesised command name, which may itself hold spaces.
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8")
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    } catch {
      return "T" // a thread that ended answers nothing
    }
  }
  while (!readdirSync(`/proc/${pid}/task`).every((task) => state(task) === "T")) {
    if (Date.now() > deadline) throw new Error(`sqld ${pid} did not stop within 10 s of SIGSTOP`)
  }
}

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

const timeoutOf = (exit: Exit.Exit<unknown, unknown>): StatementTimeout => {
  const failure = failureOf(exit) as { readonly _tag?: string; readonly cause?: unknown } | undefined
  expect(failure?._tag, Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "the command succeeded").toBe("SqlError")
  expect(failure?.cause).toBeInstanceOf(StatementTimeout)
  return failure!.cause as StatementTimeout
}

describe.skipIf(binary._tag !== "Found")("a frozen server (SIGSTOP)", () => {
  it.live("a command times out typed and retryable, is not applied, and the client works after SIGCONT", () =>
    Effect.gen(function*() {
      const server = yield* privateSqld
      const context = yield* Layer.build(FleetDb.layer({ url: server.url, projectKey: "frozen", statementTimeout: 1_000 }))
      const pilots = Context.get(context, Pilots)
      yield* pilots.register({ callsign: "before" })

      freeze(server.pid)
      const command = yield* Effect.exit(pilots.register({ callsign: "frozen" }))
      const timeout = timeoutOf(command)
      expect(timeout.during_commit).toBe(false)
      expect(timeout.timeout_ms).toBe(1_000)
      expect(isRetryable(failureOf(command))).toBe(true)
      // Reads are bounded too.
      timeoutOf(yield* Effect.exit(pilots.list()))
      process.kill(server.pid, "SIGCONT")

      yield* pilots.register({ callsign: "after" })
      expect((yield* pilots.list()).map((pilot) => pilot.callsign).sort()).toEqual(["after", "before"])
    }).pipe(Effect.scoped), 120_000)

  it.live("a timeout on the commit says the outcome is unknown (not retryable); the commit is applied at most once", () =>
    Effect.gen(function*() {
      const server = yield* privateSqld
      const context = yield* Layer.build(FleetDb.layer({ url: server.url, projectKey: "frozen", statementTimeout: 1_000 }))
      const pilots = Context.get(context, Pilots)
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* pilots.register({ callsign: "before" })

      // A command's write transaction (as every service runs it) whose body ran on the server;
      // the freeze comes between the body and the COMMIT.
      const exit = yield* Effect.exit(writeTransaction(
        pilots.register({ callsign: "committing" }).pipe(Effect.tap(() => Effect.sync(() => freeze(server.pid))))
      ).pipe(Effect.provideService(SqlClient.SqlClient, sql)))
      const timeout = timeoutOf(exit)
      expect(timeout.during_commit).toBe(true)
      expect(timeout.message).toContain("unknown")
      expect(isRetryable(failureOf(exit))).toBe(false)
      process.kill(server.pid, "SIGCONT")

      yield* pilots.register({ callsign: "after" })
      const callsigns = (yield* pilots.list()).map((pilot) => pilot.callsign)
      expect(callsigns.filter((callsign) => callsign === "committing").length).toBeLessThanOrEqual(1)
      expect(callsigns).toContain("after")
    }).pipe(Effect.scoped), 120_000)
})
