/**
 * `fleet-db --help` for every command, run in-process (see support/cli-inprocess.ts; the process
 * tests in cli-verbs.test.ts check the real thing once): 100 columns, no ANSI off a color terminal, no
 * generic type lines, optional options marked, exit codes listed. And the small command-line
 * fixes: durations need a unit; the demo's closing hint runs as shown.
 */
import { describe, expect, it } from "@effect/vitest"
import { CommandDescriptor } from "@effect/cli"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, DateTime, Effect, Exit, HashMap, Option } from "effect"
import { DatabaseOpenError, InvalidInput, LockHeld, ReservationConflict, SortieAlreadyClaimed } from "../src/index.js"
import { DatabaseMissing, Refused } from "../src/cli/errors.js"
import { outcomeOf } from "../src/cli/outcome.js"
import { loadCommands, rootCommand } from "../src/cli/app.js"
import { lookAround } from "../src/cli/commands/demo.js"
import { parseDuration } from "../src/cli/duration.js"
import { helpText, requested, wrap } from "../src/cli/help.js"
import * as Render from "../src/cli/render.js"
import { expectFailure, fleetEffect } from "./support/cli-inprocess.js"

/** Every command path: `[]` (the top level), `["init"]`, …, `["lock", "acquire"]`, …. */
const paths = (): ReadonlyArray<ReadonlyArray<string>> => {
  const all: Array<ReadonlyArray<string>> = [[]]
  const walk = (descriptor: CommandDescriptor.Command<unknown>, prefix: ReadonlyArray<string>) => {
    const name = Array.from(CommandDescriptor.getNames(descriptor))[0]!
    all.push([...prefix, name])
    for (const [childName, child] of HashMap.entries(CommandDescriptor.getSubcommands(descriptor))) {
      if (childName !== name) walk(child, [...prefix, name])
    }
  }
  for (const sub of subcommands) walk(sub.descriptor, [])
  return all
}

const subcommands = await loadCommands()
const command = rootCommand(subcommands)

const help = (path: ReadonlyArray<string>) => Render.plain(helpText(command, subcommands, [...path, "--help"], "9.9.9"))

