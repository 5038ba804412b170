/**
 * Idempotent writes: run any write command under a key, so that a caller who lost the answer can
 * send the same request again without applying it twice.
 *
 * `run` opens one write transaction and, inside it, looks the key up:
 * - not there (or expired): runs the command (its own transaction becomes a savepoint of this
 *   one) and records the key with a fingerprint of the request and the command's encoded result —
 *   in the same transaction, so a crash leaves both or neither;
 * - there with the same command and input: returns the stored result, decoded with the command's
 *   result schema, writes nothing, and says it was a replay;
 * - there with another command or input: fails with `IdempotencyConflict`, writes nothing.
 *
 * A command that fails records nothing: the request can be retried under the same key. Keys are
 * scoped per project and per pilot (`callsign`), kept for `Retention` (24 hours by
 * default) and pruned by the writes themselves (a bounded number of expired keys per recording).
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import { IdempotencyConflict, InvalidInput } from "../errors.js"
import { FleetProject } from "../Project.js"
import { Callsign, Text } from "../schema/common.js"
import { writeTransaction } from "../sql/transaction.js"
import { decodeInput } from "./internal/input.js"

/** How long a recorded key is kept (and replayed); 24 hours unless provided otherwise. */
export class Retention extends Context.Reference<Retention>()(
  "@fleettools/db/Idempotency/Retention",
  { defaultValue: (): Duration.Duration => Duration.hours(24) }
) {}

/** How many expired keys one recording deletes at most (pruning stays cheap and bounded). */
export const PRUNE_BATCH = 100

/** What `run` needs to know about the request. */
export interface RunOptions<A, I> {
  /** The caller's key: 1–256 characters, unique per request it means. */
  readonly key: string
  /** The command's name (e.g. `"Messages.send"`), part of the fingerprint. */
  readonly command: string
  /** The request's input, as the caller sent it (any JSON value); fingerprinted, never stored. */
  readonly input: unknown
  /** The command's result schema: the result is stored encoded and decoded on a replay. */
  readonly result: Schema.Schema<A, I>
  /** The pilot the command acts for, when it has one: keys of different pilots never meet. */
  readonly callsign?: string | undefined
}

/** The command's result, and whether it was replayed from an earlier call with the same key. */
export interface Outcome<A> {
  readonly value: A
  readonly replayed: boolean
}

const Key = Text({ min: 1, max: 256 })
const decodeKey = decodeInput(Key, "idempotency_key")
const decodeCallsign = decodeInput(Callsign, "callsign")

interface KeyRow {
  readonly command: string
  readonly fingerprint: string
  readonly result: string
  readonly expires_at: number
}

/** JSON with object keys sorted (and `undefined` members dropped), so equal inputs fingerprint equally. */
const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonical(item)))
  if (typeof value === "object" && value !== null) {
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") return canonical((value as { toJSON: () => unknown }).toJSON())
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key]
      if (member !== undefined) out[key] = canonical(member)
    }
    return out
  }
  return value
}

/** The fingerprint of a request: SHA-256 of the command's name and its canonical input. */
export const fingerprint = (command: string, input: unknown): string =>
  createHash("sha256").update(JSON.stringify([command, canonical(input) ?? null])).digest("hex")

/**
 * Run the write command `effect` under an idempotency key (see the module documentation). The
 * command must be one write (or several) of this library, or any effect whose writes go through
 * the same `SqlClient`: they join this call's transaction.
 *
 * @example
 * ```ts
 * const sent = yield* Idempotency.run(
 *   { key: "req-42", command: "Messages.send", callsign: "viper-1", input, result: SentMessageSchema },
 *   messages.send(input)
 * )
 * sent.replayed // true when "req-42" had already sent this message
 * ```
 */
export const run = <A, I, E, R>(
  options: RunOptions<A, I>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Outcome<A>, E | IdempotencyConflict | InvalidInput | SqlError, R | SqlClient.SqlClient | FleetProject> =>
  Effect.gen(function*() {
    const key = yield* decodeKey(options.key)
    const scope = options.callsign === undefined ? "" : yield* decodeCallsign(options.callsign)
    const sql = yield* SqlClient.SqlClient
    const { projectKey } = yield* FleetProject
    const retention = Duration.toMillis(yield* Retention)
    const print = fingerprint(options.command, options.input)
    const encode = Schema.encode(options.result)
    const decode = Schema.decodeUnknown(Schema.parseJson(options.result))

    return yield* writeTransaction(Effect.gen(function*() {
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const found = yield* sql<KeyRow>`SELECT command, fingerprint, result, expires_at FROM idempotency_keys
          WHERE project_key = ${projectKey} AND scope = ${scope} AND idempotency_key = ${key}`
      const row = found[0]
      if (row !== undefined && row.expires_at > now) {
        if (row.fingerprint !== print) return yield* new IdempotencyConflict({ key, command: row.command })
        const value = yield* Effect.mapError(decode(row.result), () =>
          new InvalidInput({
            field: "idempotency_key",
            reason: `the result stored under this key no longer decodes as a ${row.command} result; use a new key`
          }))
        return { value, replayed: true } satisfies Outcome<A>
      }
      const value = yield* effect
      const stored = yield* Effect.mapError(encode(value), (error) =>
        new InvalidInput({ field: "result", reason: `cannot be stored: ${error.message}` }))
      // Opportunistic, bounded pruning of this project's expired keys (the one being replaced too).
      yield* sql`DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys
          WHERE project_key = ${projectKey} AND expires_at <= ${now} LIMIT ${PRUNE_BATCH})`
      yield* sql`INSERT OR REPLACE INTO idempotency_keys
          (project_key, scope, idempotency_key, command, fingerprint, result, created_at, expires_at)
          VALUES (${projectKey}, ${scope}, ${key}, ${options.command}, ${print}, ${JSON.stringify(stored)}, ${now}, ${Math.min(now + retention, Number.MAX_SAFE_INTEGER)})`
      return { value, replayed: false } satisfies Outcome<A>
    }))
  }).pipe(Effect.withSpan("Idempotency.run", { attributes: { command: options.command } }))
