/**
 * Project identity: a file database is one project however its path is spelled. `fleet_meta`
 * holds the database's own facts by name; `project_key` is the key every row of a file database
 * is written under, stored when the file is first opened and used from then on. A database that
 * already holds rows under exactly one key adopts it here; one holding several is marked
 * (`legacy_project_keys`) and keeps working as before, and `fleet-db doctor` reports it.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

// Every table of the schema at this migration whose rows carry a project_key.
const keyed = ["events", "pilots", "messages", "reservations", "cursors", "locks", "missions", "sorties", "work_orders", "checkpoints"]
const keys = keyed.map((table) => `SELECT DISTINCT \`project_key\` AS k FROM \`${table}\``).join(" UNION ")

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS `fleet_meta` (`name` text PRIMARY KEY NOT NULL, `value` text NOT NULL)",
  // (No HAVING without GROUP BY: sqld's parser refuses it.)
  `INSERT OR IGNORE INTO \`fleet_meta\` (\`name\`, \`value\`)
    SELECT 'project_key', k FROM (SELECT MIN(k) AS k, COUNT(*) AS n FROM (${keys})) WHERE n = 1`,
  `INSERT OR IGNORE INTO \`fleet_meta\` (\`name\`, \`value\`)
    SELECT 'legacy_project_keys', CAST(n AS TEXT) FROM (SELECT COUNT(*) AS n FROM (${keys})) WHERE n > 1`
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
