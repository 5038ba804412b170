/**
 * The `fleet-db` command line against temp project directories: every command's happy path, the
 * demo's summary checked against the database, and the error contract (one line on stderr, no
 * stack trace, exit code 2; 3 when the database cannot be opened; doctor 1). Commands run
 * in-process (support/cli-inprocess.ts); the demo (whose pilots are processes of the built
 * bundle) and `events --follow` ended by SIGINT run as real processes (`node dist/cli/main.js`,
 * the shipped bundle, see `sharedCli`).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import { Events, FleetDb, FleetProject, Locks, Messages, Missions, Pilots, Sorties } from "../src/index.js"
import { sqldContext } from "./support/backends.js"
import { fleetEffect } from "./support/cli-inprocess.js"
import { cleanEnv, type Run, runCli, sharedCli } from "./support/cli-run.js"

const root = fileURLToPath(new URL("..", import.meta.url))

const build = sharedCli()

const TEST_TIMEOUT = 300_000

interface RunOptions {
  readonly cwd?: string
  readonly env?: Record<string, string>
}

/** A running `fleet-db …args` (for the tests that signal it or read it as it goes). */
const start = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  spawn(process.execPath, [join(build, "dist", "cli", "main.js"), ...args], {
    cwd: options.cwd ?? root,
    env: { ...cleanEnv(), ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })

/** Run the built `fleet-db …args` as a process to completion. */
const fleetProcess = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Run> =>
  runCli(build, args, { cwd: options.cwd ?? root, ...(options.env === undefined ? {} : { env: options.env }) })

/** Run `fleet-db …args` in-process to completion. */
const fleet = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  fleetEffect(args, { cwd: options.cwd ?? root, ...(options.env === undefined ? {} : { env: options.env }) })

/** The error contract: exactly one line on stderr, prefixed, no stack trace, nothing on stdout. */
const expectOneLineError = (run: Run, code: number, pattern: RegExp) => {
  expect(run.code, run.stderr).toBe(code)
  const lines = run.stderr.trimEnd().split("\n")
  expect(lines, run.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^fleet-db: /)
  expect(lines[0]).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|FiberFailure|\{\s*$/)
  expect(run.stdout).toBe("")
}

const dirs: Array<string> = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-cli-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Run an effect against the project's database file directly, through the library. */
const withDb = <A, E>(dir: string, effect: Effect.Effect<A, E, FleetDb.FleetServices>) =>
  Effect.provide(effect, FleetDb.layerFile({ projectPath: dir }))

interface DemoSummary {
  readonly mission_id: string
  readonly mission_status: string
  readonly sorties: { readonly total: number; readonly done: number }
  readonly conflicts_refused: number
  readonly sorties_blocked: number
  readonly lock_waits: number
  readonly builds: number
  readonly mail: { readonly sent: number; readonly read: number; readonly acked: number }
  readonly checkpoints: number
  readonly events_written: number
  readonly first_sequence: number
  readonly last_sequence: number
  readonly pilot_reports: ReadonlyArray<{
    readonly callsign: string
    readonly exit_code: number
    readonly pid: number
    readonly sorties_completed: number
    readonly sorties_blocked: number
    readonly conflicts_refused: number
    readonly mail_sent: number
  }>
}

describe("fleet-db on a project populated by the demo", () => {
  // One project for the read commands: `init` (in the cwd, no flags), then a small demo.
  let project = ""
  let summary: DemoSummary

  beforeAll(async () => {
    project = freshDir()
    const init = await Effect.runPromise(fleet(["init"], { cwd: project }))
    expect(init.code, init.stderr).toBe(0)
    const demo = await fleetProcess(["demo", "--project", project, "--pilots", "2", "--sorties", "4", "--work-ms", "150", "--json"])
    expect(demo.code, demo.stderr).toBe(0)
    summary = JSON.parse(demo.stdout) as DemoSummary
  }, TEST_TIMEOUT)

  it.live("init creates .fleet/fleet.db in the current directory and reports the schema version; again is idempotent", () =>
    Effect.gen(function*() {
      const run = yield* fleet(["init", "--json"], { cwd: project })
      expect(run.code, run.stderr).toBe(0)
      const info = JSON.parse(run.stdout) as { path: string; created: boolean; schema_version: number; migrations: Array<string> }
      expect(info.path).toBe(join(project, ".fleet", "fleet.db"))
      expect(info.created).toBe(false)
      expect(info.schema_version).toBeGreaterThanOrEqual(2)
      expect(info.migrations.slice(0, 2)).toEqual(["0001_initial", "0002_integrity"])
    }), TEST_TIMEOUT)

  it.live("demo: separate processes did the mission, and the summary's counts match the database", () =>
    withDb(
      project,
      Effect.gen(function*() {
        expect(summary.sorties).toEqual({ total: 4, done: 4 })
        expect(summary.mission_status).toBe("completed")
        const pids = summary.pilot_reports.map((r) => r.pid)
        expect(new Set(pids).size).toBe(2)
        expect(pids).not.toContain(process.pid)
        expect(summary.pilot_reports.every((r) => r.exit_code === 0)).toBe(true)
        expect(summary.pilot_reports.reduce((n, r) => n + r.sorties_completed, 0)).toBe(4)

        const mission = yield* (yield* Missions).get(summary.mission_id)
        expect(mission.status).toBe("completed")
        const sorties = yield* (yield* Sorties).list({ mission_id: summary.mission_id })
        expect(sorties.map((s) => s.status)).toEqual(["closed", "closed", "closed", "closed"])
        expect(new Set(sorties.map((s) => s.assigned_to)).size).toBeGreaterThanOrEqual(1)
        expect(sorties.every((s) => (s.files ?? []).length > 0)).toBe(true)

        const events = yield* (yield* Events).read({ after: summary.first_sequence - 1, limit: 10_000 })
        expect(events).toHaveLength(summary.events_written)
        expect(events.at(-1)?.sequence).toBe(summary.last_sequence)
        const count = (type: string) => events.filter((e) => e.type === type).length
        expect(count("sortie_completed")).toBe(4)
        expect(count("sortie_claimed")).toBe(4)
        expect(count("message_sent")).toBe(summary.mail.sent)
        expect(summary.mail.sent).toBe(summary.pilot_reports.reduce((n, r) => n + r.mail_sent, 0))
        expect(count("message_acked")).toBe(summary.mail.acked)
        expect(count("checkpoint_created")).toBe(summary.checkpoints)
        expect(summary.checkpoints).toBe(8)
        expect(count("sortie_blocked")).toBe(summary.sorties_blocked)
        expect(summary.sorties_blocked).toBe(summary.pilot_reports.reduce((n, r) => n + r.sorties_blocked, 0))
        expect(summary.conflicts_refused).toBeGreaterThanOrEqual(summary.sorties_blocked)
        const builds = events.filter((e) => e.known && e.type === "lock_acquired" && e.data.lock_key === "build")
        expect(builds).toHaveLength(summary.builds)
        expect(summary.builds).toBe(4)
        // Everything taken was given back.
        expect(yield* (yield* Locks).list()).toEqual([])
        expect(count("file_reserved") - count("file_released")).toBe(0)
      })
    ), TEST_TIMEOUT)

  it.live("status: one screen, and --json with the same numbers", () =>
    Effect.gen(function*() {
      const text = yield* fleet(["status", "--project", project])
      expect(text.code, text.stderr).toBe(0)
      for (const heading of ["Pilots:", "Locks held: 0", "Reservations: 0 active", "Sorties:", "Missions: 1", "Mail:", "Last events"]) {
        expect(text.stdout).toContain(heading)
      }
      expect(text.stdout).toMatch(/alpha/)
      const run = yield* fleet(["status", "--project", project, "--json"])
      expect(run.code, run.stderr).toBe(0)
      const status = JSON.parse(run.stdout) as {
        pilots: { registered: number; active: Array<{ callsign: string }> }
        locks: Array<unknown>
        reservations: Array<unknown>
        sorties: Record<string, number>
        missions: Array<{ id: string; progress: { percent: number } }>
        mail: { unread: number; unacked: number }
        last_events: Array<{ sequence: number }>
      }
      expect(status.pilots.registered).toBe(2)
      expect(status.pilots.active.map((p) => p.callsign).sort()).toEqual(["alpha", "bravo"])
      expect(status.locks).toEqual([])
      expect(status.reservations).toEqual([])
      expect(status.sorties).toEqual({ open: 0, in_progress: 0, blocked: 0, closed: 4 })
      expect(status.missions.map((m) => [m.id, m.progress.percent])).toEqual([[summary.mission_id, 100]])
      expect(status.last_events.at(-1)?.sequence).toBe(summary.last_sequence)
      const unread = yield* withDb(project, Effect.gen(function*() {
        const messages = yield* Messages
        const a = yield* messages.inbox("alpha", { unreadOnly: true })
        const b = yield* messages.inbox("bravo", { unreadOnly: true })
        return a.length + b.length
      }))
      expect(status.mail.unread).toBe(unread)
    }), TEST_TIMEOUT)

  it.live("events: the tail, --type, --after, --limit, --json (one event per line)", () =>
    Effect.gen(function*() {
      const tail = yield* fleet(["events", "--project", project, "--limit", "3"])
      expect(tail.code, tail.stderr).toBe(0)
      const tailLines = tail.stdout.trimEnd().split("\n")
      expect(tailLines).toHaveLength(3)
      expect(tailLines[2]).toContain(`#${String(summary.last_sequence).padStart(5)}`)

      const json = yield* fleet(["events", "--project", project, "--json", "--type", "sortie_completed,sortie_claimed"])
      expect(json.code, json.stderr).toBe(0)
      const events = json.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { type: string; sequence: number; timestamp: string })
      expect(events.filter((e) => e.type === "sortie_completed")).toHaveLength(4)
      expect(events.filter((e) => e.type === "sortie_claimed")).toHaveLength(4)
      expect(events.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.timestamp))).toBe(true)
      expect(events.map((e) => e.sequence)).toEqual([...events.map((e) => e.sequence)].sort((a, b) => a - b))

      const after = yield* fleet(["events", "--project", project, "--json", "--after", String(summary.last_sequence - 2), "--limit", "1"])
      expect(after.code, after.stderr).toBe(0)
      expect(after.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { sequence: number }).sequence)).toEqual([
        summary.last_sequence - 1
      ])
    }), TEST_TIMEOUT)

  it.live("events --newest, --since, --until: newest first and time windows, times in ISO-8601", () =>
    Effect.gen(function*() {
      type Line = { type: string; sequence: number; timestamp: string }
      const parse = (stdout: string) => stdout.trimEnd().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Line)
      const newest = yield* fleet(["events", "--project", project, "--json", "--newest", "--limit", "3"])
      expect(newest.code, newest.stderr).toBe(0)
      expect(parse(newest.stdout).map((e) => e.sequence)).toEqual([0, 1, 2].map((i) => summary.last_sequence - i))

      const all = parse((yield* fleet(["events", "--project", project, "--json", "--after", "0", "--limit", "10000"])).stdout)
      // Payload times print as ISO-8601 too, like every time in --json.
      const lock = all.find((e) => e.type === "lock_acquired") as unknown as { data: { acquired_at: unknown; expires_at: unknown } }
      expect(lock.data.expires_at).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/)
      expect(lock.data.acquired_at).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/)
      // A window from the time of one event (inclusive) to the time of a later one (exclusive).
      const from = all[Math.floor(all.length / 4)]!.timestamp
      const to = all.find((e) => Date.parse(e.timestamp) > Date.parse(from) + 1)?.timestamp ?? all.at(-1)!.timestamp
      const expected = all.filter((e) => Date.parse(e.timestamp) >= Date.parse(from) && Date.parse(e.timestamp) < Date.parse(to))
      expect(expected.length).toBeGreaterThan(0)
      const window = yield* fleet(["events", "--project", project, "--json", "--since", from, "--until", String(Date.parse(to)), "--limit", "10000"])
      expect(window.code, window.stderr).toBe(0)
      expect(parse(window.stdout).map((e) => e.sequence)).toEqual(expected.map((e) => e.sequence))
      const windowNewest = yield* fleet(["events", "--project", project, "--json", "--since", from, "--until", to, "--newest", "--limit", "2"])
      expect(parse(windowNewest.stdout).map((e) => e.sequence)).toEqual(expected.slice(-2).reverse().map((e) => e.sequence))

      const bad = yield* fleet(["events", "--project", project, "--since", "yesterday-ish"])
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toContain("--since")
    }), TEST_TIMEOUT)

  it.live("list views: pilots, locks, reservations, sorties, missions, inbox (tables and --json)", () =>
    Effect.gen(function*() {
      const [pilots, locks, reservations, sorties, missions, inbox, sortiesJson, inboxJson] = yield* Effect.all([
        fleet(["pilots", "--project", project]),
        fleet(["locks", "--project", project]),
        fleet(["reservations", "--project", project]),
        fleet(["sorties", "--project", project, "--status", "closed"]),
        fleet(["missions", "--project", project]),
        fleet(["inbox", "alpha", "--project", project]),
        fleet(["sorties", "--project", project, "--json", "--mission", summary.mission_id]),
        fleet(["inbox", "bravo", "--project", project, "--json"])
      ], { concurrency: 3 })
      for (const run of [pilots, locks, reservations, sorties, missions, inbox, sortiesJson, inboxJson]) {
        expect(run.code, run.stderr).toBe(0)
        expect(run.stderr).toBe("")
      }
      expect(pilots.stdout).toMatch(/CALLSIGN[\s\S]*alpha[\s\S]*/)
      expect(pilots.stdout).toContain("bravo")
      expect(locks.stdout).toContain("no locks held")
      expect(reservations.stdout).toContain("no active reservations")
      expect(sorties.stdout.match(/\bclosed\b/g)).toHaveLength(4)
      expect(missions.stdout).toContain(summary.mission_id)
      expect(missions.stdout).toContain("100%")
      expect(inbox.stdout).toMatch(/FROM[\s\S]*bravo/)
      const listed = JSON.parse(sortiesJson.stdout) as Array<{ status: string; mission_id: string; files: Array<string> }>
      expect(listed).toHaveLength(4)
      expect(listed.every((s) => s.status === "closed" && s.mission_id === summary.mission_id && s.files.length > 0)).toBe(true)
      const mail = JSON.parse(inboxJson.stdout) as Array<{ message: { from_callsign: string } }>
      expect(mail.length).toBeGreaterThan(0)
      expect(mail.every((m) => m.message.from_callsign === "alpha")).toBe(true)
    }), TEST_TIMEOUT)

  it.live("pilots --json through a --url file: URL and through FLEET_DB_URL: the same database", () =>
    Effect.gen(function*() {
      const url = `file:${join(project, ".fleet", "fleet.db")}`
      const [flag, env] = yield* Effect.all([
        fleet(["pilots", "--url", url, "--json"], { cwd: project }),
        fleet(["pilots", "--json"], { cwd: project, env: { FLEET_DB_URL: url } })
      ], { concurrency: 2 })
      for (const run of [flag, env]) {
        expect(run.code, run.stderr).toBe(0)
        expect((JSON.parse(run.stdout) as Array<{ callsign: string }>).map((p) => p.callsign).sort()).toEqual(["alpha", "bravo"])
      }
    }), TEST_TIMEOUT)

  it.live("doctor: a healthy database exits 0", () =>
    Effect.gen(function*() {
      const run = yield* fleet(["doctor", "--project", project])
      expect(run.code, run.stdout + run.stderr).toBe(0)
      expect(run.stdout).toContain("integrity")
      expect(run.stdout).toContain("healthy")
      const json = yield* fleet(["doctor", "--project", project, "--json"])
      expect(json.code).toBe(0)
      const report = JSON.parse(json.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> }
      expect(report.ok).toBe(true)
      expect(report.checks.map((c) => c.name)).toEqual(["open", "integrity", "migrations", "wal", "projects", "leases", "pilots", "rows"])
    }), TEST_TIMEOUT)

  it.live("events --follow prints events written after it started, until interrupted", () =>
    Effect.gen(function*() {
      const child = start(["events", "--project", project, "--follow", "--json", "--type", "cli_test_ping"])
      let stdout = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
      const waitFor = (predicate: () => boolean) =>
        Effect.promise(() =>
          new Promise<void>((resolve, reject) => {
            const deadline = Date.now() + 60_000
            const poll = setInterval(() => {
              if (predicate()) {
                clearInterval(poll)
                resolve()
              } else if (Date.now() > deadline || child.exitCode !== null) {
                clearInterval(poll)
                reject(new Error(`follow never printed the event; stdout: ${stdout}`))
              }
            }, 50)
          })
        )
      for (const n of [1, 2]) {
        yield* withDb(project, Effect.flatMap(Events, (events) => events.append({ type: "cli_test_ping", data: { n } })))
        yield* waitFor(() => stdout.split("\n").filter((l) => l.includes("cli_test_ping")).length >= n)
      }
      const printed = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { type: string; data: { n: number } })
      expect(printed.map((e) => [e.type, e.data.n])).toEqual([["cli_test_ping", 1], ["cli_test_ping", 2]])
      child.kill("SIGINT")
      expect(yield* Effect.promise(() => exited)).toBe(130)
    }), TEST_TIMEOUT)
})

