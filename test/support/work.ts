/**
 * Helpers of the work-tracking suites (Sorties, Missions, WorkOrders): run a command and get
 * exactly the events it appended, or check that a failing command wrote nothing at all.
 */
import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import type { FleetEvent } from "../../src/index.js"
import { Events, FleetDb, FleetProject } from "../../src/index.js"
import { projectOn, tempDir } from "./backends.js"

/**
 * Everything a test can observe of its own project: the newest sequence and every work-tracking
 * row. (Limited to the project because the sqld backend shares one server between test files.)
 */
export const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const events = yield* Events
  const { projectKey } = yield* FleetProject
  return {
    latestSequence: yield* events.latestSequence,
    events: yield* sql`SELECT COUNT(*) AS n FROM events WHERE project_key = ${projectKey}`,
    missions: yield* sql`SELECT * FROM missions WHERE project_key = ${projectKey} ORDER BY id`,
    sorties: yield* sql`SELECT * FROM sorties WHERE project_key = ${projectKey} ORDER BY id`,
    work_orders: yield* sql`SELECT * FROM work_orders WHERE project_key = ${projectKey} ORDER BY id`
  }
})

/** Run `effect` and return its value with the events it appended (in order). */
export const withEvents = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const events = yield* Events
    const before = yield* events.latestSequence
    const value = yield* effect
    const appended = yield* events.read({ after: before })
    return [value, appended] as const
  })

/** Run `effect`, expect exactly the listed event types appended, and return the value and the events. */
export const expectEvents = <A, E, R>(effect: Effect.Effect<A, E, R>, types: ReadonlyArray<string>) =>
  Effect.map(withEvents(effect), ([value, appended]) => {
    expect(appended.map((e) => e.type)).toEqual(types)
    return [value, appended as ReadonlyArray<FleetEvent>] as const
  })

/**
 * Run `effect`, expect it to fail (never die) with an error tagged `tag`, and expect the database
 * unchanged: same latest sequence, same rows. Returns the error.
 */
export const expectFailure = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>, tag: E["_tag"]) =>
  Effect.gen(function*() {
    const before = yield* snapshot
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) {
      expect.fail(`expected ${tag}, got success ${JSON.stringify(exit.value)}`)
    }
    const failure = Cause.failureOption((exit as Exit.Failure<A, E>).cause)
    if (Option.isNone(failure)) {
      expect.fail(`expected ${tag}, got ${Cause.pretty((exit as Exit.Failure<A, E>).cause)}`)
    }
    const error = Option.getOrThrow(failure)
    expect(error._tag).toBe(tag)
    expect(yield* snapshot).toEqual(before)
    return error
  })

/**
 * Two projects (`alpha`, `beta`) sharing one temp database, as on a server (a file database is
 * one project: `beta` is hand-composed on `alpha`'s connection); scoped.
 */
export const twoProjects = Effect.gen(function*() {
  const projectPath = yield* tempDir
  const alpha = yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "alpha" }))
  const beta = yield* projectOn(alpha, "beta")
  return {
    projectPath,
    alpha: <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, alpha),
    beta: <A, E>(effect: Effect.Effect<A, E, FleetDb.FleetServices>) => Effect.provide(effect, beta)
  }
})
