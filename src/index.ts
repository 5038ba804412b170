/**
 * `@fleettools/db`: the FleetTools coordination database as Effect services over SQLite/libSQL.
 *
 * @module
 */
export * from "./errors.js"
export * as FleetDb from "./FleetDb.js"
export { FleetProject } from "./Project.js"
export * from "./schema/index.js"
export { Events } from "./services/Events.js"
export type { EventsShape, ReadEventsOptions, StreamEventsOptions } from "./services/Events.js"
export { Pilots, RegisterPilot } from "./services/Pilots.js"
export type { ListPilotsOptions, PilotsShape } from "./services/Pilots.js"
export { WritePolicy } from "./sql/transaction.js"
