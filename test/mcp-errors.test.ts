/**
 * The MCP tools in-process: a database failure and a defect become tool errors (never a crash, never
 * a defect reaching the server), and domain errors carry their tag, fields and a one-line hint.
 */
import * as Toolkit from "@effect/ai/Toolkit"
import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Layer, Option } from "effect"
import { FleetDb, LockHeld, ReservationConflict, Sorties } from "../src/index.js"
import { asTool, toToolError } from "../src/mcp/errors.js"
import * as Session from "../src/mcp/session.js"
import { FleetToolkit, handlers } from "../src/mcp/toolkit.js"

const failure = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("MCP tool errors", () => {
  it.effect("a database failure is a DatabaseError tool failure, not a crash", () =>
    Effect.gen(function*() {
      const toolkit = yield* (FleetToolkit as unknown as Effect.Effect<Toolkit.WithHandler<typeof FleetToolkit.tools>>)
      const broken = yield* Effect.exit(toolkit.handle("claim_next_sortie", {}) as Effect.Effect<unknown, unknown>)
      expect(failure(broken), JSON.stringify(broken)).toMatchObject({ _tag: "DatabaseError", message: expect.stringMatching(/disk I\/O error.*retry/) })
      const fine = yield* Effect.exit(toolkit.handle("fleet_status", {}) as Effect.Effect<unknown, unknown>)
      expect(Exit.isSuccess(fine)).toBe(true)
    }).pipe(Effect.provide(FleetToolkit.toLayer(handlers).pipe(
      // The database fails under one command: the disk, as the driver reports it.
      Layer.provide(Layer.effect(Sorties, Effect.map(Sorties, (sorties) => ({
        ...sorties,
        claimNext: () => Effect.fail(new SqlError({ cause: new Error("SQLITE_IOERR: disk I/O error"), message: "disk I/O error" }))
      })))),
      Layer.provideMerge(Session.layer(Option.some("alpha"))),
      Layer.provideMerge(FleetDb.layerMemory())
    ))))

  it.effect("a defect becomes an InternalError tool failure", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(asTool(Effect.die(new Error("boom"))))
      expect(failure(exit)).toMatchObject({ _tag: "InternalError", message: expect.stringMatching(/boom/) })
    }))

  it("domain errors keep their tag and fields, with one line saying what to do next", () => {
    const held = toToolError(new LockHeld({ key: "deploy", holder: "bravo", expires_at: DateTime.unsafeMake(0) }))
    expect(held).toMatchObject({ _tag: "LockHeld", key: "deploy", holder: "bravo", expires_at: "1970-01-01T00:00:00.000Z" })
    expect(held.message).toMatch(/held by "bravo" until 1970-01-01T00:00:00.000Z\. Try again after that/)
    const conflict = toToolError(new ReservationConflict({
      conflicts: [{ path: "src/a.ts", holder: "bravo", pattern: "src/**", exclusive: true, expires_at: DateTime.unsafeMake(0) }]
    }))
    expect(conflict.message).toMatch(/bravo until 1970-01-01T00:00:00.000Z/)
    expect(conflict.message).not.toMatch(/\n/)
    expect(toToolError(new SqlError({ cause: new Error("disk I/O error"), message: "Failed to execute statement" }))._tag).toBe("DatabaseError")
  })
})
