/**
 * The `fleet-db` write verbs against temp projects, run in-process (support/cli-inprocess.ts):
 * each verb's success (line and `--json`), a refusal (exit 1, the holder named), bad input
 * (exit 2), no database (exit 3), and `--idempotency-key` replays. As real processes (the built
 * bundle, see `sharedCli`): two processes racing `claim` and `reserve`, and help and error lines
 * with their exit codes as the shipped binary prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Messages, Reservations, Sorties } from "../src/index.js"
import { type InProcessOptions, runCli } from "./support/cli-inprocess.js"
import type { CliRun } from "./support/cli-run.js"
import { expectFailure, runCli as runProcess, sharedCli } from "./support/cli-run.js"

const TEST_TIMEOUT = 300_000

let build = ""
const dirs: Array<string> = []
beforeAll(async () => {
  build = sharedCli()
}, TEST_TIMEOUT)
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-verbs-"))
  dirs.push(dir)
  return dir
}

/** A project with a database (made by `fleet-db init`) and a runner bound to it. */
const project = async () => {
  const dir = freshDir()
  const init = await runCli(["init", "--project", dir])
  expect(init.code, init.stderr).toBe(0)
  const fleet = (args: ReadonlyArray<string>, options: InProcessOptions = {}) => runCli([...args, "--project", dir], options)
  /** The same, as a process of the built bundle. */
  const fleetProcess = (args: ReadonlyArray<string>) => runProcess(build, [...args, "--project", dir])
  return { dir, fleet, fleetProcess }
}

/** Run an effect on the project's database through the library. */
const inDb = <A, E>(dir: string, effect: Effect.Effect<A, E, FleetDb.FleetServices>) =>
  Effect.runPromise(Effect.provide(effect, FleetDb.layerFile({ projectPath: dir })))

const ok = (run: CliRun) => {
  expect(run.code, run.stdout + run.stderr).toBe(0)
  expect(run.stderr).toBe("")
  return run.stdout
}
const okJson = <A = Record<string, unknown>>(run: CliRun): A => JSON.parse(ok(run)) as A

const ISO = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"

describe("fleet-db pilot and mail verbs", () => {
  it("register, heartbeat, send, reply, ack, read; unknown pilots and recipients are exit 2", async () => {
    const { dir, fleet } = await project()
    // --callsign, or $FLEET_CALLSIGN when it is not given.
    expect(ok(await fleet(["register", "--callsign", "alpha", "--task", "auth"]))).toBe("registered alpha: auth\n")
    const bravo = okJson<{ pilot: { callsign: string; registered_at: string } }>(
      await fleet(["register", "--json", "--program", "claude-code"], { env: { FLEET_CALLSIGN: "bravo" } })
    )
    expect(bravo.pilot.callsign).toBe("bravo")
    expect(bravo.pilot.registered_at).toMatch(new RegExp(`^${ISO}$`))
    expect(ok(await fleet(["heartbeat", "--callsign", "alpha"]))).toBe("alpha is alive\n")

    const sent = okJson<{ message: { id: number; thread_id: string }; recipients: Array<string> }>(
      await fleet(["send", "bravo", "--subject", "schema", "--body", "ready?", "--ack-required", "--callsign", "alpha", "--json"])
    )
    expect(sent.recipients).toEqual(["bravo"])
    expect(ok(await fleet(["reply", String(sent.message.id), "--body", "yes", "--callsign", "bravo"])))
      .toMatch(new RegExp(`^replied with message \\d+ to alpha \\(thread ${sent.message.thread_id}\\)\\n$`))
    expect(ok(await fleet(["ack", String(sent.message.id), "--callsign", "bravo"])))
      .toBe(`bravo acknowledged message ${sent.message.id}\n`)
    const inbox = await inDb(dir, Effect.flatMap(Messages, (m) => m.inbox("alpha")))
    const replyId = inbox[0]!.message.id
    const receipt = okJson<{ receipt: { read_at: string | null } }>(
      await fleet(["read", String(replyId), "--callsign", "alpha", "--json"])
    )
    expect(receipt.receipt.read_at).toMatch(new RegExp(`^${ISO}$`))
    const bravoInbox = await inDb(dir, Effect.flatMap(Messages, (m) => m.inbox("bravo")))
    expect(bravoInbox[0]?.acked_at).not.toBeNull()

    const [noCallsign, unknownPilot, unknownRecipient, notRecipient, noBody] = await Promise.all([
      fleet(["heartbeat"]),
      fleet(["heartbeat", "--callsign", "ghost"]),
      fleet(["send", "ghost", "--subject", "s", "--body", "b", "--callsign", "alpha"]),
      fleet(["read", String(replyId), "--callsign", "bravo"]),
      fleet(["send", "bravo", "--subject", "s", "--callsign", "alpha"])
    ])
    expectFailure(noCallsign, 2, /--callsign NAME or set FLEET_CALLSIGN/)
    expectFailure(unknownPilot, 2, /ghost/)
    expectFailure(unknownRecipient, 2, /ghost/)
    expectFailure(notRecipient, 2, /"bravo" is not a recipient/)
    expectFailure(noBody, 2, /--body/)
  }, TEST_TIMEOUT)
})

