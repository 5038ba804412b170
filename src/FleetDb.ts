/**
 * The `FleetDb` layers: each opens a database (memory, file, or libSQL server), runs the
 * migrations, and provides every service plus `SqlClient` and `FleetProject`.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { Config, ConfigError, Duration, Effect, Layer, Option, Redacted } from "effect"
import { lstatSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { DatabaseOpenError } from "./errors.js"
import { FleetProject } from "./Project.js"
import type * as Project from "./Project.js"
import * as Replica from "./Replica.js"
import * as Checkpoints from "./services/Checkpoints.js"
import * as Cursors from "./services/Cursors.js"
import * as Events from "./services/Events.js"
import * as Locks from "./services/Locks.js"
import * as Missions from "./services/Missions.js"
import * as Messages from "./services/Messages.js"
import * as Pilots from "./services/Pilots.js"
import * as Projections from "./services/Projections.js"
import * as Reservations from "./services/Reservations.js"
import * as Sorties from "./services/Sorties.js"
import * as WorkOrders from "./services/WorkOrders.js"
import * as Sql from "./sql/client.js"
import type { KeyRequest } from "./sql/identity.js"
import { canonicalPath, resolveCaseRule, resolveProjectKey } from "./sql/identity.js"
import * as DatabaseUrl from "./sql/url.js"
import type { TimeAuthorityKind } from "./sql/time.js"
import { TimeAuthority } from "./sql/time.js"
import { WritePolicy } from "./sql/transaction.js"

/** Everything a `FleetDb` layer provides. */
export type FleetServices =
  | Checkpoints.Checkpoints
  | Cursors.Cursors
  | Events.Events
  | Messages.Messages
  | Locks.Locks
  | Missions.Missions
  | Pilots.Pilots
  | Projections.Projections
  | Reservations.Reservations
  | Sorties.Sorties
  | WorkOrders.WorkOrders
  | SqlClient.SqlClient
  | FleetProject
  | Replica.Replica
  | TimeAuthority

/** Settings every layer accepts. */
export interface CommonOptions {
  /** How long a statement waits for another process's write lock, in ms (default 5000). */
  readonly busyTimeout?: number | undefined
  /** How often a whole write transaction is retried after SQLITE_BUSY before failing (default 4). */
  readonly busyRetries?: number | undefined
  /**
   * Which clock decides leases, reservation expiry, liveness and the sweep's staleness (and stamps
   * every row and event): `"database"`, the database's clock, read in each command's transaction
   * (the default for servers and embedded replicas, whose clients may run on machines with skewed
   * clocks); or `"clock"`, the process's `Clock` (the default for memory and file databases, whose
   * processes share one machine's clock; also what tests under `TestClock` need).
   */
  readonly timeAuthority?: TimeAuthorityKind | undefined
  /**
   * Compare reservation paths case-insensitively (default: what the project directory's
   * filesystem does; case-sensitive for memory and servers). A file database stores the rule its
   * first opener used (passed, or probed) and every later opener follows it; a disagreeing
   * explicit rule is a `DatabaseOpenError`. On a server every process must pass the same rule.
   */
  readonly caseInsensitive?: boolean | undefined
}

/** Options of layers without a project directory of their own (memory, server). */
export interface RootOptions {
  /** The project root absolute path patterns are resolved against; absent: absolute paths are refused. */
  readonly projectRoot?: string | undefined
}

/** Options of `layerMemory`. */
export interface MemoryOptions extends CommonOptions, RootOptions {
  /** The project key (default `"default"`). */
  readonly projectKey?: string | undefined
}

/** Options of `layerFile`. */
export interface FileOptions extends CommonOptions {
  /** The project's root directory; the database is `{projectPath}/.fleet/{filename}`. */
  readonly projectPath: string
  /** The database file name inside `.fleet/` (default `"fleet.db"`). */
  readonly filename?: string | undefined
  /**
   * The project key. Default: the key stored in the database, which is the canonical project path
   * (symlinks resolved) of whoever created it. One file database is one project, however its path
   * is spelled: a key that disagrees with the stored one fails with `DatabaseOpenError`
   * (`"project-key"`).
   */
  readonly projectKey?: string | undefined
  /**
   * Open the existing database without writing to it (default false): nothing is created or
   * migrated, and every command fails with a `SqlError` whose cause is `ReadOnlyDatabase`.
   */
  readonly readOnly?: boolean | undefined
}

