/**
 * `fleet-db demo`: a mission with M sorties worked by N pilots, each its own OS process on the
 * same database, shown live from the event log, then the final state and a summary.
 *
 * Every run adds its own mission and sorties; nothing is reset or deleted. Pilots are named
 * alpha, bravo, … and re-register on every run (registration is an idempotent upsert).
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Clock, Deferred, Effect, Fiber, Option } from "effect"
import type { Mission, Sortie } from "../../index.js"
import { Events, Locks, Missions, Reservations, Sorties } from "../../index.js"
import { common, integerWithin } from "../options.js"
import { databaseLayer, describeTarget, resolveTarget, type Target } from "../connection.js"
import { followLog } from "../demo/live.js"
import { type PilotRun, runPilot } from "../demo/pilots.js"
import { type Outcome, pilotFailure, summaryOf, summaryText, tallyEvents } from "../demo/report.js"
import * as Render from "../render.js"
import { selfCommand, shellWord } from "../invocation.js"
import { Io } from "../io.js"
import { dashboardOptions, dashboardSettings, runDashboard } from "./serve.js"

const CALLSIGNS = [
  "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
  "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa"
]
const MODULES = [
  "auth", "billing", "search", "profile", "orders", "inventory",
  "reports", "notifications", "payments", "settings", "audit", "export"
]
const CHORES = ["Refactor", "Add tests for", "Fix the N+1 query in", "Type-check", "Document", "Speed up"]
const SHARED = ["config", "logger"]
const LOCK_KEY = "build"
const MAX_PILOTS = CALLSIGNS.length
const MAX_SORTIES = 200

/** The sorties of a demo mission: module work that shares a few files, and whole-directory chores. */
export const plan = (count: number): ReadonlyArray<{ readonly title: string; readonly files: ReadonlyArray<string> }> =>
  Array.from({ length: count }, (_, i) => {
    // Every fifth sortie touches all of src/shared, so it collides with everyone's shared file.
    if (i % 5 === 4) return { title: `Tidy up src/shared (round ${Math.floor(i / 5) + 1})`, files: ["src/shared/**"] }
    const module = MODULES[i % MODULES.length]!
    const round = Math.floor(i / MODULES.length)
    return {
      title: `${CHORES[(i + round) % CHORES.length]} ${module}${round > 0 ? ` (pass ${round + 1})` : ""}`,
      // Sorties two apart share a file: with three or more pilots, neighbours collide.
      files: [`src/${module}/**`, `src/shared/${SHARED[i % SHARED.length]}.ts`]
    }
  })

/** `fleet-db demo` */
export const demo = Command.make("demo", {
  ...common,
  pilots: integerWithin("pilots", { min: 1, max: MAX_PILOTS }).pipe(
    Options.withDescription("How many pilot processes (default 3)"),
    Options.withDefault(3)
  ),
  sorties: integerWithin("sorties", { min: 1, max: MAX_SORTIES }).pipe(
    Options.withDescription("How many sorties in the mission (default 12)"),
    Options.withDefault(12)
  ),
  workMs: integerWithin("work-ms", { min: 0, max: 60_000 }).pipe(
    Options.withDescription("Longest simulated work per sortie in ms (default 900)"),
    Options.withDefault(900)
  ),
  serve: Options.boolean("serve").pipe(
    Options.withDescription("Serve the live dashboard while the demo runs (prints its URL; stays open until Ctrl-C)")
  ),
  ...dashboardOptions
}, (options) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(options)
    const dashboard = options.serve ? Option.some(yield* dashboardSettings(options)) : Option.none()
    yield* Effect.gen(function*() {
      if (Option.isNone(dashboard)) return yield* run(target, options)
      const listening = yield* Deferred.make<string>()
      const server = yield* Effect.fork(runDashboard(dashboard.value, (where) => Deferred.succeed(listening, where)))
      // A server that cannot listen (port taken) fails here instead of leaving the demo waiting.
      const where = yield* Effect.raceFirst(Deferred.await(listening), Effect.zipRight(Fiber.join(server), Effect.never))
      const page = Option.match(dashboard.value.token, {
        onNone: () => where,
        onSome: (token) => `${where}/?token=${encodeURIComponent(token)}`
      })
      // Stdout carries the JSON summary with --json: the URL goes to stderr then.
      yield* (options.json ? Render.errLine : Render.lines)(`Dashboard: ${page}  (open it to watch the fleet work)`)
      yield* run(target, options)
      if (!options.json) yield* Render.lines("", `The dashboard stays open at ${page}; Ctrl-C to stop.`)
      return yield* Fiber.join(server)
    }).pipe(Effect.provide(databaseLayer(target, { mustExist: false })))
  })).pipe(
    Command.withDescription(
      "Run a mission with --sorties M worked by --pilots N separate processes, live; then the final state and a summary"
    )
  )

/**
 * The closing hint: commands to look around with, runnable as shown (this program as the user can
 * run it, with the database the demo used unless that is the current directory's).
 */
