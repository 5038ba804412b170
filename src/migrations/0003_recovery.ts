/**
 * Recovery: what `Pilots.sweep` needs. `pilots.lost_at` records when a pilot was last declared
 * lost, so a sweep is idempotent (a pilot is lost while `lost_at > last_active_at`; a heartbeat
 * or a new registration makes it active again). The indexes serve the sweep's lookups. Nothing
 * is renamed; the seed's columns and indexes stay as they are.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  "ALTER TABLE `pilots` ADD COLUMN `lost_at` integer",
  // Stale pilots of a project (sweep) and recently active ones (list({ activeWithin })).
  "CREATE INDEX IF NOT EXISTS `idx_pilots_project_active` ON `pilots` (`project_key`,`last_active_at`)",
  // The latest checkpoint of a sortie, handed to whoever resumes it after its pilot was lost.
  "CREATE INDEX IF NOT EXISTS `idx_checkpoints_project_sortie` ON `checkpoints` (`project_key`,`sortie_id`,`created_at`)"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