describe("fleet-db reservation verbs", () => {
  it("reserve, check, renew, release; a conflict is exit 1 naming holder, pattern and expiry", async () => {
    const { dir, fleet } = await project()
    const reserved = okJson<{ reservations: Array<{ path_pattern: string; expires_at: string; exclusive: boolean }> }>(
      await fleet(["reserve", "src/auth/**", "--reason", "auth rewrite", "--ttl", "1h", "--callsign", "alpha", "--json"])
    )
    expect(reserved.reservations.map((r) => [r.path_pattern, r.exclusive])).toEqual([["src/auth/**", true]])
    const expires = reserved.reservations[0]!.expires_at

    const [refused, refusedJson, checkBusy, checkFree, ownCheck] = await Promise.all([
      fleet(["reserve", "src/auth/login.ts", "docs/x.md", "--callsign", "bravo"]),
      fleet(["reserve", "src/auth/login.ts", "--callsign", "bravo", "--json"]),
      fleet(["check", "src/auth/login.ts", "--callsign", "bravo"]),
      fleet(["check", "docs/**", "--callsign", "bravo"]),
      fleet(["check", "src/auth/login.ts", "--callsign", "alpha", "--json"])
    ])
    const holder = new RegExp(`refused: src/auth/login\\.ts: reserved by "alpha" as src/auth/\\*\\* \\(exclusive\\) until ${expires}`)
    expectFailure(refused, 1, holder)
    expectFailure(refusedJson, 1, holder, true)
    const error = (JSON.parse(refusedJson.stdout) as { error: { _tag: string; conflicts: Array<Record<string, unknown>> } }).error
    expect(error._tag).toBe("ReservationConflict")
    expect(error.conflicts).toEqual([{ path: "src/auth/login.ts", holder: "alpha", pattern: "src/auth/**", exclusive: true, expires_at: expires }])
    // Nothing of the refused request was written (all or nothing).
    expect((await inDb(dir, Effect.flatMap(Reservations, (r) => r.active({ callsign: "bravo" }))))).toEqual([])
    expect(checkBusy.code).toBe(1)
    expect(checkBusy.stderr).toMatch(holder)
    expect(ok(checkFree)).toBe("free: docs/**\n")
    expect(JSON.parse(ok(ownCheck))).toEqual({ conflicts: [] })

    expect(ok(await fleet(["renew", "--ttl", "2h", "--callsign", "alpha"])))
      .toMatch(new RegExp(`^renewed src/auth/\\*\\* \\(exclusive\\) until ${ISO} \\(in 1h 59m\\)\\n$`))
    expect(ok(await fleet(["release", "src/auth/**", "--callsign", "alpha"]))).toBe("released src/auth/**\n")
    expect(ok(await fleet(["reserve", "src/auth/login.ts", "--shared", "--callsign", "bravo"])))
      .toMatch(/^reserved src\/auth\/login\.ts \(shared\) until /)

    const [notHeld, badTtl, outside] = await Promise.all([
      fleet(["renew", "src/auth/**", "--callsign", "alpha"]),
      fleet(["reserve", "lib/**", "--ttl", "soon", "--callsign", "alpha"]),
      fleet(["reserve", "/etc/passwd", "--callsign", "alpha"])
    ])
    expectFailure(notHeld, 1, /refused: "alpha" holds no active reservation for src\/auth\/\*\*/)
    expectFailure(badTtl, 2, /ttl/)
    expectFailure(outside, 2, /Invalid paths?/)
  }, TEST_TIMEOUT)
})

