/**
 * The approach of the original seed plan: Drizzle ORM 0.45 over
 * `@libsql/client`, with the seed's table definitions (plus the `fence` column this library adds),
 * doing the same work as `Pilots.register` and a `Locks` acquire/release cycle with the query
 * builder inside `db.transaction` (which libSQL begins as `BEGIN IMMEDIATE`).
 *
 * `createSeedDb` opens the client exactly as the seed's `createFleetDb` does (no busy timeout, no
 * pragmas); `createTunedDb` adds this library's connection contract, to compare the ORM alone.
 */
import * as Libsql from "@libsql/client"
import { and, eq, gt, isNull, lte, sql } from "drizzle-orm"
import type { LibSQLDatabase } from "drizzle-orm/libsql"
import { drizzle } from "drizzle-orm/libsql"
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core"
import { BUSY_TIMEOUT_MS, PRAGMAS } from "./setup.js"

export const eventsTable = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    type: text("type").notNull(),
    project_key: text("project_key").notNull(),
    timestamp: integer("timestamp").notNull(),
    sequence: integer("sequence").generatedAlwaysAs(sql`id`),
    data: text("data").notNull()
  },
  (table) => [index("idx_events_project_key").on(table.project_key)]
)

export const pilotsTable = sqliteTable("pilots", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  project_key: text("project_key").notNull(),
  callsign: text("callsign").notNull(),
  program: text("program").default("opencode"),
  model: text("model").default("unknown"),
  task_description: text("task_description"),
  registered_at: integer("registered_at").notNull(),
  last_active_at: integer("last_active_at").notNull()
})

export const locksTable = sqliteTable("locks", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  project_key: text("project_key").notNull(),
  lock_key: text("lock_key").notNull(),
  holder_id: text("holder_id").notNull(),
  acquired_at: integer("acquired_at").notNull(),
  expires_at: integer("expires_at").notNull(),
  released_at: integer("released_at"),
  fence: integer("fence").notNull().default(0)
})

const schema = { eventsTable, pilotsTable, locksTable }
export type Db = LibSQLDatabase<typeof schema>

/** As the seed's `createFleetDb`: `createClient({ url })`, nothing else. */
export const createSeedDb = (file: string): { readonly db: Db; readonly client: Libsql.Client } => {
  const client = Libsql.createClient({ url: `file:${file}` })
  return { db: drizzle(client, { schema }), client }
}

/** The seed's client with this library's connection contract (busy timeout, WAL, synchronous=NORMAL). */
export const createTunedDb = async (file: string): Promise<{ readonly db: Db; readonly client: Libsql.Client }> => {
  const client = Libsql.createClient({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS, concurrency: 1 })
  for (const pragma of PRAGMAS) await client.execute(pragma)
  return { db: drizzle(client, { schema }), client }
}

/** `Pilots.register` with the query builder. */
export const registerPilot = (db: Db, pk: string, input: { readonly callsign: string; readonly model?: string }) =>
  db.transaction(async (tx) => {
    const now = Date.now()
    const existing = await tx.select({ id: pilotsTable.id }).from(pilotsTable)
      .where(and(eq(pilotsTable.project_key, pk), eq(pilotsTable.callsign, input.callsign)))
    const [pilot] = existing.length === 0
      ? await tx.insert(pilotsTable).values({
        project_key: pk,
        callsign: input.callsign,
        program: "opencode",
        model: input.model ?? "unknown",
        task_description: null,
        registered_at: now,
        last_active_at: now
      }).returning()
      : await tx.update(pilotsTable).set({ last_active_at: now, ...(input.model ? { model: input.model } : {}) })
        .where(eq(pilotsTable.id, existing[0]!.id)).returning()
    await tx.insert(eventsTable).values({
      type: "pilot_registered",
      project_key: pk,
      timestamp: now,
      data: JSON.stringify({
        callsign: pilot!.callsign,
        program: pilot!.program,
        model: pilot!.model,
        task_description: pilot!.task_description,
        first: existing.length === 0
      })
    }).returning({ id: eventsTable.id })
    return pilot!
  })

/** Thrown when the key is held. */
export class Held extends Error {}

type LockRow = typeof locksTable.$inferSelect

/** A `Locks.acquire` attempt with the query builder. */
export const acquireLock = (db: Db, pk: string, key: string, holder: string, ttl: number): Promise<LockRow> =>
  db.transaction(async (tx) => {
    const now = Date.now()
    const held = await tx.select().from(locksTable)
      .where(and(eq(locksTable.project_key, pk), eq(locksTable.lock_key, key), isNull(locksTable.released_at)))
    if (held.some((row) => row.expires_at > now)) throw new Held()
    if (held.length > 0) {
      const expired = await tx.update(locksTable).set({ released_at: now })
        .where(and(
          eq(locksTable.project_key, pk),
          eq(locksTable.lock_key, key),
          isNull(locksTable.released_at),
          lte(locksTable.expires_at, now)
        ))
        .returning()
      for (const row of expired) {
        await tx.insert(eventsTable).values({
          type: "lock_released",
          project_key: pk,
          timestamp: now,
          data: JSON.stringify({ lock_id: row.id, lock_key: row.lock_key, holder_id: row.holder_id, fence: row.fence, reason: "expired" })
        })
      }
    }
    const [row] = await tx.insert(locksTable).values({
      project_key: pk,
      lock_key: key,
      holder_id: holder,
      acquired_at: now,
      expires_at: now + ttl,
      released_at: null,
      fence: sql`(SELECT COALESCE(MAX(fence), 0) + 1 FROM locks WHERE project_key = ${pk} AND lock_key = ${key})`
    }).returning()
    await tx.insert(eventsTable).values({
      type: "lock_acquired",
      project_key: pk,
      timestamp: now,
      data: JSON.stringify({
        lock_id: row!.id,
        lock_key: row!.lock_key,
        holder_id: row!.holder_id,
        fence: row!.fence,
        acquired_at: row!.acquired_at,
        expires_at: row!.expires_at
      })
    }).returning({ id: eventsTable.id })
    return row!
  })

/** `Locks.release` with the query builder. */
export const releaseLock = (db: Db, pk: string, lock: LockRow) =>
  db.transaction(async (tx) => {
    const now = Date.now()
    const [row] = await tx.update(locksTable).set({ released_at: now })
      .where(and(
        eq(locksTable.id, lock.id),
        eq(locksTable.project_key, pk),
        eq(locksTable.lock_key, lock.lock_key),
        eq(locksTable.holder_id, lock.holder_id),
        eq(locksTable.fence, lock.fence),
        isNull(locksTable.released_at),
        gt(locksTable.expires_at, now)
      ))
      .returning()
    if (row === undefined) throw new Error("lock not held")
    await tx.insert(eventsTable).values({
      type: "lock_released",
      project_key: pk,
      timestamp: now,
      data: JSON.stringify({ lock_id: row.id, lock_key: row.lock_key, holder_id: row.holder_id, fence: row.fence, reason: "released" })
    }).returning({ id: eventsTable.id })
    return row
  })
