/**
 * The projection tables as replay sees them: which columns a rebuild writes, which natural key
 * identifies a row in the log, and which columns `verify` can check. Rows are plain records of
 * stored values (integers, text, NULL), exactly as SQLite holds them.
 *
 * @module
 */

/** A stored column value. */
export type Value = string | number | null

/** A row of a projection table, by column name. */
export type Row = Readonly<Record<string, Value>>

/** The tables rebuilt from the event log, in the order a rebuild writes them. */
export const projectionTables = [
  "pilots",
  "missions",
  "sorties",
  "sortie_dependencies",
  "work_orders",
  "checkpoints",
  "messages",
  "message_recipients",
  "reservations",
  "locks",
  "cursors"
] as const

/** A table rebuilt from the event log. */
export type ProjectionTable = (typeof projectionTables)[number]

/** How one projection table is replayed, written and compared. */
export interface TableSpec {
  readonly table: ProjectionTable
  /** The natural key carried by the events (ids, or the callsign / consumer id). */
  readonly key: ReadonlyArray<string>
  /** Every column a rebuild writes, in order. */
  readonly columns: ReadonlyArray<string>
  /** The columns `verify` compares (the key is compared by matching rows). */
  readonly checked: ReadonlyArray<string>
  /** Whether the table has a `project_key` column (message_recipients is scoped through messages). */
  readonly scoped: boolean
}

/** A column that `verify` cannot check, and why. */
export interface UncheckedColumn {
  readonly table: ProjectionTable
  readonly column: string
  readonly reason: string
}

const spec = (
  table: ProjectionTable,
  key: ReadonlyArray<string>,
  columns: ReadonlyArray<string>,
  unchecked: ReadonlyArray<string> = []
): TableSpec => ({
  table,
  key,
  columns,
  checked: columns.filter((column) => column !== "project_key" && !key.includes(column) && !unchecked.includes(column)),
  scoped: columns.includes("project_key")
})

/** Every projection table's spec, by table. */
export const tableSpecs: { readonly [T in ProjectionTable]: TableSpec } = {
  pilots: spec(
    "pilots",
    ["callsign"],
    ["id", "project_key", "callsign", "program", "model", "task_description", "registered_at", "last_active_at", "lost_at"],
    ["id", "last_active_at"]
  ),
  missions: spec("missions", ["id"], [
    "id",
    "project_key",
    "title",
    "description",
    "status",
    "priority",
    "created_at",
    "started_at",
    "completed_at",
    "created_by",
    "close_reason"
  ]),
  sorties: spec("sorties", ["id"], [
    "id",
    "project_key",
    "mission_id",
    "title",
    "description",
    "status",
    "priority",
    "assigned_to",
    "files",
    "created_at",
    "started_at",
    "completed_at",
    "blocked_reason",
    "unclosed_blockers",
    "outcome",
    "close_reason"
  ]),
  sortie_dependencies: spec("sortie_dependencies", ["sortie_id", "depends_on_id"], [
    "project_key",
    "sortie_id",
    "depends_on_id",
    "kind",
    "created_at"
  ]),
  work_orders: spec("work_orders", ["id"], [
    "id",
    "project_key",
    "sortie_id",
    "title",
    "description",
    "status",
    "assigned_to",
    "created_at",
    "completed_at"
  ]),
  checkpoints: spec("checkpoints", ["id"], [
    "id",
    "project_key",
    "mission_id",
    "sortie_id",
    "callsign",
    "trigger",
    "progress_percent",
    "summary",
    "context_data",
    "created_at"
  ]),
  messages: spec("messages", ["id"], [
    "id",
    "project_key",
    "from_callsign",
    "subject",
    "body",
    "thread_id",
    "importance",
    "ack_required",
    "created_at"
  ]),
  message_recipients: spec("message_recipients", ["message_id", "callsign"], ["message_id", "callsign", "read_at", "acked_at"]),
  reservations: spec("reservations", ["id"], [
    "id",
    "project_key",
    "callsign",
    "path_pattern",
    "exclusive",
    "reason",
    "created_at",
    "expires_at",
    "released_at"
  ]),
  locks: spec("locks", ["id"], [
    "id",
    "project_key",
    "lock_key",
    "holder_id",
    "acquired_at",
    "expires_at",
    "released_at",
    "fence"
  ]),
  // Only `cursor_moved` (a reset) is logged; commits are not. The log gives a lower bound.
  cursors: spec("cursors", ["consumer_id"], ["id", "project_key", "consumer_id", "position", "updated_at"], [
    "id",
    "position",
    "updated_at"
  ])
}

/**
 * What `verify` cannot check, because the log does not record it (docs/architecture.md §5: heartbeats and
 * cursor commits write no event). A rebuild keeps the live values of these columns.
 */
export const uncheckedColumns: ReadonlyArray<UncheckedColumn> = [
  {
    table: "pilots",
    column: "last_active_at",
    reason: "heartbeats write no event; a rebuild keeps the live value (the latest registration's time for a pilot it recreates)"
  },
  { table: "pilots", column: "id", reason: "row ids of pilots are not logged; a rebuild keeps them" },
  {
    table: "cursors",
    column: "position",
    reason: "commits write no event; only resets (cursor_moved) are logged, so verify checks that a reset consumer's " +
      "cursor exists and is at or beyond its latest reset, and a rebuild keeps the live cursors"
  },
  { table: "cursors", column: "updated_at", reason: "commits write no event" },
  { table: "cursors", column: "id", reason: "row ids of cursors are not logged" }
]

/** The key of a row as one string (values are JSON-encoded, so 1 and "1" differ). */
export const keyOf = (spec: TableSpec, row: Row): string =>
  spec.key.length === 1 ? JSON.stringify(row[spec.key[0]!] ?? null) : JSON.stringify(spec.key.map((column) => row[column] ?? null))
