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
import { Clock, Deferred, Effect, Fiber, Option, Ref, Schedule, Schema, Stream } from "effect"
import { spawn } from "node:child_process"
import type { FleetEvent } from "../../index.js"
import { Events, Locks, Missions, Reservations, Sorties } from "../../index.js"
import { common, integerWithin } from "../options.js"
import { databaseLayer, describeTarget, resolveTarget, type Target } from "../connection.js"
import { CommandFailed } from "../errors.js"
import { eventLine } from "../eventText.js"
import * as Render from "../render.js"
import type { PilotReport, PilotSettings } from "../demo-pilot.js"
import { pilotScript } from "../pilotScript.js"
import { selfCommand, shellWord } from "../invocation.js"
import { Io } from "../io.js"
import { dashboardOptions, dashboardSettings, runDashboard } from "./serve.js"
import { locksTable, missionsTable, reservationsTable, sortiesTable } from "../tables.js"

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

/** How to start the pilot worker: compiled or not, run like us. */
const workerArgs = (settings: PilotSettings): ReadonlyArray<string> =>
  // Under tsx the loader flags are in execArgv; the worker needs them too.
  [...process.execArgv, pilotScript(), JSON.stringify(settings)]

interface PilotRun {
  readonly callsign: string
  readonly code: number
  readonly report: Option.Option<PilotReport>
  readonly stderr: string
}

const decodeReport = Schema.decodeUnknownOption(Schema.parseJson(Schema.Struct({
  callsign: Schema.String,
  pid: Schema.Number,
  sorties_completed: Schema.Number,
  conflicts_refused: Schema.Number,
  sorties_blocked: Schema.Number,
  lock_waits: Schema.Number,
  builds: Schema.Number,
  mail_sent: Schema.Number,
  mail_read: Schema.Number,
  mail_acked: Schema.Number,
  checkpoints: Schema.Number
})))

/**
 * Run one pilot process to its end. Each pilot gets its own process group, so a Ctrl-C in the
 * terminal reaches only the demo, which then asks every pilot once (SIGINT) to hand its sortie
 * back and stop, and waits for it (SIGKILL after 10 s).
 */
const runPilot = (settings: PilotSettings): Effect.Effect<PilotRun> =>
  Effect.async<PilotRun>((resume) => {
    const child = spawn(process.execPath, workerArgs(settings), { stdio: ["ignore", "pipe", "pipe"], detached: true })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", (error) =>
      resume(Effect.succeed({ callsign: settings.callsign, code: -1, report: Option.none(), stderr: error.message })))
    child.on("close", (code, signal) => {
      const report = Option.flatMap(Option.fromNullable(stdout.trim().split("\n").at(-1)), decodeReport)
      resume(Effect.succeed({ callsign: settings.callsign, code: code ?? (signal === null ? -1 : 128), report, stderr }))
    })
    return Effect.async<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done(Effect.void)
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000)
      child.once("close", () => {
        clearTimeout(kill)
        done(Effect.void)
      })
      child.kill("SIGINT")
    })
  })

/** What each pilot is doing, derived from the events, for the live status line. */
const activityOf = (event: FleetEvent, label: (id: string) => string): Option.Option<readonly [string, string]> => {
  if (!event.known) return Option.none()
  switch (event.type) {
    case "sortie_claimed":
      return Option.some([event.data.callsign, `working on ${label(event.data.sortie_id)}`])
    case "sortie_blocked":
      return Option.some([event.data.callsign ?? "", `${label(event.data.sortie_id)} waits for files`])
    case "sortie_unblocked":
      return Option.some([event.data.callsign ?? "", `working on ${label(event.data.sortie_id)}`])
    case "lock_acquired":
      return event.data.lock_key === LOCK_KEY ? Option.some([event.data.holder_id, "building"]) : Option.none()
    case "sortie_completed":
      return Option.some([event.data.callsign ?? "", `finished ${label(event.data.sortie_id)}`])
    default:
      return Option.none()
  }
}

