/**
 * The mixed command loop of the crash test and the soak: one pilot doing a bit of everything on
 * `{projectPath}/.fleet/fleet.db` — register, heartbeat, missions, sorties (create, claim, block,
 * unblock, checkpoint, complete, release), the work graph (dependencies, edits, cancellations, a
 * claim that reserves files), work orders, reservations, locks, mail, cursors.
 *
 * Usage: `mixed-worker.ts <json>` with `{ projectPath, callsign, peers, report, durationMs,
 * goFile?, readyDir?, workers? }`:
 * - waits for `goFile` to exist (so a test can start the process early and release it later),
 *   and for `workers` files in `readyDir` (so several workers start together);
 * - `report: "ops"` prints `{ ready: true }` once registered, then one line per acknowledged
 *   (committed) command that created a row, `{ op, table, id }`, and runs until killed or
 *   `durationMs` passed;
 * - `report: "summary"` prints one line at the end: counts, per-command latencies (µs), BUSY
 *   errors seen by the driver (each one retried), and samples of unexpected errors.
 *
 * Expected refusals (a lock held by another pilot, a reservation conflict, a sortie claimed
 * first by someone else or reopened by a sweep…) are counted as `refused`, not as errors.
 * Randomness comes from node:crypto.
 */
import { SqlClient } from "@effect/sql"
import { Cause, Effect, Exit, Option } from "effect"
import { randomInt } from "node:crypto"
import { existsSync } from "node:fs"
import type { Lock } from "../../src/index.js"
import {
  Checkpoints,
  Cursors,
  FleetDb,
  Locks,
  Messages,
  Missions,
  Pilots,
  Reservations,
  Sorties,
  WorkOrders
} from "../../src/index.js"
import { guardedClientOf } from "../../src/sql/sqlClient.js"
import { isBusy } from "../../src/sql/errors.js"
import { barrier } from "./barrier.js"

interface Options {
  readonly projectPath: string
  readonly callsign: string
  readonly peers: ReadonlyArray<string>
  readonly report: "ops" | "summary"
  readonly durationMs: number
  readonly goFile?: string
  readonly readyDir?: string
  readonly workers?: number
}

const options = JSON.parse(process.argv[2] ?? "{}") as Options
const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")

/** Refusals that are part of the game when several pilots (and sweeps) share the work. */
const EXPECTED = new Set([
  "LockHeld",
  "LockNotHeld",
  "ReservationConflict",
  "ReservationNotHeld",
  "SortieAlreadyClaimed",
  "InvalidTransition",
  "UnknownRecipient",
  "MissionNotFound",
  "SortieNotFound",
  "WorkOrderNotFound",
  "DependencyCycle",
  "SortieNotReady"
])

const PATHS = ["src/a.ts", "src/b/**", "docs/*.md", "src/**", "test/x.test.ts", "README.md", "src/b/c.ts", "bench/**"]
const LOCK_KEYS = ["build", "deploy", "migrate", "release", "index"]

const pick = <A>(items: ReadonlyArray<A>): A => items[randomInt(items.length)]!

