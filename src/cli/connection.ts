/**
 * The database the shared options (`--project`, `--url`, `--project-key`, `--read-only`, see
 * `options.ts`) select, and its layer. Without `--project` or `--url` the project is found from
 * the current directory (`discover.ts`). Read commands open only a database that exists, and
 * read-only when this user cannot write it; `init` and `demo` create it. (No @effect/cli here:
 * the demo's pilot processes use this module and should start fast.)
 *
 * @module
 */
import { Config, Context, Effect, Layer, Option } from "effect"
import { accessSync, constants, existsSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { DatabaseOpenError, DatabaseUrl, FleetDb } from "../index.js"
import { type FoundBy, findProject } from "./discover.js"
import { DatabaseMissing, UsageError } from "./errors.js"
import { Io } from "./io.js"

/** The parsed shared options. */
export interface Connection {
  readonly project: Option.Option<string>
  readonly url: Option.Option<string>
  /** `--project-key` (else `$FLEET_PROJECT_KEY`). */
  readonly projectKey?: Option.Option<string> | undefined
  /** `--read-only`: open without writing anything (see the README, "Read-only inspection"). */
  readonly readOnly?: boolean | undefined
}

/** Which database a command works on. */
export type Target =
  | {
    readonly _tag: "File"
    readonly dir: string
    readonly path: string
    readonly projectKey: Option.Option<string>
    /** How `dir` was chosen: `--project`, or how it was found from the current directory. */
    readonly foundBy: FoundBy
    readonly readOnly: boolean
  }
  | {
    readonly _tag: "Url"
    readonly url: string
    /** `FLEET_PROJECT_KEY`; without it, a file's stored key or the canonical current directory. */
    readonly projectKey: Option.Option<string>
    /** The local file a `file:` URL names (checked for existence by read commands). */
    readonly file: Option.Option<string>
    readonly readOnly: boolean
  }

/** The database a command has open, and whether it is read-only (for `status` and messages). */
export class Opened extends Context.Tag("fleet-db/Opened")<Opened, {
  readonly target: Target
  readonly readOnly: boolean
}>() {}

const env = Config.all({
  url: Config.option(Config.string("FLEET_DB_URL")),
  projectKey: Config.option(Config.string("FLEET_PROJECT_KEY"))
})

const filePathOfUrl = (raw: string): Option.Option<string> => Option.fromNullable(DatabaseUrl.filePath(raw))

/** Resolve the shared options (and `FLEET_DB_URL` / `FLEET_PROJECT_KEY`) to a target. */
export const resolveTarget = (connection: Connection): Effect.Effect<Target, UsageError> =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.orElseSucceed(env, () => ({
      url: Option.none<string>(),
      projectKey: Option.none<string>()
    }))
    const settings = { ...fromEnv, projectKey: Option.orElse(connection.projectKey ?? Option.none(), () => fromEnv.projectKey) }
    const readOnly = connection.readOnly === true
    if (Option.isSome(connection.project) && Option.isSome(connection.url)) {
      return yield* new UsageError({ message: "give either --project DIR or --url URL, not both" })
    }
    // An explicit --project wins over FLEET_DB_URL from the environment.
    const url = Option.isSome(connection.project) ? Option.none<string>() : Option.orElse(connection.url, () => settings.url)
    if (Option.isSome(url)) {
      if (url.value.trim().length === 0) {
        return yield* new UsageError({ message: "--url is empty; pass a libsql://, http(s)://, ws(s):// or file: URL" })
      }
      return {
        _tag: "Url" as const,
        url: url.value,
        projectKey: settings.projectKey,
        file: filePathOfUrl(url.value),
        readOnly
      }
    }
    const cwd = (yield* Io).cwd()
    const found = Option.match(connection.project, {
      onNone: () => findProject(cwd),
      onSome: (dir) => ({ dir: resolve(cwd, dir), foundBy: "--project" as const })
    })
    const dir = found.dir
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      return yield* new UsageError({ message: `no such project directory: ${dir}; pass --project with an existing directory` })
    }
    return {
      _tag: "File" as const,
      dir,
      path: join(dir, ".fleet", "fleet.db"),
      projectKey: settings.projectKey,
      foundBy: found.foundBy,
      readOnly
    }
  })

