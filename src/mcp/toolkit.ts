/**
 * The MCP tools: one tool per command of the library, named in snake_case, with the services'
 * snake_case argument names. Every write takes an optional `idempotency_key` (see
 * `Idempotency.run`); every failure is a `ToolError` (see `errors.ts`).
 *
 * @module
 */
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import {
  Checkpoint,
  Checkpoints,
  FleetProject,
  Idempotency,
  Lock,
  Locks,
  Message,
  MessageRecipient,
  Messages,
  Missions,
  Pilot,
  Pilots,
  Reservation,
  ReservationConflictEntry,
  Reservations,
  Sortie,
  SortieDependency,
  Sorties,
} from "../index.js"
import { asTool, callsignUnknown, ToolError } from "./errors.js"
import { PilotSession } from "./session.js"

// ---------------------------------------------------------------------------------------------
// Argument and result schemas. Descriptions are short on purpose: every word is in the agent's
// context for the whole session. The services validate values (InvalidInput names the field).
// ---------------------------------------------------------------------------------------------

const described = <S extends Schema.Schema.Any>(schema: S, description: string) => schema.annotations({ description })
const Str = (description: string) => described(Schema.String, description)
const Int = (description: string) => described(Schema.Int, description)
const Bool = (description: string) => described(Schema.Boolean, description)
const Strings = (description: string) => described(Schema.Array(Schema.String), description)

const IdempotencyKey = Schema.optional(Str("Retry-safe key: a repeated call with it applies once"))
const Ttl = (fallback: string) => Schema.optional(Str(`Duration, e.g. "10 minutes" (default ${fallback})`))
const Paths = Strings("Path globs relative to the project root, e.g. src/auth/**")

const Replayed = { replayed: Schema.optional(Schema.Boolean) }

/** One inbox entry as tools and the inbox resource return it. */
export const InboxEntry = Schema.Struct({ message: Message.json, read_at: Schema.NullOr(Schema.DateTimeUtc), acked_at: Schema.NullOr(Schema.DateTimeUtc) })
const SentMessage = Schema.Struct({ message: Message.json, recipients: Schema.Array(Schema.String) })
const SortieResult = Schema.Struct({ sortie: Sortie.json })
const SkippedSortie = Schema.Struct({ sortie_id: Schema.String, title: Schema.String, conflicts: Schema.Array(ReservationConflictEntry) })
const NextSortie = Schema.Struct({
  sortie: Schema.NullOr(Sortie.json),
  /** With reserve_files: the reservations taken for the sortie's files, and the sorties passed over. */
  reservations: Schema.optional(Schema.Array(Reservation.json)),
  skipped: Schema.optional(Schema.Array(SkippedSortie))
})
const DependencyResult = Schema.Struct({ dependency: SortieDependency.json })
const LockResult = Schema.Struct({ lock: Lock.json })
const ReservationsResult = Schema.Struct({ reservations: Schema.Array(Reservation.json) })
const ReceiptResult = Schema.Struct({ receipt: MessageRecipient.json })
const PilotResult = Schema.Struct({ pilot: Pilot.json })
const CheckpointResult = Schema.Struct({ checkpoint: Checkpoint.json })
const Session = Schema.Struct({
  pilot: Pilot.json,
  inbox: Schema.Array(InboxEntry),
  reservations: Schema.Array(Reservation.json),
  locks: Schema.Array(Lock.json),
  sorties: Schema.Array(Sortie.json),
  ready: Schema.Array(Sortie.json)
})
const SortieCounts = Schema.Struct({ open: Schema.Number, in_progress: Schema.Number, blocked: Schema.Number, closed: Schema.Number })
const Status = Schema.Struct({
  pilots: Schema.Array(Schema.Struct({ callsign: Schema.String, last_active_at: Schema.DateTimeUtc, active: Schema.Boolean })),
  locks: Schema.Array(Lock.json),
  reservations: Schema.Array(Reservation.json),
  sorties: SortieCounts
})
const Progress = Schema.Struct({ mission_id: Schema.String, total: Schema.Number, by_status: SortieCounts, percent: Schema.Number })