const waitFor = (ready: () => boolean) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < 300_000; waited += 5) {
      if (ready()) return
      yield* Effect.sleep("5 millis")
    }
    return yield* Effect.dieMessage("mixed-worker: gave up waiting to start")
  })

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  const sorties = yield* Sorties
  const missions = yield* Missions
  const workOrders = yield* WorkOrders
  const checkpoints = yield* Checkpoints
  const reservations = yield* Reservations
  const locks = yield* Locks
  const messages = yield* Messages
  const cursors = yield* Cursors
  const me = options.callsign

  // Count every BUSY the driver reports: each one makes the command retry (or, past the retry
  // budget, fail — which would show up as an error).
  let busy = 0
  const sdk = guardedClientOf(yield* SqlClient.SqlClient)
  if (sdk !== undefined) {
    const noteError = sdk.noteError.bind(sdk)
    sdk.noteError = (error: unknown) => {
      if (isBusy(error)) busy++
      noteError(error)
    }
  }

  yield* pilots.register({ callsign: me, program: "mixed-worker", model: "test" })
  if (options.readyDir !== undefined) yield* barrier(options.readyDir, me, options.workers ?? 1)
  if (options.report === "ops") print({ ready: true, pid: process.pid })

  const held: Array<string> = []
  const heldLocks: Array<Lock> = []
  const startedOrders: Array<string> = []
  const known: Array<string> = []
  let mission: string | undefined
  const ops = (op: string, table: string, id: string | number) => {
    if (options.report === "ops") print({ op, table, id })
  }

  const commands: ReadonlyArray<readonly [string, number, Effect.Effect<unknown, unknown>]> = [
    ["heartbeat", 8, pilots.heartbeat(me)],
    ["register", 2, Effect.tap(pilots.register({ callsign: me, task_description: `loop ${randomInt(1e6)}` }), (p) => ops("register", "pilots", p.callsign))],
    ["mission", 2, Effect.gen(function*() {
      const created = yield* missions.create({ title: `mission of ${me}`, created_by: me })
      ops("mission", "missions", created.id)
      yield* missions.start(created.id)
      mission = created.id
    })],
    ["createSortie", 10, Effect.gen(function*() {
      const created = yield* sorties.create({
        title: `sortie by ${me}`,
        priority: randomInt(5),
        files: [pick(PATHS)],
        ...(mission !== undefined && randomInt(2) === 0 ? { mission_id: mission } : {})
      })
      ops("createSortie", "sorties", created.id)
      known.push(created.id)
      if (known.length > 50) known.shift()
    })],
    ["graph", 8, Effect.gen(function*() {
      if (known.length < 2) return
      const choice = randomInt(10)
      if (choice < 4) {
        yield* sorties.addDependency(pick(known), pick(known), { kind: randomInt(4) === 0 ? "related" : "blocks" })
      } else if (choice < 6) {
        yield* sorties.removeDependency(pick(known), pick(known))
      } else if (choice < 7) {
        yield* sorties.update(pick(known), { priority: randomInt(5), files: [pick(PATHS)] })
      } else if (choice < 8) {
        yield* sorties.cancel(pick(known), "not needed")
      } else if (choice < 9 || mission === undefined) {
        const claim = yield* sorties.claimNext(me, { reserveFiles: true, ttl: "60 seconds" })
        if (claim.sortie !== null) held.push(claim.sortie.id)
        for (const row of claim.reservations) ops("claimWithFiles", "reservations", row.id)
      } else {
        yield* missions.cancel(mission, "scope cut")
        mission = undefined
      }
    })],
    ["claimNext", 10, Effect.gen(function*() {
      const claimed = yield* sorties.claimNext(me)
      if (Option.isSome(claimed)) held.push(claimed.value.id)
    })],
    ["checkpoint", 8, Effect.gen(function*() {
      const sortie = held.length > 0 ? pick(held) : undefined
      const created = yield* checkpoints.create({
        callsign: me,
        trigger: pick(["auto", "manual", "error"] as const),
        progress_percent: randomInt(101),
        summary: "working 😀 'quoted' \"double\"",
        context_data: { step: randomInt(100), files: [pick(PATHS)] },
        ...(sortie === undefined ? {} : { sortie_id: sortie })
      })
      ops("checkpoint", "checkpoints", created.id)
    })],
    ["workOrder", 4, Effect.gen(function*() {
      if (startedOrders.length > 0 && randomInt(2) === 0) {
        yield* workOrders.complete(startedOrders.pop()!)
        return
      }
      if (held.length === 0) return
      const created = yield* workOrders.create({ sortie_id: pick(held), title: "step", assigned_to: me })
      ops("workOrder", "work_orders", created.id)
      yield* workOrders.start(created.id)
      startedOrders.push(created.id)
    })],
    ["moveSortie", 10, Effect.gen(function*() {
      if (held.length === 0) return
      const index = randomInt(held.length)
      const id = held[index]!
      const choice = randomInt(10)
      if (choice < 2) {
        yield* sorties.block(id, "waiting", { callsign: me })
        yield* sorties.unblock(id, { callsign: me })
      } else if (choice < 8) {
        held.splice(index, 1)
        yield* sorties.complete(id, { callsign: me })
      } else {
        held.splice(index, 1)
        yield* sorties.release(id, { callsign: me })
      }
    })],
    ["reserve", 10, Effect.gen(function*() {
      const rows = yield* reservations.reserve({
        callsign: me,
        paths: [pick(PATHS), pick(PATHS)].filter((p, i, all) => all.indexOf(p) === i),
        exclusive: randomInt(3) > 0,
        reason: "mixed loop",
        ttl: "60 seconds"
      })
      for (const row of rows) ops("reserve", "reservations", row.id)
    })],
    ["unreserve", 5, reservations.release({ callsign: me })],
    ["renew", 2, reservations.renew({ callsign: me, ttl: "60 seconds" })],
    ["lock", 10, Effect.gen(function*() {
      const lock = yield* locks.acquire(pick(LOCK_KEYS), { holder: me, ttl: "30 seconds" })
      ops("lock", "locks", lock.id)
      heldLocks.push(lock)
    })],
    ["unlock", 7, Effect.gen(function*() {
      const lock = heldLocks.shift()
      if (lock === undefined) return
      if (randomInt(4) === 0) {
        heldLocks.push(yield* locks.extend(lock, "30 seconds"))
      } else {
        yield* locks.release(lock)
      }
    })],
    ["send", 10, Effect.gen(function*() {
      const sent = yield* messages.send({
        from: me,
        to: [pick(options.peers), me].filter((p, i, all) => all.indexOf(p) === i),
        subject: "status",
        body: `from ${me}: ${"x".repeat(randomInt(200))}`,
        importance: pick(["low", "normal", "high", "urgent"] as const),
        ack_required: randomInt(2) === 0
      })
      ops("send", "messages", sent.message.id)
    })],
    ["inbox", 8, Effect.gen(function*() {
      const inbox = yield* messages.inbox(me, { unreadOnly: true, limit: 5 })
      for (const entry of inbox) {
        if (randomInt(2) === 0) yield* messages.ack(entry.message.id, me)
        else yield* messages.markRead(entry.message.id, me)
      }
    })],
    ["cursor", 3, Effect.gen(function*() {
      const position = yield* cursors.get(`${me}-reader`)
      if (randomInt(5) === 0) yield* cursors.reset(`${me}-reader`, Math.max(0, position - 3))
      else yield* cursors.commit(`${me}-reader`, position + 1).pipe(Effect.catchTag("InvalidInput", () => Effect.void))
    })]
  ]
  const totalWeight = commands.reduce((sum, [, weight]) => sum + weight, 0)
  const choose = () => {
    let r = randomInt(totalWeight)
    for (const command of commands) {
      r -= command[1]
      if (r < 0) return command
    }
    return commands[0]!
  }

  const latencies: Record<string, Array<number>> = {}
  const counts = { ok: 0, refused: 0, errors: 0 }
  const errorSamples: Array<string> = []
  const start = performance.now()
  while (performance.now() - start < options.durationMs) {
    const [name, , command] = choose()
    const t0 = performance.now()
    const exit = yield* Effect.exit(command)
    const micros = Math.round((performance.now() - t0) * 1000)
    ;(latencies[name] ??= []).push(micros)
    if (Exit.isSuccess(exit)) {
      counts.ok++
      continue
    }
    const failure = Cause.failureOption(exit.cause)
    const tag = Option.isSome(failure) ? (failure.value as { _tag?: string })._tag : undefined
    if (tag !== undefined && EXPECTED.has(tag)) {
      counts.refused++
    } else {
      counts.errors++
      if (errorSamples.length < 5) errorSamples.push(`${name}: ${Cause.pretty(exit.cause).slice(0, 500)}`)
    }
  }
  if (options.report === "summary") {
    print({ done: true, callsign: me, ...counts, busy, latencies, errorSamples, elapsedMs: performance.now() - start })
  }
})

const main = Effect.gen(function*() {
  if (options.goFile !== undefined) yield* waitFor(() => existsSync(options.goFile!))
  yield* program.pipe(Effect.provide(FleetDb.layerFile({ projectPath: options.projectPath })))
})

const exit = await Effect.runPromiseExit(main)
if (exit._tag === "Failure") {
  print({ done: false, error: Cause.pretty(exit.cause) })
  process.exitCode = 1
}
