/**
 * Messages: mail between the pilots of a project, with threads, importance, and set-once read
 * and acknowledgement receipts per recipient.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { DateTime } from "effect"
import { Context, Effect, Layer, Schema } from "effect"
import type { InvalidInput, UndecodableRow } from "../errors.js"
import { MessageNotFound, NotARecipient, UnknownRecipient } from "../errors.js"
import { Callsign, Importance, MAX_BODY_CHARS, Text, ThreadId, Timestamp, Title } from "../schema/common.js"
import { bodyDigest } from "../schema/events.js"
import { idPrefix, makeId } from "../schema/ids.js"
import { Message, MessageRecipient } from "../schema/coordinationTables.js"
import type { CommandContext } from "./internal/command.js"
import { makeCommands } from "./internal/command.js"
import { decodeRow, decodeRows, found, recipientId } from "./internal/rows.js"
import { decodeInput } from "./internal/input.js"

/** At most this many distinct recipients per message. */
export const MAX_RECIPIENTS = 1_000

/** One callsign, or a non-empty array of callsigns (duplicates count once). */
export const Recipients = Schema.Union(
  Callsign,
  Schema.Array(Callsign).pipe(
    Schema.minItems(1, { message: () => "must name at least one recipient" }),
    Schema.maxItems(MAX_RECIPIENTS, { message: () => `must name at most ${MAX_RECIPIENTS} recipients` })
  )
)

/** A message body: 1 to `MAX_BODY_CHARS` (1 MiB) characters, without U+0000. */
export const MessageBody = Text({ min: 1, max: MAX_BODY_CHARS })

/** A message subject: 1 to 500 characters, without U+0000. */
export const MessageSubject = Title

/** Input of `Messages.send`. */
export const SendMessage = Schema.Struct({
  from: Callsign,
  to: Recipients,
  subject: MessageSubject,
  body: MessageBody,
  /** Join this thread; a new thread id (`thr_…`) is made when omitted. */
  thread_id: Schema.optional(ThreadId),
  /** Default `"normal"`. */
  importance: Schema.optional(Importance),
  /** Default `false`. */
  ack_required: Schema.optional(Schema.Boolean)
})
export type SendMessage = typeof SendMessage.Encoded

/** Input of `Messages.reply`. */
export const ReplyMessage = Schema.Struct({
  from: Callsign,
  body: MessageBody,
  /** Default: `"Re: "` + the original subject (not doubled). */
  subject: Schema.optional(MessageSubject),
  /** Default: the original sender. */
  to: Schema.optional(Recipients)
})
export type ReplyMessage = typeof ReplyMessage.Encoded

/** Options of `Messages.inbox`. */
export interface InboxOptions {
  /** Only messages this recipient has not read yet. */
  readonly unreadOnly?: boolean | undefined
  /** Only messages of importance `high` or `urgent`. */
  readonly urgentOnly?: boolean | undefined
  /** At most this many messages (default 100, at most 1000). */
  readonly limit?: number | undefined
}

/** Options of `Messages.pendingAcks`. */
export interface PendingAcksOptions {
  /** Only acknowledgements this recipient still owes. */
  readonly callsign?: string | undefined
  /** Only acknowledgements owed on messages from this sender. */
  readonly from?: string | undefined
  /** At most this many entries (default 100, at most 1000). */
  readonly limit?: number | undefined
}

/** Options of `Messages.threads`. */
export interface ThreadsOptions {
  /** At most this many threads (default 100, at most 1000). */
  readonly limit?: number | undefined
}

/** A thread at a glance: its size and receipts counted by the database. */
export interface ThreadSummary {
  readonly thread_id: string
  /** The subject of the thread's first message. */
  readonly subject: string
  /** Its senders and recipients, sorted. */
  readonly participants: ReadonlyArray<string>
  readonly messages: number
  /** Receipts not read yet (one per recipient of each message). */
  readonly unread: number
  /** Receipts of messages requiring an acknowledgement that is not given yet. */
  readonly unacked: number
  readonly last_message_id: number
  /** When its newest message was sent. */
  readonly last_at: DateTime.Utc
}

