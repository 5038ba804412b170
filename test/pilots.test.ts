/**
 * The Pilots service (README "Pilots and the event log"): idempotent register (upsert on project + callsign, event every
 * time, `first` once), heartbeat (no event), get, list with `activeWithin`, callsign validation,
 * one event per mutation in the same transaction, project isolation, and property tests for
 * untyped callers — on every backend.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, FastCheck as fc, Layer, TestClock } from "effect"
import type { FleetEvent, Pilot, RegisterPilot } from "../src/index.js"
import { Events, FleetDb, FleetProject, InvalidInput, PilotNotFound, Pilots } from "../src/index.js"
import * as Project from "../src/Project.js"
import * as EventsService from "../src/services/Events.js"
import * as PilotsService from "../src/services/Pilots.js"
import { randomUUID } from "node:crypto"
import { sharedLayer } from "./support/shared-layer.js"
import { backends, projectOn, propertyRuns, tempDir } from "./support/backends.js"

/** The Pilots and Events services of another project on the same database. */
const otherProject = (projectKey: string) =>
  Layer.mergeAll(PilotsService.layer, EventsService.layer).pipe(Layer.provide(Project.layer({ projectKey, location: "test" })))

/**
 * Make the database itself refuse the `pilot_registered` events of these callsigns until the scope
 * closes. DDL takes no bound parameters, so the statement is built from this test's own constants
 * (callsigns with a fresh UUID: the sqld backend shares one database between tests).
 */
const refuseRegistrationsOf = (callsigns: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const name = `refuse_${randomUUID().replaceAll("-", "")}`
      const list = callsigns.map((c) => `'${c.replaceAll("'", "''")}'`).join(", ")
      yield* sql.unsafe(
        `CREATE TRIGGER ${name} BEFORE INSERT ON events WHEN NEW.type = 'pilot_registered' AND ` +
          `json_extract(NEW.data, '$.callsign') IN (${list}) BEGIN SELECT RAISE(ABORT, 'refused by test'); END`
      )
      return { sql, name }
    }),
    ({ name, sql }) => Effect.orDie(sql.unsafe(`DROP TRIGGER IF EXISTS ${name}`))
  )

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

const T0 = 1_700_000_000_000

/** The `pilot_registered` payloads of a list of events. */
const registrations = (events: ReadonlyArray<FleetEvent>) =>
  events.map((e) => {
    if (!(e.known && e.type === "pilot_registered")) throw new Error(`expected pilot_registered, got ${e.type}`)
    return e.data
  })

/** What a reader sees of a pilot, for comparisons. */
const view = (p: Pilot) => ({
  id: p.id,
  callsign: p.callsign as string,
  program: p.program,
  model: p.model,
  task_description: p.task_description,
  registered_at: p.registered_at.epochMillis,
  last_active_at: p.last_active_at.epochMillis
})

const invalidCallsigns: ReadonlyArray<readonly [string, unknown]> = [
  ["empty", ""],
  ["129 characters", "x".repeat(129)],
  ["NUL", "a\u0000b"],
  ["newline", "a\nb"],
  ["tab", "\ta"],
  ["DEL", "a\u007f"],
  ["leading space", " viper"],
  ["trailing space", "viper "],
  ["only spaces", "   "],
  ["trailing no-break space", "viper\u00a0"],
  ["lone high surrogate", "a\uD800"],
  ["lone low surrogate", "\uDC00b"],
  ["reversed pair", "\uDC00\uD800"],
  ["number", 42],
  ["null", null],
  ["undefined", undefined],
  ["object", { callsign: "x" }],
  ["array", ["x"]]
]

const verbatimCallsigns: ReadonlyArray<string> = [
  "'; DROP TABLE pilots; --",
  "Robert'); DROP TABLE events;--",
  "\"quoted\" 'single' `back`",
  "%_*?[]{}\\/",
  "a b  c",
  "пилот-1",
  "🛩️ viper 🚀",
  "x".repeat(128),
  "1",
  "NULL",
  "\u00e9\u0301"
]

