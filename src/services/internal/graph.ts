/**
 * The work graph of the Sorties service: dependencies between sorties, the readiness they imply,
 * editing and cancelling sorties, and the claim that also reserves the claimed sortie's files.
 *
 * Readiness is cached in `sorties.unclosed_blockers` (the number of the sortie's `blocks`
 * dependencies that are not closed), changed in the transaction of every command that affects
 * it: adding or removing a `blocks` dependency, and closing a sortie (complete or cancel), which
 * decrements each dependent's count. Closed is final, so a count never has to go back up
 * because of a status move. The ready query and the claims read the cache through the partial
 * index `idx_sorties_ready`, however large the graph.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Option, Schema } from "effect"
import type { InvalidInput, ReservationConflictEntry, UndecodableRow } from "../../errors.js"
import { DependencyCycle, InvalidTransition, MissionNotFound, SortieNotFound } from "../../errors.js"
import type { Meter } from "../../paths/patterns.js"
import { PathPattern, storedComparisonForm, TRANSACTION_OVERLAP_STEPS } from "../../paths/patterns.js"
import type { PathContext } from "../../paths/patterns.js"
import type { DependencyKind, SortieOutcome, SortieStatus } from "../../schema/common.js"
import { Callsign, DependencyKind as DependencyKindSchema, LongText, Priority, Text, Title } from "../../schema/common.js"
import { Sortie, SortieDependency } from "../../schema/workTables.js"
import { MissionId, SortieId } from "../../schema/ids.js"
import type { Reservation } from "../../schema/coordinationTables.js"
import type { CommandContext } from "./command.js"
import { decodeDuration, decodeInput } from "./input.js"
import type { Placed } from "./paths.js"
import { placePaths } from "./paths.js"
import { conflictChecker, OverlapWorkExceeded, selectActive, writeReservations } from "./reserve.js"
import { decodeRow, decodeRows } from "./rows.js"

/** Options of `Sorties.addDependency`. */
export const AddDependencyOptions = Schema.Struct({
  /** `blocks` (default): the sortie cannot be claimed before `depends_on` closes. `related`: informational. */
  kind: Schema.optional(DependencyKindSchema)
})
export type AddDependencyOptions = typeof AddDependencyOptions.Encoded

/** Options of `Sorties.ready`. */
export const ReadyOptions = Schema.Struct({
  /** Only sorties of this mission (which must exist in this project). */
  mission_id: Schema.optional(MissionId),
  /** At most this many (1–10000); all of them when omitted. */
  limit: Schema.optional(
    Schema.Int.pipe(Schema.between(1, 10_000, { message: () => "must be an integer from 1 to 10000" }))
  )
})
export type ReadyOptions = typeof ReadyOptions.Encoded

/** Input of `Sorties.update`: the fields to change (omitted ones stay). */
export const UpdateSortie = Schema.Struct({
  title: Schema.optional(Title),
  description: Schema.optional(Schema.NullOr(LongText)),
  priority: Schema.optional(Priority),
  /** The path patterns, canonical like `create`'s; `null` clears them. */
  files: Schema.optional(Schema.NullOr(Schema.Array(PathPattern).pipe(Schema.maxItems(1_000))))
})
export type UpdateSortie = typeof UpdateSortie.Encoded

/** One neighbour of a sortie in the work graph, as `Sorties.dependencies` lists it. */
export interface DependencyLink {
  readonly sortie_id: SortieId
  readonly kind: DependencyKind
  readonly title: string
  readonly status: SortieStatus
  readonly outcome: SortieOutcome | null
}

/** A sortie's place in the work graph. */
export interface SortieDependencies {
  readonly sortie_id: SortieId
  /** What the sortie depends on; the `blocks` ones not closed are what it waits for. */
  readonly depends_on: ReadonlyArray<DependencyLink>
  /** The sorties that depend on it. */
  readonly dependents: ReadonlyArray<DependencyLink>
}

/** A ready sortie that `claimNext({ reserveFiles })` passed over, and the reservations in its way. */
export interface SkippedSortie {
  readonly sortie_id: SortieId
  readonly title: string
  readonly conflicts: ReadonlyArray<ReservationConflictEntry>
}

