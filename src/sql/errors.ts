/**
 * Classifying driver errors: which mean "busy, try again" and which leave a connection in a state
 * we cannot trust.
 *
 * @module
 */
import { SqlError } from "@effect/sql/SqlError"
import { Predicate } from "effect"
import { StatementTimeout } from "../errors.js"

interface DriverError {
  readonly code?: unknown
  readonly rawCode?: unknown
  readonly message?: unknown
  readonly cause?: unknown
}

const driverError = (u: unknown): DriverError | undefined => Predicate.isObject(u) ? u as DriverError : undefined

/** The primary SQLite result code of a driver error (`rawCode & 0xff`), if it has one. */
export const primaryCode = (error: unknown): number | undefined => {
  const raw = driverError(error)?.rawCode
  return typeof raw === "number" ? raw & 0xff : undefined
}

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6
const SQLITE_CONSTRAINT = 19
const SQLITE_CONSTRAINT_UNIQUE = 2067
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555

/** The driver error behind a `SqlError` (or the value itself when it is not one). */
export const driverCause = (error: unknown): unknown => error instanceof SqlError ? error.cause : error

/**
 * True for SQLITE_BUSY (any extended code) — another connection holds the write lock past the
 * busy timeout — and for a remote server's busy / transaction-timeout answers.
 */
export const isBusy = (error: unknown): boolean => {
  const cause = driverCause(error)
  const code = primaryCode(cause)
  if (code === SQLITE_BUSY || code === SQLITE_LOCKED) return true
  const name = driverError(cause)?.code
  return (typeof name === "string" && /^(SQLITE_BUSY|SQLITE_LOCKED)/.test(name)) || isTransactionTimeout(cause)
}

/**
 * True when a libSQL server (sqld, Turso) killed the write transaction: it held the write lock
 * longer than the server's limit (about 5 s) while another client waited. The server rolled it
 * back, so nothing of it was written and the whole transaction can be run again. Over HTTP and
 * WebSocket this is the code `TRANSACTION_TIMEOUT`; an embedded replica's delegated write reports
 * `RemoteSqliteFailure(…, "Transaction timed-out")` with no code.
 */
export const isTransactionTimeout = (error: unknown): boolean => {
  const cause = driverError(driverCause(error))
  if (cause === undefined) return false
  if (cause.code === "TRANSACTION_TIMEOUT") return true
  const message = (cause as { readonly message?: unknown }).message
  return typeof message === "string" && /RemoteSqliteFailure\(.*Transaction timed[- ]out/i.test(message)
}

/**
 * True for a database failure that is safe to retry as a whole: SQLITE_BUSY past the busy
 * timeout, a write transaction killed by a libSQL server, or a `StatementTimeout` that did not
 * hit a commit. Commands already retry the first two a bounded number of times (`WritePolicy`);
 * one that still surfaces as a `SqlError` can be retried by the caller.
 */
export const isRetryable = (error: unknown): boolean => {
  const cause = driverCause(error)
  return isBusy(error) || (cause instanceof StatementTimeout && !cause.during_commit)
}

/**
 * True for a unique or primary-key violation. A server's error (Hrana) carries only the primary
 * code, `SQLITE_CONSTRAINT`, and an embedded replica's none (`RemoteSqliteFailure(3, 2067, "…")`):
 * without a result code, SQLite's message tells a uniqueness violation from the others.
 */
export const isUniqueViolation = (error: unknown): boolean => {
  const cause = driverError(driverCause(error))
  const raw = cause?.rawCode
  return raw === SQLITE_CONSTRAINT_UNIQUE || raw === SQLITE_CONSTRAINT_PRIMARYKEY ||
    cause?.code === "SQLITE_CONSTRAINT_UNIQUE" || cause?.code === "SQLITE_CONSTRAINT_PRIMARYKEY" ||
    (raw === undefined && /\bUNIQUE constraint failed\b/.test(String(cause?.message)))
}

// Result codes after which the connection is known to be in a clean state: the statement was
// refused before it changed anything (SQLITE_ERROR: a prepare error, SQLITE_CONSTRAINT,
// SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE).
const cleanCodes = new Set([1, SQLITE_CONSTRAINT, 20, 18, 25])

/**
 * True when, after this error, the connection that raised it must not be used again: SQLITE_BUSY
 * can leave an unfinalised statement whose later writes report success but never commit
 * (libsql-client-ts #352), and any error we cannot classify leaves the connection's state unknown.
 */
export const poisonsConnection = (error: unknown): boolean => {
  const code = primaryCode(error)
  return code === undefined ? !isTransactionNotice(error) : !cleanCodes.has(code)
}

// Errors raised by the client itself about its own state, not by SQLite.
const isTransactionNotice = (error: unknown): boolean => {
  const name = driverError(error)?.code
  return typeof name === "string" && (name === "TRANSACTION_CLOSED" || name === "CLIENT_CLOSED")
}