/** A sent message and its distinct recipients, in the order they were named. */
export interface SentMessage {
  readonly message: Message
  readonly recipients: ReadonlyArray<string>
}

/** A message as one recipient sees it, with that recipient's receipts. */
export interface InboxEntry {
  readonly message: Message
  readonly read_at: DateTime.Utc | null
  readonly acked_at: DateTime.Utc | null
}

/** A recipient that still owes an acknowledgement for a message that requires one. */
export interface PendingAck {
  readonly message: Message
  readonly callsign: string
  readonly read_at: DateTime.Utc | null
}

/**
 * The Messages service. A method that meets a stored row which does not decode into its model
 * (written by another tool) fails with `UndecodableRow` naming it.
 */
export interface MessagesShape {
  /**
   * Send a message. Every recipient must be a registered pilot of this project, else
   * `UnknownRecipient` lists all unknown ones and nothing is written. The sender need not be
   * registered. Appends `message_sent`.
   */
  readonly send: (input: SendMessage) => Effect.Effect<SentMessage, UnknownRecipient | InvalidInput | UndecodableRow | SqlError>
  /**
   * The messages addressed to `callsign`: unread first, then newest first (by id). A pure read:
   * it never marks anything read. A sender sees its own message only if it addressed itself.
   */
  readonly inbox: (callsign: string, options?: InboxOptions) => Effect.Effect<ReadonlyArray<InboxEntry>, InvalidInput | UndecodableRow | SqlError>
  /**
   * Mark the message read by this recipient. Set once: a repeat keeps and returns the first time.
   * Appends `message_read` only when `read_at` was unset.
   */
  readonly markRead: (
    message_id: number,
    callsign: string
  ) => Effect.Effect<MessageRecipient, MessageNotFound | NotARecipient | InvalidInput | UndecodableRow | SqlError>
  /**
   * Acknowledge the message (allowed whether or not it requires an ack). Implies read. Set once:
   * a repeat returns the first timestamps and appends nothing. Appends `message_acked` when
   * `acked_at` was unset, preceded by `message_read` when `read_at` was unset too.
   */
  readonly ack: (
    message_id: number,
    callsign: string
  ) => Effect.Effect<MessageRecipient, MessageNotFound | NotARecipient | InvalidInput | UndecodableRow | SqlError>
  /**
   * The threads with the newest messages, newest first (by their newest message's id), each with
   * its counts. Messages without a thread id (written by other tools) belong to no thread.
   */
  readonly threads: (options?: ThreadsOptions) => Effect.Effect<ReadonlyArray<ThreadSummary>, InvalidInput | UndecodableRow | SqlError>
  /** Every message of the thread, oldest first (ascending id); empty for an unknown thread. */
  readonly thread: (thread_id: string) => Effect.Effect<ReadonlyArray<Message>, InvalidInput | UndecodableRow | SqlError>
  /**
   * Reply to a message: joins its thread (a message without a thread starts a new one), inherits
   * its importance and `ack_required`, goes to the original sender unless `to` is given, and is
   * titled `"Re: <subject>"` unless `subject` is given. Appends `message_sent` with `reply_to`.
   */
  readonly reply: (
    message_id: number,
    input: ReplyMessage
  ) => Effect.Effect<SentMessage, MessageNotFound | UnknownRecipient | InvalidInput | UndecodableRow | SqlError>
  /**
   * Acknowledgements still owed: one entry per recipient that has not acked a message requiring
   * an ack, oldest message first.
   */
  readonly pendingAcks: (options?: PendingAcksOptions) => Effect.Effect<ReadonlyArray<PendingAck>, InvalidInput | UndecodableRow | SqlError>
}

/** The Messages service. */
export class Messages extends Context.Tag("@fleettools/db/Messages")<Messages, MessagesShape>() {}

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1_000

