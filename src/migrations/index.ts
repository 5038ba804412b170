/**
 * The migrations, loaded with `Migrator.fromRecord`. Keys must look like `0001_name`: the
 * migrator silently ignores any other key.
 *
 * @module
 */
import { Migrator } from "@effect/sql"
import initial from "./0001_initial.js"
import integrity from "./0002_integrity.js"
import recovery from "./0003_recovery.js"
import projectIdentity from "./0004_project_identity.js"
import idempotency from "./0005_idempotency.js"
import eventReads from "./0006_event_reads.js"
import workGraph from "./0007_work_graph.js"

/** Every migration by key, in order. */
export const migrations = {
  "0001_initial": initial,
  "0002_integrity": integrity,
  "0003_recovery": recovery,
  "0004_project_identity": projectIdentity,
  "0005_idempotency": idempotency,
  "0006_event_reads": eventReads,
  "0007_work_graph": workGraph
} as const

/** The loader handed to `LibsqlMigrator`. */
export const loader = Migrator.fromRecord(migrations)

/** The id of the newest migration this library knows; a database beyond it is refused. */
export const latestMigrationId = Math.max(...Object.keys(migrations).map((key) => Number(key.slice(0, 4))))

/** The table the migrator records applied migrations in. */
export const migrationsTable = "effect_sql_migrations"
