/**
 * The `FleetDb` layers: each opens a database (memory, file, or libSQL server), runs the
 * migrations, and provides every service plus `SqlClient` and `FleetProject`.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import { Config, ConfigError, Duration, Effect, Layer, Option, Redacted } from "effect"
import { lstatSync, mkdirSync, realpathSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { DatabaseOpenError } from "./errors.js"
import { FleetProject } from "./Project.js"
import * as Project from "./Project.js"
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

/** Settings every layer accepts. */
export interface CommonOptions {
  /** How long a statement waits for another process's write lock, in ms (default 5000). */
  readonly busyTimeout?: number | undefined
  /** How often a whole write transaction is retried after SQLITE_BUSY before failing (default 4). */
  readonly busyRetries?: number | undefined
  /**
   * Compare reservation paths case-insensitively (default: what the project directory's
   * filesystem does, probed when a file layer opens; case-sensitive for memory and servers).
   * Every process of one project must use the same rule.
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
  /** The project key (default: the absolute project path). */
  readonly projectKey?: string | undefined
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
  readonly projectKey: string
}

const services = Layer.mergeAll(Events.layer, Locks.layer, Pilots.layer, Reservations.layer, Missions.layer, Sorties.layer, WorkOrders.layer, Messages.layer, Cursors.layer, Checkpoints.layer, Projections.layer)

const policyLayer = (options: CommonOptions) =>
  options.busyRetries === undefined
    ? Layer.empty
    : Layer.succeed(WritePolicy, { busyRetries: Math.max(0, Math.floor(options.busyRetries)), busyBackoff: Duration.millis(25) })

/** The canonical spelling of a directory (after symlinks), or its absolute path when it cannot be read. */
const realpathOr = (path: string): string => {
  try {
    return realpathSync.native(path)
  } catch {
    return resolve(path)
  }
}

/**
 * Does the project directory's filesystem fold case? `.fleet` and `.FLEET` are the same entry
 * there exactly when it does. (`.fleet/` is created here when missing, as opening does anyway.)
 */
const probeCaseInsensitive = (root: string): boolean => {
  try {
    mkdirSync(join(root, ".fleet"), { recursive: true })
    const lower = lstatSync(join(root, ".fleet"))
    const upper = lstatSync(join(root, ".FLEET"), { throwIfNoEntry: false })
    return upper !== undefined && upper.ino === lower.ino && upper.dev === lower.dev
  } catch {
    return false
  }
}

/** The root and default case rule of a project (see `FleetProjectShape`). */
const projectPlace = (
  given: string | undefined,
  options: CommonOptions,
  probe: boolean
): Pick<Project.FleetProjectShape, "root" | "rootAliases" | "caseInsensitive"> => {
  if (given === undefined) return { root: undefined, rootAliases: [], caseInsensitive: options.caseInsensitive ?? false }
  const root = realpathOr(given)
  const asGiven = resolve(given)
  return {
    root,
    rootAliases: asGiven === root ? [] : [asGiven],
    caseInsensitive: options.caseInsensitive ?? (probe && probeCaseInsensitive(root))
  }
}

const build = (
  target: Sql.Target,
  projectKey: string,
  options: CommonOptions & { readonly connectTimeout?: number | undefined },
  place: Pick<Project.FleetProjectShape, "root" | "rootAliases" | "caseInsensitive">
): Layer.Layer<FleetServices, DatabaseOpenError> =>
  services.pipe(
    // Services see the Replica (Locks pulls before polling on an embedded replica).
    Layer.provideMerge(Replica.layer(
      target._tag === "Replica" ? { isReplica: true, syncInterval: target.syncInterval } : { isReplica: false }
    )),
    Layer.provideMerge(Layer.mergeAll(
      Sql.layer(target, { busyTimeout: options.busyTimeout, connectTimeout: options.connectTimeout }),
      Project.layer({ projectKey, location: Sql.describeTarget(target), ...place })
    )),
    Layer.provide(policyLayer(options))
  )

