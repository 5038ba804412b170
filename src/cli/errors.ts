/**
 * The command line's own failures (see `outcome.ts` for how each becomes an exit code).
 *
 * @module
 */
import { Data } from "effect"

/** The user asked for something that cannot work as asked; `message` says what to do instead. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** The command ran but failed (a demo pilot crashed, …). */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {}

/** End with this exit code after the command has printed its own report (`doctor`). */
export class ExitWith extends Data.TaggedError("ExitWith")<{ readonly code: number }> {}

/** The database the command needs does not exist (read and write verbs never create one). */
export class DatabaseMissing extends Data.TaggedError("DatabaseMissing")<{ readonly message: string }> {}

/**
 * The fleet refused the request (someone else holds what it needs); `message` names who holds
 * what, until when.
 */
export class Refused extends Data.TaggedError("Refused")<{ readonly message: string }> {}