/** Options of `layer`. */
export interface RemoteOptions extends CommonOptions, RootOptions {
  /** `libsql://`, `http(s)://`, `ws(s)://` for a server; `file:` for a local file (or an embedded replica with `syncUrl`). */
  readonly url: string
  /** The server's auth token. Never logged. */
  readonly authToken?: string | Redacted.Redacted<string> | undefined
  /** With a `file:` url: the server this embedded replica syncs from. */
  readonly syncUrl?: string | undefined
  /** With `syncUrl`: sync in the background every this many seconds. */
  readonly syncInterval?: number | undefined
  /** Servers and replicas: how long reaching the server may take when the layer opens, in ms (default 10000). */
  readonly connectTimeout?: number | undefined
  /**
   * Servers: how long one statement may wait for the server's answer, in ms (default 30000). Past
   * it the command fails with a `SqlError` whose cause is `StatementTimeout`.
   */
  readonly statementTimeout?: number | undefined
  /**
   * The project key: on a server, which of its projects this is. On a `file:` database, as for
   * `layerFile`: default the stored key, and a disagreeing one is a `DatabaseOpenError`.
   * Default (servers, and a new file): the canonical current directory.
   */
  readonly projectKey?: string | undefined
}

const services = Layer.mergeAll(Events.layer, Locks.layer, Pilots.layer, Reservations.layer, Missions.layer, Sorties.layer, WorkOrders.layer, Messages.layer, Cursors.layer, Checkpoints.layer, Projections.layer)

const policyLayer = (options: CommonOptions) =>
  options.busyRetries === undefined
    ? Layer.empty
    : Layer.succeed(WritePolicy, { busyRetries: Math.max(0, Math.floor(options.busyRetries)), busyBackoff: Duration.millis(25) })

/** Servers and replicas serve machines whose clocks may disagree: there, the database's clock decides. */
const timeAuthorityLayer = (target: Sql.Target, options: CommonOptions) =>
  Layer.succeed(TimeAuthority, {
    kind: options.timeAuthority ??
      (target._tag === "Remote" || target._tag === "Replica" ? "database" : "clock")
  })

/**
 * A file database's key and case rule are its own (stored in it); a server's or a private memory
 * database's are the caller's.
 */
const projectLayer = (target: Sql.Target, request: KeyRequest, place: ProjectPlace, caseRule: boolean | undefined) => {
  const location = Sql.describeTarget(target)
  const resolved = target._tag === "File"
    ? Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.all({
        projectKey: resolveProjectKey(sql, location, { ...request, readOnly: target.readOnly }),
        caseInsensitive: resolveCaseRule(sql, location, {
          explicit: caseRule,
          probed: () => place.root !== undefined && probeCaseInsensitive(place.root),
          readOnly: target.readOnly
        })
      }))
    : Effect.sync(() => ({ projectKey: request.explicit ?? request.fallback(), caseInsensitive: place.caseInsensitive }))
  return Layer.effect(
    FleetProject,
    Effect.tap(resolved, ({ projectKey }) => checkProjectKey(location, projectKey)).pipe(
      Effect.map(({ caseInsensitive, projectKey }) => FleetProject.of({ projectKey, location, ...place, caseInsensitive }))
    )
  )
}

/**
 * Does the project directory's filesystem fold case? `.fleet` and `.FLEET` are the same entry
 * there exactly when it does. Asked only when a file database stores its rule, i.e. once: by
 * then the database is open, so `.fleet/` exists.
 */
const probeCaseInsensitive = (root: string): boolean => {
  try {
    const lower = lstatSync(join(root, ".fleet"))
    const upper = lstatSync(join(root, ".FLEET"), { throwIfNoEntry: false })
    return upper !== undefined && upper.ino === lower.ino && upper.dev === lower.dev
  } catch {
    return false
  }
}

