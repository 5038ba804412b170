/**
 * Projections: the tables (pilots, missions, sorties, work orders, checkpoints, messages,
 * recipients, reservations, locks, cursors) are projections of the event log. `verify` replays
 * the log and compares; `rebuild` replays it and replaces the tables.
 *
 * Not everything is logged (docs/architecture.md §5): heartbeats and cursor commits write no event. So
 * `pilots.last_active_at` and the cursors' positions cannot be checked (see `uncheckedColumns`);
 * a rebuild keeps their live values.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Array as Arr, Context, Effect, Layer, Random, Schema } from "effect"
import { InvalidInput } from "../errors.js"
import { bodyDigest } from "../schema/events.js"
import type { ProjectionDifference } from "../projections/diff.js"
import { diffProjections } from "../projections/diff.js"
import type { StoredEvent } from "../projections/replay.js"
import { ProjectionState } from "../projections/replay.js"
import type { ProjectionTable, Row, TableSpec } from "../projections/tables.js"
import { projectionTables, tableSpecs } from "../projections/tables.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeInput } from "./internal/input.js"

/** Where a `rebuild` or `verify` is: `done` of `total` in the current phase. */
export interface ProjectionProgress {
  /**
   * `replay`: events read and replayed (of the log's size when it started). `write`: rows
   * written to the staging tables (rebuild). `swap`: the final transaction (rebuild, 0 or 1 of 1).
   * `compare`: the live tables read and compared (verify, 0 or 1 of 1).
   */
  readonly phase: "replay" | "write" | "swap" | "compare"
  readonly done: number
  readonly total: number
}

/** Options of `rebuild` and `verify`. */
export interface ProjectionOptions {
  /** Events read per page, and rows written per transaction (default 1000, 1–100000). */
  readonly batchSize?: number | undefined
  /** Called after every batch, e.g. to draw a progress bar (an Effect to run, or a plain callback). */
  readonly onProgress?: ((progress: ProjectionProgress) => Effect.Effect<void> | void) | undefined
}

/** What a rebuild did. */
export interface RebuildSummary {
  /** Events of the project replayed. */
  readonly events: number
  /** The sequence of the last event replayed: the tables now reflect the log up to it. */
  readonly sequence: number
  /** Rows written, by table (cursors: those created or moved up to their latest reset). */
  readonly rows: { readonly [T in ProjectionTable]: number }
}

/** The Projections service. */
export interface ProjectionsShape {
  /**
   * Recreate every projection table of the project from its event log. The log is replayed in
   * pages and the rows are written, one transaction per batch, to staging tables
   * (`fleet_rebuild_*`); one final write transaction replays the events appended meanwhile and
   * replaces the project's rows with the staged ones. Until then the live tables are untouched
   * and other processes keep working; if the rebuild fails or is interrupted, nothing changed.
   * Rows that no event accounts for (written by other tools, or by hand) are dropped: run
   * `verify` first to see them. Kept as they are: `pilots.id` and `last_active_at`, and the
   * cursors (created, or moved up to their latest reset, only where the log demands it).
   */
  readonly rebuild: (options?: ProjectionOptions) => Effect.Effect<RebuildSummary, InvalidInput | SqlError>
  /**
   * Replay the log in memory (the database is only read) and compare it with the live tables at
   * one consistent point (the last page of events and the tables are read in one transaction).
   * Returns every difference, empty when the tables are consistent with the log. Columns the log
   * does not record are not compared (see `uncheckedColumns`).
   */
  readonly verify: (options?: ProjectionOptions) => Effect.Effect<ReadonlyArray<ProjectionDifference>, InvalidInput | SqlError>
}

/** The Projections service. */
export class Projections extends Context.Tag("@fleettools/db/Projections")<Projections, ProjectionsShape>() {}

const DEFAULT_BATCH = 1_000
// Rows per INSERT statement: 13 columns × 100 rows stays far below SQLite's parameter limit.
const ROWS_PER_STATEMENT = 100
const STAGING_PREFIX = "fleet_rebuild_"
// Staging tables of a rebuild that was killed are dropped by a later rebuild once this old.
const STALE_STAGING_MS = 60 * 60 * 1000

const Options = Schema.Struct({
  batchSize: Schema.optional(
    Schema.Int.pipe(Schema.between(1, 100_000, { message: () => "must be an integer from 1 to 100000" }))
  ),
  onProgress: Schema.optional(
    Schema.declare((u): u is (progress: ProjectionProgress) => Effect.Effect<void> | void => typeof u === "function", {
      message: () => "must be a function returning an Effect"
    })
  )
})
const decodeOptions = decodeInput(Options)