/**
 * Can this process write the database file and its directory (where SQLite keeps its `-wal` and
 * `-shm` files)? As root: always (permissions do not stop root).
 */
export const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK)
    accessSync(dirname(path), constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** A `file:` URL in SQLite's read-only mode (`?mode=ro`); other URLs have none. */
const readOnlyUrl = (url: string): Option.Option<string> => {
  const text = url.trim()
  if (!text.startsWith("file:") || DatabaseUrl.isMemory(text)) return Option.none()
  return Option.some(`${text.replace(/\?.*$/, "")}?mode=ro`)
}

/** Where the target's database is, for messages. */
export const describeTarget = (target: Target): string =>
  target._tag === "File" ? target.path : DatabaseUrl.redact(target.url)

/** The flags that select this target again (for hints and for the demo's pilot processes). */
export const targetArgs = (target: Target): ReadonlyArray<string> =>
  target._tag === "File" ? ["--project", target.dir] : ["--url", target.url]

/**
 * The `FleetDb` layer for a target, with `Opened`. With `mustExist` (read commands), a missing
 * database file is a `DatabaseMissing` (read commands never create one), and a file this user cannot
 * write is opened read-only. Without it (commands that write), such a file is a
 * `DatabaseOpenError` saying so.
 */
export const databaseLayer = (target: Target, options: { readonly mustExist: boolean }) => {
  const missing = (path: string) =>
    new DatabaseMissing({
      message: `no FleetTools database at ${path}; run \`fleet-db init${
        target._tag === "File" ? ` --project ${target.dir}` : ` --url ${DatabaseUrl.redact(target.url)}`
      }\` first, or pass --project DIR / --url URL`
    })
  return Layer.unwrapEffect(Effect.gen(function*() {
    if (target._tag === "File") {
      const exists = existsSync(target.path)
      if (options.mustExist && !exists) return yield* missing(target.path)
      const canWrite = !exists || writable(target.path)
      if (!canWrite && !options.mustExist && !target.readOnly) {
        return yield* new DatabaseOpenError({
          target: target.path,
          reason: "read-only",
          detail: "this user cannot write it (or its directory), and this command writes; " +
            "read commands (status, events, the lists, doctor) still work on it"
        })
      }
      const readOnly = target.readOnly || !canWrite
      // Said on stderr, so `--json` output stays one document.
      const note = canWrite ? Effect.void : Effect.flatMap(Io, (io) =>
        Effect.sync(() =>
          io.stderr(`fleet-db: ${target.path} is read-only for this user: opened without writing anything\n`)
        ))
      return Layer.merge(
        FleetDb.layerFile({ projectPath: target.dir, projectKey: Option.getOrUndefined(target.projectKey), readOnly }),
        Layer.effect(Opened, Effect.as(note, { target, readOnly }))
      )
    }
    if (options.mustExist && Option.isSome(target.file) && !existsSync(target.file.value)) {
      return yield* missing(target.file.value)
    }
    const authToken = yield* Effect.orElseSucceed(
      Config.option(Config.redacted("FLEET_DB_AUTH_TOKEN")),
      () => Option.none()
    )
    const url = target.readOnly ? readOnlyUrl(target.url) : Option.some(target.url)
    if (Option.isNone(url)) {
      return yield* new UsageError({ message: "--read-only works on a file database: --project DIR, or --url file:PATH" })
    }
    return Layer.merge(
      FleetDb.layer({
        url: url.value,
        projectKey: Option.getOrUndefined(target.projectKey),
        authToken: Option.getOrUndefined(authToken)
      }),
      Layer.succeed(Opened, { target, readOnly: target.readOnly })
    )
  }))
}

/**
 * Run `effect` against the database the shared options select. Read commands pass
 * `mustExist: true` so a missing database is reported instead of created.
 */
export const withDatabase = (connection: Connection, options: { readonly mustExist: boolean }) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | UsageError | DatabaseMissing | DatabaseOpenError, Exclude<R, FleetDb.FleetServices | Opened>> =>
  Effect.flatMap(resolveTarget(connection), (target) => Effect.provide(effect, databaseLayer(target, options)))