describe("fleet-db --help", () => {
  it.live("every command, as printed: lines fit 100 columns, no ANSI off a color terminal, no generic type lines, exit codes listed", () =>
    Effect.gen(function*() {
      const all = paths()
      expect(all.map((p) => p.join(" "))).toEqual(expect.arrayContaining(["reserve", "lock acquire", "sortie create", "mission start", "status"]))
      for (const path of all) {
        const label = `fleet-db ${path.join(" ")} --help`
        const run = yield* fleetEffect([...path, "--help"], { env: { NO_COLOR: undefined } })
        expect(run.code, label).toBe(0)
        expect(run.stderr, label).toBe("")
        const text = run.stdout
        // eslint-disable-next-line no-control-regex -- ANSI escapes (ESC) are what this matches
        expect(text, label).not.toMatch(/\u001b\[/)
        for (const line of text.split("\n")) expect(line.length, `${label}: ${line}`).toBeLessThanOrEqual(100)
        expect(text, label).not.toMatch(/A true or false value|A user-defined piece of text|This setting is optional|--wizard|--log-level/)
        expect(text, label).toContain("Exit codes")
        expect(text, label).toMatch(/^\s+3\s+the database could not be opened/m)
      }
    }))

  it.live("colors only on a color terminal: not with NO_COLOR, TERM=dumb or a pipe", () =>
    Effect.gen(function*() {
      const color = { NO_COLOR: undefined, TERM: "xterm-256color" }
      const terminal = yield* fleetEffect(["reserve", "--help"], { env: color, columns: 120 })
      expect(terminal.code).toBe(0)
      expect(terminal.stdout).toContain("\u001b[1mUsage:\u001b[0m")
      const runs = yield* Effect.all([
        fleetEffect(["reserve", "--help"], { columns: 120 }),
        fleetEffect(["reserve", "--help"], { env: { ...color, TERM: "dumb" }, columns: 120 }),
        fleetEffect(["reserve", "--help"], { env: color })
      ])
      for (const run of runs) {
        expect(run.code).toBe(0)
        expect(run.stdout).toBe(Render.plain(terminal.stdout))
      }
    }))

  it("marks optional and required options and arguments; names the tool in the usage line", () => {
    const reserve = help(["reserve"])
    expect(reserve).toMatch(/^Usage: fleet-db reserve \[OPTIONS\] PATH\.\.\.$/m)
    expect(reserve).toMatch(/^\s+--ttl TEXT\s+How long it lasts.*\(optional\)$/m)
    expect(reserve).toMatch(/^\s+PATH\.\.\.\s+Path globs[^]*\(required, 1\s+or more\)$/m)
    expect(help(["sweep"])).toMatch(/^Usage: fleet-db sweep \[OPTIONS\] --stale-after TEXT$/m)
    expect(help(["claim"])).toMatch(/^Usage: fleet-db claim \[OPTIONS\] \[ID\]$/m)
    expect(help(["lock"])).toMatch(/^\s+acquire\s+Take the lock/m)
    const top = help([])
    expect(top).toMatch(/^fleet-db 9\.9\.9: /)
    expect(top).toMatch(/^\s+check\s+Would reserving these paths be refused/m)
  })

  it("help is asked for by -h or --help before a --, or by no arguments", () => {
    expect(requested(["reserve", "--help"])).toBe(true)
    expect(requested(["-h"])).toBe(true)
    expect(requested([])).toBe(true)
    expect(requested(["status"])).toBe(false)
    expect(requested(["send", "bob", "--body", "x", "--", "--help"])).toBe(false)
    expect(wrap("aaa bbb ccc", "  ", "> ", 8)).toEqual(["> aaa", "  bbb", "  ccc"])
  })
})

describe("fleet-db command-line fixes", () => {
  it.effect("a bare number is not a duration: the message names the units", () =>
    Effect.gen(function*() {
      const bare = yield* Effect.exit(parseDuration("--stale-after", "30000"))
      expect(bare).toStrictEqual(Exit.fail(expect.anything()))
      if (Exit.isFailure(bare)) expect(String(bare.cause)).toMatch(/--stale-after 30000 needs a unit, e\.g\. 30000ms, 30000s or 30000m/)
      expect(yield* parseDuration("--ttl", "10m")).toBe("10 minutes")
      expect(yield* parseDuration("--ttl", "1.5h")).toBe("1.5 hours")
      expect(yield* parseDuration("--ttl", "45 minutes")).toBe("45 minutes")
    }))

  it.live("ranges are checked by the options' schemas, naming the flag; environment fallbacks go through Config", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.all({
        limit: fleetEffect(["events", "--limit", "0"]),
        after: fleetEffect(["events", "--after", "-1"]),
        port: fleetEffect(["serve", "--port", "70000"]),
        pilots: fleetEffect(["demo", "--pilots", "0"]),
        workMs: fleetEffect(["demo", "--work-ms", "60001"]),
        onError: fleetEffect(["guard", "check", "x"], { env: { FLEET_GUARD_ON_ERROR: "bogus" } }),
        callsign: fleetEffect(["reserve", "src/**"], { env: { FLEET_CALLSIGN: " " } }),
        since: fleetEffect(["events", "--since", "yesterday-ish"])
      })
      expectFailure(runs.since, 2, /--since must be an ISO-8601 time or epoch milliseconds, got "yesterday-ish"/)
      expectFailure(runs.limit, 2, /--limit must be between 1 and 10000, got 0; run `fleet-db events --help`$/)
      expectFailure(runs.after, 2, /--after must be 0 or more, got -1/)
      expectFailure(runs.port, 2, /--port must be between 0 and 65535, got 70000/)
      expectFailure(runs.pilots, 2, /--pilots must be between 1 and 16, got 0/)
      expectFailure(runs.workMs, 2, /--work-ms must be between 0 and 60000, got 60001/)
      expectFailure(runs.onError, 2, /FLEET_GUARD_ON_ERROR/)
      // A blank $FLEET_CALLSIGN names nobody.
      expectFailure(runs.callsign, 2, /who is acting\? pass --callsign NAME or set FLEET_CALLSIGN/)
      const help = yield* fleetEffect(["guard", "check", "--help"])
      expect(help.stdout).toMatch(/--on-error allow \| refuse\s+When the database [^]*\(default \$FLEET_GUARD_ON_ERROR, else\s+allow\) \(optional\)$/m)
      expect(help.stdout).not.toContain("environment variables")
    }))

  it("the demo's closing hint keeps --project / --url and runs this program as it was started", () => {
    const project = lookAround({ _tag: "File", dir: "/tmp/my fleet", path: "/tmp/my fleet/.fleet/fleet.db", projectKey: Option.none(), foundBy: "--project", readOnly: false }, process.cwd())
    const lines = project.split("\n")
    expect(lines[0]).toBe("Look around:")
    expect(lines[1]).toMatch(/^ {2}(fleet-db|npm run fleet-db --|node \S+) status --project '\/tmp\/my fleet'$/)
    const here = lookAround({ _tag: "File", dir: "/tmp/here", path: "x", projectKey: Option.none(), foundBy: "current directory", readOnly: false }, "/tmp/here")
    expect(here).not.toContain("--project")
    const url = lookAround({ _tag: "Url", url: "libsql://db.example?authToken=secret", projectKey: Option.none(), file: Option.none(), readOnly: false }, process.cwd())
    expect(url).toContain("doctor --url libsql://db.example")
    expect(url).not.toContain("secret")
  })
})

