/**
 * Opening the database: the libSQL client with its connection contract (busy timeout, WAL,
 * `synchronous=NORMAL`), wrapped by `GuardedClient`, served as a `SqlClient` (sqlClient.ts), migrated.
 *
 * @module
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlClient } from "@effect/sql"
import { LibsqlMigrator } from "@effect/sql-libsql"
import * as Libsql from "@libsql/client"
import { _createClient } from "@libsql/client/sqlite3"
import { Cause, Context, Effect, Exit, identity, Layer, Redacted } from "effect"
import { existsSync, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { pathToFileURL } from "node:url"
import { DatabaseOpenError } from "../errors.js"
import { latestMigrationId, loader, migrationsTable } from "../migrations/index.js"
import { primaryCode } from "./errors.js"
import { GuardedClient } from "./GuardedClient.js"
import { inspectFile } from "./fileContents.js"
import { LocalClient } from "./local.js"
import { DEFAULT_CONNECT_TIMEOUT_MS, probe } from "./remote.js"
import * as Client from "./sqlClient.js"
import { realClock } from "./transaction.js"
import { redact } from "./url.js"

/** Where the database is and how to reach it. */
export type Target =
  | { readonly _tag: "Memory" }
  | {
    readonly _tag: "File"
    readonly path: string
    /** Open without writing anything, file or sidecars (`mode=ro`); writes fail with `ReadOnlyDatabase`. */
    readonly readOnly?: boolean | undefined
  }
  | {
    readonly _tag: "Remote"
    readonly url: string
    readonly authToken?: Redacted.Redacted<string> | undefined
  }
  | {
    readonly _tag: "Replica"
    readonly path: string
    readonly syncUrl: string
    readonly authToken?: Redacted.Redacted<string> | undefined
    readonly syncInterval?: number | undefined
  }

/** Connection settings shared by every layer. */
export interface ConnectionOptions {
  /** How long a statement waits for another process's write lock, in ms (default 5000). */
  readonly busyTimeout?: number | undefined
  /** Servers only: how long reaching the server may take when the layer opens, in ms (default 10000). */
  readonly connectTimeout?: number | undefined
  /** Servers only: how long one statement may wait for an answer once open, in ms (default 30000). */
  readonly statementTimeout?: number | undefined
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000

/** Default bound on one statement to a server, in ms. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000

/** A printable name for the target: the path or URL, never a credential. */
export const describeTarget = (target: Target): string => {
  switch (target._tag) {
    case "Memory":
      return ":memory:"
    case "File":
      return target.path
    case "Remote":
      return redact(target.url)
    case "Replica":
      return `${target.path} (replica of ${redact(target.syncUrl)})`
  }
}

const fileUrl = (path: string) => `file:${path}`

/**
 * Per-connection settings. `journal_mode=WAL` is stored in the file, but asking for it on every
 * new connection costs nothing once it is set and repairs a file created elsewhere.
 */
const filePragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA journal_size_limit=67108864"]

/** The driver config, per-connection pragmas and replaceability for a target (exported for tests). */
export const clientOptions = (target: Target, busyTimeout: number): {
  readonly config: Libsql.Config
  readonly pragmas: ReadonlyArray<string>
  readonly replaceable: boolean
} => {
  switch (target._tag) {
    case "Memory":
      return { config: { url: ":memory:" }, pragmas: [], replaceable: false }
    case "File":
      // One connection: Effect serialises transactions anyway, and per-connection pragmas stay
      // in force on the only connection there is. Read-only: no pragma (each would write).
      return {
        config: { url: fileUrl(target.path), timeout: busyTimeout, concurrency: 1 },
        pragmas: target.readOnly === true ? [] : filePragmas,
        replaceable: true
      }
    case "Remote":
      return {
        config: {
          url: target.url,
          ...(target.authToken ? { authToken: Redacted.value(target.authToken) } : {})
        },
        pragmas: [],
        replaceable: false
      }
    case "Replica":
      return {
        config: {
          url: fileUrl(target.path),
          syncUrl: target.syncUrl,
          timeout: busyTimeout,
          readYourWrites: true,
          // No `syncInterval` here: the driver's periodic sync outlives `close()`; the Replica
          // service runs it as a fiber of the layer's scope instead.
          ...(target.authToken ? { authToken: Redacted.value(target.authToken) } : {})
        },
        pragmas: [],
        replaceable: false
      }
  }
}

const openError = (target: Target, reason: DatabaseOpenError["reason"], detail: string) =>
  new DatabaseOpenError({ target: describeTarget(target), reason, detail })

const errorText = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    // An embedded replica's errors come from Rust with a native backtrace appended.
    const message = error.message.replace(/\s*Stack backtrace:[\s\S]*$/, "")
    return typeof code === "string" && code !== "" && !message.includes(code) ? `${code}: ${message}` : message
  }
  return String(error)
}

