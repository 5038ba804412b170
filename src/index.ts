/**
 * `@fleettools/db`: the FleetTools coordination database as Effect services over SQLite/libSQL.
 *
 * @module
 */
export * from "./errors.js"
export * as DatabaseUrl from "./sql/url.js"
export * as Diagnostics from "./Diagnostics.js"
export * as FleetDb from "./FleetDb.js"
export { FleetProject } from "./Project.js"
export * as Idempotency from "./services/Idempotency.js"
export * from "./schema/index.js"
export { CreateCheckpoint, Checkpoints, MAX_CONTEXT_DATA_CHARS, MAX_CONTEXT_DATA_DEPTH } from "./services/Checkpoints.js"
export type { CheckpointFilter, CheckpointsShape, ListCheckpointsOptions } from "./services/Checkpoints.js"
export { Cursors } from "./services/Cursors.js"
export type { Consumed, ConsumeOptions, CursorsShape } from "./services/Cursors.js"
export { Events } from "./services/Events.js"
export type { EventsShape, ReadEventsOptions, StreamEventsOptions, TimeInput } from "./services/Events.js"
export { Locks } from "./services/Locks.js"
export type { AcquireLockOptions, ListLocksOptions, LockLease, LocksShape } from "./services/Locks.js"
export { MAX_RECIPIENTS, MessageBody, Messages, Recipients, ReplyMessage, SendMessage, MessageSubject } from "./services/Messages.js"
export type {
  InboxEntry,
  InboxOptions,
  MessagesShape,
  PendingAck,
  PendingAcksOptions,
  SentMessage,
  ThreadsOptions,
  ThreadSummary
} from "./services/Messages.js"
export { Pilots, RegisterPilot } from "./services/Pilots.js"
export type { ListPilotsOptions, PilotsShape } from "./services/Pilots.js"
export type { LostPilot, SweepOptions } from "./services/internal/sweep.js"
export { Projections } from "./services/Projections.js"
export type { ProjectionOptions, ProjectionProgress, ProjectionsShape, RebuildSummary } from "./services/Projections.js"
export { projectionTables, uncheckedColumns } from "./projections/tables.js"
export type { ProjectionTable, UncheckedColumn } from "./projections/tables.js"
export type { ProjectionDifference } from "./projections/diff.js"
export * as Paths from "./paths/patterns.js"
export {
  ActiveReservationsOptions,
  CheckPaths,
  ReleasePaths,
  RenewPaths,
  Reservations,
  ReservePaths
} from "./services/Reservations.js"
export type { ReservationsShape } from "./services/Reservations.js"
export { Missions, CreateMission, ListMissions } from "./services/Missions.js"
export type { MissionCounts, MissionProgress, MissionsShape } from "./services/Missions.js"
export { ClaimNextOptions, CountSorties, CreateSortie, ListSorties, MAX_SORTIE_LIST_LIMIT, SortieActor, Sorties } from "./services/Sorties.js"
export type { ClaimNextWithFiles, SortieCounts, SortiesShape } from "./services/Sorties.js"
export { AddDependencyOptions, ReadyOptions, UpdateSortie } from "./services/internal/graph.js"
export type { DependencyLink, FileClaim, SkippedSortie, SortieDependencies } from "./services/internal/graph.js"
export { CreateWorkOrder, ListWorkOrders, StartWorkOrder, WorkOrders } from "./services/WorkOrders.js"
export type { WorkOrdersShape } from "./services/WorkOrders.js"
export { Replica } from "./Replica.js"
export type { ReplicaShape, ReplicaSync } from "./Replica.js"
export { isRetryable, isTransactionTimeout } from "./sql/errors.js"
export { WritePolicy } from "./sql/transaction.js"
export { TimeAuthority } from "./sql/time.js"
export type { TimeAuthorityKind, TimeAuthorityShape } from "./sql/time.js"
export { describeEvent, plainTone, shortId } from "./eventWords.js"
export type { Names, Tone } from "./eventWords.js"