// Our own constant names only: never user data.
const quote = (name: string) => `\`${name}\``
const columnList = (spec: TableSpec) => spec.columns.map(quote).join(", ")

/** The tables a rebuild stages and replaces (cursors are kept and only patched). */
const stagedTables = projectionTables.filter((table) => table !== "cursors")

/** Build the Projections service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, projectKey, query, sql } = yield* makeCommands

  // A plain callback (returning anything but an Effect) is accepted too.
  const progress = (options: typeof Options.Type, value: ProjectionProgress) =>
    options.onProgress === undefined ? Effect.void : Effect.suspend(() => {
      const result: unknown = options.onProgress!(value)
      return Effect.isEffect(result) ? Effect.asVoid(result as Effect.Effect<unknown>) : Effect.void
    })

  const selectEvents = (after: number, limit: number) =>
    sql<StoredEvent>`SELECT id, type, project_key, timestamp, data FROM events
        WHERE project_key = ${projectKey} AND id > ${after} ORDER BY id LIMIT ${limit}`

  /** Replay the log page by page (plain reads) into a fresh state. */
  const replay = (options: typeof Options.Type, batch: number) =>
    Effect.gen(function*() {
      const state = new ProjectionState(projectKey)
      const counted = yield* query("Projections.count", () =>
        sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM events WHERE project_key = ${projectKey}`)
      let total = counted[0]?.n ?? 0
      yield* progress(options, { phase: "replay", done: 0, total })
      for (;;) {
        const page = yield* query("Projections.replay", () => selectEvents(state.sequence, batch))
        for (const event of page) state.apply(event)
        total = Math.max(total, state.events)
        yield* progress(options, { phase: "replay", done: state.events, total })
        if (page.length < batch) return state
      }
    })

  /** The live rows of the project, by table (inside the caller's transaction). */
  const readLive = (ctx: Pick<CommandContext, "sql" | "projectKey">) =>
    Effect.gen(function*() {
      const live = {} as Record<ProjectionTable, ReadonlyArray<Row>>
      for (const table of projectionTables) {
        const spec = tableSpecs[table]
        live[table] = table === "message_recipients"
          ? yield* ctx.sql<Row>`SELECT r.message_id, r.callsign, r.read_at, r.acked_at
              FROM message_recipients r JOIN messages m ON m.id = r.message_id
              WHERE m.project_key = ${ctx.projectKey}`
          : yield* ctx.sql<Row>`SELECT ${sql.literal(columnList(spec))} FROM ${sql(table)}
              WHERE project_key = ${ctx.projectKey}`
      }
      return live
    })

  /** The events after `after`, all of them (inside the caller's transaction). */
  const readTail = (ctx: Pick<CommandContext, "sql" | "projectKey">, after: number) =>
    ctx.sql<StoredEvent>`SELECT id, type, project_key, timestamp, data FROM events
        WHERE project_key = ${ctx.projectKey} AND id > ${after} ORDER BY id`

  const verify: ProjectionsShape["verify"] = (raw) =>
    Effect.gen(function*() {
      const options = yield* decodeOptions(raw ?? {})
      const batch = options.batchSize ?? DEFAULT_BATCH
      const base = yield* replay(options, batch)
      yield* progress(options, { phase: "compare", done: 0, total: 1 })
      // A write transaction: the tail and the tables are read at one point, with no writer between.
      const { live, state } = yield* command("Projections.verify.snapshot", (ctx) =>
        Effect.gen(function*() {
          const state = base.fork()
          for (const event of yield* readTail(ctx, base.sequence)) state.apply(event)
          const live = yield* readLive(ctx)
          expectBodies(state, live.messages)
          return { live, state }
        }))
      const differences = diffProjections(state, live)
      yield* progress(options, { phase: "compare", done: 1, total: 1 })
      return differences
    }).pipe(Effect.withSpan("Projections.verify", { captureStackTrace: false }))

  // ---- rebuild ----

  const stagingName = (run: string, table: ProjectionTable) => `${STAGING_PREFIX}${run}_${table}`

  const dropTable = (name: string) =>
    command("Projections.rebuild.drop", ({ sql }) => sql`DROP TABLE IF EXISTS ${sql(name)}`)

  /** Staging tables of rebuilds that died long ago (their name starts with the run's start time). */
  const dropStaleStaging = (now: number) =>
    Effect.gen(function*() {
      const tables = yield* query("Projections.rebuild.leftovers", () =>
        sql<{ readonly name: string }>`SELECT name FROM sqlite_master
            WHERE type = 'table' AND substr(name, 1, ${STAGING_PREFIX.length}) = ${STAGING_PREFIX}`)
      for (const { name } of tables) {
        const started = parseInt(name.slice(STAGING_PREFIX.length).split("_")[0] ?? "", 36)
        if (Number.isFinite(started) && started < now - STALE_STAGING_MS) yield* dropTable(name)
      }
    })

  const insertRows = (ctx: Pick<CommandContext, "sql">, spec: TableSpec, name: string, rows: ReadonlyArray<Row>) =>
    Effect.forEach(
      Arr.chunksOf(rows, ROWS_PER_STATEMENT),
      (chunk) =>
        ctx.sql`INSERT INTO ${ctx.sql(name)} ${
          ctx.sql.insert(chunk.map((row) => Object.fromEntries(spec.columns.map((column) => [column, row[column] ?? null]))))
        }`,
      { discard: true }
    )

  /** Replace the staged rows of the keys the tail changed. */
  const restage = (ctx: Pick<CommandContext, "sql">, run: string, state: ProjectionState, table: ProjectionTable) =>
    Effect.gen(function*() {
      const spec = tableSpecs[table]
      const name = stagingName(run, table)
      const keys = Array.from(state.dirty(table), (key) => JSON.parse(key) as unknown)
      if (keys.length === 0) return
      if (spec.key.length === 1) {
        for (const chunk of Arr.chunksOf(keys, 500)) {
          yield* ctx.sql`DELETE FROM ${ctx.sql(name)} WHERE ${ctx.sql.in(spec.key[0]!, chunk)}`
        }
      } else {
        for (const key of keys as Array<ReadonlyArray<unknown>>) {
          yield* ctx.sql`DELETE FROM ${ctx.sql(name)} WHERE ${
            ctx.sql.and(spec.key.map((column, i) => ctx.sql`${ctx.sql(column)} = ${key[i]}`))
          }`
        }
      }
      const rows = keys.flatMap((key) => {
        const values = spec.key.length === 1 ? [key] : key as Array<unknown>
        const row = state.get(table, Object.fromEntries(spec.key.map((column, i) => [column, values[i] as Row[string]])))
        return row === undefined ? [] : [row]
      })
      yield* insertRows(ctx, spec, name, rows)
    })

  /** The final transaction: catch up with the log, then replace the project's rows. */
  const swap = (run: string, base: ProjectionState) =>
    command("Projections.rebuild.swap", (ctx) =>
      Effect.gen(function*() {
        const { projectKey, sql } = ctx
        const state = base.fork()
        for (const event of yield* readTail(ctx, base.sequence)) state.apply(event)
        for (const table of stagedTables) yield* restage(ctx, run, state, table)

        // Pilots keep their row ids and their last activity (heartbeats are not logged).
        const stagedPilots = sql(stagingName(run, "pilots"))
        yield* sql`UPDATE ${stagedPilots} SET
            id = (SELECT p.id FROM pilots p WHERE p.project_key = ${projectKey} AND p.callsign = ${stagedPilots}.callsign),
            last_active_at = COALESCE(
              (SELECT p.last_active_at FROM pilots p WHERE p.project_key = ${projectKey} AND p.callsign = ${stagedPilots}.callsign),
              last_active_at)`

        // Bodies are not in the log (since message_sent carries a digest): each is taken from the
        // project's stored row, read here in the transaction that replaces it. A message whose row
        // is gone cannot be restored, nor its receipts (verify reports it missing).
        const stagedMessages = sql(stagingName(run, "messages"))
        yield* sql`UPDATE ${stagedMessages} SET body = (SELECT m.body FROM messages m
            WHERE m.project_key = ${projectKey} AND m.id = ${stagedMessages}.id) WHERE body IS NULL`
        const lostReceipts = yield* sql`DELETE FROM ${sql(stagingName(run, "message_recipients"))}
            WHERE message_id IN (SELECT id FROM ${stagedMessages} WHERE body IS NULL) RETURNING message_id`
        const lostMessages = yield* sql`DELETE FROM ${stagedMessages} WHERE body IS NULL RETURNING id`

        yield* sql`DELETE FROM message_recipients WHERE message_id IN (SELECT id FROM messages WHERE project_key = ${projectKey})`
        // Receipts left behind by a message row deleted by hand would collide with the staged ones.
        yield* sql`DELETE FROM message_recipients WHERE message_id IN (SELECT id FROM ${sql(stagingName(run, "messages"))})`
        for (const table of stagedTables) {
          if (table !== "message_recipients") yield* sql`DELETE FROM ${sql(table)} WHERE project_key = ${projectKey}`
        }
        for (const table of stagedTables) {
          const columns = sql.literal(columnList(tableSpecs[table]))
          yield* sql`INSERT INTO ${sql(table)} (${columns}) SELECT ${columns} FROM ${sql(stagingName(run, table))}`
        }
        // Cursors stay; a reset the table does not reflect is applied (never moving one back).
        let cursors = 0
        for (const row of state.rows("cursors")) {
          const changed = yield* sql`INSERT INTO cursors (project_key, consumer_id, position, updated_at)
              VALUES (${projectKey}, ${row.consumer_id}, ${row.position}, ${row.updated_at})
              ON CONFLICT (project_key, consumer_id) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
              WHERE excluded.position > cursors.position
              RETURNING id`
          cursors += changed.length
        }
        for (const table of stagedTables) yield* sql`DROP TABLE ${sql(stagingName(run, table))}`
        return { state, cursors, lost: { messages: lostMessages.length, message_recipients: lostReceipts.length } }
      }))

  const rebuild: ProjectionsShape["rebuild"] = (raw) =>
    Effect.gen(function*() {
      const options = yield* decodeOptions(raw ?? {})
      const batch = options.batchSize ?? DEFAULT_BATCH
      const started = yield* query("Projections.rebuild.start", ({ now }) => Effect.succeed(now))
      yield* dropStaleStaging(started)
      const run = `${started.toString(36)}_${(yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)}`

      const base = yield* replay(options, batch)
      return yield* Effect.gen(function*() {
        for (const table of stagedTables) {
          const name = stagingName(run, table)
          // Untyped columns: values are staged exactly as bound, and typed by the live table on the swap.
          yield* command("Projections.rebuild.stage", ({ sql }) =>
            sql`CREATE TABLE ${sql(name)} (${sql.literal(columnList(tableSpecs[table]))})`)
        }
        const total = stagedTables.reduce((sum, table) => sum + Array.from(base.rows(table)).length, 0)
        let done = 0
        yield* progress(options, { phase: "write", done, total })
        for (const table of stagedTables) {
          const name = stagingName(run, table)
          for (const chunk of Arr.chunksOf(Array.from(base.rows(table)), batch)) {
            yield* command("Projections.rebuild.write", (ctx) => insertRows(ctx, tableSpecs[table], name, chunk))
            done += chunk.length
            yield* progress(options, { phase: "write", done, total })
          }
        }
        yield* progress(options, { phase: "swap", done: 0, total: 1 })
        const { cursors, lost, state } = yield* swap(run, base)
        yield* progress(options, { phase: "swap", done: 1, total: 1 })
        const rows = Object.fromEntries(
          projectionTables.map((table) => [
            table,
            table === "cursors"
              ? cursors
              : Array.from(state.rows(table)).length - (table === "messages" || table === "message_recipients" ? lost[table] : 0)
          ])
        ) as { [T in ProjectionTable]: number }
        return { events: state.events, sequence: state.sequence, rows } satisfies RebuildSummary
      }).pipe(
        // On failure or interruption the live tables are as they were; the staging goes.
        Effect.onExit((exit) =>
          exit._tag === "Success"
            ? Effect.void
            : Effect.forEach(stagedTables, (table) => Effect.ignore(dropTable(stagingName(run, table))), { discard: true })
        )
      )
    }).pipe(Effect.withSpan("Projections.rebuild", { captureStackTrace: false }))

  return Projections.of({ rebuild, verify })
})

/**
 * The body `verify` expects of each message whose event carries a digest instead: the stored
 * body when its SHA-256 matches, else `sha256:<digest>` (so a changed body reads as a mismatch).
 */
const expectBodies = (state: ProjectionState, live: ReadonlyArray<Row>): void => {
  const stored = new Map(live.map((row) => [row.id, row.body]))
  for (const row of Array.from(state.rows("messages"))) {
    const digest = row.body_sha256
    if (row.body !== null || typeof digest !== "string") continue
    const body = stored.get(row.id)
    const matches = typeof body === "string" && bodyDigest(body).body_sha256 === digest
    state.put("messages", { ...row, body: matches ? body : `sha256:${digest}` })
  }
}

/** The Projections service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Projections, make)