const Limit = Schema.Int.pipe(Schema.between(1, MAX_LIMIT, { message: () => `must be an integer from 1 to ${MAX_LIMIT}` }))
const InboxOptionsSchema = Schema.Struct({
  unreadOnly: Schema.optional(Schema.Boolean),
  urgentOnly: Schema.optional(Schema.Boolean),
  limit: Schema.optional(Limit)
})
const PendingAcksSchema = Schema.Struct({
  callsign: Schema.optional(Callsign),
  from: Schema.optional(Callsign),
  limit: Schema.optional(Limit)
})
const ThreadsOptionsSchema = Schema.Struct({ limit: Schema.optional(Limit) })
const ThreadCountsRow = Schema.Struct({
  thread_id: Schema.String,
  subject: Schema.String,
  messages: Schema.Number,
  unread: Schema.Number,
  unacked: Schema.Number,
  last_message_id: Schema.Int,
  last_at: Timestamp
})
const MessageIdInput = Schema.Int.pipe(Schema.positive({ message: () => "must be a positive integer" }))

const decodeSend = decodeInput(SendMessage)
const decodeReply = decodeInput(ReplyMessage)
const decodeInboxOptions = decodeInput(InboxOptionsSchema)
const decodePendingOptions = decodeInput(PendingAcksSchema)
const decodeCallsign = decodeInput(Callsign, "callsign")
const decodeMessageId = decodeInput(MessageIdInput, "message_id")
const decodeThreadId = decodeInput(ThreadId, "thread_id")
const decodeThreadsOptions = decodeInput(ThreadsOptionsSchema)
// A thread's counts come from its messages' rows: a bad one is blamed on the thread's newest message.
const decodeThreadCounts = decodeRows("messages", ThreadCountsRow, (row) => String(row.last_message_id))
const decodeMessage = decodeRow("messages", Message)
const decodeMessages = decodeRows("messages", Message)
const decodeRecipient = decodeRow("message_recipients", MessageRecipient, recipientId)
/** The recipient columns of a joined row (`r_*`), decoded as its `message_recipients` row. */
const recipientOf = (message_id: number, row: ReceiptRow) =>
  decodeRecipient({ message_id, callsign: row.r_callsign, read_at: row.r_read_at, acked_at: row.r_acked_at })

interface ReceiptRow {
  readonly r_callsign: string | null
  readonly r_read_at: number | null
  readonly r_acked_at: number | null
}

