/**
 * The seed schema, exactly: the tables, columns, types, NOT NULL flags, defaults and index names
 * of the original Drizzle plan, as drizzle-kit writes them. `IF NOT EXISTS` lets a database that
 * the seed's own migration created be adopted as it is.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  `CREATE TABLE IF NOT EXISTS \`events\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`type\` text NOT NULL,
	\`project_key\` text NOT NULL,
	\`timestamp\` integer NOT NULL,
	\`sequence\` integer GENERATED ALWAYS AS (id) VIRTUAL,
	\`data\` text NOT NULL
)`,
  "CREATE INDEX IF NOT EXISTS `idx_events_project_key` ON `events` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_events_type` ON `events` (`type`)",
  "CREATE INDEX IF NOT EXISTS `idx_events_timestamp` ON `events` (`timestamp`)",
  "CREATE INDEX IF NOT EXISTS `idx_events_project_type` ON `events` (`project_key`,`type`)",
  `CREATE TABLE IF NOT EXISTS \`pilots\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`project_key\` text NOT NULL,
	\`callsign\` text NOT NULL,
	\`program\` text DEFAULT 'opencode',
	\`model\` text DEFAULT 'unknown',
	\`task_description\` text,
	\`registered_at\` integer NOT NULL,
	\`last_active_at\` integer NOT NULL
)`,
  "CREATE INDEX IF NOT EXISTS `idx_pilots_project` ON `pilots` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_pilots_callsign` ON `pilots` (`callsign`)",
  `CREATE TABLE IF NOT EXISTS \`messages\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`project_key\` text NOT NULL,
	\`from_callsign\` text NOT NULL,
	\`subject\` text NOT NULL,
	\`body\` text NOT NULL,
	\`thread_id\` text,
	\`importance\` text DEFAULT 'normal',
	\`ack_required\` integer DEFAULT false,
	\`created_at\` integer NOT NULL
)`,
  "CREATE INDEX IF NOT EXISTS `idx_messages_project` ON `messages` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_messages_thread` ON `messages` (`thread_id`)",
  "CREATE INDEX IF NOT EXISTS `idx_messages_created` ON `messages` (`created_at`)",
  `CREATE TABLE IF NOT EXISTS \`message_recipients\` (
	\`message_id\` integer NOT NULL,
	\`callsign\` text NOT NULL,
	\`read_at\` integer,
	\`acked_at\` integer
)`,
  "CREATE INDEX IF NOT EXISTS `idx_recipients_callsign` ON `message_recipients` (`callsign`)",
  `CREATE TABLE IF NOT EXISTS \`reservations\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`project_key\` text NOT NULL,
	\`callsign\` text NOT NULL,
	\`path_pattern\` text NOT NULL,
	\`exclusive\` integer DEFAULT true,
	\`reason\` text,
	\`created_at\` integer NOT NULL,
	\`expires_at\` integer NOT NULL,
	\`released_at\` integer
)`,
  "CREATE INDEX IF NOT EXISTS `idx_reservations_project` ON `reservations` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_reservations_callsign` ON `reservations` (`callsign`)",
  "CREATE INDEX IF NOT EXISTS `idx_reservations_expires` ON `reservations` (`expires_at`)",
  `CREATE TABLE IF NOT EXISTS \`cursors\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`project_key\` text NOT NULL,
	\`consumer_id\` text NOT NULL,
	\`position\` integer DEFAULT 0 NOT NULL,
	\`updated_at\` integer NOT NULL
)`,
  "CREATE INDEX IF NOT EXISTS `idx_cursors_consumer` ON `cursors` (`project_key`,`consumer_id`)",
  `CREATE TABLE IF NOT EXISTS \`locks\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`project_key\` text NOT NULL,
	\`lock_key\` text NOT NULL,
	\`holder_id\` text NOT NULL,
	\`acquired_at\` integer NOT NULL,
	\`expires_at\` integer NOT NULL,
	\`released_at\` integer
)`,
  "CREATE INDEX IF NOT EXISTS `idx_locks_key` ON `locks` (`project_key`,`lock_key`)",
  `CREATE TABLE IF NOT EXISTS \`missions\` (
	\`id\` text PRIMARY KEY NOT NULL,
	\`project_key\` text NOT NULL,
	\`title\` text NOT NULL,
	\`description\` text,
	\`status\` text DEFAULT 'pending' NOT NULL,
	\`priority\` integer DEFAULT 1 NOT NULL,
	\`created_at\` integer NOT NULL,
	\`started_at\` integer,
	\`completed_at\` integer,
	\`created_by\` text
)`,
  "CREATE INDEX IF NOT EXISTS `idx_missions_project` ON `missions` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_missions_status` ON `missions` (`status`)",
  `CREATE TABLE IF NOT EXISTS \`sorties\` (
	\`id\` text PRIMARY KEY NOT NULL,
	\`project_key\` text NOT NULL,
	\`mission_id\` text,
	\`title\` text NOT NULL,
	\`description\` text,
	\`status\` text DEFAULT 'open' NOT NULL,
	\`priority\` integer DEFAULT 1 NOT NULL,
	\`assigned_to\` text,
	\`files\` text,
	\`created_at\` integer NOT NULL,
	\`started_at\` integer,
	\`completed_at\` integer,
	\`blocked_reason\` text
)`,
  "CREATE INDEX IF NOT EXISTS `idx_sorties_project` ON `sorties` (`project_key`)",
  "CREATE INDEX IF NOT EXISTS `idx_sorties_mission` ON `sorties` (`mission_id`)",
  "CREATE INDEX IF NOT EXISTS `idx_sorties_status` ON `sorties` (`status`)",
  "CREATE INDEX IF NOT EXISTS `idx_sorties_assigned` ON `sorties` (`assigned_to`)",
  `CREATE TABLE IF NOT EXISTS \`work_orders\` (
	\`id\` text PRIMARY KEY NOT NULL,
	\`project_key\` text NOT NULL,
	\`sortie_id\` text,
	\`title\` text NOT NULL,
	\`description\` text,
	\`status\` text DEFAULT 'pending' NOT NULL,
	\`assigned_to\` text,
	\`created_at\` integer NOT NULL,
	\`completed_at\` integer
)`,
  "CREATE INDEX IF NOT EXISTS `idx_work_orders_sortie` ON `work_orders` (`sortie_id`)",
  "CREATE INDEX IF NOT EXISTS `idx_work_orders_status` ON `work_orders` (`status`)",
  `CREATE TABLE IF NOT EXISTS \`checkpoints\` (
	\`id\` text PRIMARY KEY NOT NULL,
	\`project_key\` text NOT NULL,
	\`mission_id\` text,
	\`sortie_id\` text,
	\`callsign\` text NOT NULL,
	\`trigger\` text NOT NULL,
	\`progress_percent\` integer,
	\`summary\` text,
	\`context_data\` text,
	\`created_at\` integer NOT NULL
)`,
  "CREATE INDEX IF NOT EXISTS `idx_checkpoints_mission` ON `checkpoints` (`mission_id`)",
  "CREATE INDEX IF NOT EXISTS `idx_checkpoints_callsign` ON `checkpoints` (`callsign`)"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
