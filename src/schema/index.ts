/**
 * The database's schema: table models, ids, enumerations and event payloads.
 * Also available as `@fleettools/db/schema`.
 *
 * @module
 */
export * from "./common.js"
export * from "./coordinationTables.js"
export * from "./events.js"
export * from "./ids.js"
export { MAX_JSON_CHARS, MAX_JSON_DEPTH } from "./json.js"
export * from "./workTables.js"