// The callsign rule, restated independently of the library's schema.
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f]/
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const isCallsign = (u: unknown): u is string =>
  typeof u === "string" && u.length >= 1 && u.length <= 128 && u.trim() === u && !controlChars.test(u) &&
  !loneSurrogate.test(u)
// NUL is refused in every stored text: local libSQL reads text back only up to it.
const isText = (u: unknown, min: number, max: number) =>
  typeof u === "string" && u.length >= min && u.length <= max && !loneSurrogate.test(u) && !u.includes("\u0000")

/** The first field of a register input that the contract refuses, in schema order (undefined: valid). */
const firstInvalidField = (input: Record<string, unknown>): string | undefined => {
  if (!isCallsign(input.callsign)) return "callsign"
  if (input.program !== undefined && !isText(input.program, 1, 200)) return "program"
  if (input.model !== undefined && !isText(input.model, 1, 200)) return "model"
  if (input.task_description !== undefined && !isText(input.task_description, 0, 65_536)) return "task_description"
  return undefined
}

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
const callsignArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: anyUnit, maxLength: 6 }),
  fc.fullUnicodeString({ maxLength: 6 }),
  fc.constantFrom(...invalidCallsigns.map(([, c]) => c), ...verbatimCallsigns, "x".repeat(129)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.object({ maxDepth: 1 })
)
const textArb = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.string({ unit: anyUnit, maxLength: 4 }),
  fc.constantFrom("", "x".repeat(201), "a\u0000b", "\u0000"),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined)
)