describe("fleet-db demo for people", () => {
  it.live("prints the plan, the live log, the final state and a summary; a re-run adds its own mission", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      for (const run of [1, 2]) {
        const demo = yield* Effect.promise(() => fleetProcess(["demo", "--pilots", "1", "--sorties", "2", "--work-ms", "50"], { cwd: dir }))
        expect(demo.code, demo.stderr).toBe(0)
        expect(demo.stderr).toBe("")
        expect(demo.stdout).toMatch(/Mission Demo run .*2 sorties, 1 pilot processes/)
        expect(demo.stdout).toMatch(/alpha\s+claimed S1/)
        expect(demo.stdout).toMatch(/alpha\s+completed S2 +\[2\/2\]/)
        expect(demo.stdout).toContain("Final state")
        expect(demo.stdout).toMatch(/sorties done\s+2\/2 +\(mission completed\)/)
        expect(demo.stdout).toMatch(/lock waits\s+0 +\(2 builds under lock "build"\)/)
        expect(demo.stdout).toMatch(/events written\s+\d+/)
        // The closing hint runs as shown: this program by its path, no --project (the demo used the cwd).
        expect(demo.stdout).toMatch(/Look around:\n {2}node \/\S+\/main\.js status\n/)
        const missions = yield* withDb(dir, Effect.flatMap(Missions, (m) => m.list()))
        expect(missions).toHaveLength(run)
        expect(missions.every((m) => m.status === "completed")).toBe(true)
      }
    }), TEST_TIMEOUT)
})