const classify = (target: Target, error: unknown): DatabaseOpenError => {
  const text = errorText(error)
  if (/NOTADB|not a database|file is encrypted/i.test(text)) {
    return openError(target, "not-a-database", `the file is not a SQLite database (${text})`)
  }
  if (/CORRUPT|malformed/i.test(text)) {
    return openError(target, "not-a-database", `the file is damaged, e.g. truncated or partly overwritten (${text}); restore it from a backup or move it away`)
  }
  if (/URL_INVALID|URL_SCHEME|Invalid URL|not supported/i.test(text)) {
    return openError(target, "url", text)
  }
  if (/CANTOPEN|READONLY|EACCES|EROFS|EPERM|ENOTDIR|ENOENT|unable to open/i.test(text)) {
    return openError(target, "directory", `cannot open or write the database file (${text})`)
  }
  if (/fetch failed|ECONNREFUSED|Connection refused|error trying to connect|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timed out|SERVER_ERROR|HTTP|status 40/i.test(text)) {
    return openError(target, "unreachable", text)
  }
  return openError(target, "other", text)
}

/** A cause's failures and defects, flattened, for error classification. */
const causeError = (cause: Cause.Cause<unknown>): unknown => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return failure.value
  const defects = Array.from(Cause.defects(cause))
  return defects[0] ?? Cause.pretty(cause)
}

/** The driver error inside an `@effect/sql` error (`SqlError`, `MigrationError`), if any. */
const innermost = (error: unknown): unknown => {
  let current = error
  for (let i = 0; i < 5; i++) {
    const next = (current as { cause?: unknown } | null)?.cause
    if (next === undefined || next === null) break
    current = next
  }
  return current
}

const ensureDirectory = (target: Target): Effect.Effect<void, DatabaseOpenError> =>
  target._tag === "File" || target._tag === "Replica"
    ? Effect.try({
      try: () => {
        mkdirSync(dirname(target.path), { recursive: true })
      },
      catch: (error) => openError(target, "directory", `cannot create ${dirname(target.path)} (${errorText(error)})`)
    })
    : Effect.void

/**
 * A read-only connection: a SQLite URI with `mode=ro` (`@libsql/client` refuses query parameters
 * in its URLs, the engine takes them in the path). `immutable` also skips the `-shm` file and all
 * locking: only for a file no one is using in WAL mode (see `openReadOnly`).
 */
const readOnlyClient = (path: string, busyTimeout: number, immutable: boolean): Libsql.Client =>
  _createClient({
    scheme: "file",
    tls: false,
    authority: undefined,
    path: `${pathToFileURL(path).href}?mode=ro${immutable ? "&immutable=1" : ""}`,
    authToken: undefined,
    encryptionKey: undefined,
    remoteEncryptionKey: undefined,
    syncUrl: undefined,
    syncInterval: undefined,
    readYourWrites: undefined,
    offline: undefined,
    intMode: "number",
    fetch: undefined,
    concurrency: 1,
    timeout: busyTimeout
  })

const createGuarded = (
  target: Target,
  options: { readonly busyTimeout: number; readonly statementTimeout: number; readonly immutable: boolean }
): Effect.Effect<GuardedClient, DatabaseOpenError> =>
  Effect.try({
    try: () => {
      const { config, pragmas, replaceable } = clientOptions(target, options.busyTimeout)
      const readOnly = target._tag === "File" && target.readOnly === true
      return new GuardedClient({
        create: readOnly
          ? () => readOnlyClient(target.path, options.busyTimeout, options.immutable)
          : target._tag === "Memory" || target._tag === "File"
          // The same driver, keeping its connection within reach of the synchronous path (local.ts).
          ? () => new LocalClient(target._tag === "Memory" ? ":memory:" : target.path, config.timeout)
          : () => Libsql.createClient(config),
        connectionPragmas: pragmas,
        busyTimeout: options.busyTimeout,
        replaceable,
        holdsFiles: target._tag === "File" || target._tag === "Replica",
        statementTimeout: target._tag === "Remote" ? options.statementTimeout : undefined,
        readOnly: readOnly ? describeTarget(target) : undefined,
        target: describeTarget(target)
      })
    },
    catch: (error) => classify(target, error)
  })

