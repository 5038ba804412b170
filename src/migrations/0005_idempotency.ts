/**
 * Idempotency keys: one row per key a write command ran under, recorded in the command's own
 * transaction, with a fingerprint of the request and the command's encoded result (replayed when
 * the same request comes again). A key is scoped per project and per pilot (`scope` is the
 * callsign, or `""` for commands without one). Rows expire; writers prune expired rows as they go.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS `idempotency_keys` (" +
  "`project_key` text NOT NULL, " +
  "`scope` text NOT NULL, " +
  "`idempotency_key` text NOT NULL, " +
  "`command` text NOT NULL, " +
  "`fingerprint` text NOT NULL, " +
  "`result` text NOT NULL, " +
  "`created_at` integer NOT NULL, " +
  "`expires_at` integer NOT NULL, " +
  "PRIMARY KEY (`project_key`, `scope`, `idempotency_key`))",
  // Pruning looks for the expired keys of a project.
  "CREATE INDEX IF NOT EXISTS `idx_idempotency_keys_project_expires` ON `idempotency_keys` (`project_key`,`expires_at`)"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
