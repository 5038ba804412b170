/**
 * Models of the work-tracking tables: missions, sorties, work_orders and checkpoints.
 * Column names are those of the seed schema.
 *
 * @module
 */
import { Model } from "@effect/sql"
import { Schema } from "effect"
import { CheckpointTrigger, DependencyKind, JsonValue, MissionStatus, NullableJsonColumn, NullableTimestampColumn, Priority, SortieOutcome, SortieStatus, TimestampColumn, WorkOrderStatus } from "./common.js"
import { CheckpointId, MissionId, SortieId, WorkOrderId } from "./ids.js"


/** A large, grouped piece of work made of sorties. */
export class Mission extends Model.Class<Mission>("Mission")({
  id: MissionId,
  project_key: Schema.String,
  title: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: MissionStatus,
  priority: Priority,
  created_at: TimestampColumn,
  started_at: NullableTimestampColumn,
  completed_at: NullableTimestampColumn,
  created_by: Schema.NullOr(Schema.String),
  /** Why the mission was cancelled (null unless `status` is `cancelled`). */
  close_reason: Schema.NullOr(Schema.String)
}) {}

/** The path patterns a sortie touches, stored as a JSON array in `files`. */
export const SortieFiles = Schema.Array(Schema.String)

/** One claimable unit of work, optionally part of a mission. */
export class Sortie extends Model.Class<Sortie>("Sortie")({
  id: SortieId,
  project_key: Schema.String,
  mission_id: Schema.NullOr(MissionId),
  title: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: SortieStatus,
  priority: Priority,
  assigned_to: Schema.NullOr(Schema.String),
  files: NullableJsonColumn(SortieFiles),
  created_at: TimestampColumn,
  started_at: NullableTimestampColumn,
  /** When the sortie closed (completed or cancelled). */
  completed_at: NullableTimestampColumn,
  blocked_reason: Schema.NullOr(Schema.String),
  /**
   * How many of its `blocks` dependencies are not closed yet: the sortie is ready (claimable)
   * when it is open, unassigned and this is 0. See `Sorties.dependencies` for which they are.
   */
  unclosed_blockers: Schema.Int,
  /** How a closed sortie ended: `completed` or `cancelled` (null while it is not closed). */
  outcome: Schema.NullOr(SortieOutcome),
  /** Why it was cancelled (null otherwise). */
  close_reason: Schema.NullOr(Schema.String)
}) {}

/** One edge of the work graph: `sortie_id` depends on `depends_on_id`. */
export class SortieDependency extends Model.Class<SortieDependency>("SortieDependency")({
  project_key: Schema.String,
  sortie_id: SortieId,
  depends_on_id: SortieId,
  kind: DependencyKind,
  created_at: TimestampColumn
}) {}

/** A low-level task within a sortie. */
export class WorkOrder extends Model.Class<WorkOrder>("WorkOrder")({
  id: WorkOrderId,
  project_key: Schema.String,
  sortie_id: Schema.NullOr(SortieId),
  title: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: WorkOrderStatus,
  assigned_to: Schema.NullOr(Schema.String),
  created_at: TimestampColumn,
  completed_at: NullableTimestampColumn
}) {}

/** A snapshot a pilot saves so that it (or another pilot) can resume after losing context. */
export class Checkpoint extends Model.Class<Checkpoint>("Checkpoint")({
  id: CheckpointId,
  project_key: Schema.String,
  mission_id: Schema.NullOr(MissionId),
  sortie_id: Schema.NullOr(SortieId),
  callsign: Schema.String,
  trigger: CheckpointTrigger,
  progress_percent: Schema.NullOr(Schema.Int),
  summary: Schema.NullOr(Schema.String),
  context_data: NullableJsonColumn(JsonValue),
  created_at: TimestampColumn
}) {}
