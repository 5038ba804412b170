/**
 * Helpers of the recovery suites (projections, sweep, crash, soak, fuzz): a workload that uses
 * every command, a dump of every projection row of the project, and the database invariants.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Effect, TestClock } from "effect"
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import {
  Checkpoints,
  Cursors,
  Events,
  FleetProject,
  Locks,
  Messages,
  Missions,
  Paths,
  Pilots,
  projectionTables,
  Reservations,
  Sorties,
  WorkOrders
} from "../../src/index.js"
import type { FleetEvent } from "../../src/index.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/**
 * Every kind of command, so that every event type is in the log: pilots, missions, sorties
 * through every status, work orders, checkpoints, mail with receipts, reservations (reserved,
 * re-reserved, renewed, released, expired), locks (acquired, extended, released, taken over
 * after expiry), cursor resets and commits, and the work graph's commands. Uses the TestClock for expiries.
 */
export const fullWorkload = Effect.gen(function*() {
  const pilots = yield* Pilots
  const missions = yield* Missions
  const sorties = yield* Sorties
  const workOrders = yield* WorkOrders
  const checkpoints = yield* Checkpoints
  const messages = yield* Messages
  const reservations = yield* Reservations
  const locks = yield* Locks
  const cursors = yield* Cursors
  const events = yield* Events

  yield* TestClock.adjust(1_000)
  yield* pilots.register({ callsign: "viper-1", program: "claude-code", model: "opus", task_description: "auth" })
  yield* pilots.register({ callsign: "viper-2" })
  yield* pilots.register({ callsign: "viper-3", model: "sonnet" })
  yield* TestClock.adjust(10)
  yield* pilots.register({ callsign: "viper-2", task_description: "docs" })
  yield* pilots.heartbeat("viper-3")

  const mission = yield* missions.create({ title: "Login", description: "rewrite", priority: 0, created_by: "viper-1" })
  yield* missions.start(mission.id)
  const s1 = yield* sorties.create({ title: "session store", mission_id: mission.id, files: ["src/auth/**"] })
  const s2 = yield* sorties.create({ title: "docs", priority: 3, description: "write them" })
  const s3 = yield* sorties.create({ title: "tests", mission_id: mission.id, files: [] })
  const s4 = yield* sorties.create({ title: "flaky", priority: 2 })
  yield* TestClock.adjust(5)
  yield* sorties.claim(s1.id, "viper-1")
  yield* sorties.block(s1.id, "waiting on review", { callsign: "viper-1" })
  yield* sorties.unblock(s1.id)
  yield* sorties.claimNext("viper-2")
  yield* sorties.release(s3.id)
  yield* sorties.claim(s3.id, "viper-3")
  yield* sorties.complete(s3.id, { callsign: "viper-3" })
  yield* sorties.claim(s2.id, "viper-2")
  yield* sorties.claim(s4.id, "viper-3")
  yield* sorties.block(s4.id, "cannot reproduce")

  const wo = yield* workOrders.create({ sortie_id: s1.id, title: "schema", description: "tables" })
  const wo2 = yield* workOrders.create({ sortie_id: s1.id, title: "api", assigned_to: "viper-1" })
  yield* workOrders.start(wo.id, { assigned_to: "viper-2" })
  yield* workOrders.complete(wo.id)
  yield* workOrders.start(wo2.id)

  yield* checkpoints.create({ callsign: "viper-1", trigger: "auto", sortie_id: s1.id, progress_percent: 40, context_data: { step: 3, files: ["a.ts"], "1": [null, true, 1.5] } })
  yield* checkpoints.create({ callsign: "viper-3", trigger: "manual", mission_id: mission.id, summary: "half-way 😀 \"quoted\"" })
  yield* checkpoints.create({ callsign: "viper-1", trigger: "error" })

  const sent = yield* messages.send({ from: "viper-1", to: ["viper-2", "viper-3"], subject: "hi", body: "body ' \" ; DROP TABLE", importance: "high", ack_required: true })
  const second = yield* messages.send({ from: "coordinator", to: "viper-1", subject: "status?", body: "?", thread_id: "thr-custom" })
  yield* TestClock.adjust(7)
  yield* messages.markRead(sent.message.id, "viper-2")
  yield* messages.ack(sent.message.id, "viper-3")
  yield* messages.ack(sent.message.id, "viper-2")
  yield* messages.reply(sent.message.id, { from: "viper-2", body: "ok" })

  yield* reservations.reserve({ callsign: "viper-1", paths: ["src/auth/**", "docs/auth.md"], reason: "login", ttl: "10 minutes" })
  yield* reservations.reserve({ callsign: "viper-2", paths: ["README.md"], exclusive: false, ttl: "1 minute" })
  yield* TestClock.adjust(3)
  yield* reservations.reserve({ callsign: "viper-1", paths: ["src/auth/**", "src/api/**"], exclusive: false, reason: null, ttl: "20 minutes" })
  yield* reservations.renew({ callsign: "viper-1", paths: ["docs/auth.md"], ttl: "30 minutes" })
  yield* reservations.release({ callsign: "viper-1", paths: ["src/api/**"] })

  const build = yield* locks.acquire("build", { holder: "viper-1", ttl: "30 seconds" })
  yield* locks.extend(build, "1 minute")
  yield* locks.release(build)
  yield* locks.acquire("deploy", { holder: "viper-2", ttl: "5 seconds" })
  yield* locks.acquire("release", { holder: "viper-3", ttl: "10 minutes" })
  yield* TestClock.adjust(70_000)
  // viper-2's deploy lease and README reservation have expired; taking the lock logs the expiry.
  yield* locks.acquire("deploy", { holder: "viper-1", ttl: "10 minutes" })

  yield* events.append({ type: "tool.note", data: { text: "written by another tool" } })
  const latest = yield* events.latestSequence
  yield* cursors.commit("indexer", latest)
  yield* cursors.reset("indexer", 2)
  yield* cursors.commit("indexer", 5)
  yield* cursors.reset("replayer", 1)
  yield* cursors.commit("other", 3)

  // The work graph: dependencies (added, re-kinded, removed), an edit, a claim that reserves the
  // sortie's files, a completion that unblocks, cancellations of a sortie and of a mission.
  const g1 = yield* sorties.create({ title: "graph root", files: ["lib/**"] })
  const g2 = yield* sorties.create({ title: "graph leaf", files: ["lib/leaf.ts"] })
  const g3 = yield* sorties.create({ title: "graph side" })
  yield* sorties.addDependency(g2.id, g1.id)
  yield* sorties.addDependency(g3.id, g1.id, { kind: "related" })
  yield* sorties.addDependency(g3.id, g2.id)
  yield* sorties.addDependency(g3.id, g1.id, { kind: "blocks" })
  yield* sorties.removeDependency(g3.id, g2.id)
  yield* sorties.update(g2.id, { title: "graph leaf, renamed", priority: 0 })
  yield* sorties.claimNext("viper-3", { reserveFiles: true, ttl: "1 hour" })
  yield* sorties.complete(g1.id).pipe(Effect.ignore)
  const doomed = yield* missions.create({ title: "doomed" })
  yield* sorties.create({ title: "doomed work", mission_id: doomed.id })
  yield* missions.cancel(doomed.id, "scope cut")
  yield* sorties.cancel(g3.id, "superseded")

  yield* missions.complete(mission.id).pipe(Effect.ignore)
  yield* sorties.complete(s1.id).pipe(Effect.ignore)
  return { mission, sorties: [s1, s2, s3, s4] as const, messages: [sent.message, second.message] as const }
})

