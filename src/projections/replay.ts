/**
 * Replaying the event log into projection rows: a pure fold, with no database. Each event type
 * changes rows the way its command did, using only the event's payload, its timestamp (the
 * command's `now`) and the project key. Events of unknown types, events whose payload does not
 * decode, and events about rows the log never created change nothing.
 *
 * Rows are replaced, never mutated, so `fork()` (a shallow copy of the maps) is an independent
 * state: a rebuild's final transaction replays the tail on a fork, and a retry starts again from
 * the untouched original.
 *
 * @module
 */
import type { KnownEvent } from "../schema/events.js"
import { decodeEventRow } from "../schema/events.js"
import type { ProjectionTable, Row, Value } from "./tables.js"
import { keyOf, projectionTables, tableSpecs } from "./tables.js"

/** An `events` row as stored. */
export interface StoredEvent {
  readonly id: number
  readonly type: string
  readonly project_key: string
  readonly timestamp: number
  readonly data: string
}

/** The projection rows of one project, by table and key. */
export class ProjectionState {
  readonly projectKey: string
  readonly #tables: Map<ProjectionTable, Map<string, Row>>
  readonly #dirty: Map<ProjectionTable, Set<string>> | undefined
  // The sorties each sortie blocks (its `blocks` dependents), so closing one finds them directly.
  readonly #blocks: Map<string, Set<string>>
  /** How many events were applied (known or not). */
  events = 0
  /** The sequence of the last event applied (0 before any). */
  sequence = 0

  constructor(
    projectKey: string,
    tables?: Map<ProjectionTable, Map<string, Row>>,
    trackDirty = false,
    blocks?: Map<string, Set<string>>
  ) {
    this.projectKey = projectKey
    this.#blocks = blocks ?? new Map()
    this.#tables = tables ?? new Map(projectionTables.map((table) => [table, new Map()]))
    this.#dirty = trackDirty ? new Map(projectionTables.map((table) => [table, new Set()])) : undefined
  }