describe("fleet-db recovery", () => {
  it.live("sweep: a silent pilot is declared lost and its lock released (--json); a bad --stale-after is exit 2", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* withDb(dir, Effect.gen(function*() {
        yield* (yield* Pilots).register({ callsign: "ghost" })
        yield* (yield* Locks).acquire("build", { holder: "ghost", ttl: "1 hour" })
        yield* Effect.sleep("20 millis")
      }))
      const run = yield* fleet(["sweep", "--project", dir, "--stale-after", "1ms", "--json"])
      expect(run.code, run.stdout + run.stderr).toBe(0)
      const lost = JSON.parse(run.stdout) as Array<{ callsign: string; released_locks: Array<string> }>
      expect(lost.map((p) => p.callsign)).toEqual(["ghost"])
      expect(lost[0]?.released_locks).toEqual(["build"])
      const held = yield* withDb(dir, Effect.flatMap(Locks, (locks) => locks.list()))
      expect(held).toEqual([])
      expectOneLineError(yield* fleet(["sweep", "--project", dir, "--stale-after", "soon"]), 2, /staleAfter/)
    }), TEST_TIMEOUT)

  it.live("doctor --verify: a healthy database exits 0 with an ok verify check", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* withDb(dir, Effect.flatMap(Pilots, (pilots) => pilots.register({ callsign: "alpha" })))
      const json = yield* fleet(["doctor", "--project", dir, "--verify", "--json"])
      expect(json.code, json.stdout + json.stderr).toBe(0)
      const report = JSON.parse(json.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> }
      expect(report.ok).toBe(true)
      expect(report.checks.find((c) => c.name === "verify")?.status).toBe("ok")
    }), TEST_TIMEOUT)
})

