/**
 * The baseline: the same work as the services, hand-written on raw `@libsql/client` 0.18. Each
 * function runs the statements the service runs, in the same order, in the same transaction mode
 * (`transaction("write")` = `BEGIN IMMEDIATE`), with the same JSON event payloads — and nothing
 * else: no input validation, no row decoding, no retry.
 */
import type * as Libsql from "@libsql/client"
import { compile, normalize, overlapsCompiled } from "../../src/paths/patterns.js"
import { uuidv7 } from "../../src/schema/ids.js"

type Row = Libsql.Row

/** Run `body` in one write transaction; commit on success, roll back on failure. */
export const write = async <A>(client: Libsql.Client, body: (tx: Libsql.Transaction) => Promise<A>): Promise<A> => {
  const tx = await client.transaction("write")
  try {
    const result = await body(tx)
    await tx.commit()
    return result
  } finally {
    tx.close()
  }
}

const insertEvent = (tx: Libsql.Transaction, pk: string, now: number, type: string, data: unknown) =>
  tx.execute({
    sql: "INSERT INTO events (type, project_key, timestamp, data) VALUES (?, ?, ?, ?) RETURNING id",
    args: [type, pk, now, JSON.stringify(data)]
  })

/** `Pilots.register`: look the callsign up, insert or update, append `pilot_registered`. */
export const registerPilot = (
  client: Libsql.Client,
  pk: string,
  input: { readonly callsign: string; readonly program?: string; readonly model?: string; readonly task_description?: string }
) =>
  write(client, async (tx) => {
    const now = Date.now()
    const existing = await tx.execute({
      sql: "SELECT id FROM pilots WHERE project_key = ? AND callsign = ?",
      args: [pk, input.callsign]
    })
    const rows = existing.rows.length === 0
      ? await tx.execute({
        sql: `INSERT INTO pilots (project_key, callsign, program, model, task_description, registered_at, last_active_at)
              VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        args: [pk, input.callsign, input.program ?? "opencode", input.model ?? "unknown", input.task_description ?? null, now, now]
      })
      : await tx.execute({
        sql: `UPDATE pilots SET program = COALESCE(?, program), model = COALESCE(?, model),
                task_description = COALESCE(?, task_description), last_active_at = ? WHERE id = ? RETURNING *`,
        args: [input.program ?? null, input.model ?? null, input.task_description ?? null, now, existing.rows[0]!.id as number]
      })
    const pilot = rows.rows[0]!
    await insertEvent(tx, pk, now, "pilot_registered", {
      callsign: pilot.callsign,
      program: pilot.program,
      model: pilot.model,
      task_description: pilot.task_description,
      first: existing.rows.length === 0
    })
    return pilot
  })

/** Thrown by `acquireLock` when the key is held (the raw equivalent of `LockHeld`). */
export class Held extends Error {}

const SELECT_HELD = "SELECT * FROM locks WHERE project_key = ? AND lock_key = ? AND released_at IS NULL"

/** `Locks.acquire` (no wait): release expired leases on the key, insert the next fence, append events. */
export const acquireLock = (client: Libsql.Client, pk: string, key: string, holder: string, ttl: number) =>
  write(client, async (tx) => {
    const now = Date.now()
    const held = await tx.execute({ sql: SELECT_HELD, args: [pk, key] })
    if (held.rows.some((row) => (row.expires_at as number) > now)) throw new Held()
    if (held.rows.length > 0) {
      const expired = await tx.execute({
        sql: `UPDATE locks SET released_at = ? WHERE project_key = ? AND lock_key = ? AND released_at IS NULL
              AND expires_at <= ? RETURNING *`,
        args: [now, pk, key, now]
      })
      for (const row of expired.rows) {
        await insertEvent(tx, pk, now, "lock_released", {
          lock_id: row.id,
          lock_key: row.lock_key,
          holder_id: row.holder_id,
          fence: row.fence,
          reason: "expired"
        })
      }
    }
    const inserted = await tx.execute({
      sql: `INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, released_at, fence)
            SELECT ?, ?, ?, ?, ?, NULL, COALESCE(MAX(fence), 0) + 1 FROM locks WHERE project_key = ? AND lock_key = ?
            RETURNING *`,
      args: [pk, key, holder, now, now + ttl, pk, key]
    })
    const row = inserted.rows[0]!
    await insertEvent(tx, pk, now, "lock_acquired", {
      lock_id: row.id,
      lock_key: row.lock_key,
      holder_id: row.holder_id,
      fence: row.fence,
      acquired_at: row.acquired_at,
      expires_at: row.expires_at
    })
    return row
  })

/** `Locks.release`: the guarded update of this exact lease, then `lock_released`. */
export const releaseLock = (client: Libsql.Client, pk: string, lock: Row) =>
  write(client, async (tx) => {
    const now = Date.now()
    const updated = await tx.execute({
      sql: `UPDATE locks SET released_at = ? WHERE id = ? AND project_key = ? AND lock_key = ? AND holder_id = ?
            AND fence = ? AND released_at IS NULL AND expires_at > ? RETURNING *`,
      args: [now, lock.id as number, pk, lock.lock_key as string, lock.holder_id as string, lock.fence as number, now]
    })
    const row = updated.rows[0]
    if (row === undefined) throw new Error("lock not held")
    await insertEvent(tx, pk, now, "lock_released", {
      lock_id: row.id,
      lock_key: row.lock_key,
      holder_id: row.holder_id,
      fence: row.fence,
      reason: "released"
    })
    return row
  })

/** `Sorties.claimNext` (no mission filter): pick and claim in one guarded UPDATE, then `sortie_claimed`. */
export const claimNext = (client: Libsql.Client, pk: string, callsign: string) =>
  write(client, async (tx) => {
    const now = Date.now()
    const rows = await tx.execute({
      sql: `UPDATE sorties SET status = 'in_progress', assigned_to = ?, started_at = ?
            WHERE id = (
              SELECT id FROM sorties WHERE project_key = ? AND status = 'open' AND assigned_to IS NULL
              ORDER BY priority, created_at, id LIMIT 1
            ) AND project_key = ? AND status = 'open' AND assigned_to IS NULL
            RETURNING *`,
      args: [callsign, now, pk, pk]
    })
    const row = rows.rows[0]
    if (row === undefined) return undefined
    await insertEvent(tx, pk, now, "sortie_claimed", { sortie_id: row.id, callsign })
    return row
  })

/** Insert `count` open sorties directly (benchmark setup, not timed). */
export const seedSorties = (client: Libsql.Client, pk: string, prefix: string, count: number) =>
  write(client, async (tx) => {
    const now = Date.now()
    for (let i = 0; i < count; i++) {
      await tx.execute({
        sql: `INSERT INTO sorties (id, project_key, title, status, priority, created_at) VALUES (?, ?, ?, 'open', ?, ?)`,
        args: [`srt_${prefix}_${i}`, pk, `sortie ${i}`, i % 5, now]
      })
    }
  })

const RESERVATION_COLUMNS =
  "id, project_key, callsign, path_pattern, COALESCE(exclusive, 1) AS exclusive, reason, created_at, expires_at, released_at"
const SELECT_ACTIVE = `SELECT id, callsign, path_pattern, COALESCE(exclusive, 1) AS exclusive, expires_at FROM reservations
    WHERE project_key = ? AND released_at IS NULL AND expires_at > ? ORDER BY id`

/** `Reservations.reserve` of fresh patterns: read the active set, check overlaps, insert, `file_reserved`. */
export const reserve = (client: Libsql.Client, pk: string, callsign: string, paths: ReadonlyArray<string>, ttl: number) =>
  write(client, async (tx) => {
    const now = Date.now()
    const active = await tx.execute({ sql: SELECT_ACTIVE, args: [pk, now] })
    for (const path of paths) {
      const wanted = compile(path)
      for (const row of active.rows) {
        if (row.callsign !== callsign && overlapsCompiled(wanted, compile(row.path_pattern as string))) {
          throw new Error(`conflict on ${path}`)
        }
      }
    }
    const own = new Set(active.rows.filter((row) => row.callsign === callsign).map((row) => normalize(row.path_pattern as string)))
    const fresh = paths.filter((path) => !own.has(path))
    const expiresAt = now + ttl
    const inserted = await tx.execute({
      sql: `INSERT INTO reservations (project_key, callsign, path_pattern, exclusive, reason, created_at, expires_at, released_at)
            VALUES ${fresh.map(() => "(?, ?, ?, ?, ?, ?, ?, NULL)").join(", ")} RETURNING ${RESERVATION_COLUMNS}`,
      args: fresh.flatMap((path) => [pk, callsign, path, 1, null, now, expiresAt])
    })
    await insertEvent(tx, pk, now, "file_reserved", {
      callsign,
      reservations: inserted.rows.map((row) => ({ reservation_id: row.id, path_pattern: row.path_pattern, renewed: false })),
      exclusive: true,
      reason: null,
      expires_at: expiresAt
    })
    return inserted.rows
  })

/** `Reservations.release` of named patterns: read the active set, update the pilot's rows, `file_released`. */
export const releaseReservations = (client: Libsql.Client, pk: string, callsign: string, paths: ReadonlyArray<string>) =>
  write(client, async (tx) => {
    const now = Date.now()
    const active = await tx.execute({ sql: SELECT_ACTIVE, args: [pk, now] })
    const wanted = new Set(paths)
    const ids = active.rows
      .filter((row) => row.callsign === callsign && wanted.has(normalize(row.path_pattern as string)))
      .map((row) => row.id as number)
    if (ids.length === 0) return []
    const rows = await tx.execute({
      sql: `UPDATE reservations SET released_at = ? WHERE project_key = ? AND id IN (${ids.map(() => "?").join(", ")})
            RETURNING ${RESERVATION_COLUMNS}`,
      args: [now, pk, ...ids]
    })
    await insertEvent(tx, pk, now, "file_released", {
      callsign,
      reservations: rows.rows.map((row) => ({ reservation_id: row.id, path_pattern: row.path_pattern })),
      reason: "released"
    })
    return rows.rows
  })

/** `Messages.send` to registered recipients: check them, insert message and receipts, `message_sent`. */
export const send = (
  client: Libsql.Client,
  pk: string,
  input: { readonly from: string; readonly to: ReadonlyArray<string>; readonly subject: string; readonly body: string }
) =>
  write(client, async (tx) => {
    const now = Date.now()
    const known = await tx.execute({
      sql: `SELECT callsign FROM pilots WHERE project_key = ? AND callsign IN (${input.to.map(() => "?").join(", ")})`,
      args: [pk, ...input.to]
    })
    if (known.rows.length !== input.to.length) throw new Error("unknown recipient")
    const threadId = `thr_${uuidv7(now)}`
    const rows = await tx.execute({
      sql: `INSERT INTO messages (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      args: [pk, input.from, input.subject, input.body, threadId, "normal", 0, now]
    })
    const message = rows.rows[0]!
    await tx.execute({
      sql: `INSERT INTO message_recipients (message_id, callsign) VALUES ${input.to.map(() => "(?, ?)").join(", ")}`,
      args: input.to.flatMap((callsign) => [message.id as number, callsign])
    })
    await insertEvent(tx, pk, now, "message_sent", {
      message_id: message.id,
      from: input.from,
      to: input.to,
      subject: input.subject,
      body: input.body,
      thread_id: threadId,
      importance: "normal",
      ack_required: false
    })
    return message
  })

