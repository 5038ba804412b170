/**
 * `fleet-db lock acquire|extend|release KEY`: named leases with fencing tokens.
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { DateTime, Effect, Option, Schema } from "effect"
import { Lock, Locks } from "../../index.js"
import { parseDuration } from "../duration.js"
import { Refused, UsageError } from "../errors.js"
import { runAs, untilText, writeOptions, verb } from "../verb.js"

const LockResult = Schema.Struct({ lock: Lock })

const key = Args.text({ name: "KEY" }).pipe(Args.withDescription("The lock's name, e.g. build or deploy"))
const ttl = Options.text("ttl").pipe(
  Options.withDescription("How long the lease lasts unless extended, e.g. 30s, 5m (default 5m)"),
  Options.withDefault("5m")
)
const fence = Options.integer("fence").pipe(
  Options.withDescription("The lease's fence, as acquire printed it (default: the pilot's current lease)"),
  Options.optional
)

/** The pilot's current lease on `key`, or a refusal naming who holds it instead. */
const leaseOf = (lockKey: string, holder: string, fenceOption: Option.Option<number>) =>
  Effect.flatMap(Locks, (locks) =>
    Effect.flatMap(locks.current(lockKey), (current) => {
      if (Option.isNone(current)) {
        return Effect.fail(new Refused({ message: `"${holder}" does not hold lock "${lockKey}": nobody holds it (released or expired)` }))
      }
      const lock = current.value
      if (lock.holder_id !== holder) {
        return Effect.fail(new Refused({
          message: `"${holder}" does not hold lock "${lockKey}": "${lock.holder_id}" holds it until ${DateTime.formatIso(lock.expires_at)}`
        }))
      }
      // A stale --fence makes the library refuse with LockNotHeld, naming that fence.
      return Effect.succeed({ id: lock.id, lock_key: lockKey, holder_id: holder, fence: Option.getOrElse(fenceOption, () => lock.fence) })
    }))

const leaseText = (verb: string) => ({ lock }: { readonly lock: Lock }, now: number): ReadonlyArray<string> => [
  `${verb} lock ${lock.lock_key} (fence ${lock.fence}) ${untilText(lock.expires_at, now)}`
]

const acquire = Command.make("acquire", {
  ...writeOptions,
  key,
  ttl,
  wait: Options.text("wait").pipe(
    Options.withDescription("Wait up to this long for the lock instead of being refused at once, e.g. 30s"),
    Options.optional
  )
}, (options) =>
  runAs(options, (holder) =>
    verb({
      command: "Locks.acquire",
      callsign: holder,
      input: { key: options.key, holder, ttl: options.ttl, wait: Option.getOrUndefined(options.wait) },
      result: LockResult,
      run: Effect.gen(function*() {
        const ttl = yield* parseDuration("--ttl", options.ttl)
        const wait = Option.isSome(options.wait) ? yield* parseDuration("--wait", options.wait.value) : undefined
        return { lock: yield* (yield* Locks).acquire(options.key, { holder, ttl, wait }) }
      }),
      text: leaseText("acquired")
    }))).pipe(Command.withDescription("Take the lock for the pilot (refused while another pilot holds it)"))

const extend = Command.make("extend", { ...writeOptions, key, ttl, fence }, (options) =>
  runAs(options, (holder) => verb({
    command: "Locks.extend",
    callsign: holder,
    input: { key: options.key, ttl: options.ttl, fence: Option.getOrUndefined(options.fence) },
    result: LockResult,
    run: Effect.flatMap(leaseOf(options.key, holder, options.fence), (lease) =>
      Effect.flatMap(parseDuration("--ttl", options.ttl), (ttl) =>
        Effect.map(Effect.flatMap(Locks, (locks) => locks.extend(lease, ttl)), (lock) => ({ lock })))),
    text: leaseText("extended")
  }))).pipe(Command.withDescription("Extend the pilot's lease to --ttl from now (never shortens it)"))

const release = Command.make("release", { ...writeOptions, key, fence }, (options) =>
  runAs(options, (holder) => verb({
    command: "Locks.release",
    callsign: holder,
    input: { key: options.key, fence: Option.getOrUndefined(options.fence) },
    result: LockResult,
    run: Effect.flatMap(leaseOf(options.key, holder, options.fence), (lease) =>
      Effect.map(Effect.flatMap(Locks, (locks) => locks.release(lease)), (lock) => ({ lock }))),
    text: ({ lock }) => [`released lock ${lock.lock_key} (fence ${lock.fence})`]
  }))).pipe(Command.withDescription("Give the pilot's lease up"))

/** `fleet-db lock` */
export const lock = Command.make("lock", {}, () =>
  Effect.fail(new UsageError({ message: "lock needs a subcommand: acquire, extend or release; run `fleet-db lock --help`" }))).pipe(
    Command.withDescription("Named locks with fencing tokens: acquire, extend, release"),
    Command.withSubcommands([acquire, extend, release])
  )