describe("fleet-db work graph", () => {
  it.live("depend add|show|remove, ready and sorties --blocked; a cycle is refused (exit 1)", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const [a, b] = yield* withDb(dir, Effect.flatMap(Sorties, (sorties) =>
        Effect.all([sorties.create({ title: "schema" }), sorties.create({ title: "service", priority: 0 })])))
      const added = yield* fleet(["depend", "add", b!.id, a!.id, "--project", dir])
      expect(added.code, added.stderr).toBe(0)
      expect(added.stdout).toContain(`${b!.id} waits on ${a!.id}`)
      expectOneLineError(yield* fleet(["depend", "add", a!.id, b!.id, "--project", dir]), 1, /would close the cycle/)

      const ready = yield* fleet(["ready", "--project", dir, "--json"])
      expect(ready.code, ready.stderr).toBe(0)
      expect((JSON.parse(ready.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([a!.id])
      const table = yield* fleet(["ready", "--project", dir])
      expect(table.stdout).toContain("schema")
      expect(table.stdout).not.toContain("service")

      const blocked = yield* fleet(["sorties", "--blocked", "--project", dir, "--json"])
      expect(blocked.code, blocked.stderr).toBe(0)
      expect(JSON.parse(blocked.stdout)).toMatchObject([{ id: b!.id, waiting_on: [{ sortie_id: a!.id, kind: "blocks" }] }])
      const blockedText = yield* fleet(["sorties", "--blocked", "--project", dir])
      expect(blockedText.stdout).toContain(`${a!.id} (open)`)

      const show = yield* fleet(["depend", "show", a!.id, "--project", dir, "--json"])
      expect(JSON.parse(show.stdout)).toMatchObject({ sortie_id: a!.id, depends_on: [], dependents: [{ sortie_id: b!.id }] })
      const removed = yield* fleet(["depend", "remove", b!.id, a!.id, "--project", dir])
      expect(removed.stdout).toContain("no longer depends on")
      const after = yield* fleet(["ready", "--project", dir, "--json"])
      expect((JSON.parse(after.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([b!.id, a!.id])
    }), TEST_TIMEOUT)
})

describe("fleet-db errors", () => {
  it.live("usage errors: one line on stderr, no stack trace, exit code 2 (3 when the database cannot be opened)", () =>
    Effect.gen(function*() {
      const empty = freshDir()
      const notAProject = join(empty, "missing")
      const runs = yield* Effect.all({
        unknown: fleet(["frobnicate"]),
        badFlag: fleet(["status", "--frobnicate"]),
        badValue: fleet(["sorties", "--status", "done"]),
        missingArg: fleet(["inbox", "--project", empty]),
        missingDb: fleet(["events", "--limit", "5"], { cwd: empty }),
        missingDir: fleet(["pilots", "--project", notAProject]),
        missingFileUrl: fleet(["locks", "--url", `file:${join(empty, "nope.db")}`]),
        badScheme: fleet(["status", "--url", "ftp://example.com/db"]),
        unreachable: fleet(["status", "--url", "http://127.0.0.1:9"]),
        both: fleet(["status", "--project", empty, "--url", "http://127.0.0.1:9"]),
        badDemo: fleet(["demo", "--project", empty, "--pilots", "0"])
      }, { concurrency: 2 })
      expectOneLineError(runs.unknown, 2, /frobnicate|subcommand/i)
      expectOneLineError(runs.unknown, 2, /fleet-db --help/)
      expectOneLineError(runs.badFlag, 2, /--frobnicate.*fleet-db status --help/)
      expectOneLineError(runs.badValue, 2, /open, in_progress, blocked, closed/)
      expectOneLineError(runs.missingArg, 2, /CALLSIGN/)
      expectOneLineError(runs.missingDb, 3, /no FleetTools database at .*fleet\.db.*fleet-db init/)
      expectOneLineError(runs.missingDir, 2, /no such project directory/)
      expectOneLineError(runs.missingFileUrl, 3, /no FleetTools database at .*nope\.db/)
      expectOneLineError(runs.badScheme, 2, /ftp:.*--url/)
      expectOneLineError(runs.unreachable, 3, /127\.0\.0\.1:9.*server is running/)
      expectOneLineError(runs.both, 2, /either --project DIR or --url URL/)
      expectOneLineError(runs.badDemo, 2, /--pilots must be between/)
      // Read commands never create a database.
      expect(existsSync(join(empty, ".fleet"))).toBe(false)
    }), TEST_TIMEOUT)

  it.live("input the library refuses is a one-line usage error too (unknown callsign, bad duration)", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      expect((yield* fleet(["init", "--project", dir])).code).toBe(0)
      const [inbox, within] = yield* Effect.all([
        fleet(["inbox", "nobody", "--project", dir]),
        fleet(["pilots", "--project", dir, "--active-within", "soon"])
      ], { concurrency: 2 })
      expectOneLineError(inbox, 2, /nobody/)
      expectOneLineError(within, 2, /activeWithin/)
    }), TEST_TIMEOUT)

  it.live("doctor: a file database holding rows under several project keys → exit 1 naming them and how to merge", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* withDb(dir, Effect.flatMap(Pilots, (p) => p.register({ callsign: "viper-1" })))
      // Written before keys were stored: the same project reached through another path.
      const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      yield* Effect.promise(() =>
        client.execute({
          sql: "INSERT INTO pilots (project_key, callsign, registered_at, last_active_at) VALUES (?, 'viper-2', 1, 1)",
          args: ["/old/checkout"]
        }).finally(() => client.close())
      )
      const run = yield* fleet(["doctor", "--project", dir])
      expect(run.code, run.stdout + run.stderr).toBe(1)
      expect(run.stdout).toMatch(/✗ projects +2 project keys in one file database/)
      expect(run.stdout).toContain("\"/old/checkout\" (1 rows)")
      expect(run.stdout).toContain("One project, one key")
      const json = yield* fleet(["doctor", "--project", dir, "--json"])
      const report = JSON.parse(json.stdout) as { checks: Array<{ name: string; status: string; items?: unknown }> }
      expect(report.checks.filter((c) => c.status === "fail").map((c) => c.name)).toEqual(["projects"])
    }), TEST_TIMEOUT)

  it.live("doctor: expired but unreleased lock → exit 1 naming it; a file that is not a database → exit 1", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* withDb(dir, Effect.gen(function*() {
        yield* (yield* Locks).acquire("stuck-build", { holder: "ghost", ttl: 1 })
        yield* Effect.sleep("20 millis")
      }))
      const run = yield* fleet(["doctor", "--project", dir])
      expect(run.code, run.stdout + run.stderr).toBe(1)
      expect(run.stdout).toMatch(/✗ leases .*lock stuck-build \(ghost/)
      expect(run.stdout).toContain("1 problem found")
      const json = yield* fleet(["doctor", "--project", dir, "--json"])
      expect(json.code).toBe(1)
      const report = JSON.parse(json.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> }
      expect(report.ok).toBe(false)
      expect(report.checks.find((c) => c.name === "leases")?.status).toBe("fail")
      expect(report.checks.filter((c) => c.status === "fail").map((c) => c.name)).toEqual(["leases"])

      const garbage = freshDir()
      mkdirSync(join(garbage, ".fleet"))
      writeFileSync(join(garbage, ".fleet", "fleet.db"), "this is not a database, just text ".repeat(200))
      const broken = yield* fleet(["doctor", "--project", garbage])
      expect(broken.code, broken.stdout + broken.stderr).toBe(1)
      expect(broken.stdout).toMatch(/✗ open .*not a SQLite database/)
      // The other commands cannot open it: exit 3.
      expectOneLineError(yield* fleet(["status", "--project", garbage]), 3, /not a SQLite database/)
    }), TEST_TIMEOUT)
})

