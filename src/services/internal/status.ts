/**
 * The status machines of missions, sorties and work orders, one way: filters that name every
 * status, and a move that checks the current status inside the write transaction before the
 * guarded update.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"
import type { UndecodableRow } from "../../errors.js"
import { InvalidTransition } from "../../errors.js"

/**
 * A status enumeration as an input filter, whose refusal lists every status (the default message
 * of a failed literal union names only its first member).
 */
export const statusFilter = <const Literals extends readonly [string, ...Array<string>]>(status: Schema.Literal<Literals>) =>
  status.annotations({
    message: () => ({
      message: `must be one of ${status.literals.map((literal) => JSON.stringify(literal)).join(", ")}`,
      override: true
    })
  })

/** One move of a status machine, as `moveStatus` runs it. */
export interface StatusMove<Row extends { readonly status: string }, A, E, C> {
  /** What moves, as `InvalidTransition` names it (`"mission"`, `"sortie"`, `"work_order"`). */
  readonly entity: string
  readonly id: string
  /** The status (or statuses) the move starts from. */
  readonly from: string | ReadonlyArray<string>
  readonly to: string
  /** The row's current state, read inside the command's write transaction; empty: no such row. */
  readonly current: Effect.Effect<ReadonlyArray<Row>, SqlError>
  /** The error for a row that does not exist. */
  readonly notFound: () => E
  /** Further checks of a row in the right status (e.g. who holds it). */
  readonly check?: ((row: Row) => Effect.Effect<void, C>) | undefined
  /** The update, guarded by `from`, returning the changed row. */
  readonly update: Effect.Effect<ReadonlyArray<unknown>, SqlError>
  readonly decode: (row: unknown) => Effect.Effect<A, UndecodableRow>
}

/**
 * Run one status move inside a command: read the row, refuse any move but from `from` to `to`
 * (`InvalidTransition`) and whatever `check` refuses, then apply the guarded update. Returns the
 * changed row and the state read before it.
 */
export const moveStatus = <Row extends { readonly status: string }, A, E, C = never>(
  move: StatusMove<Row, A, E, C>
): Effect.Effect<{ readonly row: A; readonly previous: Row }, E | C | InvalidTransition | UndecodableRow | SqlError> =>
  Effect.gen(function*() {
    const current = yield* move.current
    const previous = current[0]
    if (previous === undefined) return yield* Effect.fail(move.notFound())
    if (typeof move.from === "string" ? previous.status !== move.from : !move.from.includes(previous.status)) {
      return yield* new InvalidTransition({ entity: move.entity, id: move.id, from: previous.status, to: move.to })
    }
    if (move.check !== undefined) yield* move.check(previous)
    const rows = yield* move.update
    // The row was read in this write transaction, so the update its status guards cannot miss it.
    if (rows.length === 0) return yield* Effect.dieMessage(`${move.entity} ${move.id} changed inside its own write transaction`)
    const row = yield* move.decode(rows[0])
    return { row, previous }
  })
