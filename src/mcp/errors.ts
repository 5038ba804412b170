/**
 * What a failed tool call tells the agent: the error's tag, one line saying what happened and
 * what to do next, and the error's fields — as the tool result's structured content, with
 * `isError: true`. Domain errors, database failures and defects all end here: a tool call never
 * crashes the server.
 *
 * @module
 */
import { Cause, DateTime, Effect, Schema } from "effect"

/** The failure of every tool: `_tag`, `message` (what to do next) and the error's own fields. */
export const ToolError = Schema.Struct(
  { _tag: Schema.String, message: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)
export type ToolError = typeof ToolError.Type

const at = (time: unknown) => typeof time === "string" ? time : "?"

/** The error's fields as plain JSON: times (`DateTime`) as ISO-8601, like the tools' results. */
const plain = (value: unknown): unknown =>
  DateTime.isDateTime(value)
    ? DateTime.formatIso(value)
    : Array.isArray(value)
    ? value.map(plain)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).map(([key, field]) => [key, plain(field)]))
    : value

/** What to do next, per error tag (appended to the error's own message). */
const next: Record<string, (error: Record<string, unknown>) => string> = {
  LockHeld: () => "Try again after that, or call acquire_lock with wait.",
  LockTimeout: () => "Try again later, or message the holder.",
  LockNotHeld: () => "Your lease is gone (released or expired): acquire_lock again before touching what it protects.",
  ReservationConflict: (e) => {
    const conflicts = Array.isArray(e.conflicts) ? e.conflicts as Array<Record<string, unknown>> : []
    const until = conflicts.map((c) => `${String(c.holder)} until ${at(c.expires_at)}`).join(", ")
    return `Nothing was reserved. Work on other paths, ask the holder (${until}) with send_message, or retry after that.`
  },
  ReservationNotHeld: () => "Call reserve_paths for them instead.",
  SortieAlreadyClaimed: () => "Pick another one: claim_next_sortie or list_sorties.",
  InvalidTransition: () => "Check the sortie's current status with list_sorties.",
  SortieNotReady: () => "It waits on the sorties listed; claim one of ready_sorties instead.",
  DependencyCycle: () => "Nothing was written: the path shows the dependencies already in place.",
  InvalidInput: (e) => `Fix the argument "${String(e.field)}" and call again; nothing was written.`,
  PilotNotFound: () => "The pilot must call start_session first.",
  SortieNotFound: () => "Check the id with list_sorties.",
  MissionNotFound: () => "Check the mission id.",
  MessageNotFound: () => "Check the message id with fetch_inbox.",
  UnknownRecipient: () => "Recipients must have started a session; fleet_status lists the pilots. Nothing was sent.",
  NotARecipient: () => "Only a recipient can read or acknowledge a message; check fetch_inbox.",
  IdempotencyConflict: () => "That key belongs to another request: use a new idempotency_key. Nothing was written.",
  CallsignUnknown: () => ""
}

const line = (text: string) => text.replace(/\s+/g, " ").trim()

/** A tool failure from any typed error of the library (or a `SqlError`). */
export const toToolError = (error: unknown): ToolError => {
  if (typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string") {
    const tag = error._tag
    if (tag === "SqlError") {
      return {
        _tag: "DatabaseError",
        message: line(`The database failed (${(error as { message?: string }).message ?? "unknown error"}). Nothing was written by this call; retry it shortly.`)
      }
    }
    const fields = plain({ ...(error as object) }) as Record<string, unknown>
    const own = error instanceof Error ? error.message : String(fields.message ?? tag)
    const hint = next[tag]?.(fields) ?? ""
    return { ...fields, _tag: tag, message: line(`${own}. ${hint}`).replace(/\.\s*\.$/, ".").replace(/\. $/, ".") }
  }
  return internal(error)
}

const internal = (cause: unknown): ToolError => ({
  _tag: "InternalError",
  message: line(`The server hit an unexpected error (${cause instanceof Error ? cause.message : String(cause)}); report it, then retry.`)
})

/** The call needs the pilot's callsign, and none is known yet. */
export const callsignUnknown = (): ToolError => ({
  _tag: "CallsignUnknown",
  message: "No pilot yet: call start_session with your callsign first (or start the server with --callsign)."
})

/**
 * The handler's effect with every failure, and every defect, turned into a `ToolError`, so that
 * the MCP server always answers with a tool result.
 */
export const asTool = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, ToolError, R> =>
  effect.pipe(
    Effect.mapError(toToolError),
    Effect.catchAllDefect((defect) => Effect.fail(internal(defect))),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.fail(Cause.isFailType(cause) ? cause.error as ToolError : internal(Cause.squash(cause)))
    )
  )