describe("fleet-db doctor and foreign rows", () => {
  it.live("doctor: rows another tool wrote that do not decode → exit 1 listing table, id and column", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const pilotId = yield* withDb(dir, Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { projectKey } = yield* FleetProject
        yield* (yield* Pilots).register({ callsign: "good" })
        yield* (yield* Sorties).create({ title: "fine" })
        const [pilot] = yield* sql<{ id: number }>`INSERT INTO pilots (project_key, callsign, registered_at, last_active_at)
          VALUES (${projectKey}, ${"weird"}, ${"yesterday"}, ${Date.now()}) RETURNING id`
        yield* sql`INSERT INTO sorties (id, project_key, title, status, priority, created_at)
          VALUES (${"srt_foreign"}, ${projectKey}, ${"f"}, ${"open"}, ${"x"}, ${Date.now()})`
        return pilot!.id
      }))
      const run = yield* fleet(["doctor", "--project", dir])
      expect(run.code, run.stdout + run.stderr).toBe(1)
      expect(run.stdout).toMatch(new RegExp(`✗ rows .*pilots ${pilotId} \\(registered_at\\), sorties srt_foreign \\(priority\\)`))
      const json = yield* fleet(["doctor", "--project", dir, "--json"])
      const report = JSON.parse(json.stdout) as { checks: Array<{ name: string; status: string; items?: Array<unknown> }> }
      expect(report.checks.filter((c) => c.status === "fail").map((c) => c.name)).toEqual(["rows"])
      expect(report.checks.find((c) => c.name === "rows")?.items).toEqual([
        expect.objectContaining({ table: "pilots", row_id: String(pilotId), column: "registered_at" }),
        expect.objectContaining({ table: "sorties", row_id: "srt_foreign", column: "priority" })
      ])
    }), TEST_TIMEOUT)
})

