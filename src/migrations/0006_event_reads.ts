/**
 * Indexes for reading the log the way people ask — by time window, of some types, newest first —
 * and for `Messages.pendingAcks` over a whole project.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** One statement per entry: libSQL runs only the first statement of a multi-statement string. */
export const statements: ReadonlyArray<string> = [
  // A time window, of any or some types: without these, a window's read walks every event of the
  // project (or of the type) checking its timestamp.
  "CREATE INDEX IF NOT EXISTS `idx_events_project_timestamp` ON `events` (`project_key`,`timestamp`)",
  "CREATE INDEX IF NOT EXISTS `idx_events_project_type_timestamp` ON `events` (`project_key`,`type`,`timestamp`)",
  // Only messages that ask for acknowledgement: pendingAcks walks these, newest index entries last.
  "CREATE INDEX IF NOT EXISTS `idx_messages_ack_required` ON `messages` (`project_key`,`id`) WHERE `ack_required` = 1"
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) {
    yield* sql.unsafe(statement).raw
  }
})
