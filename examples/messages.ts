/**
 * Mail, event cursors and checkpoints on a throw-away project database.
 *
 *   npx tsx examples/messages.ts
 */
import { Console, DateTime, Effect, Option, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Checkpoints, Cursors, FleetDb, Messages, Pilots } from "../src/index.js"

const program = Effect.gen(function*() {
  const pilots = yield* Pilots
  const messages = yield* Messages
  const cursors = yield* Cursors
  const checkpoints = yield* Checkpoints

  for (const callsign of ["lead", "viper-1", "viper-2"]) yield* pilots.register({ callsign })

  // Mail: recipients must be registered; the thread id is created when not given.
  const { message } = yield* messages.send({
    from: "lead",
    to: ["viper-1", "viper-2"],
    subject: "Refactor the parser",
    body: "Split src/parser.ts by grammar rule. Ack when you start.",
    importance: "high",
    ack_required: true
  })
  const inbox = yield* messages.inbox("viper-1", { unreadOnly: true }) // reading never marks anything
  yield* Console.log(`viper-1 has ${inbox.length} unread: "${inbox[0]?.message.subject}"`)
  const first = yield* messages.ack(message.id, "viper-1") // ack implies read; set once
  const again = yield* messages.ack(message.id, "viper-1") // idempotent: same timestamps, no event
  const at = (t: DateTime.Utc | null) => (t === null ? "never" : DateTime.formatIso(t))
  yield* Console.log(`acked at ${at(first.acked_at)}; a repeat returns ${at(again.acked_at)}`)
  const reply = yield* messages.reply(message.id, { from: "viper-1", body: "On it." })
  yield* Console.log(`reply "${reply.message.subject}" to ${reply.recipients.join(", ")}`)
  const owed = yield* messages.pendingAcks({ from: "lead" })
  yield* Console.log(`still owing lead an ack: ${owed.map((p) => p.callsign).join(", ")}`)
  const thread = yield* messages.thread(message.thread_id!)
  yield* Console.log(`thread ${message.thread_id}: ${thread.map((m) => `#${m.id} ${m.from_callsign}`).join(" → ")}`)

  // Checkpoints: any JSON context, newest first.
  yield* checkpoints.create({
    callsign: "viper-1",
    trigger: "manual",
    progress_percent: 30,
    summary: "Lexer split out; parser next",
    context_data: { done: ["src/lexer.ts"], next: "src/parser.ts" }
  })
  const latest = yield* checkpoints.latest({ callsign: "viper-1" })
  yield* Console.log(`latest checkpoint: ${Option.match(latest, { onNone: () => "none", onSome: (c) => `${c.progress_percent}% ${c.summary}` })}`)

  // Cursors: an at-least-once consumer of the event log. Commit after handling each event;
  // a restarted consumer resumes after its last commit.
  yield* cursors.consume("mail-notifier", { types: ["message_sent"] }).pipe(
    Stream.take(2),
    Stream.runForEach(({ commit, event }) =>
      Effect.zipRight(
        Console.log(`notifier saw event #${event.sequence} (${event.type})`),
        commit
      ))
  )
  yield* Console.log(`notifier cursor is at ${yield* cursors.get("mail-notifier")}`)
})

const projectPath = mkdtempSync(join(tmpdir(), "fleet-example-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).finally(() =>
  rmSync(projectPath, { recursive: true, force: true })
)