describe("fleet-db lock verbs", () => {
  it("acquire, extend, release; a held lock is exit 1 naming holder and expiry", async () => {
    const { fleet } = await project()
    const acquired = okJson<{ lock: { lock_key: string; fence: number; expires_at: string; holder_id: string } }>(
      await fleet(["lock", "acquire", "build", "--ttl", "10m", "--callsign", "alpha", "--json"])
    )
    expect(acquired.lock).toMatchObject({ lock_key: "build", holder_id: "alpha", fence: 1 })
    const until = acquired.lock.expires_at
    const [held, notMine, notMineRelease, staleFence, badTtl] = await Promise.all([
      fleet(["lock", "acquire", "build", "--callsign", "bravo"]),
      fleet(["lock", "extend", "build", "--callsign", "bravo"]),
      fleet(["lock", "release", "build", "--callsign", "bravo", "--json"]),
      fleet(["lock", "release", "build", "--fence", "7", "--callsign", "alpha"]),
      fleet(["lock", "acquire", "deploy", "--ttl", "-3", "--callsign", "alpha"])
    ])
    expectFailure(held, 1, new RegExp(`refused: Lock "build" is held by "alpha" until ${until}`))
    expectFailure(notMine, 1, new RegExp(`refused: "bravo" does not hold lock "build": "alpha" holds it until ${until}`))
    expectFailure(notMineRelease, 1, /"alpha" holds it/, true)
    expectFailure(staleFence, 1, /refused: .*lock "build" \(fence 7\)/)
    expectFailure(badTtl, 2, /ttl/)

    expect(ok(await fleet(["lock", "extend", "build", "--ttl", "1h", "--callsign", "alpha"])))
      .toMatch(new RegExp(`^extended lock build \\(fence 1\\) until ${ISO} \\(in 59m`))
    expect(ok(await fleet(["lock", "release", "build", "--callsign", "alpha"]))).toBe("released lock build (fence 1)\n")
    expectFailure(await fleet(["lock", "release", "build", "--callsign", "alpha"]), 1, /nobody holds it/)
    // The next holder gets a higher fence.
    expect(ok(await fleet(["lock", "acquire", "build", "--callsign", "bravo"]))).toMatch(/^acquired lock build \(fence 2\)/)
  }, TEST_TIMEOUT)
})