/** `Messages.inbox`: the recipient's messages, unread first, newest first. */
export const inbox = (client: Libsql.Client, pk: string, callsign: string, limit: number) =>
  client.execute({
    sql: `SELECT m.id, m.project_key, m.from_callsign, m.subject, m.body, m.thread_id,
            COALESCE(m.importance, 'normal') AS importance, COALESCE(m.ack_required, 0) AS ack_required, m.created_at,
            r.callsign AS r_callsign, r.read_at AS r_read_at, r.acked_at AS r_acked_at
          FROM message_recipients r JOIN messages m ON m.id = r.message_id
          WHERE m.project_key = ? AND r.callsign = ?
          ORDER BY (r.read_at IS NULL) DESC, m.id DESC LIMIT ?`,
    args: [pk, callsign, limit]
  }).then((result) => result.rows)

const EVENT_CHUNK = 250

/** `Events.appendAll`: one transaction, multi-row inserts of 250 rows, `RETURNING id`. */
export const appendAll = (
  client: Libsql.Client,
  pk: string,
  events: ReadonlyArray<{ readonly type: string; readonly data: unknown }>
) =>
  write(client, async (tx) => {
    const now = Date.now()
    const out: Array<Row> = []
    for (let start = 0; start < events.length; start += EVENT_CHUNK) {
      const chunk = events.slice(start, start + EVENT_CHUNK)
      const result = await tx.execute({
        sql: `INSERT INTO events (type, project_key, timestamp, data) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}
              RETURNING id`,
        args: chunk.flatMap((event) => [event.type, pk, now, JSON.stringify(event.data)])
      })
      out.push(...result.rows)
    }
    return out
  })

/** `Events.read({ after, types: [type], limit })`, parsing each payload (what any reader of the log must do). */
export const readEvents = async (client: Libsql.Client, pk: string, after: number, type: string, limit: number) => {
  const result = await client.execute({
    sql: `SELECT id, type, project_key, timestamp, data FROM events
          WHERE project_key = ? AND id > ? AND type IN (?) ORDER BY id LIMIT ?`,
    args: [pk, after, type, limit]
  })
  return result.rows.map((row) => ({ sequence: row.id, type: row.type, timestamp: row.timestamp, data: JSON.parse(row.data as string) }))
}

/** `Events.read({ types: [type], order: "desc", limit })`: the newest `limit` of a type, parsing each payload. */
export const readNewest = async (client: Libsql.Client, pk: string, type: string, limit: number) => {
  const result = await client.execute({
    sql: `SELECT id, type, project_key, timestamp, data FROM events
          WHERE project_key = ? AND type IN (?) ORDER BY id DESC LIMIT ?`,
    args: [pk, type, limit]
  })
  return result.rows.map((row) => ({ sequence: row.id, type: row.type, timestamp: row.timestamp, data: JSON.parse(row.data as string) }))
}