// Routine chatter that would drown the interesting lines.
const quiet = new Set(["message_read", "lock_extended", "file_renewed", "sortie_created", "mission_created"])

/** Count what the run wrote, from the log itself. */
const tallyEvents = (after: number) =>
  Effect.gen(function*() {
    const events = yield* Events
    const counts = new Map<string, number>()
    let builds = 0
    let first = Number.POSITIVE_INFINITY
    let last = after
    let total = 0
    for (let from = after;;) {
      const page = yield* events.read({ after: from, limit: 10_000 })
      for (const event of page) {
        total++
        first = Math.min(first, event.sequence)
        last = event.sequence
        counts.set(event.type, (counts.get(event.type) ?? 0) + 1)
        if (event.known && event.type === "lock_acquired" && event.data.lock_key === LOCK_KEY) builds++
      }
      if (page.length < 10_000) break
      from = page.at(-1)!.sequence
    }
    return { total, first: total === 0 ? null : first, last: total === 0 ? null : last, counts, builds }
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

const run = (
  target: Target,
  options: { readonly pilots: number; readonly sorties: number; readonly workMs: number; readonly json: boolean }
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const events = yield* Events
    const missions = yield* Missions
    const sorties = yield* Sorties
    const live = !options.json
    const tty = live && (yield* Render.interactive)
    const startSequence = yield* events.latestSequence

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
    const labels = new Map(created.map((s, i) => [s.id as string, `S${i + 1}`]))
    const label = (id: string) => labels.get(id) ?? id
    const callsigns = CALLSIGNS.slice(0, options.pilots)

    if (live) {
      yield* Render.lines(
        `${Render.heading("fleet-db demo")} ${describeTarget(target)}`,
        `Mission ${Render.style.bold(mission.title)} (${mission.id}): ${options.sorties} sorties, ${options.pilots} pilot processes, lock "${LOCK_KEY}" for every build`,
        Render.table(created, [
          { header: "", value: (s) => label(s.id) },
          { header: "TITLE", value: (s) => s.title },
          { header: "FILES", value: (s) => (s.files ?? []).join(" ") }
        ]),
        ""
      )
    }

    // Follow the log from here on: everything the pilots do arrives through it.
    const followFrom = yield* events.latestSequence
    const printed = yield* Ref.make(followFrom)
    const activity = new Map<string, string>(callsigns.map((c) => [c, "starting"]))
    let closed = 0
    // One line at the bottom of a terminal, cut to its width so that redrawing it in place works.
    const statusLine = (columns: number) => {
      const text = `${closed}/${options.sorties} closed  ${callsigns.map((c) => `${c}: ${activity.get(c)}`).join(" · ")}`
      const room = Math.max(10, columns - 14)
      return `${Render.bar(closed, options.sorties, 12)} ${text.length > room ? `${text.slice(0, room - 1)}…` : text}`
    }
    const show = (event: FleetEvent) =>
      Effect.gen(function*() {
        yield* Ref.set(printed, event.sequence)
        if (event.known && event.type === "sortie_completed" && labels.has(event.data.sortie_id)) closed++
        Option.map(activityOf(event, label), ([who, what]) => activity.set(who, what))
        if (!live || quiet.has(event.type)) return
        const progress = event.known && event.type === "sortie_completed" ? Render.style.dim(`  [${closed}/${options.sorties}]`) : ""
        const line = `${eventLine(event, (id) => labels.get(id), 8)}${progress}`
        yield* Render.out(tty ? `\r\u001b[2K${line}\n${statusLine((yield* Render.terminalColumns) ?? 80)}` : `${line}\n`)
      })
    const follower = yield* Stream.runForEach(events.stream({ after: followFrom, pollInterval: "100 millis" }), show).pipe(
      Effect.fork
    )

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

    // Let the follower catch up with the last event the pilots wrote, then stop it.
    const end = yield* events.latestSequence
    yield* Effect.repeat(Ref.get(printed), {
      until: (seq) => seq >= end,
      schedule: Schedule.spaced("50 millis").pipe(Schedule.upTo("5 seconds"))
    })
    yield* Fiber.interrupt(follower)
    if (tty) yield* Render.out("\r\u001b[2K")

    const progress = yield* missions.progress(mission.id)
    const failed = runs.filter((r) => r.code !== 0)
    if (failed.length === 0 && progress.by_status.closed === progress.total) yield* missions.complete(mission.id)
    const finalMission = yield* missions.get(mission.id)
    const finalSorties = yield* sorties.list({ mission_id: mission.id })
    const locks = yield* (yield* Locks).list()
    const reservations = yield* (yield* Reservations).active()
    const tally = yield* tallyEvents(startSequence)
    const finished = yield* Clock.currentTimeMillis
    const reports = runs.flatMap((r) => Option.toArray(r.report))
    const sum = (key: keyof PilotReport) => reports.reduce((n, r) => n + Number(r[key]), 0)
    const count = (type: string) => tally.counts.get(type) ?? 0

    const summary = {
      database: describeTarget(target),
      mission_id: mission.id,
      mission_status: finalMission.status,
      pilots: options.pilots,
      sorties: { total: progress.total, done: progress.by_status.closed },
      conflicts_refused: sum("conflicts_refused"),
      sorties_blocked: count("sortie_blocked"),
      lock_waits: sum("lock_waits"),
      builds: tally.builds,
      mail: { sent: count("message_sent"), read: count("message_read"), acked: count("message_acked") },
      checkpoints: count("checkpoint_created"),
      events_written: tally.total,
      first_sequence: tally.first,
      last_sequence: tally.last,
      wall_ms: finished - started,
      pilot_reports: runs.map((r) => ({
        callsign: r.callsign,
        exit_code: r.code,
        ...Option.getOrElse(Option.map(r.report, (report) => ({ ...report })), () => ({}))
      }))
    }

    if (options.json) {
      yield* Render.json(summary)
    } else {
      const now = yield* Clock.currentTimeMillis
      yield* Render.lines(
        "",
        Render.heading("Final state"),
        missionsTable([{ mission: finalMission, progress: yield* missions.progress(mission.id) }]),
        "",
        sortiesTable(finalSorties),
        "",
        Render.heading(`Locks held: ${locks.length}`),
        locksTable(locks, now),
        Render.heading(`Reservations: ${reservations.length} active`),
        reservationsTable(reservations, now),
        "",
        Render.heading("Summary"),
        `  sorties done       ${summary.sorties.done}/${summary.sorties.total}  (mission ${summary.mission_status})`,
        `  conflicts refused  ${summary.conflicts_refused}  (${summary.sorties_blocked} sorties blocked until their files were free)`,
        `  lock waits         ${summary.lock_waits}  (${summary.builds} builds under lock "${LOCK_KEY}")`,
        `  mail               ${summary.mail.sent} sent, ${summary.mail.read} read, ${summary.mail.acked} acked`,
        `  checkpoints        ${summary.checkpoints}`,
        `  events written     ${summary.events_written}${
          tally.first === null ? "" : `  (#${tally.first} … #${tally.last})`
        }`,
        `  pilot processes    ${runs.map((r) => `${r.callsign} (pid ${Option.match(r.report, { onNone: () => "?", onSome: (x) => x.pid })}, exit ${r.code})`).join(", ")}`,
        `  wall time          ${Render.formatDuration(summary.wall_ms)}`,
        "",
        Render.style.dim(lookAround(target, (yield* Io).cwd()))
      )
    }
    if (failed.length > 0) {
      const first = failed[0]!
      const reason = first.stderr.trim().split("\n").at(-1) ?? ""
      return yield* new CommandFailed({
        message: `${failed.length} of ${runs.length} pilots failed; ${first.callsign} exited with code ${first.code}${
          reason === "" ? "" : `: ${reason}`
        }`
      })
    }
  })
