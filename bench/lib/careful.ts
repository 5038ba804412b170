/**
 * The careful baseline: the same work as the services with the same guarantees, hand-written on
 * raw `@libsql/client` 0.18 with the fewest statements such code needs — what an experienced
 * engineer would write by hand, as opposed to `raw.ts`, which runs the statements the services
 * run. Same transaction mode (`transaction("write")` = `BEGIN IMMEDIATE`), same JSON event
 * payloads; no input validation, no row decoding, no retry.
 *
 * Where a case has no statement to spare (`claimNext`, `append`, `read`, `inbox`, `reserve`), the
 * function is `raw.ts`'s own: there is no cheaper way with the same guarantees.
 */
import type * as Libsql from "@libsql/client"
import { uuidv7 } from "../../src/schema/ids.js"
import { Held, write } from "./raw.js"

export { appendAll, claimNext, inbox, readEvents, readNewest, releaseReservations, reserve } from "./raw.js"

type Row = Libsql.Row

const insertEvent = (tx: Libsql.Transaction, pk: string, now: number, type: string, data: unknown) =>
  tx.execute({
    sql: "INSERT INTO events (type, project_key, timestamp, data) VALUES (?, ?, ?, ?) RETURNING id",
    args: [type, pk, now, JSON.stringify(data)]
  })

/** `Events.append`: one insert, `RETURNING id`. */
export const append = (client: Libsql.Client, pk: string, type: string, data: unknown) =>
  write(client, (tx) => insertEvent(tx, pk, Date.now(), type, data))

/**
 * `Pilots.register`: one `INSERT … ON CONFLICT DO NOTHING RETURNING *` (a new callsign: done, and
 * `first` is exact), the update only when the callsign exists, then `pilot_registered`. A single
 * `ON CONFLICT DO UPDATE` cannot say whether the row is new, which the event must.
 */
export const registerPilot = (
  client: Libsql.Client,
  pk: string,
  input: { readonly callsign: string; readonly program?: string; readonly model?: string; readonly task_description?: string }
) =>
  write(client, async (tx) => {
    const now = Date.now()
    const inserted = await tx.execute({
      sql: `INSERT INTO pilots (project_key, callsign, program, model, task_description, registered_at, last_active_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_key, callsign) DO NOTHING RETURNING *`,
      args: [pk, input.callsign, input.program ?? "opencode", input.model ?? "unknown", input.task_description ?? null, now, now]
    })
    const first = inserted.rows.length > 0
    const pilot = first ? inserted.rows[0]! : (await tx.execute({
      sql: `UPDATE pilots SET program = COALESCE(?, program), model = COALESCE(?, model),
              task_description = COALESCE(?, task_description), last_active_at = MAX(last_active_at, ?, COALESCE(lost_at, 0))
            WHERE project_key = ? AND callsign = ? RETURNING *`,
      args: [input.program ?? null, input.model ?? null, input.task_description ?? null, now, pk, input.callsign]
    })).rows[0]!
    await insertEvent(tx, pk, now, "pilot_registered", {
      callsign: pilot.callsign,
      program: pilot.program,
      model: pilot.model,
      task_description: pilot.task_description,
      first
    })
    return pilot
  })

const isUniqueViolation = (error: unknown): boolean =>
  /UNIQUE constraint failed/.test(String((error as { message?: unknown } | null)?.message ?? error))

/**
 * `Locks.acquire` (no wait): release the key's expired lease (if any, with its event), insert the
 * next fence — the partial unique index refuses it while a live lease exists — and append
 * `lock_acquired`. No read first: the write's guard is the check.
 */
export const acquireLock = (client: Libsql.Client, pk: string, key: string, holder: string, ttl: number) =>
  write(client, async (tx) => {
    const now = Date.now()
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
    let inserted: Libsql.ResultSet
    try {
      inserted = await tx.execute({
        sql: `INSERT INTO locks (project_key, lock_key, holder_id, acquired_at, expires_at, released_at, fence)
              SELECT ?, ?, ?, ?, ?, NULL, COALESCE(MAX(fence), 0) + 1 FROM locks WHERE project_key = ? AND lock_key = ?
              RETURNING *`,
        args: [pk, key, holder, now, now + ttl, pk, key]
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new Held()
      throw error
    }
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

/** `Locks.release`: the guarded update of this exact lease, then `lock_released` (as raw.ts). */
export { releaseLock } from "./raw.js"

/**
 * `Messages.send`: insert the message, then its receipts for the recipients that are registered
 * pilots (one `INSERT … SELECT`, in the order given): fewer receipts than recipients means an
 * unknown one, and the transaction is rolled back. Then `message_sent`.
 */
export const send = (
  client: Libsql.Client,
  pk: string,
  input: { readonly from: string; readonly to: ReadonlyArray<string>; readonly subject: string; readonly body: string }
) =>
  write(client, async (tx) => {
    const now = Date.now()
    const threadId = `thr_${uuidv7(now)}`
    const rows = await tx.execute({
      sql: `INSERT INTO messages (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      args: [pk, input.from, input.subject, input.body, threadId, "normal", 0, now]
    })
    const message: Row = rows.rows[0]!
    const receipts = await tx.execute({
      sql: `INSERT INTO message_recipients (message_id, callsign)
            SELECT ?, v.column1 FROM (VALUES ${input.to.map(() => "(?)").join(", ")}) AS v
            WHERE EXISTS (SELECT 1 FROM pilots WHERE project_key = ? AND callsign = v.column1)`,
      args: [message.id as number, ...input.to, pk]
    })
    if (receipts.rowsAffected !== input.to.length) throw new Error("unknown recipient")
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