const distinct = (to: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  typeof to === "string" ? [to] : Array.from(new Set(to))

const reSubject = (subject: string) => /^re:/i.test(subject) ? subject : `Re: ${subject}`

// Rows written by other tools may leave the defaulted columns NULL.
const messageColumns = (sql: SqlClient.SqlClient) =>
  sql.literal(
    "m.id, m.project_key, m.from_callsign, m.subject, m.body, m.thread_id, " +
      "COALESCE(m.importance, 'normal') AS importance, COALESCE(m.ack_required, 0) AS ack_required, m.created_at"
  )

/**
 * The statement of `pendingAcks` (validated options). It walks the project's messages that ask
 * for acknowledgement (a partial index, migration 0006) and looks each one's receipts up by
 * message id, so it never scans `message_recipients`.
 */
export const pendingAcksStatement = (
  sql: SqlClient.SqlClient,
  projectKey: string,
  options: { readonly callsign?: string | undefined; readonly from?: string | undefined; readonly limit?: number | undefined }
) => {
  const where = [sql`m.project_key = ${projectKey}`, sql`m.ack_required = 1`, sql`r.acked_at IS NULL`]
  if (options.callsign !== undefined) where.push(sql`r.callsign = ${options.callsign}`)
  if (options.from !== undefined) where.push(sql`m.from_callsign = ${options.from}`)
  return sql<ReceiptRow & { readonly id: number }>`SELECT ${messageColumns(sql)}, r.callsign AS r_callsign,
      r.read_at AS r_read_at, r.acked_at AS r_acked_at
    FROM messages m JOIN message_recipients r ON r.message_id = m.id
    WHERE ${sql.and(where)}
    ORDER BY m.id, r.callsign
    LIMIT ${options.limit ?? DEFAULT_LIMIT}`
}

/** Build the Messages service (needs `SqlClient` and `FleetProject`). */
export const make = Effect.gen(function*() {
  const { command, query, sql } = yield* makeCommands

  const columns = messageColumns(sql)

  const insertMessage = (
    { emit, now, projectKey, sql }: CommandContext,
    input: {
      readonly from: string
      readonly recipients: ReadonlyArray<string>
      readonly subject: string
      readonly body: string
      readonly thread_id: string | undefined
      readonly importance: Importance
      readonly ack_required: boolean
      readonly reply_to: number | undefined
    }
  ) =>
    Effect.gen(function*() {
      const thread_id = input.thread_id ?? (yield* makeId(idPrefix.thread))
      const rows = yield* sql`INSERT INTO messages
          (project_key, from_callsign, subject, body, thread_id, importance, ack_required, created_at)
          VALUES (${projectKey}, ${input.from}, ${input.subject}, ${input.body}, ${thread_id}, ${input.importance},
                  ${input.ack_required ? 1 : 0}, ${now})
          RETURNING *`
      const message = yield* decodeMessage(rows[0])
      // One receipt per recipient that is a registered pilot, in the order given; a recipient
      // without one is unknown, and the command fails (nothing of it stays).
      const receipts = yield* sql<{ readonly callsign: string }>`INSERT INTO message_recipients (message_id, callsign)
          SELECT ${message.id}, v.column1 FROM (VALUES ${sql.csv(input.recipients.map((callsign) => sql`(${callsign})`))}) AS v
          WHERE EXISTS (SELECT 1 FROM pilots WHERE project_key = ${projectKey} AND callsign = v.column1)
          RETURNING callsign`
      if (receipts.length < input.recipients.length) {
        const registered = new Set(receipts.map((row) => row.callsign))
        return yield* new UnknownRecipient({ callsigns: input.recipients.filter((callsign) => !registered.has(callsign)) })
      }
      yield* emit("message_sent", {
        message_id: message.id,
        from: input.from,
        to: input.recipients,
        subject: input.subject,
        ...bodyDigest(input.body),
        thread_id,
        importance: input.importance,
        ack_required: input.ack_required,
        ...(input.reply_to === undefined ? {} : { reply_to: input.reply_to })
      })
      return { message, recipients: input.recipients } satisfies SentMessage
    })

  const send: MessagesShape["send"] = (raw) =>
    Effect.flatMap(decodeSend(raw), (input) =>
      command("Messages.send", (ctx) =>
        insertMessage(ctx, {
          from: input.from,
          recipients: distinct(input.to),
          subject: input.subject,
          body: input.body,
          thread_id: input.thread_id,
          importance: input.importance ?? "normal",
          ack_required: input.ack_required ?? false,
          reply_to: undefined
        })))

  const inbox: MessagesShape["inbox"] = (rawCallsign, rawOptions) =>
    Effect.flatMap(
      // Untyped callers may pass null: it means "no options".
      Effect.all([decodeCallsign(rawCallsign), decodeInboxOptions(rawOptions ?? {})]),
      ([callsign, options]) =>
        query("Messages.inbox", ({ projectKey, sql }) =>
          Effect.gen(function*() {
            const where = [sql`m.project_key = ${projectKey}`, sql`r.callsign = ${callsign}`]
            if (options.unreadOnly === true) where.push(sql`r.read_at IS NULL`)
            if (options.urgentOnly === true) where.push(sql`m.importance IN (${"high"}, ${"urgent"})`)
            const rows = yield* sql<ReceiptRow & { readonly id: number }>`SELECT ${columns}, r.callsign AS r_callsign,
                r.read_at AS r_read_at, r.acked_at AS r_acked_at
              FROM message_recipients r JOIN messages m ON m.id = r.message_id
              WHERE ${sql.and(where)}
              ORDER BY (r.read_at IS NULL) DESC, m.id DESC
              LIMIT ${options.limit ?? DEFAULT_LIMIT}`
            return yield* Effect.forEach(rows, (row) =>
              Effect.zipWith(decodeMessage(row), recipientOf(row.id, row), (message, receipt) => ({
                message,
                read_at: receipt.read_at,
                acked_at: receipt.acked_at
              })))
          })))

  /** The message (in this project) and this callsign's receipt row, inside the command. */
  const receipt = (
    { projectKey, sql }: CommandContext,
    message_id: number,
    callsign: string
  ) =>
    Effect.gen(function*() {
      const rows = yield* sql<ReceiptRow>`SELECT r.callsign AS r_callsign, r.read_at AS r_read_at, r.acked_at AS r_acked_at
          FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id AND r.callsign = ${callsign}
          WHERE m.project_key = ${projectKey} AND m.id = ${message_id}`
      if (rows.length === 0) return yield* new MessageNotFound({ id: message_id })
      const row = rows[0]!
      if (row.r_callsign === null) return yield* new NotARecipient({ message_id, callsign })
      return row
    })


  const markRead: MessagesShape["markRead"] = (rawId, rawCallsign) =>
    Effect.flatMap(
      Effect.all([decodeMessageId(rawId), decodeCallsign(rawCallsign)]),
      ([message_id, callsign]) =>
        command("Messages.markRead", (ctx) =>
          Effect.gen(function*() {
            const before = yield* receipt(ctx, message_id, callsign)
            if (before.r_read_at !== null) return yield* recipientOf(message_id, before)
            const rows = yield* ctx.sql`UPDATE message_recipients SET read_at = COALESCE(read_at, ${ctx.now})
                WHERE message_id = ${message_id} AND callsign = ${callsign} RETURNING *`
            yield* ctx.emit("message_read", { message_id, callsign })
            return yield* decodeRecipient(rows[0])
          })))

  const ack: MessagesShape["ack"] = (rawId, rawCallsign) =>
    Effect.flatMap(
      Effect.all([decodeMessageId(rawId), decodeCallsign(rawCallsign)]),
      ([message_id, callsign]) =>
        command("Messages.ack", (ctx) =>
          Effect.gen(function*() {
            const before = yield* receipt(ctx, message_id, callsign)
            if (before.r_acked_at !== null) return yield* recipientOf(message_id, before)
            const rows = yield* ctx.sql`UPDATE message_recipients
                SET read_at = COALESCE(read_at, ${ctx.now}), acked_at = COALESCE(acked_at, ${ctx.now})
                WHERE message_id = ${message_id} AND callsign = ${callsign} RETURNING *`
            if (before.r_read_at === null) yield* ctx.emit("message_read", { message_id, callsign })
            yield* ctx.emit("message_acked", { message_id, callsign })
            return yield* decodeRecipient(rows[0])
          })))

  const thread: MessagesShape["thread"] = (rawThreadId) =>
    Effect.flatMap(decodeThreadId(rawThreadId), (thread_id) =>
      query("Messages.thread", ({ projectKey, sql }) =>
        sql`SELECT ${columns} FROM messages m WHERE m.project_key = ${projectKey} AND m.thread_id = ${thread_id}
            ORDER BY m.id`.pipe(Effect.flatMap((rows) => decodeMessages(rows)))))

  const threads: MessagesShape["threads"] = (rawOptions) =>
    Effect.flatMap(decodeThreadsOptions(rawOptions ?? {}), (options) =>
      query("Messages.threads", ({ projectKey, sql }) =>
        Effect.gen(function*() {
          // The newest threads from the (project_key, thread_id) index; then each one's counts
          // through the same index: only `limit` rows come out, however long the history.
          const rows = yield* sql`WITH recent AS (
                SELECT thread_id, MAX(id) AS last_id FROM messages
                WHERE project_key = ${projectKey} AND thread_id IS NOT NULL
                GROUP BY thread_id ORDER BY last_id DESC LIMIT ${options.limit ?? DEFAULT_LIMIT})
              SELECT recent.thread_id AS thread_id, recent.last_id AS last_message_id,
                (SELECT m.subject FROM messages m WHERE m.project_key = ${projectKey} AND m.thread_id = recent.thread_id
                  ORDER BY m.id LIMIT 1) AS subject,
                (SELECT m.created_at FROM messages m WHERE m.id = recent.last_id) AS last_at,
                (SELECT COUNT(*) FROM messages m WHERE m.project_key = ${projectKey} AND m.thread_id = recent.thread_id) AS messages,
                (SELECT COUNT(*) FROM messages m JOIN message_recipients r ON r.message_id = m.id
                  WHERE m.project_key = ${projectKey} AND m.thread_id = recent.thread_id AND r.read_at IS NULL) AS unread,
                (SELECT COUNT(*) FROM messages m JOIN message_recipients r ON r.message_id = m.id
                  WHERE m.project_key = ${projectKey} AND m.thread_id = recent.thread_id
                    AND COALESCE(m.ack_required, 0) = 1 AND r.acked_at IS NULL) AS unacked
              FROM recent ORDER BY recent.last_id DESC`
          const summaries = yield* decodeThreadCounts(rows)
          if (summaries.length === 0) return []
          const ids = summaries.map((summary) => summary.thread_id)
          const people = yield* sql<{ readonly thread_id: string; readonly callsign: string }>`
              SELECT m.thread_id AS thread_id, m.from_callsign AS callsign FROM messages m
                WHERE m.project_key = ${projectKey} AND ${sql.in("m.thread_id", ids)}
              UNION
              SELECT m.thread_id AS thread_id, r.callsign AS callsign FROM messages m JOIN message_recipients r ON r.message_id = m.id
                WHERE m.project_key = ${projectKey} AND ${sql.in("m.thread_id", ids)}
              ORDER BY 1, 2`
          const participants = new Map<string, Array<string>>()
          for (const { callsign, thread_id } of people) {
            const list = participants.get(thread_id) ?? []
            list.push(callsign)
            participants.set(thread_id, list)
          }
          return summaries.map((summary) => ({ ...summary, participants: participants.get(summary.thread_id) ?? [] }))
        })))

  const reply: MessagesShape["reply"] = (rawId, raw) =>
    Effect.flatMap(
      Effect.all([decodeMessageId(rawId), decodeReply(raw)]),
      ([message_id, input]) =>
        command("Messages.reply", (ctx) =>
          Effect.gen(function*() {
            const rows = yield* ctx.sql`SELECT ${columns} FROM messages m
                WHERE m.project_key = ${ctx.projectKey} AND m.id = ${message_id}`
            const original = yield* found(decodeMessage, () => new MessageNotFound({ id: message_id }))(rows)
            return yield* insertMessage(ctx, {
              from: input.from,
              recipients: distinct(input.to ?? original.from_callsign),
              subject: input.subject ?? reSubject(original.subject),
              body: input.body,
              thread_id: original.thread_id ?? undefined,
              importance: original.importance,
              ack_required: original.ack_required,
              reply_to: original.id
            })
          })))

  const pendingAcks: MessagesShape["pendingAcks"] = (rawOptions) =>
    Effect.flatMap(decodePendingOptions(rawOptions ?? {}), (options) =>
      query("Messages.pendingAcks", ({ projectKey, sql }) =>
        Effect.gen(function*() {
          const rows = yield* pendingAcksStatement(sql, projectKey, options)
          return yield* Effect.forEach(rows, (row) =>
            Effect.zipWith(decodeMessage(row), recipientOf(row.id, row), (message, receipt) => ({
              message,
              callsign: receipt.callsign,
              read_at: receipt.read_at
            })))
        })))

  return Messages.of({ send, inbox, markRead, ack, threads, thread, reply, pendingAcks })
})

/** The Messages service, built on the `SqlClient` and `FleetProject` in context. */
export const layer = Layer.effect(Messages, make)
