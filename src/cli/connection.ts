/**
 * The database the shared options (`--project`, `--url`, see `options.ts`) select, and its layer.
 * Read commands open only a database that exists; `init` and `demo` create it. (No @effect/cli
 * here: the demo's pilot processes use this module and should start fast.)
 *
 * @module
 */
import { Config, Effect, Layer, Option } from "effect"
import { existsSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import type { DatabaseOpenError } from "../index.js"
import { FleetDb } from "../index.js"
import { DatabaseMissing, UsageError } from "./errors.js"

/** The parsed shared options. */
export interface Connection {
  readonly project: Option.Option<string>
  readonly url: Option.Option<string>
}

/** Which database a command works on. */
export type Target =
  | { readonly _tag: "File"; readonly dir: string; readonly path: string; readonly projectKey: Option.Option<string> }
  | {
    readonly _tag: "Url"
    readonly url: string
    /** `FLEET_PROJECT_KEY`; without it, a file's stored key or the canonical current directory. */
    readonly projectKey: Option.Option<string>
    /** The local file a `file:` URL names (checked for existence by read commands). */
    readonly file: Option.Option<string>
  }

const env = Config.all({
  url: Config.option(Config.string("FLEET_DB_URL")),
  projectKey: Config.option(Config.string("FLEET_PROJECT_KEY"))
})

const filePathOfUrl = (raw: string): Option.Option<string> => {
  const text = raw.trim()
  if (!text.startsWith("file:") || text === "file::memory:") return Option.none()
  return Option.some(resolve(decodeURIComponent(
    text.slice("file:".length).replace(/^\/\/(localhost)?(?=\/)/, "").replace(/\?.*$/, "")
  )))
}

/** Resolve the shared options (and `FLEET_DB_URL` / `FLEET_PROJECT_KEY`) to a target. */
export const resolveTarget = (connection: Connection): Effect.Effect<Target, UsageError> =>
  Effect.gen(function*() {
    const settings = yield* Effect.orElseSucceed(env, () => ({
      url: Option.none<string>(),
      projectKey: Option.none<string>()
    }))
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
        file: filePathOfUrl(url.value)
      }
    }
    const dir = resolve(Option.getOrElse(connection.project, () => "."))
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      return yield* new UsageError({ message: `no such project directory: ${dir}; pass --project with an existing directory` })
    }
    return { _tag: "File" as const, dir, path: join(dir, ".fleet", "fleet.db"), projectKey: settings.projectKey }
  })

/** Where the target's database is, for messages. */
export const describeTarget = (target: Target): string =>
  target._tag === "File" ? target.path : target.url.replace(/\?.*$/, "")

/** The flags that select this target again (for hints and for the demo's pilot processes). */
export const targetArgs = (target: Target): ReadonlyArray<string> =>
  target._tag === "File" ? ["--project", target.dir] : ["--url", target.url]

/**
 * The `FleetDb` layer for a target. With `mustExist`, a missing database file is a
 * `DatabaseMissing` (read commands never create one).
 */
export const databaseLayer = (target: Target, options: { readonly mustExist: boolean }) => {
  const missing = (path: string) =>
    new DatabaseMissing({
      message: `no FleetTools database at ${path}; run \`fleet-db init${
        target._tag === "File" ? ` --project ${target.dir}` : ` --url ${target.url}`
      }\` first, or pass --project DIR / --url URL`
    })
  return Layer.unwrapEffect(Effect.gen(function*() {
    if (target._tag === "File") {
      if (options.mustExist && !existsSync(target.path)) return yield* missing(target.path)
      return FleetDb.layerFile({ projectPath: target.dir, projectKey: Option.getOrUndefined(target.projectKey) })
    }
    if (options.mustExist && Option.isSome(target.file) && !existsSync(target.file.value)) {
      return yield* missing(target.file.value)
    }
    const authToken = yield* Effect.orElseSucceed(
      Config.option(Config.redacted("FLEET_DB_AUTH_TOKEN")),
      () => Option.none()
    )
    return FleetDb.layer({
      url: target.url,
      projectKey: Option.getOrUndefined(target.projectKey),
      authToken: Option.getOrUndefined(authToken)
    })
  }))
}

/**
 * Run `effect` against the database the shared options select. Read commands pass
 * `mustExist: true` so a missing database is reported instead of created.
 */
export const withDatabase = (connection: Connection, options: { readonly mustExist: boolean }) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | UsageError | DatabaseMissing | DatabaseOpenError, Exclude<R, FleetDb.FleetServices>> =>
  Effect.flatMap(resolveTarget(connection), (target) => Effect.provide(effect, databaseLayer(target, options)))
