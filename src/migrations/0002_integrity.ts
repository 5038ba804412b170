/**
 * What this library adds to the seed schema, each under its own name (nothing is renamed):
 * uniqueness the semantics rely on, the lock fence counter, and indexes for the hot queries.
 * A seed database holding duplicate pilots, cursors or recipients, or two unreleased rows for
 * one lock, cannot take these indexes; the migration then fails and nothing is changed.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  "CREATE UNIQUE INDEX IF NOT EXISTS `idx_pilots_project_callsign_unique` ON `pilots` (`project_key`,`callsign`)",
  "CREATE UNIQUE INDEX IF NOT EXISTS `idx_cursors_project_consumer_unique` ON `cursors` (`project_key`,`consumer_id`)",
  "CREATE UNIQUE INDEX IF NOT EXISTS `idx_message_recipients_unique` ON `message_recipients` (`message_id`,`callsign`)",
  // Two holders of one lock cannot exist even if code is wrong.
  "CREATE UNIQUE INDEX IF NOT EXISTS `idx_locks_held_unique` ON `locks` (`project_key`,`lock_key`) WHERE `released_at` IS NULL",
  // Fencing token: strictly increasing per (project_key, lock_key); 0 for rows written by older tools.
  "ALTER TABLE `locks` ADD COLUMN `fence` integer DEFAULT 0 NOT NULL",
  "CREATE INDEX IF NOT EXISTS `idx_locks_fence` ON `locks` (`project_key`,`lock_key`,`fence`)",
  "CREATE INDEX IF NOT EXISTS `idx_sorties_claimable` ON `sorties` (`project_key`,`status`,`priority`,`created_at`)",
  "CREATE INDEX IF NOT EXISTS `idx_reservations_active` ON `reservations` (`project_key`,`expires_at`) WHERE `released_at` IS NULL",
  "CREATE INDEX IF NOT EXISTS `idx_work_orders_project` ON `work_orders` (`project_key`,`sortie_id`)",
  "CREATE INDEX IF NOT EXISTS `idx_checkpoints_project_created` ON `checkpoints` (`project_key`,`created_at`)",
  "CREATE INDEX IF NOT EXISTS `idx_messages_project_thread` ON `messages` (`project_key`,`thread_id`)"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