const SQLITE_READONLY = 8
const SQLITE_CANTOPEN = 14

/**
 * Open a file read-only. With `mode=ro` SQLite still needs the `-shm` file of a WAL database, and
 * creates it when missing: in a directory the process cannot write, that fails. If no `-wal` file
 * exists, no one is using the database in WAL mode, and it is opened `immutable` (no `-shm`, no
 * locks); otherwise it cannot be read safely and the error says so.
 */
const openReadOnly = (
  target: Target & { readonly _tag: "File" },
  options: { readonly busyTimeout: number; readonly statementTimeout: number }
) =>
  Effect.gen(function*() {
    if (!existsSync(target.path)) {
      return yield* Effect.fail(openError(target, "read-only", "there is no database file, and read-only mode does not create one"))
    }
    const attempt = (immutable: boolean) =>
      Effect.acquireRelease(
        createGuarded(target, { ...options, immutable }),
        (client) => Effect.sync(() => client.closeAndRelease())
      ).pipe(Effect.tap((client) =>
        Effect.tryPromise({
          try: () => client.inner.execute("SELECT count(*) FROM sqlite_master"),
          catch: (error) => error
        })
      ))
    return yield* attempt(false).pipe(
      Effect.catchAll((error) => {
        const code = primaryCode(error instanceof DatabaseOpenError ? undefined : error)
        if (code !== SQLITE_READONLY && code !== SQLITE_CANTOPEN) {
          return Effect.fail(error instanceof DatabaseOpenError ? error : classify(target, error))
        }
        if (existsSync(`${target.path}-wal`)) {
          return Effect.fail(openError(
            target,
            "read-only",
            `the database is in use in WAL mode (its -wal file exists) and this process cannot open its -shm file (${errorText(error)}); ` +
              "read it as a user who can write its directory, or once its writers have closed it"
          ))
        }
        return attempt(true).pipe(Effect.mapError((error) => error instanceof DatabaseOpenError ? error : classify(target, error)))
      })
    )
  })

/**
 * The `SqlClient` for `target`, migrated to the latest schema. Fails with
 * `DatabaseOpenError` naming the path or URL when the database cannot be opened or migrated, or
 * when its schema is newer than this library.
 */