describe("fleet-db sortie, mission and checkpoint verbs", () => {
  it("mission and sortie create, claim, block, unblock, unclaim, complete, checkpoint; refusals name the holder", async () => {
    const { dir, fleet } = await project()
    const env = { FLEET_CALLSIGN: "alpha" }
    const mission = okJson<{ mission: { id: string; status: string; created_by: string } }>(
      await fleet(["mission", "create", "Auth rewrite", "--json"], { env })
    )
    expect(mission.mission).toMatchObject({ status: "pending", created_by: "alpha" })
    const first = okJson<{ sortie: { id: string } }>(
      await fleet(["sortie", "create", "login form", "--mission", mission.mission.id, "--priority", "0", "--file", "src/login/**", "--json"])
    )
    const second = okJson<{ sortie: { id: string } }>(await fleet(["sortie", "create", "logout", "--json"]))
    expect(ok(await fleet(["mission", "start", mission.mission.id]))).toBe(`started mission ${mission.mission.id} "Auth rewrite" (in_progress)\n`)

    // claim without an id takes the most urgent; with one, that one.
    expect(ok(await fleet(["claim"], { env }))).toBe(`claimed ${first.sortie.id} "login form" (in_progress, alpha)\n`)
    expect(ok(await fleet(["claim", second.sortie.id, "--callsign", "bravo"])))
      .toBe(`claimed ${second.sortie.id} "logout" (in_progress, bravo)\n`)

    const [taken, nothing, notHers, badMove, unknown, badPriority, unknownMission] = await Promise.all([
      fleet(["claim", first.sortie.id, "--callsign", "bravo"]),
      fleet(["claim", "--callsign", "bravo", "--json"]),
      fleet(["complete", first.sortie.id, "--callsign", "bravo"]),
      fleet(["unblock", first.sortie.id], { env }),
      fleet(["complete", "srt_nope"], { env }),
      fleet(["sortie", "create", "x", "--priority", "9"]),
      fleet(["mission", "start", "msn_nope"])
    ])
    expectFailure(taken, 1, new RegExp(`refused: Sortie "${first.sortie.id}" is already claimed by "alpha"`))
    expectFailure(nothing, 1, /refused: nothing to claim/, true)
    expectFailure(notHers, 1, /already claimed by "alpha"/)
    expectFailure(badMove, 1, /refused: sortie .* cannot move from "in_progress" to "in_progress"/)
    expectFailure(unknown, 2, /srt_nope/)
    expectFailure(badPriority, 2, /priority/)
    expectFailure(unknownMission, 2, /msn_nope/)

    expect(ok(await fleet(["block", first.sortie.id, "--reason", "waiting on the API"], { env })))
      .toBe(`blocked ${first.sortie.id} "login form" (blocked, alpha)\n`)
    expect(ok(await fleet(["unblock", first.sortie.id], { env }))).toMatch(/^unblocked .*\(in_progress, alpha\)/)
    expect(ok(await fleet(["unclaim", second.sortie.id, "--callsign", "bravo"]))).toBe(`unclaimed ${second.sortie.id} "logout" (open)\n`)
    expect(ok(await fleet(["complete", first.sortie.id], { env }))).toMatch(/^completed .*\(closed, alpha\)/)
    expect(ok(await fleet(["mission", "complete", mission.mission.id]))).toMatch(/^completed mission .*\(completed\)/)

    const saved = okJson<{ checkpoint: { callsign: string; progress_percent: number; context_data: unknown; trigger: string } }>(
      await fleet(["checkpoint", "--summary", "half way", "--percent", "50", "--sortie", first.sortie.id, "--context", "{\"step\":3}", "--json"], { env })
    )
    expect(saved.checkpoint).toMatchObject({ callsign: "alpha", progress_percent: 50, trigger: "manual" })
    const [badPercent, badContext] = await Promise.all([
      fleet(["checkpoint", "--percent", "150"], { env }),
      fleet(["checkpoint", "--context", "{nope"], { env })
    ])
    expectFailure(badPercent, 2, /progress_percent/)
    expectFailure(badContext, 2, /--context is not JSON/)
    const sorties = await inDb(dir, Effect.flatMap(Sorties, (s) => s.list()))
    expect(sorties.map((s) => [s.title, s.status])).toEqual([["login form", "closed"], ["logout", "open"]])
  }, TEST_TIMEOUT)

  it("--idempotency-key: a repeat prints the first result and writes nothing; another request under it is exit 2", async () => {
    const { dir, fleet } = await project()
    const env = { FLEET_CALLSIGN: "alpha" }
    const first = okJson<{ sortie: { id: string } }>(await fleet(["sortie", "create", "once", "--idempotency-key", "k1", "--json"], { env }))
    const again = okJson<{ sortie: { id: string }; replayed: boolean }>(
      await fleet(["sortie", "create", "once", "--idempotency-key", "k1", "--json"], { env })
    )
    expect(again).toMatchObject({ sortie: { id: first.sortie.id }, replayed: true })
    expect(ok(await fleet(["sortie", "create", "once", "--idempotency-key", "k1"], { env })))
      .toMatch(/^created .*\n\(replayed: this idempotency key was already used; nothing changed\)\n$/)
    expectFailure(await fleet(["sortie", "create", "other", "--idempotency-key", "k1"], { env }), 2, /Idempotency key "k1"/)
    expect((await inDb(dir, Effect.flatMap(Sorties, (s) => s.list()))).map((s) => s.title)).toEqual(["once"])
  }, TEST_TIMEOUT)
})

describe("fleet-db verbs without a database", () => {
  it("every verb: no database → exit 3 naming the path, nothing created; a file that is not a database → exit 3", async () => {
    const empty = freshDir()
    const verbs: ReadonlyArray<ReadonlyArray<string>> = [
      ["register"],
      ["heartbeat"],
      ["send", "bravo", "--subject", "s", "--body", "b"],
      ["reply", "1", "--body", "b"],
      ["ack", "1"],
      ["read", "1"],
      ["reserve", "src/**"],
      ["renew"],
      ["release"],
      ["check", "src/**"],
      ["lock", "acquire", "build"],
      ["lock", "extend", "build"],
      ["lock", "release", "build"],
      ["claim"],
      ["complete", "srt_x"],
      ["block", "srt_x", "--reason", "r"],
      ["unblock", "srt_x"],
      ["unclaim", "srt_x"],
      ["sortie", "create", "t"],
      ["mission", "create", "t"],
      ["mission", "start", "msn_x"],
      ["mission", "complete", "msn_x"],
      ["checkpoint"]
    ]
    const runs = await Effect.runPromise(Effect.forEach(
      verbs,
      (args) => Effect.promise(() => runCli([...args, "--project", empty, "--callsign", "alpha"])),
      { concurrency: 2 }
    ))
    runs.forEach((run) => expectFailure(run, 3, /no FleetTools database at .*fleet\.db.*fleet-db init/))
    expect(runs).toHaveLength(verbs.length)
    expect(existsSync(join(empty, ".fleet"))).toBe(false)

    const garbage = freshDir()
    mkdirSync(join(garbage, ".fleet"))
    writeFileSync(join(garbage, ".fleet", "fleet.db"), "not a database ".repeat(300))
    expectFailure(await runCli(["claim", "--project", garbage, "--callsign", "alpha"]), 3, /not a SQLite database/)
  }, TEST_TIMEOUT)
})