/** What `claimNext({ reserveFiles: true })` did. */
export interface FileClaim {
  /** The sortie claimed, or null when no ready sortie's files were free. */
  readonly sortie: Sortie | null
  /** The claimer's exclusive reservations of the sortie's files (empty without files). */
  readonly reservations: ReadonlyArray<Reservation>
  /** More urgent ready sorties passed over because another pilot holds some of their files. */
  readonly skipped: ReadonlyArray<SkippedSortie>
}

const decodeId = decodeInput(SortieId, "id")
const decodeSortieId = decodeInput(SortieId, "sortie_id")
const decodeDependsOn = decodeInput(SortieId, "depends_on_id")
const decodeAdd = decodeInput(AddDependencyOptions)
const decodeReady = decodeInput(ReadyOptions)
const decodeUpdate = decodeInput(UpdateSortie)
const decodeCallsign = decodeInput(Callsign, "callsign")
const decodeReason = decodeInput(Text({ min: 1, max: 65_536 }), "reason")
const decodeTtl = decodeDuration("ttl")
const decodeSortie = decodeRow("sorties", Sortie)
const decodeSorties = decodeRows("sorties", Sortie)
const decodeDependency = decodeRow("sortie_dependencies", SortieDependency, (row) => `${row.sortie_id}->${row.depends_on_id}`)

type Ctx = Pick<CommandContext, "sql" | "projectKey">

/** The condition of a ready row, spelled as `idx_sorties_ready` is, so the planner uses that index. */
const READY = "status = 'open' AND assigned_to IS NULL AND unclosed_blockers = 0"

/** Whether the mission exists in the project. */
export const missionExists = ({ projectKey, sql }: Ctx, missionId: string) =>
  Effect.map(
    sql`SELECT 1 AS found FROM missions WHERE id = ${missionId} AND project_key = ${projectKey}`,
    (rows) => rows.length > 0
  )

/**
 * A sortie just closed: each sortie it blocks has one unclosed blocker fewer (and is ready when
 * that was its last). Call in the closing command's transaction.
 */
export const unblockDependents = ({ projectKey, sql }: Ctx, id: string) =>
  // `+project_key`: the dependents are found through the dependency index and looked up by id;
  // an index on project_key would make SQLite walk every sortie of the project instead.
  sql`UPDATE sorties SET unclosed_blockers = unclosed_blockers - 1
      WHERE id IN (
        SELECT sortie_id FROM sortie_dependencies
        WHERE project_key = ${projectKey} AND depends_on_id = ${id} AND kind = 'blocks'
      ) AND +project_key = ${projectKey}`

/** The ids of the unclosed sorties `id` waits for. */
export const unclosedBlockers = ({ projectKey, sql }: Ctx, id: string) =>
  Effect.map(
    sql<{ readonly id: string }>`SELECT s.id AS id FROM sortie_dependencies d
        JOIN sorties s ON s.id = d.depends_on_id AND s.project_key = d.project_key
        WHERE d.project_key = ${projectKey} AND d.sortie_id = ${id} AND d.kind = 'blocks' AND s.status <> 'closed'
        ORDER BY s.id`,
    (rows) => rows.map((row) => row.id)
  )

interface OpenRow {
  readonly id: string
  readonly status: string
  readonly assigned_to: string | null
}

/**
 * Close one unclosed sortie as cancelled (inside the caller's command): its dependents lose a
 * blocker, `sortie_cancelled` is appended. Returns the closed sortie.
 */
export const cancelSortie = (ctx: CommandContext, current: OpenRow, reason: string) =>
  Effect.gen(function*() {
    const { emit, now, projectKey, sql } = ctx
    const rows = yield* sql`UPDATE sorties
        SET status = 'closed', outcome = 'cancelled', close_reason = ${reason}, completed_at = ${now}
        WHERE id = ${current.id} AND project_key = ${projectKey} AND status = ${current.status}
        RETURNING *`
    if (rows.length === 0) return yield* Effect.dieMessage(`Sortie ${current.id} changed inside its own write transaction`)
    yield* unblockDependents(ctx, current.id)
    const sortie = yield* decodeSortie(rows[0])
    yield* emit("sortie_cancelled", {
      sortie_id: sortie.id,
      callsign: current.assigned_to,
      from: current.status as SortieStatus,
      reason
    })
    return sortie
  })

