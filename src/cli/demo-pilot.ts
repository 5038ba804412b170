/**
 * One pilot of `fleet-db demo`, run as its own OS process on the shared database. It registers,
 * then until its mission has nothing left to claim: claims the next sortie, reserves the sortie's
 * files (blocking the sortie and mailing the holder while another pilot has them), works, builds
 * under the shared "build" lock, releases the files, completes the sortie with checkpoints, and
 * mails a peer. Reads its own mail between sorties. Prints one JSON line with its tallies.
 *
 * Usage (spawned by the demo): `node demo-pilot.js '<json settings>'`.
 *
 * @module
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Clock, Duration, Effect, Exit, Option, Random, Schedule, Schema } from "effect"
import { Checkpoints, Locks, Messages, Missions, Pilots, Reservations, Sorties } from "../index.js"
import type { SendMessage, Sortie } from "../index.js"
import { withDatabase } from "./connection.js"
import { type PilotReport, PilotSettings } from "./demo/protocol.js"
import { Io } from "./io.js"

// How long a pilot waits for files before it gives up on the demo.
const RESERVATION_PATIENCE_MS = 60_000

const between = ([min, max]: readonly [number, number]) => Random.nextIntBetween(min, max + 1)

const pilot = (settings: PilotSettings) =>
  Effect.gen(function*() {
    const pilots = yield* Pilots
    const sorties = yield* Sorties
    const reservations = yield* Reservations
    const locks = yield* Locks
    const messages = yield* Messages
    const checkpoints = yield* Checkpoints
    const me = settings.callsign
    const tally = {
      sorties_completed: 0,
      conflicts_refused: 0,
      sorties_blocked: 0,
      lock_waits: 0,
      builds: 0,
      mail_sent: 0,
      mail_read: 0,
      mail_acked: 0,
      checkpoints: 0
    }

    yield* pilots.register({
      callsign: me,
      program: "fleet-db demo",
      model: "demo-pilot",
      task_description: `demo mission ${settings.mission_id}`
    })
    // A pilot of an earlier, interrupted run may have left files reserved under this callsign.
    yield* reservations.release({ callsign: me })
    // Mail needs registered recipients: give the peers time to start (mail to one that never
    // registered is skipped, see `mail`).
    yield* Effect.forEach(settings.peers, (peer) =>
      pilots.get(peer).pipe(
        Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 600 }),
        Effect.ignore
      ), { discard: true })

    const mail = (input: SendMessage) =>
      messages.send(input).pipe(
        Effect.andThen(() => void tally.mail_sent++),
        Effect.catchTag("UnknownRecipient", () => Effect.void)
      )

    const readMail = Effect.gen(function*() {
      const unread = yield* messages.inbox(me, { unreadOnly: true, limit: 100 })
      for (const entry of unread) {
        if (entry.message.ack_required) {
          yield* messages.ack(entry.message.id, me)
          tally.mail_acked++
        } else {
          yield* messages.markRead(entry.message.id, me)
        }
        tally.mail_read++
      }
    })

    const reserveFiles = (sortie: Sortie) =>
      Effect.gen(function*() {
        const files = sortie.files ?? []
        if (files.length === 0) return
        let blocked = false
        let mailed = false
        const deadline = (yield* Clock.currentTimeMillis) + RESERVATION_PATIENCE_MS
        for (;;) {
          const result = yield* Effect.either(reservations.reserve({
            callsign: me,
            paths: files,
            exclusive: true,
            reason: sortie.title,
            ttl: "30 seconds"
          }))
          if (result._tag === "Right") break
          if (result.left._tag !== "ReservationConflict") return yield* result.left
          tally.conflicts_refused++
          const first = result.left.conflicts[0]!
          if (!blocked) {
            yield* sorties.block(sortie.id, `waiting for ${first.path} (held by ${first.holder})`, { callsign: me })
            tally.sorties_blocked++
            blocked = true
          }
          if (!mailed && settings.peers.includes(first.holder)) {
            yield* mail({
              from: me,
              to: first.holder,
              subject: `waiting for ${first.pattern}`,
              body: `I need ${first.path} for "${sortie.title}"; I'll take it as soon as you release it.`,
              importance: "high"
            })
            mailed = true
          }
          if ((yield* Clock.currentTimeMillis) > deadline) {
            // Demo pilots hold files for a second or two; this is someone else's reservation.
            return yield* Effect.fail(
              new Error(`gave up on "${sortie.title}": ${first.path} stays reserved by ${first.holder} (${first.pattern})`)
            )
          }
          yield* pilots.heartbeat(me)
          yield* Effect.sleep(Duration.millis(yield* between([80, 200])))
        }
        if (blocked) yield* sorties.unblock(sortie.id, { callsign: me })
      })

    const build = Effect.gen(function*() {
        const step = Effect.flatMap(between(settings.build_ms), (ms) => Effect.sleep(Duration.millis(ms)))
        const options = { holder: me, ttl: "10 seconds" as const }
        const first = yield* Effect.either(locks.withLock(settings.lock_key, options)(step))
        if (first._tag === "Left") {
          if (first.left._tag !== "LockHeld") return yield* first.left
          // Someone else is building: wait for the lock (its holder releases it when done).
          tally.lock_waits++
          yield* locks.withLock(settings.lock_key, { ...options, wait: "60 seconds" })(step)
        }
        tally.builds++
      })

    const checkpoint = (sortie: Sortie, percent: number, summary: string) =>
      Effect.andThen(
        checkpoints.create({
          callsign: me,
          trigger: "auto",
          mission_id: settings.mission_id,
          sortie_id: sortie.id,
          progress_percent: percent,
          summary,
          context_data: { files: sortie.files ?? [], pid: process.pid }
        }),
        () => void tally.checkpoints++
      )

    const others = settings.peers.filter((peer) => peer !== me)

    const handBack = (sortie: Sortie) =>
      Effect.gen(function*() {
        yield* reservations.release({ callsign: me })
        const current = yield* sorties.get(sortie.id)
        if (current.status === "blocked") yield* sorties.unblock(sortie.id, { callsign: me })
        if (current.status === "blocked" || current.status === "in_progress") yield* sorties.release(sortie.id, { callsign: me })
      }).pipe(Effect.ignore)

    for (;;) {
      yield* readMail
      const next = yield* sorties.claimNext(me, { mission_id: settings.mission_id })
      if (Option.isNone(next)) {
        // Nothing ready: while another pilot works, what waits on its sortie may become ready.
        const progress = yield* Effect.flatMap(Missions, (missions) => missions.progress(settings.mission_id))
        if (progress.by_status.in_progress + progress.by_status.blocked === 0) break
        yield* Effect.sleep("100 millis")
        continue
      }
      const sortie = next.value
      yield* Effect.gen(function*() {
        yield* reserveFiles(sortie)
        yield* Effect.sleep(Duration.millis(yield* between(settings.work_ms)))
        yield* checkpoint(sortie, 50, "files edited; building")
        yield* build
        yield* reservations.release({ callsign: me })
        yield* sorties.complete(sortie.id, { callsign: me })
      }).pipe(
        // Ctrl-C: hand the sortie and the files back instead of leaving them claimed by a dead pilot.
        Effect.onInterrupt(() => handBack(sortie))
      )
      tally.sorties_completed++
      yield* checkpoint(sortie, 100, `done: ${sortie.title}`)
      if (others.length > 0) {
        const to = others[(tally.sorties_completed + settings.peers.indexOf(me)) % others.length]!
        yield* mail({
          from: me,
          to,
          subject: `done: ${sortie.title}`,
          body: `Finished "${sortie.title}" (${(sortie.files ?? []).join(", ")}); the build passed.`,
          ack_required: tally.sorties_completed % 2 === 1
        })
      }
      yield* pilots.heartbeat(me)
    }
    yield* readMail
    const report: PilotReport = { callsign: me, pid: process.pid, ...tally }
    const io = yield* Io
    yield* Effect.sync(() => io.stdout(`${JSON.stringify(report)}\n`))
  })

const main = Effect.gen(function*() {
  const settings = yield* Schema.decodeUnknown(Schema.parseJson(PilotSettings))(process.argv[2] ?? "")
  yield* pilot(settings).pipe(
    withDatabase({ project: Option.fromNullable(settings.project), url: Option.fromNullable(settings.url) }, { mustExist: true })
  )
})

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, onExit) => {
    if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return onExit(130)
    if (Exit.isFailure(exit)) {
      // The demo shows the last line of a failed pilot's stderr.
      const error = Cause.squash(exit.cause)
      const text = error instanceof Error ? error.message : String(error)
      process.stderr.write(`${Cause.pretty(exit.cause)}\n${text.replace(/\s*\n\s*/g, " ")}\n`)
    }
    onExit(Exit.isSuccess(exit) ? 0 : 1)
  }
})
