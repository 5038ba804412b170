/**
 * The work graph: dependencies between sorties, the readiness cache the ready query reads, and
 * how a sortie or mission was closed. Nothing of the seed is renamed; the columns are added.
 *
 * - `sortie_dependencies`: one row per (sortie, sortie it depends on), kind `blocks` or `related`.
 * - `sorties.unclosed_blockers`: how many of the sortie's `blocks` dependencies are not closed,
 *   kept up to date in the transaction of every change that affects it (a dependency added or
 *   removed, a blocker closed). A sortie is ready when it is open, unassigned and this is 0.
 * - `sorties.outcome` (`completed` | `cancelled`, set when the sortie closes) and
 *   `sorties.close_reason` (why it was cancelled); `missions.close_reason` likewise.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  "CREATE TABLE IF NOT EXISTS `sortie_dependencies` (" +
  "`project_key` text NOT NULL, " +
  "`sortie_id` text NOT NULL, " +
  "`depends_on_id` text NOT NULL, " +
  "`kind` text DEFAULT 'blocks' NOT NULL, " +
  "`created_at` integer NOT NULL, " +
  "PRIMARY KEY (`project_key`, `sortie_id`, `depends_on_id`))",
  // A closing sortie finds its dependents through this index.
  "CREATE INDEX IF NOT EXISTS `idx_sortie_dependencies_depends_on` ON `sortie_dependencies` (`project_key`,`depends_on_id`,`kind`)",
  "ALTER TABLE `sorties` ADD COLUMN `unclosed_blockers` integer DEFAULT 0 NOT NULL",
  "ALTER TABLE `sorties` ADD COLUMN `outcome` text",
  "ALTER TABLE `sorties` ADD COLUMN `close_reason` text",
  "ALTER TABLE `missions` ADD COLUMN `close_reason` text",
  // Sorties closed before this migration were all completed.
  "UPDATE `sorties` SET `outcome` = 'completed' WHERE `status` = 'closed'",
  // Ready work in claim order: `ready` and `claimNext` walk only ready rows, however large the graph.
  "CREATE INDEX IF NOT EXISTS `idx_sorties_ready` ON `sorties` (`project_key`,`priority`,`created_at`,`id`) " +
  "WHERE `status` = 'open' AND `assigned_to` IS NULL AND `unclosed_blockers` = 0"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