/** Cancel every unclosed sortie of a mission (inside the caller's command), oldest first; returns their ids. */
export const cancelMissionSorties = (ctx: CommandContext, missionId: string, reason: string) =>
  Effect.gen(function*() {
    const open = yield* ctx.sql<OpenRow>`SELECT id, status, assigned_to FROM sorties
        WHERE project_key = ${ctx.projectKey} AND mission_id = ${missionId} AND status <> 'closed'
        ORDER BY created_at, id`
    for (const row of open) yield* cancelSortie(ctx, row, reason)
    return open.map((row) => row.id)
  })

/**
 * The path from `from` to `to` along `blocks` edges (`from` depends on … depends on `to`), if
 * there is one. Reachability is one recursive query (each sortie visited once); the path itself
 * is traced only when there is one.
 */
const blocksPath = ({ projectKey, sql }: Ctx, from: string, to: string) =>
  Effect.gen(function*() {
    const reached = yield* sql<{ readonly found: number }>`WITH RECURSIVE reach(id) AS (
          SELECT ${from}
          UNION
          SELECT d.depends_on_id FROM sortie_dependencies d JOIN reach r ON d.sortie_id = r.id
          WHERE d.project_key = ${projectKey} AND d.kind = 'blocks'
        )
        SELECT 1 AS found FROM reach WHERE id = ${to} LIMIT 1`
    if (reached.length === 0) return Option.none<ReadonlyArray<string>>()
    const edges = yield* sql<{ readonly sortie_id: string; readonly depends_on_id: string }>`WITH RECURSIVE reach(id) AS (
          SELECT ${from}
          UNION
          SELECT d.depends_on_id FROM sortie_dependencies d JOIN reach r ON d.sortie_id = r.id
          WHERE d.project_key = ${projectKey} AND d.kind = 'blocks'
        )
        SELECT d.sortie_id, d.depends_on_id FROM sortie_dependencies d
        WHERE d.project_key = ${projectKey} AND d.kind = 'blocks' AND d.sortie_id IN (SELECT id FROM reach)`
    const next = new Map<string, Array<string>>()
    for (const edge of edges) next.set(edge.sortie_id, [...(next.get(edge.sortie_id) ?? []), edge.depends_on_id])
    // Breadth first: the shortest path, deterministic for a given graph.
    const parent = new Map<string, string>([[from, from]])
    const queue = [from]
    while (queue.length > 0) {
      const id = queue.shift()!
      if (id === to) break
      for (const child of next.get(id) ?? []) {
        if (parent.has(child)) continue
        parent.set(child, id)
        queue.push(child)
      }
    }
    const path = [to]
    for (let id = to; id !== from;) {
      id = parent.get(id)!
      path.push(id)
    }
    return Option.some(path.reverse())
  })

/** The canonical patterns stored in a sortie's `files`, as the reservation check takes them. */
const placedFiles = (files: ReadonlyArray<string> | null, caseInsensitive: boolean): ReadonlyArray<Placed> => {
  const placed = new Map<string, Placed>()
  for (const path of files ?? []) {
    const key = storedComparisonForm(path, caseInsensitive)
    if (!placed.has(key)) placed.set(key, { path, key })
  }
  return Array.from(placed.values())
}

const PAGE = 64