const checkProjectKey = (target: string, projectKey: string) =>
  projectKey.length === 0 || projectKey.length > 4096
    ? Effect.fail(new DatabaseOpenError({ target, reason: "other", detail: "projectKey must be 1 to 4096 characters" }))
    : Effect.void

/**
 * A private in-memory database, fresh on every build: two builds never share data. For tests.
 */
export const layerMemory = (options: MemoryOptions = {}): Layer.Layer<FleetServices, DatabaseOpenError> =>
  Layer.unwrapEffect(
    Effect.zipRight(
      checkProjectKey(":memory:", options.projectKey ?? "default"),
      Effect.sync(() =>
        build({ _tag: "Memory" }, options.projectKey ?? "default", options, projectPlace(options.projectRoot, options, false))
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
  const projectKey = options.projectKey ?? projectPath
  return Layer.unwrapEffect(
    Effect.gen(function*() {
      if (filename.length === 0 || basename(filename) !== filename || filename === "." || filename === "..") {
        return yield* new DatabaseOpenError({
          target: path,
          reason: "other",
          detail: `filename must be a plain file name inside .fleet/, got ${JSON.stringify(filename)}`
        })
      }
      yield* checkProjectKey(path, projectKey)
      return build({ _tag: "File", path }, projectKey, options, projectPlace(projectPath, options, true))
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
  if (url === ":memory:" || url === "file::memory:") {
    return Effect.succeed({ _tag: "Memory" })
  }
  if (url.startsWith("file:")) {
    const path = resolve(decodeURIComponent(url.slice("file:".length).replace(/^\/\/(localhost)?(?=\/)/, "").replace(/\?.*$/, "")))
    return Effect.succeed(
      options.syncUrl === undefined
        ? { _tag: "File", path }
        : { _tag: "Replica", path, syncUrl: options.syncUrl, authToken: token, syncInterval: options.syncInterval }
    )
  }
  if (/^(libsql|https?|wss?):\/\//i.test(url)) {
    return Effect.succeed({ _tag: "Remote", url, authToken: token })
  }
  return Effect.fail(
    new DatabaseOpenError({
      target: url.replace(/\?.*$/, ""),
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
      yield* checkProjectKey(Sql.describeTarget(target), options.projectKey)
      return build(target, options.projectKey, options, projectPlace(options.projectRoot, options, false))
    })
  )

/**
 * `layer` configured from the environment: `FLEET_DB_URL` (required), `FLEET_DB_AUTH_TOKEN`,
 * `FLEET_DB_SYNC_URL`, `FLEET_DB_SYNC_INTERVAL` (seconds), `FLEET_PROJECT_KEY` (default: the
 * absolute current directory).
 */
export const layerConfig: Layer.Layer<FleetServices, DatabaseOpenError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      url: Config.string("FLEET_DB_URL"),
      authToken: Config.option(Config.redacted("FLEET_DB_AUTH_TOKEN")),
      syncUrl: Config.option(Config.string("FLEET_DB_SYNC_URL")),
      syncInterval: Config.option(Config.number("FLEET_DB_SYNC_INTERVAL")),
      projectKey: Config.string("FLEET_PROJECT_KEY").pipe(Config.withDefault(resolve(".")))
    }),
    (config) =>
      layer({
        url: config.url,
        authToken: Option.getOrUndefined(config.authToken),
        syncUrl: Option.getOrUndefined(config.syncUrl),
        syncInterval: Option.getOrUndefined(config.syncInterval),
        projectKey: config.projectKey
      })
  )
)

/**
 * Pull the server's latest changes into an embedded replica now (`layer({ url: "file:…", syncUrl })`),
 * so that reads see other processes' writes. Commands always run on the server and this process
 * always reads its own writes; on memory, file and server databases this is a no-op.
 */
export const sync = Replica.sync