type ProjectPlace = Pick<Project.FleetProjectShape, "root" | "rootAliases" | "caseInsensitive">

/**
 * The root of a project and its case rule as the caller gave it (see `FleetProjectShape`); a file
 * database replaces the rule with its stored one (`projectLayer`).
 */
const projectPlace = (given: string | undefined, options: CommonOptions): ProjectPlace => {
  const caseInsensitive = options.caseInsensitive ?? false
  if (given === undefined) return { root: undefined, rootAliases: [], caseInsensitive }
  const root = canonicalPath(given)
  const asGiven = resolve(given)
  return { root, rootAliases: asGiven === root ? [] : [asGiven], caseInsensitive }
}

const build = (
  target: Sql.Target,
  projectKey: KeyRequest,
  options: CommonOptions & {
    readonly connectTimeout?: number | undefined
    readonly statementTimeout?: number | undefined
  },
  place: ProjectPlace
): Layer.Layer<FleetServices, DatabaseOpenError> =>
  services.pipe(
    // Services see the Replica (Locks pulls before polling on an embedded replica).
    Layer.provideMerge(Replica.layer(
      target._tag === "Replica" ? { isReplica: true, syncInterval: target.syncInterval } : { isReplica: false }
    )),
    Layer.provideMerge(projectLayer(target, projectKey, place, options.caseInsensitive).pipe(Layer.provideMerge(
      Sql.layer(target, {
        busyTimeout: options.busyTimeout,
        connectTimeout: options.connectTimeout,
        statementTimeout: options.statementTimeout
      })
    ))),
    // The time authority is provided too: whoever reads "now" beside the services (diagnostics,
    // an app's own SQL) must read the same clock they decide by.
    Layer.provideMerge(timeAuthorityLayer(target, options)),
    Layer.provide(policyLayer(options))
  )

const checkProjectKey = (target: string, projectKey: string) =>
  projectKey.length === 0 || projectKey.length > 4096
    ? Effect.fail(new DatabaseOpenError({ target, reason: "other", detail: "projectKey must be 1 to 4096 characters" }))
    : Effect.void

const fixedKey = (projectKey: string): KeyRequest => ({
  explicit: projectKey,
  fallback: () => projectKey,
  legacy: () => projectKey
})

/**
 * A private in-memory database, fresh on every build: two builds never share data. For tests.
 */
export const layerMemory = (options: MemoryOptions = {}): Layer.Layer<FleetServices, DatabaseOpenError> =>
  Layer.unwrapEffect(
    Effect.zipRight(
      checkProjectKey(":memory:", options.projectKey ?? "default"),
      Effect.sync(() =>
        build({ _tag: "Memory" }, fixedKey(options.projectKey ?? "default"), options, projectPlace(options.projectRoot, options))
      )
    )
  ).pipe(Layer.fresh)

/**
 * The project's file database, `{projectPath}/.fleet/{filename ?? "fleet.db"}`. Creates `.fleet/`
 * when missing; WAL mode, `synchronous=NORMAL`, busy timeout. Safe to open from many processes.
 */
export const layerFile = (options: FileOptions): Layer.Layer<FleetServices, DatabaseOpenError> => {
  const projectPath = resolve(options.projectPath)
  const filename = options.filename ?? "fleet.db"
  const path = join(projectPath, ".fleet", filename)
  return Layer.unwrapEffect(
    Effect.gen(function*() {
      if (filename.length === 0 || basename(filename) !== filename || filename === "." || filename === "..") {
        return yield* new DatabaseOpenError({
          target: path,
          reason: "other",
          detail: `filename must be a plain file name inside .fleet/, got ${JSON.stringify(filename)}`
        })
      }
      if (options.projectKey !== undefined) yield* checkProjectKey(path, options.projectKey)
      return build({ _tag: "File", path, readOnly: options.readOnly === true }, {
        explicit: options.projectKey,
        // Resolved once the layer has created `.fleet/`, so the directory exists.
        fallback: () => canonicalPath(projectPath),
        // What keyed rows before keys were stored.
        legacy: () => projectPath
      }, options, projectPlace(projectPath, options))
    })
  )
}