/** A write tool's success: the command's result, and `replayed` when an idempotency key replayed it. */
const withReplayed = <F extends Schema.Struct.Fields>(schema: Schema.Struct<F>) => Schema.Struct({ ...schema.fields, ...Replayed })

// Annotations, set on every tool: a local database (never open-world).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTool = Tool.Tool<string, any, any>
const read = <T extends AnyTool>(tool: T): T =>
  tool.annotate(Tool.Readonly, true).annotate(Tool.Destructive, false).annotate(Tool.Idempotent, true).annotate(Tool.OpenWorld, false) as T
const write = <T extends AnyTool>(tool: T, options: { readonly idempotent: boolean; readonly destructive: boolean }): T =>
  tool.annotate(Tool.Readonly, false).annotate(Tool.Destructive, options.destructive)
    .annotate(Tool.Idempotent, options.idempotent).annotate(Tool.OpenWorld, false) as T

const additive = { idempotent: false, destructive: false } as const
const setOnce = { idempotent: true, destructive: false } as const
const letGo = { idempotent: true, destructive: true } as const

// ---------------------------------------------------------------------------------------------
// The tools
// ---------------------------------------------------------------------------------------------

const tools = {
  start_session: write(Tool.make("start_session", {
    description: "Register as a pilot (or re-register) and get your unread inbox, reservations, locks, claimed sorties and ready work in one call; call it first.",
    parameters: {
      callsign: Schema.optional(Str("Your pilot name (default: the server's --callsign)")),
      program: Schema.optional(Str("e.g. claude-code")),
      model: Schema.optional(Str("e.g. opus")),
      task_description: Schema.optional(Str("What you are working on")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(Session),
    failure: ToolError
  }), setOnce),
  fleet_status: read(Tool.make("fleet_status", {
    description: "Overview of the project: pilots with liveness, active locks and reservations, sortie counts by status.",
    success: Status,
    failure: ToolError
  })),
  send_message: write(Tool.make("send_message", {
    description: "Send a message to one or more pilots (by callsign).",
    parameters: {
      to: Strings("Recipient callsigns"),
      subject: Str("Subject"),
      body: Str("Body"),
      thread_id: Schema.optional(Str("Join this thread")),
      importance: Schema.optional(described(Schema.Literal("low", "normal", "high", "urgent"), "Default normal")),
      ack_required: Schema.optional(Bool("Ask recipients to acknowledge")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(SentMessage),
    failure: ToolError
  }), additive),
  reply_message: write(Tool.make("reply_message", {
    description: "Reply to a message in its thread (to its sender unless `to` is given).",
    parameters: {
      message_id: Int("The message to reply to"),
      body: Str("Body"),
      to: Schema.optional(Strings("Recipient callsigns")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(SentMessage),
    failure: ToolError
  }), additive),
  fetch_inbox: read(Tool.make("fetch_inbox", {
    description: "Your messages, unread first; reading does not mark them read.",
    parameters: {
      unread_only: Schema.optional(Bool("Only unread")),
      urgent_only: Schema.optional(Bool("Only high and urgent")),
      limit: Schema.optional(Int("At most this many (default 20)"))
    },
    success: Schema.Struct({ messages: Schema.Array(InboxEntry) }),
    failure: ToolError
  })),
  acknowledge_message: write(Tool.make("acknowledge_message", {
    description: "Acknowledge a message you received (also marks it read).",
    parameters: { message_id: Int("Message id"), idempotency_key: IdempotencyKey },
    success: withReplayed(ReceiptResult),
    failure: ToolError
  }), setOnce),
  mark_message_read: write(Tool.make("mark_message_read", {
    description: "Mark a message you received as read.",
    parameters: { message_id: Int("Message id"), idempotency_key: IdempotencyKey },
    success: withReplayed(ReceiptResult),
    failure: ToolError
  }), setOnce),
  fetch_thread: read(Tool.make("fetch_thread", {
    description: "Every message of a thread, oldest first.",
    parameters: { thread_id: Str("Thread id") },
    success: Schema.Struct({ messages: Schema.Array(Message) }),
    failure: ToolError
  })),
  reserve_paths: write(Tool.make("reserve_paths", {
    description: "Reserve files before editing them: all paths or none; a conflict names the holder.",
    parameters: {
      paths: Paths,
      exclusive: Schema.optional(Bool("Default true")),
      reason: Schema.optional(Str("Shown to pilots who run into it")),
      ttl: Ttl("30 minutes"),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(ReservationsResult),
    failure: ToolError
  }), additive),
  renew_paths: write(Tool.make("renew_paths", {
    description: "Extend your reservations (all of them, or these paths) to now + ttl.",
    parameters: { paths: Schema.optional(Paths), ttl: Ttl("30 minutes"), idempotency_key: IdempotencyKey },
    success: withReplayed(ReservationsResult),
    failure: ToolError
  }), additive),
  release_paths: write(Tool.make("release_paths", {
    description: "Release your reservations (all of them, or these paths) when done editing.",
    parameters: { paths: Schema.optional(Paths), idempotency_key: IdempotencyKey },
    success: withReplayed(ReservationsResult),
    failure: ToolError
  }), letGo),
  check_paths: read(Tool.make("check_paths", {
    description: "Who would conflict if you reserved these paths (reserves nothing).",
    parameters: { paths: Paths, exclusive: Schema.optional(Bool("Default true")) },
    success: Schema.Struct({ conflicts: Schema.Array(ReservationConflictEntry) }),
    failure: ToolError
  })),
  acquire_lock: write(Tool.make("acquire_lock", {
    description: "Take a named lock (e.g. deploy) for a while; optionally wait for it.",
    parameters: {
      key: Str("Lock name"),
      ttl: Ttl("5 minutes"),
      wait: Schema.optional(Str("Wait up to this long, e.g. \"30 seconds\"")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(LockResult),
    failure: ToolError
  }), additive),
  extend_lock: write(Tool.make("extend_lock", {
    description: "Extend a lock you hold to now + ttl.",
    parameters: { key: Str("Lock name"), fence: Int("Fence from acquire_lock"), ttl: Ttl("5 minutes"), idempotency_key: IdempotencyKey },
    success: withReplayed(LockResult),
    failure: ToolError
  }), additive),
  release_lock: write(Tool.make("release_lock", {
    description: "Release a lock you hold.",
    parameters: { key: Str("Lock name"), fence: Int("Fence from acquire_lock"), idempotency_key: IdempotencyKey },
    success: withReplayed(LockResult),
    failure: ToolError
  }), letGo),
  list_sorties: read(Tool.make("list_sorties", {
    description: "Sorties (units of work) in claim order, filtered by status, mission or assignee.",
    parameters: {
      status: Schema.optional(described(Schema.Literal("open", "in_progress", "blocked", "closed"), "Status")),
      mission_id: Schema.optional(Str("Mission id")),
      assigned_to: Schema.optional(Str("Callsign"))
    },
    success: Schema.Struct({ sorties: Schema.Array(Sortie) }),
    failure: ToolError
  })),
  claim_sortie: write(Tool.make("claim_sortie", {
    description: "Claim this open sortie for yourself.",
    parameters: { id: Str("Sortie id"), idempotency_key: IdempotencyKey },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), setOnce),
  claim_next_sortie: write(Tool.make("claim_next_sortie", {
    description: "Claim the most urgent ready sortie (sortie is null when none is ready). With reserve_files, only one whose files are free, reserving them for you; skipped lists who holds the others.",
    parameters: {
      mission_id: Schema.optional(Str("Only from this mission")),
      reserve_files: Schema.optional(Bool("Also reserve its files exclusively")),
      ttl: Ttl("30 minutes"),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(NextSortie),
    failure: ToolError
  }), additive),
  ready_sorties: read(Tool.make("ready_sorties", {
    description: "Sorties ready to claim (open, unassigned, blockers closed), most urgent first.",
    parameters: { mission_id: Schema.optional(Str("Only from this mission")), limit: Schema.optional(Int("At most (default 20)")) },
    success: Schema.Struct({ sorties: Schema.Array(Sortie) }),
    failure: ToolError
  })),
  add_dependency: write(Tool.make("add_dependency", {
    description: "Record that a sortie depends on another: blocks (default; it waits until that one closes) or related.",
    parameters: {
      sortie_id: Str("The dependent sortie"),
      depends_on_id: Str("The sortie it depends on"),
      kind: Schema.optional(described(Schema.Literal("blocks", "related"), "Default blocks")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(DependencyResult),
    failure: ToolError
  }), setOnce),
  complete_sortie: write(Tool.make("complete_sortie", {
    description: "Mark your in-progress sortie done (final).",
    parameters: { id: Str("Sortie id"), idempotency_key: IdempotencyKey },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), letGo),
  block_sortie: write(Tool.make("block_sortie", {
    description: "Mark your sortie blocked, with the reason.",
    parameters: { id: Str("Sortie id"), reason: Str("What blocks it"), idempotency_key: IdempotencyKey },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), setOnce),
  unblock_sortie: write(Tool.make("unblock_sortie", {
    description: "Resume your blocked sortie.",
    parameters: { id: Str("Sortie id"), idempotency_key: IdempotencyKey },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), setOnce),
  release_sortie: write(Tool.make("release_sortie", {
    description: "Give your sortie back (open and unassigned again).",
    parameters: { id: Str("Sortie id"), idempotency_key: IdempotencyKey },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), letGo),
  create_sortie: write(Tool.make("create_sortie", {
    description: "Create an open sortie (a unit of work) for any pilot to claim.",
    parameters: {
      title: Str("Title"),
      description: Schema.optional(Str("Details")),
      mission_id: Schema.optional(Str("Mission id")),
      priority: Schema.optional(Int("0 (most urgent) to 4; default 1")),
      files: Schema.optional(Strings("Path globs it will touch")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(SortieResult),
    failure: ToolError
  }), additive),
  mission_progress: read(Tool.make("mission_progress", {
    description: "A mission's sortie counts by status and percent done.",
    parameters: { mission_id: Str("Mission id") },
    success: Progress,
    failure: ToolError
  })),
  save_checkpoint: write(Tool.make("save_checkpoint", {
    description: "Save your progress so you (or another pilot) can resume after losing context.",
    parameters: {
      summary: Schema.optional(Str("Where you are and what is next")),
      sortie_id: Schema.optional(Str("Sortie id")),
      mission_id: Schema.optional(Str("Mission id")),
      progress_percent: Schema.optional(Int("0 to 100")),
      context_data: Schema.optional(described(Schema.Unknown, "Any JSON")),
      trigger: Schema.optional(described(Schema.Literal("auto", "manual", "error"), "Default manual")),
      idempotency_key: IdempotencyKey
    },
    success: withReplayed(CheckpointResult),
    failure: ToolError
  }), additive),
  latest_checkpoint: read(Tool.make("latest_checkpoint", {
    description: "The newest checkpoint of a sortie, a mission or a pilot (default: yours).",
    parameters: {
      sortie_id: Schema.optional(Str("Sortie id")),
      mission_id: Schema.optional(Str("Mission id")),
      callsign: Schema.optional(Str("Pilot"))
    },
    success: Schema.Struct({ checkpoint: Schema.NullOr(Checkpoint) }),
    failure: ToolError
  })),
  heartbeat: write(Tool.make("heartbeat", {
    description: "Tell the fleet you are alive (call every few minutes while working).",
    parameters: { idempotency_key: IdempotencyKey },
    success: withReplayed(PilotResult),
    failure: ToolError
  }), setOnce)
} as const

/** Every tool, by name. */
export const allTools = tools

/** The toolkit of every tool (`--tools full`). */
export const FleetToolkit = Toolkit.make(...Object.values(tools))
export type FleetToolkit = typeof FleetToolkit

/** The names of the tools, in the order they are listed. */
export type ToolName = keyof typeof tools

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/** How far ahead `start_session` looks for ready sorties, and how long a pilot counts as alive. */
const READY_LIMIT = 5
const ALIVE_WITHIN = "5 minutes"

const stripKey = <P extends { readonly idempotency_key?: string | undefined }>(params: P): Omit<P, "idempotency_key"> => {
  const { idempotency_key: _, ...input } = params
  return input
}

/** The handlers of every tool, built on the library's services and the session's pilot. */
export const handlers = Effect.gen(function*() {
  const session = yield* PilotSession
  const pilots = yield* Pilots
  const messages = yield* Messages
  const reservations = yield* Reservations
  const locks = yield* Locks
  const sorties = yield* Sorties
  const missions = yield* Missions
  const checkpoints = yield* Checkpoints
  const context = yield* Effect.context<SqlClient.SqlClient | FleetProject>()

  /** Run a write command under the call's idempotency key (if any), scoped to `callsign`. */
  const idempotent = <F extends Schema.Struct.Fields, E>(
    command: string,
    callsign: string | undefined,
    params: { readonly idempotency_key?: string | undefined },
    result: Schema.Struct<F>,
    effect: Effect.Effect<Schema.Struct.Type<F>, E>
  ) =>
    params.idempotency_key === undefined
      ? effect
      : Effect.map(
        Idempotency.run(
          { key: params.idempotency_key, command, callsign, input: stripKey(params), result: result as unknown as Schema.Schema<Schema.Struct.Type<F>, unknown> },
          effect
        ).pipe(Effect.provide(context)),
        (outcome) => ({ ...(outcome.value as object), replayed: outcome.replayed }) as Schema.Struct.Type<F> & { readonly replayed?: boolean }
      )

  /** A write tool acting as the session's pilot. */
  const asPilot = <A, E>(use: (callsign: string) => Effect.Effect<A, E>) => asTool(Effect.flatMap(session.require, use))

  const activeLease = (key: string, fence: number, callsign: string) =>
    Effect.map(locks.current(key), (current) => ({
      // An unknown id makes the service answer LockNotHeld for a lease that is gone.
      id: Option.match(current, { onNone: () => 0, onSome: (lock) => lock.id }),
      lock_key: key,
      holder_id: callsign,
      fence
    }))

  return FleetToolkit.of({
    start_session: (params) =>
      asTool(Effect.gen(function*() {
        const callsign = params.callsign ?? Option.getOrUndefined(yield* session.current)
        if (callsign === undefined) return yield* Effect.fail(callsignUnknown())
        const { idempotency_key: _, callsign: __, ...profile } = params
        const started = yield* idempotent("start_session", callsign, params, Session, Effect.gen(function*() {
          const pilot = yield* pilots.register({ callsign, ...profile })
          return {
            pilot,
            inbox: yield* messages.inbox(callsign, { unreadOnly: true, limit: 20 }),
            reservations: yield* reservations.active({ callsign }),
            locks: (yield* locks.list()).filter((lock) => lock.holder_id === callsign),
            sorties: (yield* sorties.list({ assigned_to: callsign })).filter((s) => s.status !== "closed"),
            ready: yield* sorties.ready({ limit: READY_LIMIT })
          }
        }))
        yield* session.set(callsign)
        return started
      })),
    fleet_status: () =>
      asTool(Effect.gen(function*() {
        const all = yield* pilots.list()
        const alive = new Set((yield* pilots.list({ activeWithin: ALIVE_WITHIN })).map((p) => p.callsign))
        const counts = { open: 0, in_progress: 0, blocked: 0, closed: 0 }
        for (const sortie of yield* sorties.list()) counts[sortie.status]++
        return {
          pilots: all.map((p) => ({ callsign: p.callsign, last_active_at: p.last_active_at, active: alive.has(p.callsign) })),
          locks: yield* locks.list(),
          reservations: yield* reservations.active(),
          sorties: counts
        }
      })),
    send_message: (params) =>
      asPilot((from) =>
        idempotent("send_message", from, params, SentMessage, messages.send({ from, ...stripKey(params) }))
      ),
    reply_message: (params) =>
      asPilot((from) => {
        const { message_id, ...rest } = stripKey(params)
        return idempotent("reply_message", from, params, SentMessage, messages.reply(message_id, { from, ...rest }))
      }),
    fetch_inbox: (params) =>
      asPilot((callsign) =>
        Effect.map(
          messages.inbox(callsign, { unreadOnly: params.unread_only, urgentOnly: params.urgent_only, limit: params.limit ?? 20 }),
          (entries) => ({ messages: entries })
        )
      ),
    acknowledge_message: (params) =>
      asPilot((callsign) =>
        idempotent("acknowledge_message", callsign, params, ReceiptResult, Effect.map(messages.ack(params.message_id, callsign), (receipt) => ({ receipt })))
      ),
    mark_message_read: (params) =>
      asPilot((callsign) =>
        idempotent("mark_message_read", callsign, params, ReceiptResult, Effect.map(messages.markRead(params.message_id, callsign), (receipt) => ({ receipt })))
      ),
    fetch_thread: (params) => asTool(Effect.map(messages.thread(params.thread_id), (list) => ({ messages: list }))),
    reserve_paths: (params) =>
      asPilot((callsign) =>
        idempotent(
          "reserve_paths",
          callsign,
          params,
          ReservationsResult,
          Effect.map(
            reservations.reserve({ callsign, paths: params.paths, exclusive: params.exclusive, reason: params.reason, ttl: params.ttl ?? "30 minutes" }),
            (list) => ({ reservations: list })
          )
        )
      ),
    renew_paths: (params) =>
      asPilot((callsign) =>
        idempotent(
          "renew_paths",
          callsign,
          params,
          ReservationsResult,
          Effect.map(reservations.renew({ callsign, paths: params.paths, ttl: params.ttl ?? "30 minutes" }), (list) => ({ reservations: list }))
        )
      ),
    release_paths: (params) =>
      asPilot((callsign) =>
        idempotent(
          "release_paths",
          callsign,
          params,
          ReservationsResult,
          Effect.map(reservations.release({ callsign, paths: params.paths }), (list) => ({ reservations: list }))
        )
      ),
    check_paths: (params) =>
      asPilot((callsign) =>
        Effect.map(reservations.conflicts({ callsign, paths: params.paths, exclusive: params.exclusive }), (conflicts) => ({ conflicts }))
      ),
    acquire_lock: (params) =>
      asPilot((holder) =>
        idempotent(
          "acquire_lock",
          holder,
          params,
          LockResult,
          Effect.map(locks.acquire(params.key, { holder, ttl: params.ttl ?? "5 minutes", wait: params.wait }), (lock) => ({ lock }))
        )
      ),
    extend_lock: (params) =>
      asPilot((holder) =>
        idempotent(
          "extend_lock",
          holder,
          params,
          LockResult,
          Effect.flatMap(activeLease(params.key, params.fence, holder), (lease) =>
            Effect.map(locks.extend(lease, params.ttl ?? "5 minutes"), (lock) => ({ lock })))
        )
      ),
    release_lock: (params) =>
      asPilot((holder) =>
        idempotent(
          "release_lock",
          holder,
          params,
          LockResult,
          Effect.flatMap(activeLease(params.key, params.fence, holder), (lease) => Effect.map(locks.release(lease), (lock) => ({ lock })))
        )
      ),
    list_sorties: (params) => asTool(Effect.map(sorties.list(params), (list) => ({ sorties: list }))),
    claim_sortie: (params) =>
      asPilot((callsign) =>
        idempotent("claim_sortie", callsign, params, SortieResult, Effect.map(sorties.claim(params.id, callsign), (sortie) => ({ sortie })))
      ),
    claim_next_sortie: (params) =>
      asPilot((callsign) =>
        idempotent(
          "claim_next_sortie",
          callsign,
          params,
          NextSortie,
          params.reserve_files === true
            ? sorties.claimNext(callsign, { mission_id: params.mission_id, reserveFiles: true, ttl: params.ttl ?? "30 minutes" })
            : Effect.map(sorties.claimNext(callsign, { mission_id: params.mission_id }), (next) => ({ sortie: Option.getOrNull(next) }))
        )
      ),
    ready_sorties: (params) =>
      asTool(Effect.map(sorties.ready({ mission_id: params.mission_id, limit: params.limit ?? 20 }), (list) => ({ sorties: list }))),
    add_dependency: (params) =>
      asTool(Effect.flatMap(session.current, (callsign) =>
        idempotent(
          "add_dependency",
          Option.getOrUndefined(callsign),
          params,
          DependencyResult,
          Effect.map(sorties.addDependency(params.sortie_id, params.depends_on_id, { kind: params.kind }), (dependency) => ({ dependency }))
        ))),
    complete_sortie: (params) =>
      asPilot((callsign) =>
        idempotent("complete_sortie", callsign, params, SortieResult, Effect.map(sorties.complete(params.id, { callsign }), (sortie) => ({ sortie })))
      ),
    block_sortie: (params) =>
      asPilot((callsign) =>
        idempotent(
          "block_sortie",
          callsign,
          params,
          SortieResult,
          Effect.map(sorties.block(params.id, params.reason, { callsign }), (sortie) => ({ sortie }))
        )
      ),
    unblock_sortie: (params) =>
      asPilot((callsign) =>
        idempotent("unblock_sortie", callsign, params, SortieResult, Effect.map(sorties.unblock(params.id, { callsign }), (sortie) => ({ sortie })))
      ),
    release_sortie: (params) =>
      asPilot((callsign) =>
        idempotent("release_sortie", callsign, params, SortieResult, Effect.map(sorties.release(params.id, { callsign }), (sortie) => ({ sortie })))
      ),
    create_sortie: (params) =>
      asTool(Effect.flatMap(session.current, (callsign) =>
        idempotent(
          "create_sortie",
          Option.getOrUndefined(callsign),
          params,
          SortieResult,
          Effect.map(sorties.create(stripKey(params)), (sortie) => ({ sortie }))
        ))),
    mission_progress: (params) => asTool(missions.progress(params.mission_id)),
    save_checkpoint: (params) =>
      asPilot((callsign) => {
        const { context_data, trigger, ...rest } = stripKey(params)
        return idempotent(
          "save_checkpoint",
          callsign,
          params,
          CheckpointResult,
          Effect.map(
            checkpoints.create({
              callsign,
              trigger: trigger ?? "manual",
              ...rest,
              ...(context_data === undefined ? {} : { context_data: context_data as Schema.Schema.Type<typeof Schema.Unknown> as never })
            }),
            (checkpoint) => ({ checkpoint })
          )
        )
      }),
    latest_checkpoint: (params) =>
      asTool(Effect.gen(function*() {
        const filtered = params.sortie_id !== undefined || params.mission_id !== undefined || params.callsign !== undefined
        const callsign = params.callsign ?? (filtered ? undefined : Option.getOrUndefined(yield* session.current))
        const latest = yield* checkpoints.latest({ ...params, callsign })
        return { checkpoint: Option.getOrNull(latest) }
      })),
    heartbeat: (params) =>
      asPilot((callsign) => idempotent("heartbeat", callsign, params, PilotResult, Effect.map(pilots.heartbeat(callsign), (pilot) => ({ pilot }))))
  })
})
