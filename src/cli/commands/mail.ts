/**
 * Mail verbs: `fleet-db send`, `reply`, `ack` and `read` (mark read).
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import type { SentMessage } from "../../index.js"
import { Message, MessageRecipient, Messages } from "../../index.js"
import { runAs, writeOptions, verb } from "../verb.js"

const SentResult = Schema.Struct({ message: Message, recipients: Schema.Array(Schema.String) })
const ReceiptResult = Schema.Struct({ receipt: MessageRecipient })

const sentText = (verb: string) => ({ message, recipients }: SentMessage): ReadonlyArray<string> => [
  `${verb} message ${message.id} to ${recipients.join(", ")} (thread ${message.thread_id})`
]

const body = Options.text("body").pipe(Options.withDescription("The message text"))
const messageId = Args.integer({ name: "MESSAGE_ID" }).pipe(Args.withDescription("The message's id (see `fleet-db inbox`)"))

/** `fleet-db send TO… --subject S --body B` */
export const send = Command.make("send", {
  ...writeOptions,
  to: Args.text({ name: "TO" }).pipe(Args.withDescription("The recipients' callsigns"), Args.atLeast(1)),
  subject: Options.text("subject").pipe(Options.withDescription("The subject line")),
  body,
  importance: Options.choice("importance", ["low", "normal", "high", "urgent"]).pipe(
    Options.withDescription("How urgent it is (default normal)"),
    Options.optional
  ),
  ackRequired: Options.boolean("ack-required").pipe(Options.withDescription("Ask each recipient to acknowledge it")),
  thread: Options.text("thread").pipe(Options.withDescription("Join this thread id (default: start a new thread)"), Options.optional)
}, (options) =>
  runAs(options, (from) => {
    const input = {
      from,
      to: options.to,
      subject: options.subject,
      body: options.body,
      importance: Option.getOrUndefined(options.importance),
      ack_required: options.ackRequired,
      thread_id: Option.getOrUndefined(options.thread)
    }
    return verb({
      command: "Messages.send",
      callsign: from,
      input,
      result: SentResult,
      run: Effect.flatMap(Messages, (messages) => messages.send(input)),
      text: sentText("sent")
    })
  })).pipe(Command.withDescription("Send a message to registered pilots"))

/** `fleet-db reply MESSAGE_ID --body B` */
export const reply = Command.make("reply", {
  ...writeOptions,
  messageId,
  body,
  subject: Options.text("subject").pipe(Options.withDescription("The subject (default: Re: and the original's)"), Options.optional),
  to: Options.text("to").pipe(
    Options.withDescription("A recipient instead of the original sender (repeat for several)"),
    Options.repeated
  )
}, (options) =>
  runAs(options, (from) => {
    const input = {
      from,
      body: options.body,
      subject: Option.getOrUndefined(options.subject),
      to: options.to.length === 0 ? undefined : options.to
    }
    return verb({
      command: "Messages.reply",
      callsign: from,
      input: { message_id: options.messageId, ...input },
      result: SentResult,
      run: Effect.flatMap(Messages, (messages) => messages.reply(options.messageId, input)),
      text: sentText("replied with")
    })
  })).pipe(Command.withDescription("Reply to a message in its thread (to its sender unless --to is given)"))

/** `fleet-db ack MESSAGE_ID` */
export const ack = Command.make("ack", { ...writeOptions, messageId }, (options) =>
  runAs(options, (callsign) => verb({
    command: "Messages.ack",
    callsign,
    input: { message_id: options.messageId },
    result: ReceiptResult,
    run: Effect.map(Effect.flatMap(Messages, (messages) => messages.ack(options.messageId, callsign)), (receipt) => ({ receipt })),
    text: ({ receipt }) => [`${receipt.callsign} acknowledged message ${receipt.message_id}`]
  }))).pipe(Command.withDescription("Acknowledge a message addressed to the pilot (marks it read too)"))

/** `fleet-db read MESSAGE_ID` */
export const read = Command.make("read", { ...writeOptions, messageId }, (options) =>
  runAs(options, (callsign) => verb({
    command: "Messages.markRead",
    callsign,
    input: { message_id: options.messageId },
    result: ReceiptResult,
    run: Effect.map(Effect.flatMap(Messages, (messages) => messages.markRead(options.messageId, callsign)), (receipt) => ({ receipt })),
    text: ({ receipt }) => [`${receipt.callsign} read message ${receipt.message_id}`]
  }))).pipe(Command.withDescription("Mark a message addressed to the pilot read"))
