/**
 * The SIGKILL subject of the idempotency crash test: sends messages under idempotency keys in a
 * tight loop on `{projectPath}/.fleet/fleet.db`, as `callsign`, to `peer` — each message's subject
 * is its key — and every third call replays an earlier key (which must be a replay). Prints
 * `{ ready: true }` once the database is open, then `{ key, id, replayed }` per acknowledged call,
 * and runs until killed. With `stallAt` (a multiple of 3: a new key), the call of that iteration stops right after its command
 * ran (before `run` records the key), prints `{ stalled: key }` and waits there to be killed.
 *
 * Usage: idempotent-worker.ts <projectPath> <callsign> <peer> [stallAt]
 */
import { Effect, Schema } from "effect"
import { FleetDb, Idempotency, Message, Messages } from "../../src/index.js"

const [projectPath, callsign, peer, stallArg] = process.argv.slice(2) as [string, string, string, string?]
const stallAt = stallArg === undefined ? -1 : Number(stallArg)
const print = (line: unknown) => process.stdout.write(JSON.stringify(line) + "\n")
const SentMessage = Schema.Struct({ message: Message, recipients: Schema.Array(Schema.String) })

const program = Effect.gen(function*() {
  const messages = yield* Messages
  print({ ready: true })
  for (let i = 0;; i++) {
    const n = i % 3 === 2 ? i - 1 : i
    const key = `${callsign}-${n}`
    const input = { from: callsign, to: peer, subject: key, body: `body of ${key}` }
    const outcome = yield* Idempotency.run(
      { key, command: "Messages.send", callsign, input, result: SentMessage },
      i === stallAt
        ? Effect.zipLeft(messages.send(input), Effect.zipRight(Effect.sync(() => print({ stalled: key })), Effect.never))
        : messages.send(input)
    )
    print({ key, id: outcome.value.message.id, replayed: outcome.replayed })
  }
})

Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).catch((error: unknown) => {
  process.stderr.write(String(error) + "\n")
  process.exit(1)
})