describe.each(backends.map((b) => [b.name, b] as const))("Pilots on %s", (_, backend) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, backend.layer())

  describe("register", () => {
    it.effect("registers with defaults, then upserts: keeps registered_at and omitted fields, refreshes last_active_at", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        yield* TestClock.setTime(T0)
        const first = yield* pilots.register({ callsign: "viper-1" })
        expect(view(first)).toMatchObject({
          callsign: "viper-1",
          program: "opencode",
          model: "unknown",
          task_description: null,
          registered_at: T0,
          last_active_at: T0
        })

        yield* TestClock.adjust("1 minute")
        const second = yield* pilots.register({ callsign: "viper-1", model: "claude", task_description: "fix the build" })
        expect(view(second)).toEqual({
          ...view(first),
          model: "claude",
          task_description: "fix the build",
          last_active_at: T0 + 60_000
        })

        yield* TestClock.adjust("1 minute")
        const third = yield* pilots.register({ callsign: "viper-1", program: "aider" })
        expect(view(third)).toEqual({ ...view(second), program: "aider", last_active_at: T0 + 120_000 })
        // An empty task description is a value, not an omission.
        const fourth = yield* pilots.register({ callsign: "viper-1", task_description: "" })
        expect(fourth.task_description).toBe("")
        expect(view(yield* pilots.get("viper-1"))).toEqual(view(fourth))

        // One event per registration, `first` only once, each with the stored values.
        const log = yield* events.read()
        expect(log.map((e) => e.timestamp.epochMillis)).toEqual([T0, T0 + 60_000, T0 + 120_000, T0 + 120_000])
        expect(registrations(log)).toEqual([
          { callsign: "viper-1", program: "opencode", model: "unknown", task_description: null, first: true },
          { callsign: "viper-1", program: "opencode", model: "claude", task_description: "fix the build", first: false },
          { callsign: "viper-1", program: "aider", model: "claude", task_description: "fix the build", first: false },
          { callsign: "viper-1", program: "aider", model: "claude", task_description: "", first: false }
        ])
        expect(yield* pilots.list()).toHaveLength(1)
      }).pipe(provide))

    it.effect("refuses invalid callsigns with InvalidInput on field callsign, writing nothing", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        for (const [label, callsign] of invalidCallsigns) {
          const error = yield* failure(pilots.register({ callsign } as RegisterPilot))
          expect(error, label).toBeInstanceOf(InvalidInput)
          expect(error, label).toMatchObject({ field: "callsign" })
        }
        expect(yield* events.latestSequence).toBe(0)
        expect(yield* pilots.list()).toEqual([])
      }).pipe(provide))

    it.effect("refuses wrong types and out-of-range fields from an untyped caller, naming the field", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        yield* pilots.register({ callsign: "kept", model: "m1" })
        const before = yield* events.latestSequence
        const cases: ReadonlyArray<readonly [unknown, string]> = [
          [{ callsign: 42 }, "callsign"],
          [{}, "callsign"],
          [{ callsign: "kept", program: 5 }, "program"],
          [{ callsign: "kept", program: "" }, "program"],
          [{ callsign: "kept", program: null }, "program"],
          [{ callsign: "kept", model: "x".repeat(201) }, "model"],
          [{ callsign: "kept", model: "\uD800" }, "model"],
          [{ callsign: "kept", task_description: "x".repeat(65_537) }, "task_description"],
          [{ callsign: "kept", task_description: ["a"] }, "task_description"],
          // Local libSQL would store it but read back only "a".
          [{ callsign: "kept", task_description: "a\u0000b" }, "task_description"],
          [{ callsign: "kept", program: "p\u0000" }, "program"],
          [null, "input"],
          ["kept", "input"],
          [[], "input"]
        ]
        for (const [input, field] of cases) {
          expect(yield* failure(pilots.register(input as RegisterPilot)), JSON.stringify(input)).toMatchObject({
            _tag: "InvalidInput",
            field
          })
        }
        expect(yield* events.latestSequence).toBe(before)
        expect((yield* pilots.get("kept")).model).toBe("m1")
      }).pipe(provide))

    it.effect("stores quotes and SQL metacharacters verbatim", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const sql = yield* SqlClient.SqlClient
        const { projectKey } = yield* FleetProject
        for (const callsign of verbatimCallsigns) {
          const p = yield* pilots.register({ callsign, task_description: callsign })
          expect(p.callsign).toBe(callsign)
          expect((yield* pilots.get(callsign)).task_description).toBe(callsign)
        }
        const rows = yield* sql<{ callsign: string }>`SELECT callsign FROM pilots WHERE project_key = ${projectKey} ORDER BY id`
        expect(rows.map((r) => r.callsign)).toEqual(verbatimCallsigns)
        // The tables are all still there.
        const [{ n }] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM events WHERE project_key = ${projectKey}`
        expect(n).toBe(verbatimCallsigns.length)
        // Near-identical callsigns are different pilots (no trimming, no case folding, no normalisation).
        yield* pilots.register({ callsign: "viper" })
        yield* pilots.register({ callsign: "Viper" })
        yield* pilots.register({ callsign: "\u00e9" })
        expect(yield* pilots.list()).toHaveLength(verbatimCallsigns.length + 3)
      }).pipe(provide))

    it.effect("a failure in the event insert rolls the registration back", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        const doomed = `doomed-${randomUUID()}`
        const never = `never-${randomUUID()}`
        yield* pilots.register({ callsign: doomed, model: "before" })
        const before = yield* events.latestSequence
        yield* refuseRegistrationsOf([doomed, never])
        expect((yield* failure(pilots.register({ callsign: never })))._tag).toBe("SqlError")
        expect((yield* failure(pilots.register({ callsign: doomed, model: "after" })))._tag).toBe("SqlError")
        expect(yield* events.latestSequence).toBe(before)
        expect(yield* failure(pilots.get(never))).toBeInstanceOf(PilotNotFound)
        expect((yield* pilots.get(doomed)).model).toBe("before")
        expect(yield* pilots.list()).toHaveLength(1)
        yield* pilots.register({ callsign: "fine" })
        expect(yield* events.latestSequence).toBeGreaterThan(before)
      }).pipe(Effect.scoped, provide))
  })

  describe("heartbeat", () => {
    it.effect("refreshes last_active_at without an event; never moves it backwards", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        yield* TestClock.setTime(T0)
        yield* pilots.register({ callsign: "hb", model: "m" })
        const sequence = yield* events.latestSequence
        yield* TestClock.adjust("5 minutes")
        const beat = yield* pilots.heartbeat("hb")
        expect(view(beat)).toMatchObject({ registered_at: T0, last_active_at: T0 + 300_000, model: "m" })
        expect(yield* events.latestSequence).toBe(sequence)
        // A clock that went backwards does not make the pilot look less recently active.
        yield* TestClock.setTime(T0 + 1_000)
        expect((yield* pilots.heartbeat("hb")).last_active_at.epochMillis).toBe(T0 + 300_000)
        expect(yield* events.latestSequence).toBe(sequence)
      }).pipe(provide))

    it.effect("fails PilotNotFound for an unknown callsign and InvalidInput for a bad one, writing nothing", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        const error = yield* failure(pilots.heartbeat("ghost"))
        expect(error).toBeInstanceOf(PilotNotFound)
        expect(error).toMatchObject({ callsign: "ghost" })
        for (const [label, callsign] of invalidCallsigns) {
          expect(yield* failure(pilots.heartbeat(callsign as string)), label).toMatchObject({ _tag: "InvalidInput", field: "callsign" })
        }
        expect(yield* events.latestSequence).toBe(0)
        expect(yield* pilots.list()).toEqual([])
      }).pipe(provide))
  })

  describe("get and list", () => {
    it.effect("list({ limit }) gives the most recently active first; count is every pilot; a bad limit is InvalidInput", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        yield* TestClock.setTime(T0)
        for (const callsign of ["p1", "p2", "p3", "p4"]) {
          yield* pilots.register({ callsign })
          yield* TestClock.adjust("1 minute")
        }
        expect((yield* pilots.list({ limit: 2 })).map((p) => p.callsign as string)).toEqual(["p4", "p3"])
        expect((yield* pilots.list({ limit: 1, activeWithin: "10 minutes" })).map((p) => p.callsign as string)).toEqual(["p4"])
        expect(yield* pilots.list({ limit: 10 })).toHaveLength(4)
        expect(yield* pilots.count()).toBe(4)
        for (const limit of [0, 1.5, -1, 10_001, "2"]) {
          expect(yield* failure(pilots.list({ limit: limit as number }))).toMatchObject({ _tag: "InvalidInput", field: "limit" })
        }
      }).pipe(provide))

    it.effect("get fails PilotNotFound (or InvalidInput) and finds registered pilots", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        expect(yield* failure(pilots.get("nobody"))).toMatchObject({ _tag: "PilotNotFound", callsign: "nobody" })
        expect(yield* failure(pilots.get(7 as never))).toMatchObject({ _tag: "InvalidInput", field: "callsign" })
        expect(yield* failure(pilots.get(" nobody"))).toMatchObject({ _tag: "InvalidInput", field: "callsign" })
        const p = yield* pilots.register({ callsign: "somebody" })
        expect(yield* pilots.get("somebody")).toEqual(p)
      }).pipe(provide))

    it.effect("list orders by last activity and filters by activeWithin on the Clock", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        yield* TestClock.setTime(T0)
        yield* pilots.register({ callsign: "old" })
        yield* TestClock.adjust("10 minutes")
        yield* pilots.register({ callsign: "newer" })
        yield* TestClock.adjust("5 minutes")
        const names = (ps: ReadonlyArray<Pilot>) => ps.map((p) => p.callsign as string)
        expect(names(yield* pilots.list())).toEqual(["newer", "old"])
        expect(names(yield* pilots.list({ activeWithin: "6 minutes" }))).toEqual(["newer"])
        expect(names(yield* pilots.list({ activeWithin: "5 minutes" }))).toEqual(["newer"])
        expect(names(yield* pilots.list({ activeWithin: 299_999 }))).toEqual([])
        expect(names(yield* pilots.list({ activeWithin: "20 minutes" }))).toEqual(["newer", "old"])
        yield* pilots.heartbeat("old")
        expect(names(yield* pilots.list({ activeWithin: "1 minute" }))).toEqual(["old"])
        expect(names(yield* pilots.list())).toEqual(["old", "newer"])
        expect(names(yield* pilots.list(null as never))).toEqual(["old", "newer"])
        for (const activeWithin of [0, -1, Number.NaN, Infinity, 1.5, "soon", {}, null]) {
          expect(yield* failure(pilots.list({ activeWithin } as never)), String(activeWithin)).toMatchObject({
            _tag: "InvalidInput",
            field: "activeWithin"
          })
        }
      }).pipe(provide))
  })

  describe("projects", () => {
    it.effect("two project keys on one database never see each other's pilots or events", () =>
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        const other = `project-b-${randomUUID()}`
        const [theirPilots, theirEvents] = yield* Effect.provide(Effect.all([Pilots, Events]), otherProject(other))
        const mine = yield* pilots.register({ callsign: "shared-name", model: "mine" })
        const theirs = yield* theirPilots.register({ callsign: "shared-name", model: "theirs" })
        yield* theirPilots.register({ callsign: "only-b" })
        expect(theirs.id).not.toBe(mine.id)
        expect(theirs.project_key).toBe(other)
        expect((yield* pilots.get("shared-name")).model).toBe("mine")
        expect((yield* theirPilots.get("shared-name")).model).toBe("theirs")
        expect(yield* failure(pilots.get("only-b"))).toBeInstanceOf(PilotNotFound)
        expect(yield* failure(pilots.heartbeat("only-b"))).toBeInstanceOf(PilotNotFound)
        expect((yield* pilots.list()).map((p) => p.callsign)).toEqual(["shared-name"])
        expect((yield* theirPilots.list()).map((p) => p.callsign).sort()).toEqual(["only-b", "shared-name"])
        // Both projects' first registration of the same callsign is a `first`.
        expect(registrations(yield* events.read()).map((d) => [d.callsign, d.first])).toEqual([["shared-name", true]])
        expect(registrations(yield* theirEvents.read()).map((d) => [d.callsign, d.first])).toEqual([
          ["shared-name", true],
          ["only-b", true]
        ])
      }).pipe(provide))
  })

  describe("properties", () => {
    // One database for all runs of a property, so later runs hit already-registered callsigns.
    // Each run derives what it expects from the row as it was before the call.
    {
      const shared = sharedLayer(backend.layer())
      const runs = propertyRuns(backend)
      it.effect.prop(
        "register from an untyped caller: the stored row and one event, or InvalidInput on the right field with nothing written",
        [fc.record({ callsign: callsignArb, program: textArb, model: textArb, task_description: textArb }, { requiredKeys: ["callsign"] })],
        ([input]) =>
          Effect.gen(function*() {
            const pilots = yield* Pilots
            const events = yield* Events
            const before = yield* events.latestSequence
            const rowsBefore = (yield* pilots.list()).map(view)
            const exit = yield* Effect.exit(pilots.register(input as RegisterPilot))
            const invalid = firstInvalidField(input)
            if (invalid === undefined) {
              expect(Exit.isSuccess(exit), String(exit)).toBe(true)
              if (!Exit.isSuccess(exit)) return
              const callsign = input.callsign as string
              const previous = rowsBefore.find((p) => p.callsign === callsign)
              const expected = {
                program: (input.program as string | undefined) ?? previous?.program ?? "opencode",
                model: (input.model as string | undefined) ?? previous?.model ?? "unknown",
                task_description: (input.task_description as string | undefined) ?? previous?.task_description ?? null
              }
              expect(view(exit.value)).toEqual({
                id: previous?.id ?? exit.value.id,
                callsign,
                ...expected,
                registered_at: previous?.registered_at ?? exit.value.last_active_at.epochMillis,
                last_active_at: exit.value.last_active_at.epochMillis
              })
              const log = yield* events.read({ after: before })
              expect(registrations(log)).toEqual([{ callsign, ...expected, first: previous === undefined }])
              expect(yield* events.latestSequence).toBe(log[0]!.sequence)
              // Every other row is untouched, and this one is the returned pilot.
              const rowsAfter = (yield* pilots.list()).map(view)
              expect(rowsAfter.filter((p) => p.callsign !== callsign)).toEqual(
                rowsBefore.filter((p) => p.callsign !== callsign)
              )
              expect(rowsAfter.find((p) => p.callsign === callsign)).toEqual(view(exit.value))
            } else {
              expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error, String(exit)).toMatchObject({
                _tag: "InvalidInput",
                field: invalid
              })
              expect(yield* events.latestSequence).toBe(before)
              expect((yield* pilots.list()).map(view)).toEqual(rowsBefore)
            }
          }).pipe(shared),
        runs
      )

      it.effect.prop(
        "any value to any method: success or a typed error, never a defect; only register writes an event",
        [fc.constantFrom("register", "heartbeat", "get", "list"), fc.oneof(callsignArb, fc.anything())],
        ([method, arg]) =>
          Effect.gen(function*() {
            const pilots = yield* Pilots
            const events = yield* Events
            const before = yield* events.latestSequence
            const count = (yield* pilots.list()).length
            const call = method === "register"
              ? pilots.register(arg as RegisterPilot)
              : method === "heartbeat"
              ? pilots.heartbeat(arg as string)
              : method === "get"
              ? pilots.get(arg as string)
              : pilots.list(arg as never)
            const exit = yield* Effect.exit(call as Effect.Effect<unknown, { readonly _tag: string }>)
            if (Exit.isFailure(exit)) {
              expect(exit.cause._tag === "Fail" && ["InvalidInput", "PilotNotFound"].includes(exit.cause.error._tag), String(exit))
                .toBe(true)
            }
            const wrote = method === "register" && Exit.isSuccess(exit)
            expect(yield* events.read({ after: before })).toHaveLength(wrote ? 1 : 0)
            const counted = (yield* pilots.list()).length
            expect(counted - count).toBeLessThanOrEqual(wrote ? 1 : 0)
            expect(counted).toBeGreaterThanOrEqual(count)
          }).pipe(shared),
        runs
      )
    }
  })
})

describe("two projects on one database, each with its own client", () => {
  it.effect("never see each other's pilots or events", () =>
    Effect.gen(function*() {
      const projectPath = yield* tempDir
      // A file database is one project: the other one is hand-composed on a second client of the
      // same file (as two projects on a server, each with its own client).
      const services = (context: Context.Context<FleetDb.FleetServices>) =>
        [Context.get(context, Pilots), Context.get(context, Events)] as const
      const [pilotsA, eventsA] = services(yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "alpha" })))
      const [pilotsB, eventsB] = services(
        yield* projectOn(yield* Layer.build(FleetDb.layerFile({ projectPath, projectKey: "alpha" })), "bravo")
      )
      yield* pilotsA.register({ callsign: "viper", model: "a" })
      yield* pilotsB.register({ callsign: "viper", model: "b" })
      yield* pilotsB.register({ callsign: "only-bravo" })
      yield* pilotsA.heartbeat("viper")
      expect((yield* pilotsA.get("viper")).model).toBe("a")
      expect((yield* pilotsB.get("viper")).model).toBe("b")
      expect(yield* failure(pilotsA.get("only-bravo"))).toBeInstanceOf(PilotNotFound)
      expect((yield* pilotsA.list()).map((p) => p.project_key)).toEqual(["alpha"])
      expect((yield* pilotsB.list()).map((p) => p.project_key)).toEqual(["bravo", "bravo"])
      const logA = yield* eventsA.read()
      const logB = yield* eventsB.read()
      expect(logA.map((e) => e.project_key)).toEqual(["alpha"])
      expect(logB.map((e) => e.project_key)).toEqual(["bravo", "bravo"])
      expect(yield* eventsA.latestSequence).toBe(logA[0]!.sequence)
      expect(yield* eventsB.latestSequence).toBe(logB[1]!.sequence)
    }).pipe(Effect.scoped))
})
