/**
 * The migrated database must equal the seed schema (test/fixtures/seed-schema.sql): same tables,
 * columns, types, NOT NULL flags, defaults, generated `sequence` and index names. A database
 * created by the seed's own migration SQL must be adopted, readable and writable.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Effect, Either, Option, Schema } from "effect"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Events, FleetDb, LongText, MessageBody, MessageSubject, Pilots, Text, ThreadId, Title } from "../src/index.js"
import { migrations } from "../src/migrations/index.js"
import { statements as integrityStatements } from "../src/migrations/0002_integrity.js"
import { statements as recoveryStatements } from "../src/migrations/0003_recovery.js"

type Column = readonly [name: string, type: string, notnull: 0 | 1, dflt: string | null, pk: 0 | 1, hidden: 0 | 2]

/** Transcribed from the seed's Drizzle table definitions. */
const seedTables: Record<string, ReadonlyArray<Column>> = {
  events: [
    ["id", "integer", 1, null, 1, 0],
    ["type", "text", 1, null, 0, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["timestamp", "integer", 1, null, 0, 0],
    ["sequence", "integer", 0, null, 0, 2],
    ["data", "text", 1, null, 0, 0]
  ],
  pilots: [
    ["id", "integer", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["callsign", "text", 1, null, 0, 0],
    ["program", "text", 0, "'opencode'", 0, 0],
    ["model", "text", 0, "'unknown'", 0, 0],
    ["task_description", "text", 0, null, 0, 0],
    ["registered_at", "integer", 1, null, 0, 0],
    ["last_active_at", "integer", 1, null, 0, 0]
  ],
  messages: [
    ["id", "integer", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["from_callsign", "text", 1, null, 0, 0],
    ["subject", "text", 1, null, 0, 0],
    ["body", "text", 1, null, 0, 0],
    ["thread_id", "text", 0, null, 0, 0],
    ["importance", "text", 0, "'normal'", 0, 0],
    ["ack_required", "integer", 0, "false", 0, 0],
    ["created_at", "integer", 1, null, 0, 0]
  ],
  message_recipients: [
    ["message_id", "integer", 1, null, 0, 0],
    ["callsign", "text", 1, null, 0, 0],
    ["read_at", "integer", 0, null, 0, 0],
    ["acked_at", "integer", 0, null, 0, 0]
  ],
  reservations: [
    ["id", "integer", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["callsign", "text", 1, null, 0, 0],
    ["path_pattern", "text", 1, null, 0, 0],
    ["exclusive", "integer", 0, "true", 0, 0],
    ["reason", "text", 0, null, 0, 0],
    ["created_at", "integer", 1, null, 0, 0],
    ["expires_at", "integer", 1, null, 0, 0],
    ["released_at", "integer", 0, null, 0, 0]
  ],
  cursors: [
    ["id", "integer", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["consumer_id", "text", 1, null, 0, 0],
    ["position", "integer", 1, "0", 0, 0],
    ["updated_at", "integer", 1, null, 0, 0]
  ],
  locks: [
    ["id", "integer", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["lock_key", "text", 1, null, 0, 0],
    ["holder_id", "text", 1, null, 0, 0],
    ["acquired_at", "integer", 1, null, 0, 0],
    ["expires_at", "integer", 1, null, 0, 0],
    ["released_at", "integer", 0, null, 0, 0]
  ],
  missions: [
    ["id", "text", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["title", "text", 1, null, 0, 0],
    ["description", "text", 0, null, 0, 0],
    ["status", "text", 1, "'pending'", 0, 0],
    ["priority", "integer", 1, "1", 0, 0],
    ["created_at", "integer", 1, null, 0, 0],
    ["started_at", "integer", 0, null, 0, 0],
    ["completed_at", "integer", 0, null, 0, 0],
    ["created_by", "text", 0, null, 0, 0]
  ],
  sorties: [
    ["id", "text", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["mission_id", "text", 0, null, 0, 0],
    ["title", "text", 1, null, 0, 0],
    ["description", "text", 0, null, 0, 0],
    ["status", "text", 1, "'open'", 0, 0],
    ["priority", "integer", 1, "1", 0, 0],
    ["assigned_to", "text", 0, null, 0, 0],
    ["files", "text", 0, null, 0, 0],
    ["created_at", "integer", 1, null, 0, 0],
    ["started_at", "integer", 0, null, 0, 0],
    ["completed_at", "integer", 0, null, 0, 0],
    ["blocked_reason", "text", 0, null, 0, 0]
  ],
  work_orders: [
    ["id", "text", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["sortie_id", "text", 0, null, 0, 0],
    ["title", "text", 1, null, 0, 0],
    ["description", "text", 0, null, 0, 0],
    ["status", "text", 1, "'pending'", 0, 0],
    ["assigned_to", "text", 0, null, 0, 0],
    ["created_at", "integer", 1, null, 0, 0],
    ["completed_at", "integer", 0, null, 0, 0]
  ],
  checkpoints: [
    ["id", "text", 1, null, 1, 0],
    ["project_key", "text", 1, null, 0, 0],
    ["mission_id", "text", 0, null, 0, 0],
    ["sortie_id", "text", 0, null, 0, 0],
    ["callsign", "text", 1, null, 0, 0],
    ["trigger", "text", 1, null, 0, 0],
    ["progress_percent", "integer", 0, null, 0, 0],
    ["summary", "text", 0, null, 0, 0],
    ["context_data", "text", 0, null, 0, 0],
    ["created_at", "integer", 1, null, 0, 0]
  ]
}

/** Transcribed from the seed's Drizzle index definitions: name → [table, columns]. */
const seedIndexes: Record<string, readonly [string, ReadonlyArray<string>]> = {
  idx_events_project_key: ["events", ["project_key"]],
  idx_events_type: ["events", ["type"]],
  idx_events_timestamp: ["events", ["timestamp"]],
  idx_events_project_type: ["events", ["project_key", "type"]],
  idx_pilots_project: ["pilots", ["project_key"]],
  idx_pilots_callsign: ["pilots", ["callsign"]],
  idx_messages_project: ["messages", ["project_key"]],
  idx_messages_thread: ["messages", ["thread_id"]],
  idx_messages_created: ["messages", ["created_at"]],
  idx_recipients_callsign: ["message_recipients", ["callsign"]],
  idx_reservations_project: ["reservations", ["project_key"]],
  idx_reservations_callsign: ["reservations", ["callsign"]],
  idx_reservations_expires: ["reservations", ["expires_at"]],
  idx_cursors_consumer: ["cursors", ["project_key", "consumer_id"]],
  idx_locks_key: ["locks", ["project_key", "lock_key"]],
  idx_missions_project: ["missions", ["project_key"]],
  idx_missions_status: ["missions", ["status"]],
  idx_sorties_project: ["sorties", ["project_key"]],
  idx_sorties_mission: ["sorties", ["mission_id"]],
  idx_sorties_status: ["sorties", ["status"]],
  idx_sorties_assigned: ["sorties", ["assigned_to"]],
  idx_work_orders_sortie: ["work_orders", ["sortie_id"]],
  idx_work_orders_status: ["work_orders", ["status"]],
  idx_checkpoints_mission: ["checkpoints", ["mission_id"]],
  idx_checkpoints_callsign: ["checkpoints", ["callsign"]]
}

/** Additions of this library: never renames, only new names. */
/** Tables this library adds beside the seed's (never in place of one). */
const addedTables = ["fleet_meta", "idempotency_keys", "sortie_dependencies"]

const addedIndexes = [
  "idx_pilots_project_callsign_unique",
  "idx_cursors_project_consumer_unique",
  "idx_message_recipients_unique",
  "idx_locks_held_unique",
  "idx_locks_fence",
  // Migration 0006: reads by time window, pendingAcks.
  "idx_events_project_timestamp",
  "idx_events_project_type_timestamp",
  "idx_messages_ack_required",
  // Migration 0007: the work graph.
  "idx_sortie_dependencies_depends_on",
  "idx_sorties_ready"
]

const seedSql = readFileSync(new URL("./fixtures/seed-schema.sql", import.meta.url), "utf8")
  .split("--> statement-breakpoint")
  .map((s) => s.trim())
  .filter((s) => s.length > 0)

const withTempDir = <A>(f: (dir: string) => Promise<A>) => async () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-schema-"))
  try {
    return await f(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const columnsOf = async (client: Libsql.Client, table: string): Promise<Array<Column>> =>
  (await client.execute(`PRAGMA table_xinfo(${table})`)).rows.map((r) => [
    String(r.name),
    String(r.type).toLowerCase(),
    Number(r.notnull) as 0 | 1,
    r.dflt_value === null ? null : String(r.dflt_value),
    Number(r.pk) > 0 ? 1 : 0,
    Number(r.hidden) as 0 | 2
  ])

const indexColumns = async (client: Libsql.Client, index: string) =>
  (await client.execute(`PRAGMA index_info(${index})`)).rows.map((r) => String(r.name))

const indexTable = async (client: Libsql.Client, index: string) =>
  (await client.execute({ sql: "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?", args: [index] }))
    .rows[0]?.tbl_name

/** Open our migrated database at `dir/.fleet/fleet.db` once, then inspect it with a raw client. */
const migrate = (projectPath: string, projectKey?: string) =>
  Effect.runPromise(Effect.provide(Effect.void, FleetDb.layerFile({ projectPath, projectKey })))

describe("schema", () => {
  it("migrated tables equal the seed's definitions", withTempDir(async (dir) => {
    await migrate(dir)
    const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
    try {
      for (const [table, expected] of Object.entries(seedTables)) {
        const actual = await columnsOf(client, table)
        const seedNames = new Set(expected.map((c) => c[0]))
        expect(actual.filter((c) => seedNames.has(c[0])), table).toEqual(expected)
        const extra = actual.filter((c) => !seedNames.has(c[0])).map((c) => c[0])
        const added: Record<string, ReadonlyArray<string>> = {
          locks: ["fence"],
          pilots: ["lost_at"],
          // Migration 0007: the work graph's readiness cache and how work was closed.
          sorties: ["unclosed_blockers", "outcome", "close_reason"],
          missions: ["close_reason"]
        }
        expect(extra, `${table}: columns beyond the seed`).toEqual(added[table] ?? [])
      }
      const tables = (await client.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'effect_sql_migrations' ORDER BY name"
      )).rows.map((r) => String(r.name))
      // Beyond the seed: the database's own facts (fleet_meta, 0004) and idempotency keys (0005).
      expect(tables).toEqual([...Object.keys(seedTables), ...addedTables].sort())
      for (const [index, [table, columns]] of Object.entries(seedIndexes)) {
        expect(await indexTable(client, index), index).toBe(table)
        expect(await indexColumns(client, index), index).toEqual(columns)
      }
      for (const index of addedIndexes) {
        expect(await indexTable(client, index), index).toBeDefined()
      }
    } finally {
      client.close()
    }
  }))

  it("equals a database made by the seed's own migration SQL, column for column", withTempDir(async (dir) => {
    await migrate(dir)
    const ours = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
    const seed = Libsql.createClient({ url: `file:${join(dir, "seed.db")}` })
    try {
      for (const statement of seedSql) await seed.execute(statement)
      for (const table of Object.keys(seedTables)) {
        const seedColumns = await columnsOf(seed, table)
        const ourColumns = (await columnsOf(ours, table)).filter((c) =>
          !["fence", "lost_at", "unclosed_blockers", "outcome", "close_reason"].includes(String(c[0]))
        )
        expect(ourColumns, table).toEqual(seedColumns)
      }
      for (const index of Object.keys(seedIndexes)) {
        expect(await indexColumns(ours, index), index).toEqual(await indexColumns(seed, index))
      }
    } finally {
      ours.close()
      seed.close()
    }
  }))

  it("sequence is a generated copy of id", withTempDir(async (dir) => {
    await migrate(dir)
    const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
    try {
      await client.execute("INSERT INTO events (type, project_key, timestamp, data) VALUES ('x', 'p', 1, '{}')")
      await client.execute("INSERT INTO events (type, project_key, timestamp, data) VALUES ('y', 'p', 2, '{}')")
      const rows = (await client.execute("SELECT id, sequence FROM events ORDER BY id")).rows
      expect(rows.map((r) => [Number(r.id), Number(r.sequence)])).toEqual([[1, 1], [2, 2]])
    } finally {
      client.close()
    }
  }))

  it("adopts a database created by the seed's migration and written with the seed's SQL", withTempDir(async (dir) => {
    mkdirSync(join(dir, ".fleet"))
    const seed = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
    for (const statement of seedSql) await seed.execute(statement)
    // The seed document's own test inserts.
    await seed.execute({
      sql:
        "INSERT INTO pilots (project_key, callsign, program, model, registered_at, last_active_at) VALUES (?, ?, ?, ?, ?, ?)",
      args: ["/test/project", "viper-1", "opencode", "claude-sonnet", 1_000, 1_000]
    })
    await seed.execute({
      sql: "INSERT INTO events (type, project_key, timestamp, data) VALUES (?, ?, ?, ?)",
      args: ["pilot_registered", "/test/project", 1_000, JSON.stringify({ callsign: "viper-1" })]
    })
    await seed.execute({
      sql: "INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)",
      args: ["/test/project", "build", "viper-1", 1_000, 2_000]
    })
    seed.close()

    const result = await Effect.runPromise(
      Effect.gen(function*() {
        const pilots = yield* Pilots
        const events = yield* Events
        const before = yield* pilots.get("viper-1")
        const log = yield* events.read()
        const again = yield* pilots.register({ callsign: "viper-1", task_description: "adopted" })
        const added = yield* pilots.register({ callsign: "viper-2" })
        return { before, log, again, added, after: yield* events.read() }
      }).pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir, projectKey: "/test/project" })))
    )
    expect(result.before.model).toBe("claude-sonnet")
    // A seed-era event whose payload lacks this library's fields reads back as unknown, not as a failure.
    expect(result.log).toHaveLength(1)
    expect(result.log[0]!.type).toBe("pilot_registered")
    expect(result.log[0]!.known).toBe(false)
    expect(result.again.task_description).toBe("adopted")
    expect(result.again.registered_at.epochMillis).toBe(1_000)
    expect(result.added.callsign).toBe("viper-2")
    expect(result.after.map((e) => e.sequence)).toEqual([1, 2, 3])

    const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
    try {
      // The seed-era lock row got a fence of 0 from the added column's default.
      const lock = (await client.execute("SELECT fence FROM locks")).rows[0]
      expect(Number(lock?.fence)).toBe(0)
      const applied = (await client.execute("SELECT migration_id FROM effect_sql_migrations ORDER BY migration_id")).rows
      expect(applied.map((r) => Number(r.migration_id))).toEqual(Object.keys(migrations).map((key) => Number(key.slice(0, 4))))
      // The seed's rows were all under one key: the database adopted it as its project key.
      const meta = (await client.execute("SELECT name, value FROM fleet_meta WHERE name = 'project_key'")).rows
      expect(meta.map((r) => [r.name, r.value])).toEqual([["project_key", "/test/project"]])
    } finally {
      client.close()
    }
  }))

  it("integrity additions are separate statements with their own names", () => {
    for (const statement of [...integrityStatements, ...recoveryStatements]) {
      expect(statement.split(";").filter((s) => s.trim() !== "")).toHaveLength(1)
      const name = /INDEX IF NOT EXISTS `(\w+)`|ADD COLUMN `(\w+)`/.exec(statement)
      expect(Option.fromNullable(name).pipe(Option.isSome), statement).toBe(true)
    }
  })
})

// Local libSQL stores U+0000 but reads text back only up to it: `Text` refuses it, so no input
// schema built on it needs a NUL filter of its own.
describe("Text", () => {
  const refusal = <A, I>(schema: Schema.Schema<A, I>, value: unknown) =>
    Either.match(Schema.decodeUnknownEither(schema)(value), { onLeft: (error) => error.message, onRight: () => undefined })

  it("refuses NUL wherever it stands, in every text schema built on it", () => {
    const schemas = [Text({ max: 10 }), Text({ min: 1, max: 10 }), Title, LongText, MessageBody, MessageSubject, ThreadId]
    for (const schema of schemas) {
      for (const value of ["\u0000", "a\u0000b", "ab\u0000"]) {
        expect(refusal(schema, value), JSON.stringify(value)).toContain("must not contain NUL characters (U+0000)")
      }
      expect(refusal(schema, "ab")).toBeUndefined()
    }
  })

  it("a thread id is an identifier: no outer white space, no control characters", () => {
    expect(refusal(ThreadId, " t")).toContain("white space")
    expect(refusal(ThreadId, "a\tb")).toContain("control characters")
    expect(refusal(ThreadId, "x".repeat(257))).toContain("at most 256")
    expect(refusal(ThreadId, "thr_1")).toBeUndefined()
  })
})