/** Every projection row of the project (and the log's length), for before/after comparisons. */
export const dumpProjections = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const dump: Record<string, ReadonlyArray<unknown>> = {}
  for (const table of projectionTables) {
    dump[table] = table === "message_recipients"
      ? yield* sql`SELECT r.* FROM message_recipients r JOIN messages m ON m.id = r.message_id
          WHERE m.project_key = ${projectKey} ORDER BY r.message_id, r.callsign`
      : table === "sortie_dependencies"
      ? yield* sql`SELECT * FROM sortie_dependencies WHERE project_key = ${projectKey} ORDER BY sortie_id, depends_on_id`
      : yield* sql`SELECT * FROM ${sql(table)} WHERE project_key = ${projectKey} ORDER BY id`
  }
  dump.events = yield* sql`SELECT COUNT(*) AS n, MAX(id) AS last FROM events WHERE project_key = ${projectKey}`
  return dump
})

/** `PRAGMA integrity_check` (`["ok"]` when the file is sound). */
export const integrityCheck = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly integrity_check: string }>`PRAGMA integrity_check`
  return rows.map((row) => row.integrity_check)
})

/** Tables whose name starts with the rebuild's staging prefix. */
export const stagingTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master
      WHERE type = 'table' AND substr(name, 1, 14) = 'fleet_rebuild_' ORDER BY name`
  return rows.map((row) => row.name)
})

/** A worker process started with `startWorker`: its parsed stdout lines so far, and its end. */
export interface RunningWorker {
  readonly child: ChildProcess
  /** Every complete stdout line that parsed as JSON, as they arrive. */
  readonly lines: Array<Record<string, unknown>>
  /** Resolves at the first line matching `predicate` (rejects if the process ends first). */
  readonly waitForLine: (predicate: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string }>
}

/** Start a worker bundle (see `workerBundle` in procs.ts) without waiting for it, so a test can kill it. */
export const startWorker = (bundle: string, args: ReadonlyArray<string>): RunningWorker => {
  const child = spawn(process.execPath, [bundle, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  let buffer = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk
    const parts = buffer.split("\n")
    buffer = parts.pop()!
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>)
      } catch {
        // not a result line
      }
    }
    for (const waiter of waiters.splice(0)) waiter()
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => {
      resolve({ code, signal, stderr })
      for (const waiter of waiters.splice(0)) waiter()
    })
  })
  let ended = false
  void exited.then(() => (ended = true))
  const waitForLine = (predicate: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const look = () => {
        const found = lines.find(predicate)
        if (found !== undefined) return resolve(found)
        if (ended || child.exitCode !== null || child.signalCode !== null) {
          return reject(new Error(`worker ended before the expected line; stderr:\n${stderr}\nlines: ${JSON.stringify(lines.slice(-3))}`))
        }
        waiters.push(look)
      }
      look()
    })
  return { child, lines, waitForLine, exited }
}

/** A clock `offsetMs` ahead of the real one (for "after the TTLs pass" without waiting). */
export const shiftedClock = (offsetMs: number): Clock.Clock => {
  const base = Clock.make()
  const nanos = BigInt(Math.round(offsetMs)) * 1_000_000n
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + offsetMs,
    currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + offsetMs),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + nanos,
    currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + nanos),
    sleep: (duration) => base.sleep(duration)
  }
}

/**
 * Invariants of the event log itself, checked from the outside (the log is the external record
 * of a multi-process run): lock leases on a key never overlap and fences strictly increase;
 * every sortie moves only along its state machine, and is never claimed while one of its `blocks`
 * dependencies is unclosed; two pilots never hold overlapping
 * reservations at once when either is exclusive. Returns the violations (empty when sound).
 */
export const logInvariants = (events: ReadonlyArray<FleetEvent>): Array<string> => {
  const violations: Array<string> = []
  const leases = new Map<string, { fence: number; expires_at: number; released: boolean; holder: string }>()
  const sortieStatus = new Map<string, string>()
  const blockers = new Map<string, Set<string>>()
  const reservations = new Map<number, { callsign: string; pattern: string; exclusive: boolean; expires_at: number; released: boolean }>()
  for (const event of events) {
    if (!event.known) continue
    const at = event.timestamp.epochMillis
    switch (event.type) {
      case "lock_acquired": {
        const d = event.data
        const previous = leases.get(d.lock_key)
        if (previous !== undefined) {
          if (!previous.released && previous.expires_at > at) {
            violations.push(`#${event.sequence}: ${d.holder_id} took lock ${d.lock_key} while ${previous.holder} held it until ${previous.expires_at}`)
          }
          if (d.fence <= previous.fence) violations.push(`#${event.sequence}: fence of ${d.lock_key} went from ${previous.fence} to ${d.fence}`)
        }
        leases.set(d.lock_key, { fence: d.fence, expires_at: d.expires_at.epochMillis, released: false, holder: d.holder_id })
        break
      }
      case "lock_extended": {
        const lease = leases.get(event.data.lock_key)
        if (lease !== undefined && lease.fence === event.data.fence) lease.expires_at = event.data.expires_at.epochMillis
        break
      }
      case "lock_released": {
        const lease = leases.get(event.data.lock_key)
        if (lease !== undefined && lease.fence === event.data.fence) lease.released = true
        break
      }
      case "sortie_created":
        sortieStatus.set(event.data.sortie_id, "open")
        break
      case "sortie_claimed":
      case "sortie_blocked":
      case "sortie_unblocked":
      case "sortie_released":
      case "sortie_completed": {
        const id = event.data.sortie_id
        const from = sortieStatus.get(id)
        const allowed: Record<string, [ReadonlyArray<string>, string]> = {
          sortie_claimed: [["open"], "in_progress"],
          sortie_blocked: [["in_progress"], "blocked"],
          sortie_unblocked: [["blocked"], "in_progress"],
          sortie_released: [
            event.type === "sortie_released" && event.data.reason === "pilot_lost" ? ["in_progress", "blocked"] : ["in_progress"],
            "open"
          ],
          sortie_completed: [["in_progress"], "closed"]
        }
        const [froms, to] = allowed[event.type]!
        if (from === undefined || !froms.includes(from)) violations.push(`#${event.sequence}: ${event.type} of ${id} from ${from}`)
        if (event.type === "sortie_claimed") {
          for (const blocker of blockers.get(id) ?? []) {
            if (sortieStatus.get(blocker) !== "closed") violations.push(`#${event.sequence}: ${id} claimed while its blocker ${blocker} is ${sortieStatus.get(blocker)}`)
          }
        }
        sortieStatus.set(id, to)
        break
      }
      case "sortie_cancelled": {
        const from = sortieStatus.get(event.data.sortie_id)
        if (from === undefined || from === "closed") violations.push(`#${event.sequence}: sortie_cancelled of ${event.data.sortie_id} from ${from}`)
        sortieStatus.set(event.data.sortie_id, "closed")
        break
      }
      case "sortie_dependency_added":
      case "sortie_dependency_removed": {
        const d = event.data
        const set = blockers.get(d.sortie_id) ?? new Set<string>()
        if (event.type === "sortie_dependency_added" && d.kind === "blocks") set.add(d.depends_on_id)
        else set.delete(d.depends_on_id)
        blockers.set(d.sortie_id, set)
        break
      }
      case "file_reserved": {
        const d = event.data
        for (const reserved of d.reservations) {
          for (const [id, other] of reservations) {
            if (id === reserved.reservation_id || other.callsign === d.callsign || other.released || other.expires_at <= at) continue
            if ((d.exclusive || other.exclusive) && Paths.overlaps(reserved.path_pattern, other.pattern)) {
              violations.push(`#${event.sequence}: ${d.callsign} reserved ${reserved.path_pattern} over ${other.callsign}'s ${other.pattern}`)
            }
          }
          reservations.set(reserved.reservation_id, {
            callsign: d.callsign,
            pattern: reserved.path_pattern,
            exclusive: d.exclusive,
            expires_at: d.expires_at.epochMillis,
            released: false
          })
        }
        break
      }
      case "file_renewed":
        for (const renewed of event.data.reservations) {
          const row = reservations.get(renewed.reservation_id)
          if (row !== undefined) row.expires_at = event.data.expires_at.epochMillis
        }
        break
      case "file_released":
        for (const released of event.data.reservations) {
          const row = reservations.get(released.reservation_id)
          if (row !== undefined) row.released = true
        }
        break
    }
  }
  return violations
}

/** Every event of the project, page by page. */
export const readAllEvents = Effect.gen(function*() {
  const events = yield* Events
  const all: Array<FleetEvent> = []
  for (;;) {
    const page = yield* events.read({ after: all.at(-1)?.sequence ?? 0, limit: 10_000 })
    all.push(...page)
    if (page.length < 10_000) return all
  }
})