export const layer = (
  target: Target,
  options: ConnectionOptions = {}
): Layer.Layer<SqlClient.SqlClient, DatabaseOpenError> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const busyTimeout = options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT_MS
      const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS
      if (target._tag === "Remote" || target._tag === "Replica") {
        // Bounded, and tells a refused token from an unreachable server (see sql/remote.ts).
        yield* probe({
          url: target._tag === "Remote" ? target.url : target.syncUrl,
          authToken: target.authToken,
          target: describeTarget(target),
          timeoutMs: connectTimeout
        })
      }
      const statementTimeout = options.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT_MS
      if (!(Number.isFinite(statementTimeout) && statementTimeout > 0)) {
        return yield* Effect.fail(openError(target, "other", `statementTimeout must be a positive number of ms, got ${statementTimeout}`))
      }
      const readOnly = target._tag === "File" && target.readOnly === true
      if (!readOnly) yield* ensureDirectory(target)
      const guarded = target._tag === "File" && readOnly
        ? yield* openReadOnly(target, { busyTimeout, statementTimeout })
        : yield* Effect.acquireRelease(
          createGuarded(target, { busyTimeout, statementTimeout, immutable: false }),
          (client) => Effect.sync(() => client.closeAndRelease())
        )
      if (target._tag === "File") {
        yield* refuseForeignFile(target, guarded)
        // Runs before the close above; never on a refused file, which stays untouched.
        if (!readOnly) yield* Effect.addFinalizer(() => checkpoint(guarded))
      }
      // Touch the database now so a bad file or an unreachable server fails the layer here.
      yield* Effect.tryPromise({
        try: () => guarded.execute("SELECT 1"),
        catch: (error) => classify(target, error)
      }).pipe(
        target._tag === "Remote"
          ? (touch) =>
            Effect.timeoutFail(touch, {
              duration: connectTimeout,
              onTimeout: () => openError(target, "unreachable", `no answer from the server within ${connectTimeout} ms`)
            }).pipe(Effect.withClock(realClock))
          : identity
      )
      const client = yield* Client.make(guarded)
      yield* (readOnly ? checkSchemaReadOnly(target) : migrate(target)).pipe(Effect.provideService(SqlClient.SqlClient, client))
      return Context.make(SqlClient.SqlClient, client)
    })
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Before anything is written (opening sets WAL mode in the file's header), make sure an existing
 * file is a FleetTools database: another application's SQLite file is refused, untouched.
 */
const refuseForeignFile = (target: Target & { readonly _tag: "File" }, guarded: GuardedClient) =>
  Effect.tryPromise({
    try: () => inspectFile(target.path, guarded.inner),
    catch: (error) => classify(target, error)
  }).pipe(
    Effect.flatMap((contents) =>
      contents._tag === "Foreign"
        ? Effect.fail(openError(
          target,
          "not-a-database",
          `it is a SQLite database of another application (tables: ${contents.tables.slice(0, 8).join(", ")}` +
            `${contents.tables.length > 8 ? ", …" : ""}), not a FleetTools database; it was left untouched`
        ))
        : Effect.void
    )
  )

/**
 * Durability hygiene on close: fold the WAL back into the database and truncate it to zero bytes
 * (`wal_checkpoint(TRUNCATE)`). Best effort and without waiting: when another process is in the
 * middle of a transaction the checkpoint gives up at once (busy timeout 0), and the WAL is left to
 * the automatic checkpoints, `journal_size_limit` and the last process to close.
 */
const checkpoint = (client: GuardedClient) =>
  Effect.tryPromise(async () => {
    await client.execute("PRAGMA busy_timeout = 0")
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)")
  }).pipe(
    Effect.timeout(2_000),
    Effect.withClock(realClock),
    Effect.ignore
  )

/**
 * The newest migration recorded in the database (0 for a new one). A plain read: it takes no
 * write lock, so it answers while another process is in the middle of a long write.
 */
const appliedMigration = (target: Target) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ readonly name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${migrationsTable}`
    if (tables.length === 0) return 0
    const rows = yield* sql<{ readonly id: number | null }>`SELECT MAX(migration_id) AS id FROM ${sql(migrationsTable)}`
    return rows[0]?.id ?? 0
  }).pipe(Effect.mapError((error) => classify(target, innermost(error))))

const tooNew = (target: Target, applied: number) =>
  openError(
    target,
    "schema-too-new",
    `its schema is at migration ${applied}, newer than this version of @fleettools/db knows (${latestMigrationId}); upgrade @fleettools/db`
  )

/** Read-only: nothing can be migrated, so the schema must already be this library's. */
const checkSchemaReadOnly = (target: Target) =>
  Effect.gen(function*() {
    const applied = yield* appliedMigration(target)
    if (applied > latestMigrationId) return yield* Effect.fail(tooNew(target, applied))
    if (applied < latestMigrationId) {
      return yield* Effect.fail(openError(
        target,
        "read-only",
        `its schema is at migration ${applied} and needs migrating to ${latestMigrationId}, which read-only mode cannot do; open it once for writing`
      ))
    }
  })

/**
 * Bring the schema up to date. A read decides first: an up-to-date database is opened without
 * the write lock (the migrator's transaction is `BEGIN IMMEDIATE`), so a process can start while
 * another holds a long write.
 */
const migrate = (target: Target) =>
  Effect.gen(function*() {
    const before = yield* appliedMigration(target)
    if (before > latestMigrationId) return yield* Effect.fail(tooNew(target, before))
    if (before === latestMigrationId) return
    const exit = yield* Effect.exit(LibsqlMigrator.run({ loader, table: migrationsTable }))
    if (Exit.isFailure(exit)) {
      const error = innermost(causeError(exit.cause))
      const classified = classify(target, error)
      return yield* classified.reason === "other"
        ? Effect.fail(openError(target, "migration", `migrating the schema failed: ${errorText(error)}`))
        : Effect.fail(classified)
    }
    // Another process may have migrated further in the meantime.
    const applied = yield* appliedMigration(target)
    if (applied > latestMigrationId) return yield* Effect.fail(tooNew(target, applied))
  })
