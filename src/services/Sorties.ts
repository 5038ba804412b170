/**
 * Sorties: claimable units of work, optionally grouped under a mission.
 *
 * Status machine: `open →claim→ in_progress →complete→ closed`, `in_progress ⇄ blocked`
 * (block/unblock), `in_progress →release→ open` (unassigned again); `closed` is final. Any other
 * move fails with `InvalidTransition`.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { InvalidInput, UndecodableRow } from "../errors.js"
import { InvalidTransition, MissionNotFound, SortieAlreadyClaimed, SortieNotFound } from "../errors.js"
import { PathPattern } from "../paths/patterns.js"
import { FleetProject } from "../Project.js"
import { Callsign, DEFAULT_PRIORITY, LongText, Priority, SortieStatus, Text, Title } from "../schema/common.js"
import { Sortie } from "../schema/flightline.js"
import { idPrefix, makeId, MissionId, SortieId } from "../schema/ids.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows } from "./internal/rows.js"
import { decodeInput } from "./internal/input.js"
import { pathContext, placePaths } from "./internal/paths.js"

// libSQL stores U+0000 but every read stops at it, silently truncating the text.
const noNul = (s: string) => !s.includes("\u0000") || "must not contain NUL characters (U+0000)"
const SortieTitle = Title.pipe(Schema.filter(noNul))
const SortieText = LongText.pipe(Schema.filter(noNul))

/** Input of `Sorties.create`. */
export const CreateSortie = Schema.Struct({
  title: SortieTitle,
  description: Schema.optional(SortieText),
  /** The mission this sortie belongs to; it must exist in this project. */
  mission_id: Schema.optional(MissionId),
  /** 0 (most urgent) … 4; default 1. */
  priority: Schema.optional(Priority),
  /**
   * Path patterns the sortie is expected to touch, stored canonical (like reservations': see
   * `Paths.canonicalize`) as a JSON array, duplicates removed.
   */
  files: Schema.optional(Schema.Array(PathPattern).pipe(Schema.maxItems(1_000)))
})
export type CreateSortie = typeof CreateSortie.Encoded

// The default message of a failed literal union names only its first member.
const StatusFilter = SortieStatus.annotations({
  message: () => ({
    message: `must be one of ${SortieStatus.literals.map((status) => JSON.stringify(status)).join(", ")}`,
    override: true
  })
})

/** At most this many sorties per `Sorties.list` page. */
export const MAX_SORTIE_LIST_LIMIT = 10_000

const limitMessage = `must be an integer from 1 to ${MAX_SORTIE_LIST_LIMIT}`

/** Filters of `Sorties.list` (all optional, combined with AND), its order and its size. */
export const ListSorties = Schema.Struct({
  status: Schema.optional(StatusFilter),
  mission_id: Schema.optional(MissionId),
  assigned_to: Schema.optional(Callsign),
  /**
   * `"claim"` (default): priority, then oldest, then id. `"recently_completed"`: the latest
   * `completed_at` first (then the highest id), sorties never completed last.
   */
  order: Schema.optional(Schema.Literal("claim", "recently_completed").annotations({
    message: () => ({ message: `must be "claim" or "recently_completed"`, override: true })
  })),
  /** At most this many sorties (1 … 10,000); all of them when omitted. */
  limit: Schema.optional(Schema.Number.pipe(
    Schema.int({ message: () => limitMessage }),
    Schema.between(1, MAX_SORTIE_LIST_LIMIT, { message: () => limitMessage })
  ))
})
export type ListSorties = typeof ListSorties.Encoded

/** Filters of `Sorties.counts` (all optional, combined with AND). */
export const CountSorties = Schema.Struct({
  mission_id: Schema.optional(MissionId),
  assigned_to: Schema.optional(Callsign)
})
export type CountSorties = typeof CountSorties.Encoded

