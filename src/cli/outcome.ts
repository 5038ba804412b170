/**
 * How every failure becomes one line on stderr and an exit code (documented in the README's
 * "Shell verbs" section and in `fleet-db --help`):
 * - 1: the fleet refused the request (a conflict, a held lock, a claimed sortie, an invalid
 *   transition: the line names who holds what, until when), or the command found problems;
 * - 2: bad usage or input, which the user fixes by calling the command differently;
 * - 3: the database could not be opened (missing, unreachable, not a database…) or failed.
 *
 * @module
 */
import { HelpDoc, ValidationError } from "@effect/cli"
import { Cause, Option } from "effect"
import { DatabaseOpenError } from "../index.js"
import { CommandFailed, DatabaseMissing, ExitWith, Refused, UsageError } from "./errors.js"
import { refusalText } from "./refusal.js"

/** What to print and which exit code to use. */
export interface Outcome {
  readonly code: number
  /** One line for stderr, or none. */
  readonly message: Option.Option<string>
}

const docText = (doc: HelpDoc.HelpDoc): string =>
  // @effect/cli writes "a" before every type name ("is not a integer").
  // eslint-disable-next-line no-control-regex -- ANSI escapes (ESC) are what this matches
  HelpDoc.toAnsiText(doc).replace(/\u001b\[[0-9;]*m/g, "").replace(/\ba integer\b/g, "an integer")

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const openHint = (error: DatabaseOpenError): string => {
  switch (error.reason) {
    case "url":
      return "pass --url libsql://HOST, http(s)://HOST, ws(s)://HOST or file:PATH (or set FLEET_DB_URL)"
    case "unreachable":
      return "check that the server is running and that --url / FLEET_DB_URL is right"
    case "auth":
      return "check the server's auth token (FLEET_DB_AUTH_TOKEN)"
    case "directory":
      return "check that the directory exists and is writable"
    case "not-a-database":
      return "point --project / --url at a FleetTools database"
    case "project-key":
      return "unset FLEET_PROJECT_KEY (the database's own key is used), or set it to the key it names"
    case "read-only":
      return "open it once from a user that can write it, or without read-only mode"
    case "schema-too-new":
      return "use a newer fleet-db"
    case "migration":
    case "other":
      return "set FLEET_DB_DEBUG=1 for the full error"
  }
}

const helpHint = (argv: ReadonlyArray<string>, commands: ReadonlyArray<string>): string => {
  const command = argv.find((arg) => !arg.startsWith("-"))
  return command !== undefined && commands.includes(command)
    ? `run \`fleet-db ${command} --help\``
    : "run `fleet-db --help`"
}

const tagOf = (value: unknown): string | undefined =>
  typeof value === "object" && value !== null && "_tag" in value && typeof value._tag === "string"
    ? value._tag
    : undefined

const messageOf = (value: unknown): string =>
  value instanceof Error || (typeof value === "object" && value !== null && "message" in value)
    ? String((value as { message: unknown }).message)
    : String(value)

/** Exit codes (see the module documentation). */
export const ExitCode = { ok: 0, refused: 1, usage: 2, database: 3 } as const

// Domain errors a user provokes with their input (a bad --type, an unknown callsign, a key
// reused for another request): exit 2.
const inputErrors = new Set([
  "InvalidInput",
  "PilotNotFound",
  "MissionNotFound",
  "SortieNotFound",
  "MessageNotFound",
  "WorkOrderNotFound",
  "UnknownRecipient",
  "NotARecipient",
  "IdempotencyConflict"
])

// The fleet said no: someone else holds what the request needs, or the move is not allowed now.
const refusals = new Set([
  "LockHeld",
  "LockTimeout",
  "LockNotHeld",
  "SortieAlreadyClaimed",
  "InvalidTransition",
  "ReservationConflict",
  "ReservationNotHeld"
])

// The database itself failed (or cannot be written): exit 3.
const databaseFailures = new Set(["StatementTimeout", "ReadOnlyDatabase", "UndecodableRow", "FleetClosed"])

/**
 * The exit code and message for a failed command. `argv` are the user's arguments (without the
 * executable), to point at the right `--help`.
 */
export const outcomeOf = (
  cause: Cause.Cause<unknown>,
  argv: ReadonlyArray<string>,
  commands: ReadonlyArray<string>
): Outcome => {
  if (Cause.isInterruptedOnly(cause)) return { code: 130, message: Option.none() }
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) {
    const defect = Array.from(Cause.defects(cause))[0]
    return {
      code: 1,
      message: Option.some(`fleet-db: internal error: ${oneLine(messageOf(defect))} (set FLEET_DB_DEBUG=1 for details)`)
    }
  }
  const error = failure.value
  if (ValidationError.isValidationError(error)) {
    if (ValidationError.isHelpRequested(error)) return { code: 0, message: Option.none() }
    const text = oneLine(
      "error" in error ? docText(error.error) : "invalid command line"
    )
    return { code: ExitCode.usage, message: Option.some(`fleet-db: ${text.replace(/\.$/, "")}; ${helpHint(argv, commands)}`) }
  }
  if (error instanceof ExitWith) return { code: error.code, message: Option.none() }
  if (error instanceof UsageError) return { code: ExitCode.usage, message: Option.some(`fleet-db: ${oneLine(error.message)}`) }
  if (error instanceof CommandFailed) return { code: ExitCode.refused, message: Option.some(`fleet-db: ${oneLine(error.message)}`) }
  if (error instanceof Refused) return { code: ExitCode.refused, message: Option.some(`fleet-db: refused: ${oneLine(error.message)}`) }
  if (error instanceof DatabaseMissing) {
    return { code: ExitCode.database, message: Option.some(`fleet-db: ${oneLine(error.message)}`) }
  }
  if (error instanceof DatabaseOpenError) {
    // A URL that is not one is bad usage; everything else is a database that cannot be opened.
    return {
      code: error.reason === "url" ? ExitCode.usage : ExitCode.database,
      message: Option.some(`fleet-db: ${oneLine(error.message)}; ${openHint(error)}`)
    }
  }
  const tag = tagOf(error)
  if (tag !== undefined && inputErrors.has(tag)) {
    return { code: ExitCode.usage, message: Option.some(`fleet-db: ${oneLine(messageOf(error))}`) }
  }
  if (tag !== undefined && refusals.has(tag)) {
    return { code: ExitCode.refused, message: Option.some(`fleet-db: refused: ${oneLine(refusalText(error))}`) }
  }
  if (tag === "SqlError") {
    const cause = (error as { cause?: unknown }).cause
    return {
      code: ExitCode.database,
      message: Option.some(`fleet-db: database error: ${oneLine(messageOf(cause ?? error))}`)
    }
  }
  if (tag !== undefined && databaseFailures.has(tag)) {
    return { code: ExitCode.database, message: Option.some(`fleet-db: ${oneLine(messageOf(error))}`) }
  }
  return { code: 1, message: Option.some(`fleet-db: ${oneLine(messageOf(error))}`) }
}
