/**
 * Work orders: low-level tasks within a sortie. Status machine
 * `pending →start→ in_progress →complete→ completed`; any other move fails with `InvalidTransition`.
 *
 * @module
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Schema } from "effect"
import type { InvalidInput, InvalidTransition, UndecodableRow } from "../errors.js"
import { SortieNotFound, WorkOrderNotFound } from "../errors.js"
import { Callsign, LongText, Title, WorkOrderStatus } from "../schema/common.js"
import { WorkOrder } from "../schema/workTables.js"
import { idPrefix, makeId, SortieId, WorkOrderId } from "../schema/ids.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows, found } from "./internal/rows.js"
import { decodeInput } from "./internal/input.js"
import { moveStatus, statusFilter } from "./internal/status.js"

/** Input of `WorkOrders.create`. */
export const CreateWorkOrder = Schema.Struct({
  /** The sortie this work order belongs to; it must exist in this project. */
  sortie_id: SortieId,
  title: Title,
  description: Schema.optional(LongText),
  assigned_to: Schema.optional(Callsign)
})
export type CreateWorkOrder = typeof CreateWorkOrder.Encoded

/** Options of `WorkOrders.start`. */
export const StartWorkOrder = Schema.Struct({
  /** Assign the work order to this callsign as it starts (default: keep the current assignee). */
  assigned_to: Schema.optional(Callsign)
})
export type StartWorkOrder = typeof StartWorkOrder.Encoded

/** Filters of `WorkOrders.list` (combined with AND). */
export const ListWorkOrders = Schema.Struct({
  sortie_id: Schema.optional(SortieId),
  status: Schema.optional(statusFilter(WorkOrderStatus))
})
export type ListWorkOrders = typeof ListWorkOrders.Encoded

/**
 * The WorkOrders service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface WorkOrdersShape {
  /** Create a pending work order in an existing sortie. Appends `work_order_created`. */
  readonly create: (input: CreateWorkOrder) => Effect.Effect<WorkOrder, SortieNotFound | InvalidInput | UndecodableRow | SqlError>
  /** The work order with this id. */
  readonly get: (id: string) => Effect.Effect<WorkOrder, WorkOrderNotFound | InvalidInput | UndecodableRow | SqlError>
  /** pending → in_progress, optionally (re)assigning it. Appends `work_order_started`. */
  readonly start: (
    id: string,
    options?: StartWorkOrder
  ) => Effect.Effect<WorkOrder, WorkOrderNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /** in_progress → completed, setting `completed_at`. Appends `work_order_completed`. */
  readonly complete: (id: string) => Effect.Effect<WorkOrder, WorkOrderNotFound | InvalidTransition | InvalidInput | UndecodableRow | SqlError>
  /** Work orders matching the filters, oldest first. */
  readonly list: (options?: ListWorkOrders) => Effect.Effect<ReadonlyArray<WorkOrder>, InvalidInput | UndecodableRow | SqlError>
}

/** The WorkOrders service. */
export class WorkOrders extends Context.Tag("@fleettools/db/WorkOrders")<WorkOrders, WorkOrdersShape>() {}

const decodeCreate = decodeInput(CreateWorkOrder)
const decodeStart = decodeInput(StartWorkOrder)
const decodeList = decodeInput(ListWorkOrders)
const decodeId = decodeInput(WorkOrderId, "id")
const decodeWorkOrder = decodeRow("work_orders", WorkOrder)
const decodeWorkOrders = decodeRows("work_orders", WorkOrder)