describe("fleet-db verbs racing", () => {
  it("two processes claim one sortie and reserve one file at once: exactly one of each wins", async () => {
    const { dir, fleet, fleetProcess } = await project()
    const sortie = okJson<{ sortie: { id: string } }>(await fleet(["sortie", "create", "contested", "--json"]))
    const [claimA, claimB, reserveA, reserveB] = await Promise.all([
      fleetProcess(["claim", sortie.sortie.id, "--callsign", "alpha"]),
      fleetProcess(["claim", sortie.sortie.id, "--callsign", "bravo"]),
      fleetProcess(["reserve", "src/shared.ts", "--callsign", "alpha"]),
      fleetProcess(["reserve", "src/shared.ts", "--callsign", "bravo"])
    ])
    const claimed = await inDb(dir, Effect.flatMap(Sorties, (s) => s.get(sortie.sortie.id)))
    const winner = claimed.assigned_to
    expect(["alpha", "bravo"]).toContain(winner)
    const [won, lost] = winner === "alpha" ? [claimA, claimB] : [claimB, claimA]
    expect(ok(won)).toMatch(new RegExp(`^claimed ${sortie.sortie.id} `))
    expectFailure(lost, 1, new RegExp(`already claimed by "${winner}"`))

    const active = await inDb(dir, Effect.flatMap(Reservations, (r) => r.active()))
    expect(active).toHaveLength(1)
    const holder = active[0]!.callsign
    const [kept, refused] = holder === "alpha" ? [reserveA, reserveB] : [reserveB, reserveA]
    expect(ok(kept)).toMatch(/^reserved src\/shared\.ts \(exclusive\)/)
    expectFailure(refused, 1, new RegExp(`src/shared\\.ts: reserved by "${holder}"`))
  }, TEST_TIMEOUT)
})

describe("fleet-db help and messages, as a process", () => {
  it("--version; --help without NO_COLOR on a pipe: no ANSI, exit codes listed; bad numbers and durations say how to fix them (2); no database (3)", async () => {
    const noColor = { NO_COLOR: undefined }
    const empty = freshDir()
    const [top, verb, sweep, integer, bare, missing, version] = await Promise.all([
      runProcess(build, ["--help"], { env: noColor }),
      runProcess(build, ["lock", "acquire", "--help"], { env: noColor }),
      runProcess(build, ["sweep", "--stale-after", "30000", "--project", empty]),
      runProcess(build, ["events", "--limit", "abc"]),
      runProcess(build, ["lock"]),
      runProcess(build, ["status", "--project", empty]),
      runProcess(build, ["--version"])
    ])
    expectFailure(missing, 3, /no FleetTools database at .*fleet\.db/)
    const pkg = JSON.parse(readFileSync(join(build, "package.json"), "utf8")) as { version: string }
    expect(ok(version)).toBe(`${pkg.version}\n`)
    for (const run of [top, verb]) {
      // eslint-disable-next-line no-control-regex -- ANSI escapes (ESC) are what this matches
      expect(ok(run)).not.toMatch(/\u001b\[/)
      expect(run.stdout).toMatch(/^Exit codes$/m)
    }
    expect(top.stdout).toMatch(/^\s+claim\s+Claim a sortie/m)
    expect(verb.stdout).toMatch(/^Usage: fleet-db lock acquire \[OPTIONS\] KEY$/m)
    expectFailure(sweep, 2, /--stale-after 30000 needs a unit, e\.g\. 30000ms, 30000s or 30000m/)
    expectFailure(integer, 2, /'abc' is not an integer/)
    expectFailure(bare, 2, /lock needs a subcommand: acquire, extend or release/)
  }, TEST_TIMEOUT)
})