export const lookAround = (target: Target, cwd: string): string => {
  const where = target._tag === "File"
    ? (target.dir === cwd ? "" : ` --project ${shellWord(target.dir)}`)
    : ` --url ${shellWord(describeTarget(target))}`
  const self = selfCommand(cwd)
  return ["Look around:", ...["status", "events --type sortie_blocked", "inbox alpha", "doctor"].map((command) => `  ${self} ${command}${where}`)]
    .join("\n")
}

/** Create the run's mission and sorties, with a small work graph; the sorties in plan order. */
const setUp = (options: { readonly pilots: number; readonly sorties: number }, started: number) =>
  Effect.gen(function*() {
    const missions = yield* Missions
    const sorties = yield* Sorties
    const mission = yield* missions.create({
      title: `Demo run ${new Date(started).toISOString().replace("T", " ").slice(0, 19)}`,
      description: `${options.sorties} sorties, ${options.pilots} pilots (fleet-db demo)`,
      created_by: "fleet-db"
    })
    yield* missions.start(mission.id)
    const created = yield* Effect.forEach(plan(options.sorties), (s, i) =>
      sorties.create({ title: s.title, mission_id: mission.id, files: [...s.files], priority: i % 5 === 4 ? 2 : 1 }))
    // A small work graph, so blocked work visibly becomes ready: each shared-files tidy-up waits
    // on the two sorties before it, and a module's next pass on its previous one.
    for (const [i, sortie] of created.entries()) {
      const blockers = i % 5 === 4 ? [i - 1, i - 2] : i >= MODULES.length ? [i - MODULES.length] : []
      for (const b of blockers) yield* sorties.addDependency(sortie.id, created[b]!.id)
    }
    return { mission, sorties: created }
  })

/** The plan for people: where, the mission, and its sorties by label. */
const planText = (
  target: Target,
  mission: Mission,
  created: ReadonlyArray<Sortie>,
  labels: ReadonlyMap<string, string>,
  pilots: number
): ReadonlyArray<string> => [
  `${Render.heading("fleet-db demo")} ${describeTarget(target)}`,
  `Mission ${Render.style.bold(mission.title)} (${mission.id}): ${created.length} sorties, ${pilots} pilot processes, lock "${LOCK_KEY}" for every build`,
  Render.table(created, [
    { header: "", value: (s) => labels.get(s.id) },
    { header: "TITLE", value: (s) => s.title },
    { header: "FILES", value: (s) => (s.files ?? []).join(" ") }
  ]),
  ""
]

/** Complete the mission when every pilot succeeded and every sortie closed; gather the end state. */
const finish = (target: Target, mission: Mission, runs: ReadonlyArray<PilotRun>, startSequence: number, started: number) =>
  Effect.gen(function*() {
    const missions = yield* Missions
    const progress = yield* missions.progress(mission.id)
    if (runs.every((r) => r.code === 0) && progress.by_status.closed === progress.total) yield* missions.complete(mission.id)
    const outcome: Outcome = {
      database: describeTarget(target),
      mission: yield* missions.get(mission.id),
      progress,
      sorties: yield* (yield* Sorties).list({ mission_id: mission.id }),
      locks: yield* (yield* Locks).list(),
      reservations: yield* (yield* Reservations).active(),
      pilots: runs.length,
      runs,
      tally: yield* tallyEvents(startSequence, LOCK_KEY),
      wallMs: (yield* Clock.currentTimeMillis) - started
    }
    return outcome
  })

/** One demo run: set up, start the pilots while following the log, then the summary. */
const run = (
  target: Target,
  options: { readonly pilots: number; readonly sorties: number; readonly workMs: number; readonly json: boolean }
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const events = yield* Events
    const startSequence = yield* events.latestSequence
    const { mission, sorties } = yield* setUp(options, started)
    const labels = new Map(sorties.map((s, i) => [s.id as string, `S${i + 1}`]))
    const callsigns = CALLSIGNS.slice(0, options.pilots)
    if (!options.json) yield* Render.lines(...planText(target, mission, sorties, labels, options.pilots))

    // Follow the log from here on: everything the pilots do arrives through it.
    const live = yield* followLog(yield* events.latestSequence, {
      labels,
      callsigns,
      lockKey: LOCK_KEY,
      print: !options.json,
      tty: !options.json && (yield* Render.interactive)
    })
    const runs = yield* Effect.forEach(
      callsigns,
      (callsign) =>
        runPilot({
          ...(target._tag === "File" ? { project: target.dir } : { url: target.url }),
          callsign,
          peers: callsigns,
          mission_id: mission.id,
          lock_key: LOCK_KEY,
          work_ms: [Math.floor(options.workMs / 3), options.workMs],
          build_ms: [150, 400]
        }),
      { concurrency: "unbounded" }
    )
    yield* live.stop

    const outcome = yield* finish(target, mission, runs, startSequence, started)
    if (options.json) yield* Render.json(summaryOf(outcome))
    else yield* Render.lines(...yield* summaryText(outcome, LOCK_KEY, lookAround(target, (yield* Io).cwd())))
    const failure = pilotFailure(runs)
    if (Option.isSome(failure)) return yield* failure.value
  })