/** Build the graph commands of the Sorties service over its command runner. */
export const makeGraph = (
  runner: {
    readonly command: <A, E>(span: string, body: (ctx: CommandContext) => Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
    readonly query: <A, E>(span: string, body: (ctx: Omit<CommandContext, "emit">) => Effect.Effect<A, E>) => Effect.Effect<A, E | SqlError>
  },
  context: PathContext
) => {
  const { command, query } = runner
  const caseInsensitive = context.caseInsensitive ?? false

  const sortieStatuses = ({ projectKey, sql }: Ctx, ids: ReadonlyArray<string>) =>
    Effect.map(
      sql<{ readonly id: string; readonly status: string }>`SELECT id, status FROM sorties
          WHERE project_key = ${projectKey} AND ${sql.in("id", ids)}`,
      (rows) => new Map(rows.map((row) => [row.id, row.status]))
    )

  const addDependency = (rawSortie: string, rawDependsOn: string, rawOptions: AddDependencyOptions = {}) =>
    Effect.flatMap(
      Effect.all([decodeSortieId(rawSortie), decodeDependsOn(rawDependsOn), decodeAdd(rawOptions)]),
      ([sortieId, dependsOn, options]) =>
        command("Sorties.addDependency", (ctx) =>
          Effect.gen(function*() {
            const { emit, now, projectKey, sql } = ctx
            const kind = options.kind ?? "blocks"
            const statuses = yield* sortieStatuses(ctx, [sortieId, dependsOn])
            for (const id of [sortieId, dependsOn]) {
              if (!statuses.has(id)) return yield* new SortieNotFound({ id })
            }
            if (sortieId === dependsOn) {
              return yield* new DependencyCycle({ sortie_id: sortieId, depends_on_id: dependsOn, path: [sortieId, sortieId] })
            }
            const existing = yield* sql`SELECT * FROM sortie_dependencies
                WHERE project_key = ${projectKey} AND sortie_id = ${sortieId} AND depends_on_id = ${dependsOn}`
            const previous = existing.length === 0 ? undefined : yield* decodeDependency(existing[0])
            if (previous?.kind === kind) return previous
            if (kind === "blocks") {
              const back = yield* blocksPath(ctx, dependsOn, sortieId)
              if (Option.isSome(back)) {
                return yield* new DependencyCycle({ sortie_id: sortieId, depends_on_id: dependsOn, path: [sortieId, ...back.value] })
              }
            }
            const rows = yield* sql`INSERT INTO sortie_dependencies (project_key, sortie_id, depends_on_id, kind, created_at)
                VALUES (${projectKey}, ${sortieId}, ${dependsOn}, ${kind}, ${now})
                ON CONFLICT (project_key, sortie_id, depends_on_id) DO UPDATE SET kind = excluded.kind
                RETURNING *`
            const unclosed = statuses.get(dependsOn) !== "closed"
            const delta = unclosed ? (kind === "blocks" ? 1 : 0) - (previous?.kind === "blocks" ? 1 : 0) : 0
            if (delta !== 0) {
              yield* sql`UPDATE sorties SET unclosed_blockers = unclosed_blockers + ${delta}
                  WHERE id = ${sortieId} AND project_key = ${projectKey}`
            }
            yield* emit("sortie_dependency_added", { sortie_id: sortieId, depends_on_id: dependsOn, kind })
            return yield* decodeDependency(rows[0])
          }))
    )

  const removeDependency = (rawSortie: string, rawDependsOn: string) =>
    Effect.flatMap(Effect.all([decodeSortieId(rawSortie), decodeDependsOn(rawDependsOn)]), ([sortieId, dependsOn]) =>
      command("Sorties.removeDependency", (ctx) =>
        Effect.gen(function*() {
          const { emit, projectKey, sql } = ctx
          const rows = yield* sql`DELETE FROM sortie_dependencies
              WHERE project_key = ${projectKey} AND sortie_id = ${sortieId} AND depends_on_id = ${dependsOn}
              RETURNING *`
          if (rows.length === 0) return Option.none<SortieDependency>()
          const removed = yield* decodeDependency(rows[0])
          if (removed.kind === "blocks") {
            yield* sql`UPDATE sorties SET unclosed_blockers = unclosed_blockers - 1
                WHERE id = ${sortieId} AND project_key = ${projectKey}
                  AND EXISTS (SELECT 1 FROM sorties b WHERE b.id = ${dependsOn} AND b.project_key = ${projectKey} AND b.status <> 'closed')`
          }
          yield* emit("sortie_dependency_removed", { sortie_id: sortieId, depends_on_id: dependsOn, kind: removed.kind })
          return Option.some(removed)
        })))

  const links = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<DependencyLink> =>
    rows.map((row) => ({
      sortie_id: row.sortie_id as SortieId,
      kind: row.kind as DependencyKind,
      title: row.title as string,
      status: row.status as SortieStatus,
      outcome: (row.outcome ?? null) as SortieOutcome | null
    }))

  const dependencies = (rawId: string) =>
    Effect.flatMap(decodeId(rawId), (id) =>
      query("Sorties.dependencies", ({ projectKey, sql }) =>
        Effect.gen(function*() {
          const found = yield* sql`SELECT 1 AS found FROM sorties WHERE id = ${id} AND project_key = ${projectKey}`
          if (found.length === 0) return yield* new SortieNotFound({ id })
          const dependsOn = yield* sql`SELECT s.id AS sortie_id, d.kind, s.title, s.status, s.outcome
              FROM sortie_dependencies d JOIN sorties s ON s.id = d.depends_on_id AND s.project_key = d.project_key
              WHERE d.project_key = ${projectKey} AND d.sortie_id = ${id} ORDER BY d.created_at, s.id`
          const dependents = yield* sql`SELECT s.id AS sortie_id, d.kind, s.title, s.status, s.outcome
              FROM sortie_dependencies d JOIN sorties s ON s.id = d.sortie_id AND s.project_key = d.project_key
              WHERE d.project_key = ${projectKey} AND d.depends_on_id = ${id} ORDER BY d.created_at, s.id`
          return { sortie_id: id, depends_on: links(dependsOn), dependents: links(dependents) } satisfies SortieDependencies
        })))

  const ready = (rawOptions: ReadyOptions = {}) =>
    Effect.flatMap(decodeReady(rawOptions), (options) =>
      query("Sorties.ready", (ctx) =>
        Effect.gen(function*() {
          const { projectKey, sql } = ctx
          if (options.mission_id !== undefined && !(yield* missionExists(ctx, options.mission_id))) {
            return yield* new MissionNotFound({ id: options.mission_id })
          }
          const inMission = options.mission_id === undefined ? sql`` : sql`AND mission_id = ${options.mission_id}`
          const rows = yield* sql`SELECT * FROM sorties
              WHERE project_key = ${projectKey} AND ${sql.literal(READY)} ${inMission}
              ORDER BY priority, created_at, id
              LIMIT ${options.limit ?? -1}`
          return yield* decodeSorties(rows)
        })))

  const update = (rawId: string, rawPatch: UpdateSortie) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeUpdate(rawPatch)]), ([id, patch]) =>
      Effect.flatMap(
        patch.files === undefined || patch.files === null ? Effect.succeed(patch.files) : placePaths(patch.files, context, "files"),
        (placed) =>
          command("Sorties.update", (ctx) =>
            Effect.gen(function*() {
              const { emit, projectKey, sql } = ctx
              const rows = yield* sql`SELECT * FROM sorties WHERE id = ${id} AND project_key = ${projectKey}`
              if (rows.length === 0) return yield* new SortieNotFound({ id })
              const current = yield* decodeSortie(rows[0])
              if (current.status === "closed") {
                return yield* new InvalidTransition({ entity: "sortie", id, from: "closed", to: "updated" })
              }
              const files = placed === undefined ? current.files : placed === null ? null : placed.map(({ path }) => path)
              const next = {
                title: patch.title ?? current.title,
                description: patch.description === undefined ? current.description : patch.description,
                priority: patch.priority ?? current.priority,
                files
              }
              const changed = [
                ...(next.title !== current.title ? ["title"] : []),
                ...(next.description !== current.description ? ["description"] : []),
                ...(next.priority !== current.priority ? ["priority"] : []),
                ...(JSON.stringify(next.files) !== JSON.stringify(current.files) ? ["files"] : [])
              ]
              if (changed.length === 0) return current
              const updated = yield* sql`UPDATE sorties
                  SET title = ${next.title}, description = ${next.description}, priority = ${next.priority},
                      files = ${next.files === null ? null : JSON.stringify(next.files)}
                  WHERE id = ${id} AND project_key = ${projectKey} RETURNING *`
              const sortie = yield* decodeSortie(updated[0])
              yield* emit("sortie_updated", { sortie_id: id, ...next, changed })
              return sortie
            }))
      ))

  const cancel = (rawId: string, rawReason: string) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeReason(rawReason)]), ([id, reason]) =>
      command("Sorties.cancel", (ctx) =>
        Effect.gen(function*() {
          const { projectKey, sql } = ctx
          const rows = yield* sql<OpenRow>`SELECT id, status, assigned_to FROM sorties
              WHERE id = ${id} AND project_key = ${projectKey}`
          if (rows.length === 0) return yield* new SortieNotFound({ id })
          if (rows[0]!.status === "closed") {
            return yield* new InvalidTransition({ entity: "sortie", id, from: "closed", to: "cancelled" })
          }
          return yield* cancelSortie(ctx, rows[0]!, reason)
        })))

  /**
   * Walk the ready sorties in claim order and return the first whose files no other pilot holds,
   * with the ones passed over; `undefined` when `meter` ran out first.
   */
  const pick = (ctx: Ctx, callsign: string, missionId: string | undefined, active: Parameters<typeof conflictChecker>[0], meter?: Meter) =>
    Effect.gen(function*() {
      const { projectKey, sql } = ctx
      const check = conflictChecker(active, callsign, true, caseInsensitive)
      const skipped: Array<SkippedSortie> = []
      const inMission = missionId === undefined ? sql`` : sql`AND mission_id = ${missionId}`
      for (let offset = 0;; offset += PAGE) {
        const page = yield* decodeSorties(
          yield* sql`SELECT * FROM sorties WHERE project_key = ${projectKey} AND ${sql.literal(READY)} ${inMission}
              ORDER BY priority, created_at, id LIMIT ${PAGE} OFFSET ${offset}`
        )
        for (const sortie of page) {
          const placed = placedFiles(sortie.files, caseInsensitive)
          const conflicts = check(placed, meter)
          if (conflicts === undefined) return undefined
          if (conflicts.length === 0) return { sortie, placed, skipped }
          skipped.push({ sortie_id: sortie.id, title: sortie.title, conflicts })
        }
        if (page.length < PAGE) return { sortie: undefined, placed: [], skipped }
      }
    })

  const claimWithFiles = (
    rawCallsign: string,
    options: { readonly mission_id?: MissionId | undefined; readonly reason?: string | null | undefined },
    rawTtl: Duration.DurationInput
  ): Effect.Effect<FileClaim, MissionNotFound | InvalidInput | UndecodableRow | SqlError> =>
    Effect.gen(function*() {
      const callsign = yield* decodeCallsign(rawCallsign)
      const ttl = yield* decodeTtl(rawTtl)
      // Like `Reservations.reserve`: the overlap work inside the write transaction is bounded;
      // when it runs out, the answers are worked out on a plain read and the claim runs again.
      const prepare = query("Sorties.claimNext.prepare", (ctx) =>
        Effect.flatMap(selectActive(ctx.sql, ctx.projectKey, ctx.now), (active) => pick(ctx, callsign, options.mission_id, active)))
      const attempt = (bounded: boolean) =>
        command("Sorties.claimNext", (ctx) =>
          Effect.gen(function*() {
            const { emit, now, projectKey, sql } = ctx
            if (options.mission_id !== undefined && !(yield* missionExists(ctx, options.mission_id))) {
              return yield* new MissionNotFound({ id: options.mission_id })
            }
            const active = yield* selectActive(sql, projectKey, now)
            const picked = yield* pick(ctx, callsign, options.mission_id, active, bounded ? { remaining: TRANSACTION_OVERLAP_STEPS } : undefined)
            if (picked === undefined) return yield* new OverlapWorkExceeded()
            if (picked.sortie === undefined) return { sortie: null, reservations: [], skipped: picked.skipped } satisfies FileClaim
            const rows = yield* sql`UPDATE sorties SET status = 'in_progress', assigned_to = ${callsign}, started_at = ${now}
                WHERE id = ${picked.sortie.id} AND project_key = ${projectKey} AND ${sql.literal(READY)}
                RETURNING *`
            if (rows.length === 0) return yield* Effect.dieMessage(`Sortie ${picked.sortie.id} changed inside its own write transaction`)
            const sortie = yield* decodeSortie(rows[0])
            yield* emit("sortie_claimed", { sortie_id: sortie.id, callsign })
            const reservations = picked.placed.length === 0 ? [] : yield* writeReservations(ctx, active, {
              callsign,
              paths: picked.placed,
              exclusive: true,
              reason: options.reason ?? `sortie ${sortie.id}`,
              expiresAt: now + ttl,
              caseInsensitive
            })
            return { sortie, reservations, skipped: picked.skipped } satisfies FileClaim
          }))
      const again = (bounded: boolean) => Effect.zipRight(prepare, attempt(bounded))
      return yield* attempt(true).pipe(
        Effect.catchTag("OverlapWorkExceeded", () => again(true)),
        Effect.catchTag("OverlapWorkExceeded", () => again(false)),
        Effect.catchTag("OverlapWorkExceeded", () => Effect.dieMessage("an unmetered overlap check always decides"))
      )
    })

  return { addDependency, removeDependency, dependencies, ready, update, cancel, claimWithFiles } as const
}
