/**
 * `Idempotency.run`: a write command under a key runs once; the same request again replays the
 * stored result and writes nothing; another request under the key is refused; keys are scoped per
 * pilot, expire after the retention and are pruned by later writes; a failed command records
 * nothing. And SIGKILL between the command and its key is impossible to observe: a child process
 * sending under keys is killed at random moments, and after each kill every message it sent has
 * its key and every key its message.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Option, Schema, TestClock } from "effect"
import { randomInt } from "node:crypto"
import type { SendMessage } from "../src/index.js"
import { Events, FleetDb, FleetProject, Idempotency, Message, Messages, Pilots, Projections, Sorties, Sortie } from "../src/index.js"
import { tempDir } from "./support/backends.js"
import { workerBundle } from "./support/procs.js"
import { integrityCheck, startWorker } from "./support/recovery.js"

const SentMessage = Schema.Struct({ message: Message, recipients: Schema.Array(Schema.String) })

const send = (key: string, input: SendMessage) =>
  Effect.flatMap(Messages, (messages) =>
    Idempotency.run({ key, command: "Messages.send", callsign: input.from, input, result: SentMessage }, messages.send(input)))

const state = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { projectKey } = yield* FleetProject
  const [m] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM messages WHERE project_key = ${projectKey}`
  const [k] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM idempotency_keys WHERE project_key = ${projectKey}`
  return { messages: m!.n, keys: k!.n, events: yield* Effect.flatMap(Events, (e) => e.latestSequence) }
})

const failureTag = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Option.map(Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c))), (c) => c._tag === "Fail" ? (c.error as { _tag: string })._tag : c._tag)) : undefined

const setup = Effect.flatMap(Pilots, (pilots) => Effect.all([pilots.register({ callsign: "alpha" }), pilots.register({ callsign: "bravo" })]))
const hello: SendMessage = { from: "alpha", to: "bravo", subject: "hello", body: "first" }

describe("Idempotency.run", () => {
  it.effect("the same key and input replays the stored result and writes nothing", () =>
    Effect.gen(function*() {
      yield* setup
      const first = yield* send("k1", hello)
      expect(first.replayed).toBe(false)
      const before = yield* state
      expect(before.keys).toBe(1)
      yield* TestClock.adjust(1_000)
      // Same input with members in another order: the same request.
      const again = yield* send("k1", { body: "first", subject: "hello", to: "bravo", from: "alpha" })
      expect(again.replayed).toBe(true)
      expect(again.value).toEqual(first.value)
      expect(again.value.message).toBeInstanceOf(Message)
      expect(yield* state).toEqual(before)
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("the same key with another input, or for another command, fails IdempotencyConflict and writes nothing", () =>
    Effect.gen(function*() {
      yield* setup
      yield* send("k1", hello)
      const before = yield* state
      const other = yield* Effect.exit(send("k1", { ...hello, body: "second" }))
      expect(failureTag(other)).toBe("IdempotencyConflict")
      const sorties = yield* Sorties
      const otherCommand = yield* Effect.exit(Idempotency.run(
        { key: "k1", command: "Sorties.create", callsign: "alpha", input: hello, result: Sortie },
        sorties.create({ title: "x" })
      ))
      expect(failureTag(otherCommand)).toBe("IdempotencyConflict")
      expect(yield* state).toEqual(before)
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("keys are scoped per pilot and per project-wide scope", () =>
    Effect.gen(function*() {
      yield* setup
      yield* send("k1", hello)
      const bravo = yield* send("k1", { from: "bravo", to: "alpha", subject: "hi", body: "b" })
      expect(bravo.replayed).toBe(false)
      const sorties = yield* Sorties
      const created = yield* Idempotency.run({ key: "k1", command: "Sorties.create", input: { title: "x" }, result: Sortie }, sorties.create({ title: "x" }))
      expect(created.replayed).toBe(false)
      expect((yield* state).keys).toBe(3)
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("a failed command records nothing: the same key can be retried", () =>
    Effect.gen(function*() {
      yield* setup
      const toNobody = { ...hello, to: "charlie" }
      expect(failureTag(yield* Effect.exit(send("k1", toNobody)))).toBe("UnknownRecipient")
      expect(yield* state).toMatchObject({ keys: 0, messages: 0 })
      yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "charlie" }))
      const retried = yield* send("k1", toNobody)
      expect(retried.replayed).toBe(false)
      expect(yield* state).toMatchObject({ keys: 1, messages: 1 })
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("a bad key is InvalidInput naming idempotency_key, nothing written", () =>
    Effect.gen(function*() {
      yield* setup
      const exit = yield* Effect.exit(send("", hello))
      expect(exit).toStrictEqual(Exit.fail(expect.anything()))
      const error = Exit.isFailure(exit) ? Option.getOrThrow(Exit.causeOption(exit).pipe(Option.flatMap((c) => c._tag === "Fail" ? Option.some(c.error) : Option.none()))) : undefined
      expect(error).toMatchObject({ _tag: "InvalidInput", field: "idempotency_key" })
      expect(yield* state).toMatchObject({ keys: 0, messages: 0 })
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("keys expire after the retention (24 h by default): the request then runs again", () =>
    Effect.gen(function*() {
      yield* setup
      yield* send("k1", hello)
      yield* TestClock.adjust(Duration.toMillis("24 hours") - 1)
      expect((yield* send("k1", hello)).replayed).toBe(true)
      yield* TestClock.adjust(1)
      expect((yield* send("k1", hello)).replayed).toBe(false)
      // After expiry the key is free for another request too.
      yield* TestClock.adjust(Duration.toMillis("24 hours"))
      expect((yield* send("k1", { ...hello, body: "new" })).replayed).toBe(false)
      expect(yield* state).toMatchObject({ keys: 1, messages: 3 })
    }).pipe(Effect.provide(FleetDb.layerMemory())))

  it.effect("the retention is configurable, and later writes prune expired keys in bounded batches", () =>
    Effect.gen(function*() {
      yield* setup
      const count = Idempotency.PRUNE_BATCH + 20
      for (let i = 0; i < count; i++) yield* send(`old-${i}`, { ...hello, body: `old ${i}` })
      expect((yield* state).keys).toBe(count)
      yield* TestClock.adjust(Duration.toMillis("29 minutes"))
      expect((yield* send("old-0", { ...hello, body: "old 0" })).replayed).toBe(true)
      expect((yield* state).keys).toBe(count)
      yield* TestClock.adjust(Duration.toMillis("1 minute"))
      yield* send("new-1", { ...hello, body: "new 1" })
      expect((yield* state).keys).toBe(count - Idempotency.PRUNE_BATCH + 1)
      yield* send("new-2", { ...hello, body: "new 2" })
      expect((yield* state).keys).toBe(2)
    }).pipe(Effect.provideService(Idempotency.Retention, Duration.minutes(30)), Effect.provide(FleetDb.layerMemory())))
})

describe("Idempotency.run under SIGKILL", () => {
  const KILLS = 8
  const bundle = workerBundle("idempotent-worker.ts")

  /** Messages the worker sent, and its recorded keys with the message id each stored. */
  const sentAndKeys = (callsign: string) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const sent = yield* sql<{ readonly id: number; readonly subject: string }>`SELECT id, subject FROM messages
          WHERE project_key = ${projectKey} AND from_callsign = ${callsign} ORDER BY id`
      const keys = yield* sql<{ readonly idempotency_key: string; readonly result: string }>`SELECT idempotency_key, result
          FROM idempotency_keys WHERE project_key = ${projectKey} AND scope = ${callsign} ORDER BY idempotency_key`
      return {
        sent: new Map(sent.map((row) => [row.subject, row.id])),
        keys: new Map(keys.map((row) => [row.idempotency_key, (JSON.parse(row.result) as { message: { id: number } }).message.id]))
      }
    })

  it.live(`SIGKILL at random moments, ${KILLS} times: every message has its key and every key its message`, () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const layer = FleetDb.layerFile({ projectPath: dir })
      yield* Effect.flatMap(Pilots, (p) => p.register({ callsign: "peer" })).pipe(Effect.provide(layer))
      let acknowledged = 0
      let replays = 0
      for (let round = 0; round < KILLS; round++) {
        const callsign = `idem-${round}`
        // Odd rounds: killed exactly between the command and the recording of its key.
        const stallAt = round % 2 === 1 ? 3 * randomInt(0, 14) : undefined // not a replaying iteration
        const worker = startWorker(bundle, [dir, callsign, "peer", ...(stallAt === undefined ? [] : [String(stallAt)])])
        yield* Effect.promise(() => worker.waitForLine((line) => line.ready === true))
        if (stallAt === undefined) {
          // Let it get going (at least one acknowledged call), then kill it at a random moment.
          yield* Effect.promise(() => worker.waitForLine((line) => typeof line.key === "string"))
          yield* Effect.sleep(`${randomInt(0, 300)} millis`)
        } else {
          yield* Effect.promise(() => worker.waitForLine((line) => typeof line.stalled === "string"))
        }
        worker.child.kill("SIGKILL")
        const ended = yield* Effect.promise(() => worker.exited)
        expect(ended.signal, `round ${round} ended on its own: ${ended.stderr}`).toBe("SIGKILL")

        const { keys, sent } = yield* sentAndKeys(callsign).pipe(Effect.provide(layer))
        expect(yield* integrityCheck.pipe(Effect.provide(layer))).toEqual(["ok"])
        expect(yield* Effect.flatMap(Projections, (p) => p.verify()).pipe(Effect.provide(layer))).toEqual([])
        // Both or neither: the key set and the message set are the same, and each key stored its own message.
        expect([...keys.keys()].sort(), `round ${round}`).toEqual([...sent.keys()].sort())
        for (const [key, id] of keys) expect(sent.get(key), key).toBe(id)
        const stalled = worker.lines.find((line) => typeof line.stalled === "string")?.stalled as string | undefined
        if (stallAt !== undefined) expect(sent.has(stalled!), `round ${round}: the stalled command survived the kill`).toBe(false)
        // Every acknowledged call is there, and replays returned the first message.
        for (const line of worker.lines) {
          if (typeof line.key !== "string") continue
          acknowledged++
          if (line.replayed === true) replays++
          expect(sent.get(line.key)).toBe(line.id)
        }
      }
      expect(acknowledged).toBeGreaterThan(KILLS)
      expect(replays).toBeGreaterThan(0)
    }).pipe(Effect.scoped), 240_000)
})