  /** An independent copy that records which keys it changes (see `dirty`). */
  fork(): ProjectionState {
    const copy = new ProjectionState(
      this.projectKey,
      new Map(Array.from(this.#tables, ([table, rows]) => [table, new Map(rows)])),
      true,
      new Map(Array.from(this.#blocks, ([id, dependents]) => [id, new Set(dependents)]))
    )
    copy.events = this.events
    copy.sequence = this.sequence
    return copy
  }

  /** The keys changed since `fork()` (empty for a state that was not forked). */
  dirty(table: ProjectionTable): ReadonlySet<string> {
    return this.#dirty?.get(table) ?? new Set()
  }

  /** The rows of a table, in insertion order. */
  rows(table: ProjectionTable): IterableIterator<Row> {
    return this.#tables.get(table)!.values()
  }

  /** The row of `table` whose key matches `key`'s key columns. */
  get(table: ProjectionTable, key: Row): Row | undefined {
    return this.#tables.get(table)!.get(keyOf(tableSpecs[table], key))
  }

  /** Insert or replace a row. */
  put(table: ProjectionTable, row: Row): void {
    const key = keyOf(tableSpecs[table], row)
    this.#tables.get(table)!.set(key, row)
    this.#dirty?.get(table)!.add(key)
  }

  /** Remove a row (if present). */
  remove(table: ProjectionTable, key: Row): void {
    const id = keyOf(tableSpecs[table], key)
    if (this.#tables.get(table)!.delete(id)) this.#dirty?.get(table)!.add(id)
  }

  /** Record that `sortie` has (or no longer has) a `blocks` dependency on `dependsOn`. */
  setBlocks(sortie: string, dependsOn: string, blocks: boolean): void {
    const dependents = this.#blocks.get(dependsOn)
    if (blocks) {
      if (dependents === undefined) this.#blocks.set(dependsOn, new Set([sortie]))
      else dependents.add(sortie)
    } else {
      dependents?.delete(sortie)
    }
  }

  /** The sorties with a `blocks` dependency on `id`. */
  blockedBy(id: string): ReadonlyArray<string> {
    return Array.from(this.#blocks.get(id) ?? [])
  }

  /** Change some columns of an existing row; a row the log never created stays absent. */
  patch(table: ProjectionTable, key: Row, change: (row: Row) => Readonly<Record<string, Value>>): void {
    const row = this.get(table, key)
    if (row !== undefined) this.put(table, { ...row, ...change(row) })
  }

  /** Apply one stored event of this project. Never fails. */
  apply(stored: StoredEvent): void {
    this.events++
    this.sequence = Math.max(this.sequence, stored.id)
    if (stored.project_key !== this.projectKey) return
    const event = decodeEventRow(stored)
    if (event.known) applyKnown(this, event, event.timestamp.epochMillis)
  }
}

const json = (value: unknown): string | null => value === null || value === undefined ? null : JSON.stringify(value)

const applyKnown = (state: ProjectionState, event: KnownEvent, at: number): void => {
  const project_key = state.projectKey
  switch (event.type) {
    case "pilot_registered": {
      const d = event.data
      const existing = state.get("pilots", { callsign: d.callsign })
      state.put("pilots", {
        id: existing?.id ?? null,
        project_key,
        callsign: d.callsign,
        program: d.program,
        model: d.model,
        task_description: d.task_description,
        registered_at: existing?.registered_at ?? at,
        last_active_at: at,
        lost_at: existing?.lost_at ?? null
      })
      return
    }
    case "pilot_lost":
      // What the pilot held is released by the events that follow this one.
      return state.patch("pilots", { callsign: event.data.callsign }, () => ({ lost_at: at }))
    case "lock_acquired": {
      const d = event.data
      return state.put("locks", {
        id: d.lock_id,
        project_key,
        lock_key: d.lock_key,
        holder_id: d.holder_id,
        acquired_at: d.acquired_at.epochMillis,
        expires_at: d.expires_at.epochMillis,
        released_at: null,
        fence: d.fence
      })
    }
    case "lock_extended":
      return state.patch("locks", { id: event.data.lock_id }, () => ({ expires_at: event.data.expires_at.epochMillis }))
    case "lock_released":
      return state.patch("locks", { id: event.data.lock_id }, () => ({ released_at: at }))
    case "mission_created": {
      const d = event.data
      return state.put("missions", {
        id: d.mission_id,
        project_key,
        title: d.title,
        description: d.description,
        status: "pending",
        priority: d.priority,
        created_at: at,
        started_at: null,
        completed_at: null,
        created_by: d.created_by
      })
    }
    case "mission_started":
      return state.patch("missions", { id: event.data.mission_id }, () => ({ status: "in_progress", started_at: at }))
    case "mission_completed":
      return state.patch("missions", { id: event.data.mission_id }, () => ({ status: "completed", completed_at: at }))
    case "mission_cancelled":
      return state.patch("missions", { id: event.data.mission_id }, () => ({
        status: "cancelled",
        close_reason: event.data.reason,
        completed_at: at
      }))
    case "sortie_created": {
      const d = event.data
      return state.put("sorties", {
        id: d.sortie_id,
        project_key,
        mission_id: d.mission_id,
        title: d.title,
        description: d.description,
        status: "open",
        priority: d.priority,
        assigned_to: null,
        files: json(d.files),
        created_at: at,
        started_at: null,
        completed_at: null,
        blocked_reason: null,
        unclosed_blockers: 0,
        outcome: null,
        close_reason: null
      })
    }
    case "sortie_claimed":
      return state.patch("sorties", { id: event.data.sortie_id }, () => ({
        status: "in_progress",
        assigned_to: event.data.callsign,
        started_at: at
      }))
    case "sortie_blocked":
      return state.patch("sorties", { id: event.data.sortie_id }, () => ({ status: "blocked", blocked_reason: event.data.reason }))
    case "sortie_unblocked":
      return state.patch("sorties", { id: event.data.sortie_id }, () => ({ status: "in_progress", blocked_reason: null }))
    case "sortie_released":
      return state.patch("sorties", { id: event.data.sortie_id }, () => ({
        status: "open",
        assigned_to: null,
        started_at: null,
        blocked_reason: null
      }))
    case "sortie_completed":
      return closeSortie(state, event.data.sortie_id, { status: "closed", outcome: "completed", completed_at: at })
    case "sortie_cancelled":
      return closeSortie(state, event.data.sortie_id, {
        status: "closed",
        outcome: "cancelled",
        close_reason: event.data.reason,
        completed_at: at
      })
    case "sortie_updated": {
      const d = event.data
      return state.patch("sorties", { id: d.sortie_id }, () => ({
        title: d.title,
        description: d.description,
        priority: d.priority,
        files: json(d.files)
      }))
    }
    case "sortie_dependency_added": {
      const d = event.data
      const edge = { sortie_id: d.sortie_id, depends_on_id: d.depends_on_id }
      const previous = state.get("sortie_dependencies", edge)
      state.put("sortie_dependencies", { project_key, ...edge, kind: d.kind, created_at: previous?.created_at ?? at })
      state.setBlocks(d.sortie_id, d.depends_on_id, d.kind === "blocks")
      const delta = (d.kind === "blocks" ? 1 : 0) - (previous?.kind === "blocks" ? 1 : 0)
      if (delta !== 0 && unclosed(state, d.depends_on_id)) addBlockers(state, d.sortie_id, delta)
      return
    }
    case "sortie_dependency_removed": {
      const d = event.data
      const edge = { sortie_id: d.sortie_id, depends_on_id: d.depends_on_id }
      const previous = state.get("sortie_dependencies", edge)
      if (previous === undefined) return
      state.remove("sortie_dependencies", edge)
      state.setBlocks(d.sortie_id, d.depends_on_id, false)
      if (previous.kind === "blocks" && unclosed(state, d.depends_on_id)) addBlockers(state, d.sortie_id, -1)
      return
    }
    case "work_order_created": {
      const d = event.data
      return state.put("work_orders", {
        id: d.work_order_id,
        project_key,
        sortie_id: d.sortie_id,
        title: d.title,
        description: d.description,
        status: "pending",
        assigned_to: d.assigned_to,
        created_at: at,
        completed_at: null
      })
    }
    case "work_order_started":
      return state.patch("work_orders", { id: event.data.work_order_id }, () => ({
        status: "in_progress",
        assigned_to: event.data.assigned_to
      }))
    case "work_order_completed":
      return state.patch("work_orders", { id: event.data.work_order_id }, () => ({ status: "completed", completed_at: at }))
    case "message_sent": {
      const d = event.data
      state.put("messages", {
        id: d.message_id,
        project_key,
        from_callsign: d.from,
        subject: d.subject,
        // Events written since bodies left the log carry its digest: the body is taken from the
        // stored row by the rebuild's swap and checked against the digest by verify.
        body: d.body ?? null,
        ...(d.body === undefined && d.body_sha256 !== undefined ? { body_sha256: d.body_sha256 } : {}),
        thread_id: d.thread_id,
        importance: d.importance,
        ack_required: d.ack_required ? 1 : 0,
        created_at: at
      })
      for (const callsign of d.to) {
        state.put("message_recipients", { message_id: d.message_id, callsign, read_at: null, acked_at: null })
      }
      return
    }
    case "message_read":
      return state.patch("message_recipients", event.data, (row) => ({ read_at: row.read_at ?? at }))
    case "message_acked":
      return state.patch("message_recipients", event.data, (row) => ({
        read_at: row.read_at ?? at,
        acked_at: row.acked_at ?? at
      }))
    case "file_reserved": {
      const d = event.data
      for (const reservation of d.reservations) {
        const existing = state.get("reservations", { id: reservation.reservation_id })
        state.put("reservations", {
          id: reservation.reservation_id,
          project_key,
          callsign: d.callsign,
          path_pattern: reservation.path_pattern,
          exclusive: d.exclusive ? 1 : 0,
          reason: d.reason,
          created_at: existing?.created_at ?? at,
          expires_at: d.expires_at.epochMillis,
          released_at: existing?.released_at ?? null
        })
      }
      return
    }
    case "file_renewed":
      for (const reservation of event.data.reservations) {
        state.patch("reservations", { id: reservation.reservation_id }, () => ({ expires_at: event.data.expires_at.epochMillis }))
      }
      return
    case "file_released":
      for (const reservation of event.data.reservations) {
        state.patch("reservations", { id: reservation.reservation_id }, () => ({ released_at: at }))
      }
      return
    case "cursor_moved":
      // A lower bound: commits after this reset move the cursor on without an event.
      return state.put("cursors", {
        id: null,
        project_key,
        consumer_id: event.data.consumer_id,
        position: event.data.to,
        updated_at: at
      })
    case "checkpoint_created": {
      const d = event.data
      return state.put("checkpoints", {
        id: d.checkpoint_id,
        project_key,
        mission_id: d.mission_id,
        sortie_id: d.sortie_id,
        callsign: d.callsign,
        trigger: d.trigger,
        progress_percent: d.progress_percent,
        summary: d.summary,
        context_data: json(d.context_data),
        created_at: at
      })
    }
  }
}

/** Whether the sortie exists and is not closed. */
const unclosed = (state: ProjectionState, id: string): boolean => {
  const row = state.get("sorties", { id })
  return row !== undefined && row.status !== "closed"
}

const addBlockers = (state: ProjectionState, id: string, delta: number): void =>
  state.patch("sorties", { id }, (row) => ({ unclosed_blockers: (row.unclosed_blockers as number) + delta }))

/** A sortie closes (completed or cancelled): the sorties it blocks have one unclosed blocker fewer. */
const closeSortie = (state: ProjectionState, id: string, change: Readonly<Record<string, Value>>): void => {
  if (!unclosed(state, id)) return
  state.patch("sorties", { id }, () => change)
  for (const dependent of state.blockedBy(id)) addBlockers(state, dependent, -1)
}