describe("fleet-db exit codes", () => {
  const outcome = (error: unknown) => {
    const result = outcomeOf(Cause.fail(error), ["reserve"], ["reserve"])
    return { code: result.code, line: Option.getOrElse(result.message, () => "") }
  }
  const until = DateTime.unsafeMake(Date.UTC(2026, 11, 1, 18, 30))

  it("1: refused, the line naming who holds what until when; 2: bad input; 3: the database", () => {
    expect(outcome(new ReservationConflict({
      conflicts: [{ path: "src/a.ts", holder: "bravo", pattern: "src/**", exclusive: true, expires_at: until }]
    }))).toEqual({ code: 1, line: "fleet-db: refused: src/a.ts: reserved by \"bravo\" as src/** (exclusive) until 2026-12-01T18:30:00.000Z" })
    expect(outcome(new LockHeld({ key: "build", holder: "bravo", expires_at: until })))
      .toEqual({ code: 1, line: "fleet-db: refused: Lock \"build\" is held by \"bravo\" until 2026-12-01T18:30:00.000Z" })
    expect(outcome(new SortieAlreadyClaimed({ id: "srt_1", assigned_to: "bravo", status: "in_progress" })).code).toBe(1)
    expect(outcome(new Refused({ message: "nothing to claim" }))).toEqual({ code: 1, line: "fleet-db: refused: nothing to claim" })
    expect(outcome(new InvalidInput({ field: "ttl", reason: "must be a duration" })).code).toBe(2)
    expect(outcome(new DatabaseOpenError({ target: "ftp://x", reason: "url", detail: "bad scheme" })).code).toBe(2)
    expect(outcome(new DatabaseMissing({ message: "no FleetTools database at /x/.fleet/fleet.db" })).code).toBe(3)
    const unreachable = outcome(new DatabaseOpenError({ target: "http://h", reason: "unreachable", detail: "refused" }))
    expect(unreachable.code).toBe(3)
    const other = outcome(new DatabaseOpenError({ target: "/x", reason: "other", detail: "disk I/O error" }))
    expect(other.line).not.toContain("doctor")
    expect(outcome(new SqlError({ cause: new Error("disk I/O error"), message: "failed" }))).toEqual({
      code: 3,
      line: "fleet-db: database error: disk I/O error"
    })
  })
})
