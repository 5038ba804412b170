/**
 * Sorties: claimable units of work, optionally grouped under a mission.
 *
 * Status machine: `open →claim→ in_progress →complete→ closed`, `in_progress ⇄ blocked`
 * (block/unblock), `in_progress →release→ open` (unassigned again); `closed` is final. Any other
 * move fails with `InvalidTransition`.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Duration } from "effect"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { DependencyCycle, InvalidInput, UndecodableRow } from "../errors.js"
import { InvalidTransition, MissionNotFound, SortieAlreadyClaimed, SortieNotFound, SortieNotReady } from "../errors.js"
import { PathPattern } from "../paths/patterns.js"
import { FleetProject } from "../Project.js"
import { Callsign, DEFAULT_PRIORITY, LongText, Priority, SortieStatus, Text, Title } from "../schema/common.js"
import type { SortieDependency } from "../schema/workTables.js"
import { Sortie } from "../schema/workTables.js"
import { idPrefix, makeId, MissionId, SortieId } from "../schema/ids.js"
import { limitClause, tallyByStatus } from "./internal/sqlParts.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import type { AddDependencyOptions, FileClaim, ReadyOptions, SortieDependencies, UpdateSortie } from "./internal/graph.js"
import { makeGraph, unblockDependents, unclosedBlockers } from "./internal/graph.js"
import { decodeRow, decodeRows, found } from "./internal/rows.js"
import { decodeInput, ListLimit, MAX_LIST_LIMIT } from "./internal/input.js"
import { pathContext, placePaths } from "./internal/paths.js"
import { moveStatus, statusFilter } from "./internal/status.js"

/** Input of `Sorties.create`. */
export const CreateSortie = Schema.Struct({
  title: Title,
  description: Schema.optional(LongText),
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

/** At most this many sorties per `Sorties.list` page. */
export const MAX_SORTIE_LIST_LIMIT = MAX_LIST_LIMIT

/** Filters of `Sorties.list` (all optional, combined with AND), its order and its size. */
export const ListSorties = Schema.Struct({
  status: Schema.optional(statusFilter(SortieStatus)),
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
  limit: Schema.optional(ListLimit)
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
  mission_id: Schema.optional(MissionId),
  /** Also reserve the claimed sortie's files exclusively (see `ClaimNextWithFiles`). */
  reserveFiles: Schema.optional(Schema.Boolean),
  /** With `reserveFiles`: the reservations' reason (default `sortie <id>`). */
  reason: Schema.optional(Schema.NullOr(LongText))
})
export type ClaimNextOptions = Omit<typeof ClaimNextOptions.Encoded, "reserveFiles" | "reason"> & {
  readonly reserveFiles?: false | undefined
}

/** Options of `Sorties.claimNext` that also reserve the claimed sortie's files. */
export type ClaimNextWithFiles = Omit<typeof ClaimNextOptions.Encoded, "reserveFiles"> & {
  readonly reserveFiles: true
  /** How long the reservations last (e.g. `"30 minutes"` or milliseconds), from 1 ms to one year. */
  readonly ttl: Duration.DurationInput
}

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
   * get `SortieAlreadyClaimed`. An open sortie still waiting on `blocks` dependencies fails with
   * `SortieNotReady`. Appends `sortie_claimed`.
   */
  readonly claim: (
    id: string,
    callsign: string
  ) => Effect.Effect<Sortie, SortieNotFound | SortieAlreadyClaimed | SortieNotReady | InvalidInput | UndecodableRow | SqlError>
  /**
   * Pick the most urgent ready sortie (see `ready`: lowest priority number, then oldest, then id)
   * and claim it for `callsign` in the same write transaction. `None` when nothing is ready.
   * Appends `sortie_claimed` when a sortie was claimed.
   *
   * With `{ reserveFiles: true, ttl }`: the most urgent ready sortie whose `files` overlap no
   * active reservation of another pilot is claimed and its files reserved exclusively for the
   * claimer until `ttl` — one transaction, appending `sortie_claimed` and `file_reserved`. The
   * result names the sortie (or null), the reservations, and the more urgent ready sorties
   * skipped because of a file conflict, with the reservations in their way.
   */
  readonly claimNext: {
    (
      callsign: string,
      options: ClaimNextWithFiles
    ): Effect.Effect<FileClaim, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
    (
      callsign: string,
      options?: ClaimNextOptions
    ): Effect.Effect<Option.Option<Sortie>, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  }
  /**
   * Ready work: open, unassigned sorties none of whose `blocks` dependencies is unclosed, most
   * urgent first, then oldest, then id. Reads the readiness cache (`unclosed_blockers`) through
   * an index, so it costs the same however large the graph.
   */
  readonly ready: (
    options?: ReadyOptions
  ) => Effect.Effect<ReadonlyArray<Sortie>, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  /**
   * `sortie_id` depends on `depends_on_id` (both must exist in this project). Kind `blocks`
   * (default): the sortie is not ready before `depends_on_id` closes; one that would close a
   * cycle of `blocks` edges (a sortie on itself included) fails with `DependencyCycle` naming
   * the path. Kind `related`: informational. Adding an existing dependency again changes its
   * kind, or does nothing when the kind is the same. Appends `sortie_dependency_added` when
   * anything changed.
   */
  readonly addDependency: (
    sortie_id: string,
    depends_on_id: string,
    options?: AddDependencyOptions
  ) => Effect.Effect<SortieDependency, SortieNotFound | DependencyCycle | InvalidInput | UndecodableRow | SqlError>
  /**
   * Remove the dependency, returning it (`None` when there was none). A sortie whose last
   * unclosed blocker this was becomes ready. Appends `sortie_dependency_removed`.
   */
  readonly removeDependency: (
    sortie_id: string,
    depends_on_id: string
  ) => Effect.Effect<Option.Option<SortieDependency>, InvalidInput | UndecodableRow | SqlError>
  /** What the sortie depends on and what depends on it, each with its kind, title and status. */
  readonly dependencies: (id: string) => Effect.Effect<SortieDependencies, SortieNotFound | InvalidInput | SqlError>
  /**
   * Change the title, description, priority or files of a sortie that is not closed
   * (`InvalidTransition` from `closed` otherwise). Appends `sortie_updated` when anything changed.
   */
  readonly update: (
    id: string,
    patch: UpdateSortie
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /**
   * Close a sortie that is not closed yet (open, in progress or blocked) as cancelled:
   * `status` `closed`, `outcome` `cancelled`, `close_reason` = `reason`. Its dependents lose it
   * as a blocker, exactly as when it completes. Appends `sortie_cancelled`.
   */
  readonly cancel: (
    id: string,
    reason: string
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
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
  /**
   * in_progress → closed (final), `outcome` `completed`; its dependents lose it as a blocker.
   * Appends `sortie_completed`.
   */
  readonly complete: (
    id: string,
    options?: SortieActor
  ) => Effect.Effect<Sortie, SortieNotFound | InvalidTransition | SortieAlreadyClaimed | InvalidInput | UndecodableRow | SqlError>
}

/** The project's sorties, of one mission and/or one pilot when the filter says so. */
const scope = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  filter: { readonly mission_id?: string | undefined; readonly assigned_to?: string | undefined }
) => {
  const clauses = [sql`project_key = ${projectKey}`]
  if (filter.mission_id !== undefined) clauses.push(sql`mission_id = ${filter.mission_id}`)
  if (filter.assigned_to !== undefined) clauses.push(sql`assigned_to = ${filter.assigned_to}`)
  return clauses
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
const decodeReason = decodeInput(Text({ min: 1, max: 65_536 }), "reason")
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
  const graph = makeGraph({ command, query }, context)

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
          found(toSortie, () => new SortieNotFound({ id }))
        )))

  const list: SortiesShape["list"] = (raw = {}) =>
    Effect.flatMap(decodeList(raw), (filter) =>
      query("Sorties.list", ({ projectKey, sql }) => {
        const clauses = scope(sql, projectKey, filter)
        if (filter.status !== undefined) clauses.push(sql`status = ${filter.status}`)
        const order = filter.order === "recently_completed"
          ? sql`ORDER BY completed_at IS NULL, completed_at DESC, id DESC`
          : sql`ORDER BY priority, created_at, id`
        const limit = limitClause(sql, filter.limit)
        return Effect.flatMap(
          sql`SELECT * FROM sorties WHERE ${sql.and(clauses)} ${order} ${limit}`,
          (rows) => decodeSorties(rows)
        )
      }))

  const counts: SortiesShape["counts"] = (raw = {}) =>
    Effect.flatMap(decodeCounts(raw), (filter) =>
      query("Sorties.counts", ({ projectKey, sql }) => {
        const clauses = scope(sql, projectKey, filter)
        return Effect.map(
          sql<{ readonly status: string; readonly n: number }>`SELECT status, COUNT(*) AS n FROM sorties
              WHERE ${sql.and(clauses)} GROUP BY status`,
          (rows) => tallyByStatus(rows, SortieStatus.literals)
        )
      }))

  const claim: SortiesShape["claim"] = (rawId, rawCallsign) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeCallsign(rawCallsign)]), ([id, callsign]) =>
      command("Sorties.claim", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const rows = yield* sql`UPDATE sorties SET status = 'in_progress', assigned_to = ${callsign}, started_at = ${now}
              WHERE id = ${id} AND project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL
                AND unclosed_blockers = 0
              RETURNING *`
          if (rows.length === 0) {
            const current = yield* sql<CurrentState>`SELECT status, assigned_to FROM sorties
                WHERE id = ${id} AND project_key = ${projectKey}`
            if (current.length === 0) return yield* new SortieNotFound({ id })
            const { assigned_to, status } = current[0]!
            if (status === "open" && assigned_to === null) {
              return yield* new SortieNotReady({ id, blockers: yield* unclosedBlockers({ projectKey, sql }, id) })
            }
            return yield* new SortieAlreadyClaimed({ id, assigned_to, status })
          }
          const sortie = yield* toSortie(rows[0])
          yield* emit("sortie_claimed", { sortie_id: sortie.id, callsign })
          return sortie
        })))

  function claimNext(
    callsign: string,
    options: ClaimNextWithFiles
  ): Effect.Effect<FileClaim, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  function claimNext(
    callsign: string,
    options?: ClaimNextOptions
  ): Effect.Effect<Option.Option<Sortie>, MissionNotFound | InvalidInput | UndecodableRow | SqlError>
  function claimNext(rawCallsign: string, rawOptions: ClaimNextOptions | ClaimNextWithFiles = {}) {
    // Untyped callers may pass anything: only an object asking for files takes that path.
    if (typeof rawOptions === "object" && rawOptions !== null && rawOptions.reserveFiles === true) {
      const { ttl, ...rest } = rawOptions
      return Effect.flatMap(decodeClaimNext(rest), (options) => graph.claimWithFiles(rawCallsign, options, ttl))
    }
    return claimReady(rawCallsign, rawOptions)
  }

  const claimReady = (rawCallsign: string, rawOptions: ClaimNextOptions) =>
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
                WHERE project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL AND unclosed_blockers = 0 ${inMission}
                ORDER BY priority, created_at, id
                LIMIT 1
              ) AND project_key = ${projectKey} AND status = 'open' AND assigned_to IS NULL AND unclosed_blockers = 0
              RETURNING *`
          if (rows.length === 0) return Option.none()
          const sortie = yield* toSortie(rows[0])
          yield* emit("sortie_claimed", { sortie_id: sortie.id, callsign })
          return Option.some(sortie)
        })))

  /** One status move (see `moveStatus`) that also checks the actor, then its event. */
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
        const { previous, row: sortie } = yield* moveStatus({
          entity: "sortie",
          id,
          from,
          to,
          current: sql<CurrentState>`SELECT status, assigned_to FROM sorties
              WHERE id = ${id} AND project_key = ${projectKey}`,
          notFound: () => new SortieNotFound({ id }),
          check: (state) =>
            actor !== undefined && state.assigned_to !== actor
              ? Effect.fail(new SortieAlreadyClaimed({ id, assigned_to: state.assigned_to, status: state.status }))
              : Effect.void,
          update: update(ctx),
          decode: toSortie
        })
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
        (ctx) =>
          Effect.tap(
            ctx.sql`UPDATE sorties SET status = 'closed', outcome = 'completed', completed_at = ${ctx.now}
                WHERE id = ${id} AND project_key = ${ctx.projectKey} AND status = 'in_progress' RETURNING *`,
            (rows) => rows.length === 0 ? Effect.void : unblockDependents(ctx, id)
          ),
        ({ emit }, sortie) => emit("sortie_completed", { sortie_id: sortie.id, callsign: sortie.assigned_to })
      ))

  const { addDependency, cancel, dependencies, ready, removeDependency, update } = graph
  return Sorties.of({
    create,
    get,
    list,
    counts,
    claim,
    claimNext,
    block,
    unblock,
    release,
    complete,
    ready,
    addDependency,
    removeDependency,
    dependencies,
    update,
    cancel
  })
})

/** The Sorties service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Sorties, make)