/** Which target a URL names. */
const targetOf = (options: RemoteOptions): Effect.Effect<Sql.Target, DatabaseOpenError> => {
  const url = options.url.trim()
  const token = options.authToken === undefined
    ? undefined
    : Redacted.isRedacted(options.authToken)
    ? options.authToken as Redacted.Redacted<string>
    : Redacted.make(options.authToken)
  if (DatabaseUrl.isMemory(url)) {
    return Effect.succeed({ _tag: "Memory" })
  }
  const path = DatabaseUrl.filePath(url)
  if (path !== undefined) {
    // SQLite's `mode=ro` (read-only); other query parameters are ignored, as before.
    const readOnly = DatabaseUrl.searchParams(url).get("mode") === "ro"
    if (readOnly && options.syncUrl !== undefined) {
      return Effect.fail(
        new DatabaseOpenError({ target: path, reason: "url", detail: "?mode=ro is for a file database, not an embedded replica" })
      )
    }
    return Effect.succeed(
      options.syncUrl === undefined
        ? { _tag: "File", path, readOnly }
        : { _tag: "Replica", path, syncUrl: options.syncUrl, authToken: token, syncInterval: options.syncInterval }
    )
  }
  if (/^(libsql|https?|wss?):\/\//i.test(url)) {
    return Effect.succeed({ _tag: "Remote", url, authToken: token })
  }
  return Effect.fail(
    new DatabaseOpenError({
      target: DatabaseUrl.redact(url),
      reason: "url",
      detail: "expected a libsql://, http(s)://, ws(s):// or file: URL"
    })
  )
}

/**
 * A database by URL: a libSQL server (`libsql://`, `http(s)://`, `ws(s)://`, e.g. sqld or
 * Turso), a local `file:` (with `syncUrl`: an embedded replica of a server), or `:memory:`.
 */
export const layer = (options: RemoteOptions): Layer.Layer<FleetServices, DatabaseOpenError> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const target = yield* targetOf(options)
      if (options.projectKey !== undefined) yield* checkProjectKey(Sql.describeTarget(target), options.projectKey)
      return build(target, {
        explicit: options.projectKey,
        fallback: () => canonicalPath("."),
        legacy: () => resolve(".")
      }, options, projectPlace(options.projectRoot, options))
    })
  )

/**
 * `layer` configured from the environment: `FLEET_DB_URL` (required), `FLEET_DB_AUTH_TOKEN`,
 * `FLEET_DB_SYNC_URL`, `FLEET_DB_SYNC_INTERVAL` (seconds), `FLEET_PROJECT_KEY` (default: as for
 * `layer`: a file's stored key, else the canonical current directory).
 */
export const layerConfig: Layer.Layer<FleetServices, DatabaseOpenError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      url: Config.string("FLEET_DB_URL"),
      authToken: Config.option(Config.redacted("FLEET_DB_AUTH_TOKEN")),
      syncUrl: Config.option(Config.string("FLEET_DB_SYNC_URL")),
      syncInterval: Config.option(Config.number("FLEET_DB_SYNC_INTERVAL")),
      projectKey: Config.option(Config.string("FLEET_PROJECT_KEY"))
    }),
    (config) =>
      layer({
        url: config.url,
        authToken: Option.getOrUndefined(config.authToken),
        syncUrl: Option.getOrUndefined(config.syncUrl),
        syncInterval: Option.getOrUndefined(config.syncInterval),
        projectKey: Option.getOrUndefined(config.projectKey)
      })
  )
)

/**
 * Pull the server's latest changes into an embedded replica now (`layer({ url: "file:…", syncUrl })`),
 * so that reads see other processes' writes. Commands always run on the server and this process
 * always reads its own writes; on memory, file and server databases this is a no-op.
 */
export const sync = Replica.sync
