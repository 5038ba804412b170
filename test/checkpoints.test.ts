import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, FastCheck as fc, Layer, Option, Runtime, TestClock } from "effect"
import type { CreateCheckpoint, JsonValue } from "../src/index.js"
import { Checkpoints, Events, FleetDb, FleetProject, MAX_CONTEXT_DATA_CHARS, MAX_CONTEXT_DATA_DEPTH } from "../src/index.js"
import { binaryString } from "./support/arbitraries.js"
import { backends, projectOn, runsOn, tempDir } from "./support/backends.js"

/** This project's checkpoint rows and newest event, to prove that a failed call wrote nothing. */
const counts = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const [row] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM checkpoints WHERE project_key = ${projectKey}`
  return { checkpoints: row!.n, latest: yield* Effect.flatMap(Events, (e) => e.latestSequence) }
})

const nested = (depth: number): JsonValue => {
  let value: JsonValue = "leaf"
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value }
  return value
}

describe.each(backends.map((b) => [b.name, b] as const))("Checkpoints on %s", (_, backend) => {
  it.effect("create stores every field, round-trips context_data and logs checkpoint_created", () =>
    Effect.gen(function*() {
      const checkpoints = yield* Checkpoints
      const events = yield* Events
      yield* TestClock.adjust(42_000)
      const context_data = {
        files: ["src/a.ts", "src/b.ts"],
        cursor: { line: 12, col: 0.5, ok: true, none: null },
        note: "ünïcødé 🚀 'quoted' \"double\" \u0000 NUL is escaped in JSON",
        big: 1e300,
        empty: {}
      }
      const created = yield* checkpoints.create({
        callsign: "alpha",
        trigger: "manual",
        mission_id: "msn_1",
        sortie_id: "srt_1",
        progress_percent: 40,
        summary: "'); DROP TABLE checkpoints; --",
        context_data
      })
      expect(created.id).toMatch(/^chk_[0-9a-f-]{36}$/)
      expect(created).toMatchObject({
        callsign: "alpha",
        trigger: "manual",
        mission_id: "msn_1",
        sortie_id: "srt_1",
        progress_percent: 40,
        summary: "'); DROP TABLE checkpoints; --",
        context_data
      })
      expect(DateTime.toEpochMillis(created.created_at)).toBe(42_000)
      const stored = yield* checkpoints.latest()
      expect(Option.getOrThrow(stored).context_data).toEqual(context_data)
      const log = yield* events.read({ types: ["checkpoint_created"] })
      expect(log.map((e) => e.data)).toEqual([{
        checkpoint_id: created.id,
        callsign: "alpha",
        mission_id: "msn_1",
        sortie_id: "srt_1",
        trigger: "manual",
        progress_percent: 40,
        summary: "'); DROP TABLE checkpoints; --",
        context_data
      }])

      const minimal = yield* checkpoints.create({ callsign: "bravo", trigger: "error" })
      expect(minimal).toMatchObject({
        mission_id: null,
        sortie_id: null,
        progress_percent: null,
        summary: null,
        context_data: null
      })
      for (const value of [0, "text", [1, 2], false] as const) {
        const c = yield* checkpoints.create({ callsign: "bravo", trigger: "auto", context_data: value })
        expect(c.context_data).toEqual(value)
      }
      for (const percent of [0, 100]) {
        const c = yield* checkpoints.create({ callsign: "bravo", trigger: "auto", progress_percent: percent })
        expect(c.progress_percent).toBe(percent)
      }
    }).pipe(Effect.provide(backend.layer())))

  it.effect("bad input is InvalidInput naming the field and writes nothing", () =>
    Effect.gen(function*() {
      const checkpoints = yield* Checkpoints
      const ok = { callsign: "alpha", trigger: "auto" }
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic.self = cyclic
      const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        ["callsign", { ...ok, callsign: "" }],
        ["callsign", { ...ok, callsign: "tab\there" }],
        ["trigger", { ...ok, trigger: "crash" }],
        ["trigger", { ...ok, trigger: undefined }],
        ["progress_percent", { ...ok, progress_percent: 101 }],
        ["progress_percent", { ...ok, progress_percent: -1 }],
        ["progress_percent", { ...ok, progress_percent: 50.5 }],
        ["progress_percent", { ...ok, progress_percent: Number.NaN }],
        ["progress_percent", { ...ok, progress_percent: "50" }],
        ["mission_id", { ...ok, mission_id: "" }],
        ["sortie_id", { ...ok, sortie_id: "x".repeat(129) }],
        ["sortie_id", { ...ok, sortie_id: "s\u0000" }],
        ["mission_id", { ...ok, mission_id: "m\uDC00" }],
        ["summary", { ...ok, summary: "\uD800" }],
        ["summary", { ...ok, summary: "a\u0000b" }],
        ["summary", { ...ok, summary: "s".repeat(65_537) }],
        ["context_data", { ...ok, context_data: Number.NaN }],
        ["context_data", { ...ok, context_data: { n: Number.POSITIVE_INFINITY } }],
        ["context_data", { ...ok, context_data: ["\uDFFF"] }],
        ["context_data", { ...ok, context_data: () => 1 }],
        ["context_data", { ...ok, context_data: 10n }],
        ["context_data", { ...ok, context_data: "c".repeat(MAX_CONTEXT_DATA_CHARS) }],
        ["context_data", { ...ok, context_data: nested(MAX_CONTEXT_DATA_DEPTH + 1) }],
        ["context_data", { ...ok, context_data: nested(100_000) }],
        ["context_data", { ...ok, context_data: cyclic }],
        // A cycle behind more containers than could ever fit is refused without a recursive walk.
        ["context_data", { ...ok, context_data: [...Array.from({ length: MAX_CONTEXT_DATA_CHARS / 2 }, () => []), cyclic] }]
      ]
      const before = yield* counts
      for (const [field, input] of cases) {
        const error = yield* Effect.flip(checkpoints.create(input as CreateCheckpoint))
        expect(error._tag, field).toBe("InvalidInput")
        expect(error._tag === "InvalidInput" && error.field.split(".")[0], field).toBe(field)
      }
      expect(yield* counts).toEqual(before)
      // The limits are inclusive.
      const atLimit = yield* checkpoints.create({
        ...ok,
        trigger: "auto",
        context_data: "c".repeat(MAX_CONTEXT_DATA_CHARS - 2)
      })
      expect((atLimit.context_data as string).length).toBe(MAX_CONTEXT_DATA_CHARS - 2)
      const deep = yield* checkpoints.create({ ...ok, trigger: "auto", context_data: nested(MAX_CONTEXT_DATA_DEPTH) })
      expect(deep.context_data).toEqual(nested(MAX_CONTEXT_DATA_DEPTH))
    }).pipe(Effect.provide(backend.layer())))

  it.effect("latest and list filter by callsign, mission and sortie, newest first", () =>
    Effect.gen(function*() {
      const checkpoints = yield* Checkpoints
      const c1 = yield* checkpoints.create({ callsign: "alpha", trigger: "auto", mission_id: "m1", sortie_id: "s1" })
      // Same millisecond: the id breaks the tie.
      const c2 = yield* checkpoints.create({ callsign: "alpha", trigger: "auto", mission_id: "m1", sortie_id: "s2" })
      yield* TestClock.adjust(1_000)
      const c3 = yield* checkpoints.create({ callsign: "bravo", trigger: "manual", mission_id: "m1", sortie_id: "s1" })
      yield* TestClock.adjust(1_000)
      const c4 = yield* checkpoints.create({ callsign: "bravo", trigger: "error", mission_id: "m2" })
      const id = (o: Option.Option<{ readonly id: string }>) => Option.map(o, (c) => c.id).pipe(Option.getOrNull)
      const ids = (cs: ReadonlyArray<{ readonly id: string }>) => cs.map((c) => c.id)

      expect(id(yield* checkpoints.latest())).toBe(c4.id)
      expect(id(yield* checkpoints.latest({ callsign: "alpha" }))).toBe(c2.id)
      expect(id(yield* checkpoints.latest({ mission_id: "m1" }))).toBe(c3.id)
      expect(id(yield* checkpoints.latest({ sortie_id: "s1" }))).toBe(c3.id)
      expect(id(yield* checkpoints.latest({ callsign: "alpha", sortie_id: "s1" }))).toBe(c1.id)
      expect(id(yield* checkpoints.latest({ callsign: "charlie" }))).toBeNull()
      expect(id(yield* checkpoints.latest({ mission_id: "m1", sortie_id: "s3" }))).toBeNull()

      expect(ids(yield* checkpoints.list())).toEqual([c4, c3, c2, c1].map((c) => c.id))
      expect(ids(yield* checkpoints.list({ mission_id: "m1" }))).toEqual([c3, c2, c1].map((c) => c.id))
      expect(ids(yield* checkpoints.list({ callsign: "bravo" }))).toEqual([c4, c3].map((c) => c.id))
      expect(ids(yield* checkpoints.list({ mission_id: "m1", limit: 2 }))).toEqual([c3, c2].map((c) => c.id))
      expect(ids(yield* checkpoints.list({ sortie_id: "nope" }))).toEqual([])
      // Untyped callers passing null get the defaults, not a defect.
      expect(ids(yield* checkpoints.list(null as unknown as undefined))).toEqual([c4, c3, c2, c1].map((c) => c.id))
      expect(id(yield* checkpoints.latest(null as unknown as undefined))).toBe(c4.id)

      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string }>]> = [
        ["limit", checkpoints.list({ limit: 0 })],
        ["limit", checkpoints.list({ limit: 1_001 })],
        ["callsign", checkpoints.list({ callsign: "" })],
        ["mission_id", checkpoints.latest({ mission_id: "" })],
        ["sortie_id", checkpoints.list({ sortie_id: "\uD800" })]
      ]
      for (const [field, call] of cases) {
        expect(yield* Effect.flip(call)).toMatchObject({ _tag: "InvalidInput", field })
      }
    }).pipe(Effect.provide(backend.layer())))

  it.effect("newest is decided by created_at before id (rows written by other tools may have any id)", () =>
    Effect.gen(function*() {
      const checkpoints = yield* Checkpoints
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      yield* TestClock.adjust(10_000)
      const ours = yield* checkpoints.create({ callsign: "alpha", trigger: "auto" })
      // A larger id but an older time, as a foreign tool might write it.
      yield* sql`INSERT INTO checkpoints (id, project_key, callsign, trigger, created_at)
        VALUES (${"zzz-foreign"}, ${projectKey}, ${"alpha"}, ${"manual"}, ${5_000})`
      expect(Option.map(yield* checkpoints.latest({ callsign: "alpha" }), (c) => c.id)).toEqual(Option.some(ours.id))
      expect((yield* checkpoints.list()).map((c) => c.id)).toEqual([ours.id, "zzz-foreign"])
    }).pipe(Effect.provide(backend.layer())))

  it.effect("property: create with arbitrary input is a typed error or a success, never a defect; a failure writes nothing", () =>
    Effect.gen(function*() {
      const checkpoints = yield* Checkpoints
      const runtime = yield* Effect.runtime<SqlClient.SqlClient | Events | FleetProject>()
      const text = fc.oneof(
        fc.string(),
        binaryString(),
        fc.constantFrom("", " ", "\uD800", "a\uDFFFb", "'; DROP TABLE checkpoints; --", "\u0000")
      )
      const field = <T>(valid: fc.Arbitrary<T>) =>
        fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: fc.anything() })
      const arb = fc.oneof(
        { weight: 19, arbitrary: fc.record({
          callsign: field(fc.constantFrom("alpha", "bravo")),
          trigger: field(fc.constantFrom("auto", "manual", "error")),
          mission_id: field(fc.constantFrom("m1", "m2")),
          sortie_id: field(fc.constantFrom("s1", "s2")),
          progress_percent: field(fc.oneof(fc.integer({ min: -5, max: 105 }), fc.double())),
          summary: field(fc.string()),
          context_data: fc.oneof(fc.jsonValue(), fc.anything(), fc.object())
        }, { requiredKeys: ["callsign", "trigger"] }) },
        { weight: 1, arbitrary: fc.anything() }
      )
      let successes = 0
      let failures = 0
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(arb, async (input) => {
            const before = await Runtime.runPromise(runtime)(counts)
            const exit = await Runtime.runPromiseExit(runtime)(checkpoints.create(input as CreateCheckpoint))
            const after = await Runtime.runPromise(runtime)(counts)
            if (Exit.isSuccess(exit)) {
              successes++
              expect(after.checkpoints).toBe(before.checkpoints + 1)
              expect(after.latest).toBeGreaterThan(before.latest)
              // What was stored reads back as what create returned.
              const stored = await Runtime.runPromise(runtime)(checkpoints.latest())
              expect(Option.getOrThrow(stored).context_data).toEqual(exit.value.context_data)
            } else {
              failures++
              expect(Cause.isDie(exit.cause), Cause.pretty(exit.cause)).toBe(false)
              expect(Option.map(Cause.failureOption(exit.cause), (e) => e._tag).pipe(Option.getOrNull)).toBe("InvalidInput")
              expect(after).toEqual(before)
            }
          }),
          {
            numRuns: runsOn(backend, 200),
            // Random runs alone can miss one outcome.
            examples: [[{ callsign: "alpha", trigger: "manual", summary: "s" }], [{ callsign: "alpha", trigger: "sometimes" }]]
          }
        )
      )
      // Both outcomes must be reached, or the property proves nothing.
      expect(failures).toBeGreaterThan(0)
      expect(successes).toBeGreaterThan(0)
    }).pipe(Effect.provide(backend.layer())))
})

describe("Checkpoints on one file", () => {
  it.scoped("two projects never see each other's checkpoints", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const a = yield* Layer.build(FleetDb.layerFile({ projectPath: dir, projectKey: "project-a" }))
      const b = yield* projectOn(a, "project-b")
      const create = (callsign: string) =>
        Effect.flatMap(Checkpoints, (c) => c.create({ callsign, trigger: "auto", mission_id: "shared" }))
      const inA = yield* Effect.provide(create("alpha"), a)
      yield* TestClock.adjust(1_000)
      const inB = yield* Effect.provide(create("alpha"), b)
      const view = Effect.flatMap(Checkpoints, (c) =>
        Effect.all([c.list(), c.latest({ callsign: "alpha", mission_id: "shared" })]))
      const [listA, latestA] = yield* Effect.provide(view, a)
      const [listB, latestB] = yield* Effect.provide(view, b)
      expect(listA.map((c) => c.id)).toEqual([inA.id])
      expect(listB.map((c) => c.id)).toEqual([inB.id])
      expect(Option.map(latestA, (c) => c.id)).toEqual(Option.some(inA.id))
      expect(Option.map(latestB, (c) => c.id)).toEqual(Option.some(inB.id))
    }))
})