/** How many sorties there are, per status. */
export interface SortieCounts {
  /** Every matching sortie (rows of other tools with other statuses included). */
  readonly total: number
  readonly by_status: {
    readonly open: number
    readonly in_progress: number
    readonly blocked: number
    readonly closed: number
  }
}

/** Options of `Sorties.claimNext`. */
export const ClaimNextOptions = Schema.Struct({
  /** Only claim a sortie of this mission (which must exist in this project). */
  mission_id: Schema.optional(MissionId)
})
export type ClaimNextOptions = typeof ClaimNextOptions.Encoded

/**
 * Who is acting, for `block`, `unblock`, `release` and `complete`. When `callsign` is given, the
 * sortie must be assigned to it (otherwise `SortieAlreadyClaimed` names the actual assignee);
 * when omitted, the move is made on behalf of whoever holds the sortie (e.g. by a coordinator).
 */
export const SortieActor = Schema.Struct({
  callsign: Schema.optional(Callsign)
})
export type SortieActor = typeof SortieActor.Encoded

/**
 * The Sorties service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface SortiesShape {
  /** Create an open, unassigned sortie. Appends `sortie_created`. */
  readonly create: (input: CreateSortie) => Effect.Effect<Sortie, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  /** The sortie with this id. */
  readonly get: (id: string) => Effect.Effect<Sortie, SortieNotFound | InvalidInput | UndecodableRow | SqlError>
  /**
   * Sorties matching the filters, in claim order (priority, then oldest, then id) unless `order`
   * says otherwise; the first `limit` of them when given.
   */
  readonly list: (options?: ListSorties) => Effect.Effect<ReadonlyArray<Sortie>, InvalidInput | UndecodableRow | SqlError>
  /** How many sorties match the filters, per status, counted by the database (no row is read out). */
  readonly counts: (options?: CountSorties) => Effect.Effect<SortieCounts, InvalidInput | SqlError>
  /**
   * Claim this sortie for `callsign` (open → in_progress) with one guarded `UPDATE`: only an open,
   * unassigned sortie can be claimed, so of several racing claimers exactly one wins; the others
   * get `SortieAlreadyClaimed`. Appends `sortie_claimed`.
   */
  readonly claim: (
    id: string,
    callsign: string
  ) => Effect.Effect<Sortie, SortieNotFound | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
  /**
   * Pick the most urgent open sortie (lowest priority number, then oldest, then id) and claim it
   * for `callsign` in the same write transaction. `None` when nothing is claimable.
   * Appends `sortie_claimed` when a sortie was claimed.
   */
  readonly claimNext: (
    callsign: string,
    options?: ClaimNextOptions
  ) => Effect.Effect<Option.Option<Sortie>, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  /** in_progress → blocked, recording `reason`. Appends `sortie_blocked`. */
  readonly block: (
    id: string,
    reason: string,
    options?: SortieActor
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
  /** blocked → in_progress, clearing the reason. Appends `sortie_unblocked`. */
  readonly unblock: (
    id: string,
    options?: SortieActor
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
  /** in_progress → open, unassigned again (claimable by anyone). Appends `sortie_released`. */
  readonly release: (
    id: string,
    options?: SortieActor
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
  /** in_progress → closed (final). Appends `sortie_completed`. */
  readonly complete: (
    id: string,
    options?: SortieActor
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
}

/** The Sorties service. */
export class Sorties extends Context.Tag("@fleettools/db/Sorties")<Sorties, SortiesShape>() {}

const decodeCreate = decodeInput(CreateSortie)
const decodeList = decodeInput(ListSorties)
const decodeCounts = decodeInput(CountSorties)
const decodeClaimNext = decodeInput(ClaimNextOptions)
const decodeActor = decodeInput(SortieActor)
const decodeId = decodeInput(SortieId, "id")
const decodeCallsign = decodeInput(Callsign, "callsign")
const decodeReason = decodeInput(Text({ min: 1, max: 65_536 }).pipe(Schema.filter(noNul)), "reason")
const decodeSortie = decodeRow("sorties", Sortie)
const decodeSorties = decodeRows("sorties", Sortie)

interface CurrentState {
  readonly status: string
  readonly assigned_to: string | null
}

/** Build the Sorties service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands
  const context = pathContext(yield* FleetProject)

  const toSortie = (row: unknown) => decodeSortie(row)

  const missionExists = ({ projectKey, sql }: Pick<CommandContext, "sql" | "projectKey">, missionId: string) =>
    Effect.map(
      sql`SELECT 1 AS found FROM missions WHERE id = ${missionId} AND project_key = ${projectKey}`,
      (rows) => rows.length > 0
    )

  const create: SortiesShape["create"] = (raw) =>
    Effect.flatMap(decodeCreate(raw), (input) =>
      Effect.flatMap(
        input.files === undefined ? Effect.succeed(undefined) : placePaths(input.files, context, "files"),
        (placed) =>
      command("Sorties.create", (ctx) =>
        Effect.gen(function*() {
          const { emit, now, projectKey, sql } = ctx
          if (input.mission_id !== undefined && !(yield* missionExists(ctx, input.mission_id))) {
            return yield* new MissionNotFound({ id: input.mission_id })
          }
          const id = yield* makeId(idPrefix.sortie)
          const files = placed === undefined ? null : JSON.stringify(placed.map(({ path }) => path))
          const rows = yield* sql`INSERT INTO sorties (id, project_key, mission_id, title, description, status, priority, files, created_at)
              VALUES (${id}, ${projectKey}, ${input.mission_id ?? null}, ${input.title}, ${input.description ?? null}, 'open',
                      ${input.priority ?? DEFAULT_PRIORITY}, ${files}, ${now})
              RETURNING *`
          const sortie = yield* toSortie(rows[0])
          yield* emit("sortie_created", {
            sortie_id: sortie.id,
            mission_id: sortie.mission_id,
            title: sortie.title,
            description: sortie.description,
            priority: sortie.priority,
            files: sortie.files
          })
          return sortie
        }))))

  const get: SortiesShape["get"] = (raw) =>
    Effect.flatMap(decodeId(raw), (id) =>
      query("Sorties.get", ({ projectKey, sql }) =>
        Effect.flatMap(
          sql`SELECT * FROM sorties WHERE id = ${id} AND project_key = ${projectKey}`,
          (rows): Effect.Effect<Sortie, SortieNotFound | UndecodableRow> =>
            rows.length === 0 ? Effect.fail(new SortieNotFound({ id })) : toSortie(rows[0])
        )))

  const list: SortiesShape["list"] = (raw = {}) =>
    Effect.flatMap(decodeList(raw), (filter) =>
      query("Sorties.list", ({ projectKey, sql }) => {
        const clauses = [sql`project_key = ${projectKey}`]
        if (filter.status !== undefined) clauses.push(sql`status = ${filter.status}`)
        if (filter.mission_id !== undefined) clauses.push(sql`mission_id = ${filter.mission_id}`)
        if (filter.assigned_to !== undefined) clauses.push(sql`assigned_to = ${filter.assigned_to}`)
        const order = filter.order === "recently_completed"
          ? sql`ORDER BY completed_at IS NULL, completed_at DESC, id DESC`
          : sql`ORDER BY priority, created_at, id`
        const limit = filter.limit === undefined ? sql`` : sql`LIMIT ${filter.limit}`
        return Effect.flatMap(
          sql`SELECT * FROM sorties WHERE ${sql.and(clauses)} ${order} ${limit}`,
          (rows) => decodeSorties(rows)
        )
      }))

  const counts: SortiesShape["counts"] = (raw = {}) =>
    Effect.flatMap(decodeCounts(raw), (filter) =>
      query("Sorties.counts", ({ projectKey, sql }) => {
        const clauses = [sql`project_key = ${projectKey}`]
        if (filter.mission_id !== undefined) clauses.push(sql`mission_id = ${filter.mission_id}`)
        if (filter.assigned_to !== undefined) clauses.push(sql`assigned_to = ${filter.assigned_to}`)
        return Effect.map(
          sql<{ readonly status: string; readonly n: number }>`SELECT status, COUNT(*) AS n FROM sorties
              WHERE ${sql.and(clauses)} GROUP BY status`,
          (rows) => {
            const count = (status: string) => Number(rows.find((row) => row.status === status)?.n ?? 0)
            return {
              total: rows.reduce((sum, row) => sum + Number(row.n), 0),
              by_status: { open: count("open"), in_progress: count("in_progress"), blocked: count("blocked"), closed: count("closed") }
            }
          }
        )
      }))

  const claim: SortiesShape["claim"] = (rawId, rawCallsign) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeCallsign(rawCallsign)]), ([id, callsign]) =>
      command("Sorties.claim", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const rows = yield* sql`UPDATE sorties SET status = 'in_progress', assigned_to = ${callsign}, started_at = ${now}
              WHERE id = ${id} AND project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL
              RETURNING *`
          if (rows.length === 0) {
            const current = yield* sql<CurrentState>`SELECT status, assigned_to FROM sorties
                WHERE id = ${id} AND project_key = ${projectKey}`
            return yield* current.length === 0
              ? Effect.fail(new SortieNotFound({ id }))
              : Effect.fail(new SortieAlreadyClaimed({ id, assigned_to: current[0]!.assigned_to, status: current[0]!.status }))
          }
          const sortie = yield* toSortie(rows[0])
          yield* emit("sortie_claimed", { sortie_id: sortie.id, callsign })
          return sortie
        })))

  const claimNext: SortiesShape["claimNext"] = (rawCallsign, rawOptions = {}) =>
    Effect.flatMap(Effect.all([decodeCallsign(rawCallsign), decodeClaimNext(rawOptions)]), ([callsign, options]) =>
      command("Sorties.claimNext", (ctx) =>
        Effect.gen(function*() {
          const { emit, now, projectKey, sql } = ctx
          if (options.mission_id !== undefined && !(yield* missionExists(ctx, options.mission_id))) {
            return yield* new MissionNotFound({ id: options.mission_id })
          }
          const inMission = options.mission_id === undefined ? sql`` : sql`AND mission_id = ${options.mission_id}`
          // Pick and claim in one statement of one write transaction: no other writer can claim
          // the chosen row in between, and the outer guard repeats the claim condition anyway.
          const rows = yield* sql`UPDATE sorties SET status = 'in_progress', assigned_to = ${callsign}, started_at = ${now}
              WHERE id = (
                SELECT id FROM sorties
                WHERE project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL ${inMission}
                ORDER BY priority, created_at, id
                LIMIT 1
              ) AND project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL
              RETURNING *`
          if (rows.length === 0) return Option.none()
          const sortie = yield* toSortie(rows[0])
          yield* emit("sortie_claimed", { sortie_id: sortie.id, callsign })
          return Option.some(sortie)
        })))

  /**
   * One status move: read the row, check the machine (`from` → `to`) and the actor, then apply
   * `update` guarded by the status just read, and append the move's event.
   */
  const move = (
    span: string,
    id: SortieId,
    actor: Callsign | undefined,
    from: SortieStatus,
    to: SortieStatus,
    update: (ctx: CommandContext) => Effect.Effect<ReadonlyArray<unknown>, SqlError>,
    event: (ctx: CommandContext, sortie: Sortie, previous: CurrentState) => Effect.Effect<number, SqlError>
  ) =>
    command(span, (ctx) =>
      Effect.gen(function*() {
        const { projectKey, sql } = ctx
        const current = yield* sql<CurrentState>`SELECT status, assigned_to FROM sorties
            WHERE id = ${id} AND project_key = ${projectKey}`
        if (current.length === 0) return yield* new SortieNotFound({ id })
        const previous = current[0]!
        if (previous.status !== from) {
          return yield* new InvalidTransition({ entity: "sortie", id, from: previous.status, to })
        }
        if (actor !== undefined && previous.assigned_to !== actor) {
          return yield* new SortieAlreadyClaimed({ id, assigned_to: previous.assigned_to, status: previous.status })
        }
        const rows = yield* update(ctx)
        // The row was read in this write transaction, so the guarded update cannot miss it.
        if (rows.length === 0) return yield* Effect.dieMessage(`Sortie ${id} changed inside its own write transaction`)
        const sortie = yield* toSortie(rows[0])
        yield* event(ctx, sortie, previous)
        return sortie
      }))

  const decodeTarget = (rawId: string, rawOptions: SortieActor | undefined) =>
    Effect.all([decodeId(rawId), Effect.map(decodeActor(rawOptions ?? {}), (options) => options.callsign)])

  const block: SortiesShape["block"] = (rawId, rawReason, rawOptions) =>
    Effect.flatMap(
      Effect.all([decodeTarget(rawId, rawOptions), decodeReason(rawReason)]),
      ([[id, actor], reason]) =>
        move(
          "Sorties.block",
          id,
          actor,
          "in_progress",
          "blocked",
          ({ projectKey, sql }) =>
            sql`UPDATE sorties SET status = 'blocked', blocked_reason = ${reason}
                WHERE id = ${id} AND project_key = ${projectKey} AND status = 'in_progress' RETURNING *`,
          ({ emit }, sortie) => emit("sortie_blocked", { sortie_id: sortie.id, callsign: sortie.assigned_to, reason })
        )
    )

  const unblock: SortiesShape["unblock"] = (rawId, rawOptions) =>
    Effect.flatMap(decodeTarget(rawId, rawOptions), ([id, actor]) =>
      move(
        "Sorties.unblock",
        id,
        actor,
        "blocked",
        "in_progress",
        ({ projectKey, sql }) =>
          sql`UPDATE sorties SET status = 'in_progress', blocked_reason = NULL
              WHERE id = ${id} AND project_key = ${projectKey} AND status = 'blocked' RETURNING *`,
        ({ emit }, sortie) => emit("sortie_unblocked", { sortie_id: sortie.id, callsign: sortie.assigned_to })
      ))

  const release: SortiesShape["release"] = (rawId, rawOptions) =>
    Effect.flatMap(decodeTarget(rawId, rawOptions), ([id, actor]) =>
      move(
        "Sorties.release",
        id,
        actor,
        "in_progress",
        "open",
        // started_at belongs to the claim being given up; the next claim sets it again.
        ({ projectKey, sql }) =>
          sql`UPDATE sorties SET status = 'open', assigned_to = NULL, started_at = NULL, blocked_reason = NULL
              WHERE id = ${id} AND project_key = ${projectKey} AND status = 'in_progress' RETURNING *`,
        ({ emit }, sortie, previous) =>
          emit("sortie_released", {
            sortie_id: sortie.id,
            callsign: previous.assigned_to,
            from: "in_progress",
            reason: "released"
          })
      ))

  const complete: SortiesShape["complete"] = (rawId, rawOptions) =>
    Effect.flatMap(decodeTarget(rawId, rawOptions), ([id, actor]) =>
      move(
        "Sorties.complete",
        id,
        actor,
        "in_progress",
        "closed",
        ({ now, projectKey, sql }) =>
          sql`UPDATE sorties SET status = 'closed', completed_at = ${now}
              WHERE id = ${id} AND project_key = ${projectKey} AND status = 'in_progress' RETURNING *`,
        ({ emit }, sortie) => emit("sortie_completed", { sortie_id: sortie.id, callsign: sortie.assigned_to })
      ))

  return Sorties.of({ create, get, list, counts, claim, claimNext, block, unblock, release, complete })
})

/** The Sorties service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Sorties, make)