describe("fleet-db on a libSQL server", () => {
  const context = sqldContext()
  it.live.skipIf(context.status === "unsupported")("init, demo and status with --url against sqld", () =>
    Effect.gen(function*() {
      if (context.status !== "ready") return yield* Effect.dieMessage(`sqld: ${context.reason}`)
      const env = { FLEET_PROJECT_KEY: `cli-test-${process.pid}-${Date.now()}` }
      const init = yield* fleet(["init", "--url", context.url, "--json"], { env })
      expect(init.code, init.stderr).toBe(0)
      const demo = yield* Effect.promise(() =>
        fleetProcess(["demo", "--url", context.url, "--pilots", "2", "--sorties", "2", "--work-ms", "50", "--json"], { env })
      )
      expect(demo.code, demo.stderr).toBe(0)
      const summary = JSON.parse(demo.stdout) as DemoSummary
      expect(summary.sorties).toEqual({ total: 2, done: 2 })
      const status = yield* fleet(["status", "--url", context.url, "--json"], { env })
      expect(status.code, status.stderr).toBe(0)
      const parsed = JSON.parse(status.stdout) as { sorties: Record<string, number>; project_key: string }
      expect(parsed.project_key).toBe(env.FLEET_PROJECT_KEY)
      expect(parsed.sorties).toEqual({ open: 0, in_progress: 0, blocked: 0, closed: 2 })
    }), TEST_TIMEOUT)
})