/** Build the WorkOrders service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query } = yield* makeCommands

  const toWorkOrder = (row: unknown) => decodeWorkOrder(row)

  const create: WorkOrdersShape["create"] = (raw) =>
    Effect.flatMap(decodeCreate(raw), (input) =>
      command("WorkOrders.create", ({ emit, now, projectKey, sql }) =>
        Effect.gen(function*() {
          const sortie = yield* sql`SELECT 1 AS found FROM sorties WHERE id = ${input.sortie_id} AND project_key = ${projectKey}`
          if (sortie.length === 0) return yield* new SortieNotFound({ id: input.sortie_id })
          const id = yield* makeId(idPrefix.workOrder)
          const rows = yield* sql`INSERT INTO work_orders (id, project_key, sortie_id, title, description, status, assigned_to, created_at)
              VALUES (${id}, ${projectKey}, ${input.sortie_id}, ${input.title}, ${input.description ?? null}, 'pending',
                      ${input.assigned_to ?? null}, ${now})
              RETURNING *`
          const workOrder = yield* toWorkOrder(rows[0])
          yield* emit("work_order_created", {
            work_order_id: workOrder.id,
            sortie_id: workOrder.sortie_id,
            title: workOrder.title,
            description: workOrder.description,
            assigned_to: workOrder.assigned_to
          })
          return workOrder
        })))

  const get: WorkOrdersShape["get"] = (raw) =>
    Effect.flatMap(decodeId(raw), (id) =>
      query("WorkOrders.get", ({ projectKey, sql }) =>
        Effect.flatMap(
          sql`SELECT * FROM work_orders WHERE id = ${id} AND project_key = ${projectKey}`,
          found(toWorkOrder, () => new WorkOrderNotFound({ id }))
        )))

  /** One status move of a work order (see `moveStatus`); `update` is guarded by `from`. */
  const move = (
    { projectKey, sql }: Pick<CommandContext, "projectKey" | "sql">,
    id: WorkOrderId,
    from: WorkOrderStatus,
    to: WorkOrderStatus,
    update: Effect.Effect<ReadonlyArray<unknown>, SqlError>
  ) =>
    Effect.map(
      moveStatus({
        entity: "work_order",
        id,
        from,
        to,
        current: sql<{ readonly status: string }>`SELECT status FROM work_orders WHERE id = ${id} AND project_key = ${projectKey}`,
        notFound: () => new WorkOrderNotFound({ id }),
        update,
        decode: toWorkOrder
      }),
      ({ row }) => row
    )

  const start: WorkOrdersShape["start"] = (rawId, rawOptions = {}) =>
    Effect.flatMap(Effect.all([decodeId(rawId), decodeStart(rawOptions)]), ([id, options]) =>
      command("WorkOrders.start", (ctx) =>
        Effect.gen(function*() {
          const { emit, projectKey, sql } = ctx
          const workOrder = yield* move(
            ctx,
            id,
            "pending",
            "in_progress",
            sql`UPDATE work_orders SET status = 'in_progress',
                  assigned_to = COALESCE(${options.assigned_to ?? null}, assigned_to)
                WHERE id = ${id} AND project_key = ${projectKey} AND status = 'pending' RETURNING *`
          )
          yield* emit("work_order_started", { work_order_id: workOrder.id, assigned_to: workOrder.assigned_to })
          return workOrder
        })))

  const complete: WorkOrdersShape["complete"] = (rawId) =>
    Effect.flatMap(decodeId(rawId), (id) =>
      command("WorkOrders.complete", (ctx) =>
        Effect.gen(function*() {
          const { emit, now, projectKey, sql } = ctx
          const workOrder = yield* move(
            ctx,
            id,
            "in_progress",
            "completed",
            sql`UPDATE work_orders SET status = 'completed', completed_at = ${now}
                WHERE id = ${id} AND project_key = ${projectKey} AND status = 'in_progress' RETURNING *`
          )
          yield* emit("work_order_completed", { work_order_id: workOrder.id })
          return workOrder
        })))

  const list: WorkOrdersShape["list"] = (raw = {}) =>
    Effect.flatMap(decodeList(raw), (filter) =>
      query("WorkOrders.list", ({ projectKey, sql }) => {
        const clauses = [sql`project_key = ${projectKey}`]
        if (filter.sortie_id !== undefined) clauses.push(sql`sortie_id = ${filter.sortie_id}`)
        if (filter.status !== undefined) clauses.push(sql`status = ${filter.status}`)
        return Effect.flatMap(
          sql`SELECT * FROM work_orders WHERE ${sql.and(clauses)} ORDER BY created_at, id`,
          (rows) => decodeWorkOrders(rows)
        )
      }))

  return WorkOrders.of({ create, get, start, complete, list })
})

/** The WorkOrders service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(WorkOrders, make)
