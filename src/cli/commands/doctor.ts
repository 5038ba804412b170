/**
 * `fleet-db doctor`: is the database healthy? Integrity, migrations, WAL size, leases that ran out
 * without being released, pilots that went silent, rows that do not decode; with `--verify`,
 * whether the tables still match the event log. Exit code 1 when something is wrong.
 *
 * @module
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { DatabaseOpenError, Diagnostics, FleetProject, Projections } from "../../index.js"
import { common } from "../options.js"
import { databaseLayer, describeTarget, Opened, resolveTarget } from "../connection.js"
import { ExitWith } from "../errors.js"
import * as Inspect from "../inspect.js"
import * as Render from "../render.js"

/** One finding: `fail` makes the exit code 1, `warn` is worth a look. */
export interface Check {
  readonly name: string
  readonly status: "ok" | "warn" | "fail"
  readonly detail: string
  readonly items?: ReadonlyArray<unknown>
}

const WAL_WARN_BYTES = 64 * 1024 * 1024

/** The first five items, described, and "…" when there are more (all of them are in `items`). */
const sample = <A>(items: ReadonlyArray<A>, describe: (item: A) => string) =>
  items.slice(0, 5).map(describe).join(", ") + (items.length > 5 ? ", …" : "")

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 0)} MB`

/**
 * A file database is one project: rows under several keys (written before keys were stored, e.g.
 * through a symlink or from a moved checkout) are one project seen as several fleets.
 */
const projectKeys = Effect.gen(function*() {
  const { projectKey } = yield* FleetProject
  const keys = yield* Diagnostics.projectKeys
  if (keys.every((k) => k.projectKey === projectKey)) {
    return { name: "projects", status: "ok", detail: `one project key: ${projectKey}` } satisfies Check
  }
  return {
    name: "projects",
    status: "fail",
    detail: `${keys.length} project keys in one file database, seen as separate fleets: ${
      keys.map((k) => `${JSON.stringify(k.projectKey)} (${k.rows} rows)`).join(", ")
    }; merge them into one (README: "One project, one key")`,
    items: keys
  } satisfies Check
})

const checks = (
  target: {
    readonly walPath: Option.Option<string>
    readonly silentMs: number
    readonly verify: boolean
    /** A server hosts several projects: only a file database must hold one key. */
    readonly isFile: boolean
  }
) =>
  Effect.gen(function*() {
    const now = yield* Diagnostics.now
    const found: Array<Check> = []
    const integrity = yield* Inspect.integrity
    found.push(
      integrity.length === 1 && integrity[0] === "ok"
        ? { name: "integrity", status: "ok", detail: "PRAGMA integrity_check: ok" }
        : { name: "integrity", status: "fail", detail: `PRAGMA integrity_check: ${integrity.slice(0, 5).join("; ")}`, items: integrity }
    )
    const migrations = yield* Diagnostics.migrations
    const names = migrations.applied.map((m) => `${String(m.id).padStart(4, "0")}_${m.name}`)
    found.push({
      name: "migrations",
      status: migrations.version === migrations.latest ? "ok" : "fail",
      detail: `schema version ${migrations.version} of ${migrations.latest} (${names.join(", ") || "none applied"})`,
      items: migrations.applied
    })
    found.push(Option.match(target.walPath, {
      onNone: () => ({ name: "wal", status: "ok" as const, detail: "not a local file: no WAL to measure" }),
      onSome: (path) => {
        const size = Inspect.fileSize(path)
        return size > WAL_WARN_BYTES
          ? { name: "wal", status: "warn" as const, detail: `${megabytes(size)}: a reader may be holding back checkpoints` }
          : { name: "wal", status: "ok" as const, detail: megabytes(size) }
      }
    }))
    if (target.isFile) found.push(yield* projectKeys)
    const leases = yield* Inspect.expiredLeases
    found.push(
      leases.length === 0
        ? { name: "leases", status: "ok", detail: "no expired lock or reservation left unreleased" }
        : {
          name: "leases",
          status: "fail",
          detail: `${leases.length} expired but unreleased: ${
            sample(leases, (l) => `${l.kind} ${l.name} (${l.holder}, expired ${Render.ago(l.expires_at, now)})`)
          }`,
          items: leases
        }
    )
    const silent = yield* Inspect.silentPilots(target.silentMs)
    const holding = silent.filter((p) => p.sorties > 0 || p.leases > 0)
    found.push(
      silent.length === 0
        ? { name: "pilots", status: "ok", detail: `none silent for more than ${Render.formatDuration(target.silentMs)}` }
        : {
          name: "pilots",
          status: holding.length > 0 ? "fail" : "warn",
          detail: `${silent.length} silent for more than ${Render.formatDuration(target.silentMs)}${
            holding.length > 0
              ? `, holding work: ${
                holding.map((p) => `${p.callsign} (${p.sorties} sorties, ${p.leases} leases, last seen ${Render.ago(p.last_active_at, now)})`)
                  .join(", ")
              }`
              : ` (holding nothing): ${sample(silent, (p) => p.callsign)}`
          }`,
          items: silent
        }
    )
    const undecodable = yield* Diagnostics.undecodableRows
    found.push(
      undecodable.length === 0
        ? { name: "rows", status: "ok", detail: "every row decodes into its model" }
        : {
          name: "rows",
          status: "fail",
          detail: `${undecodable.length} row${undecodable.length === 1 ? " does" : "s do"} not decode (reads meeting ${
            undecodable.length === 1 ? "it" : "them"
          } fail with UndecodableRow): ${sample(undecodable, (r) => `${r.table} ${r.row_id} (${r.column})`)}`,
          items: undecodable
        }
    )
    if (target.verify) {
      const differences = yield* (yield* Projections).verify()
      found.push(
        differences.length === 0
          ? { name: "verify", status: "ok", detail: "the tables match a replay of the event log" }
          : {
            name: "verify",
            status: "fail",
            detail: `${differences.length} difference${differences.length === 1 ? "" : "s"} from a replay of the event log: ${
              differences.slice(0, 3).map((d) => d.message).join("; ")
            }${differences.length > 3 ? "; …" : ""}`,
            items: differences
          }
      )
    }
    return found
  })

// A file that exists but cannot be used is a finding of doctor, not a usage error.
const unusable = new Set<DatabaseOpenError["reason"]>(["not-a-database", "migration", "schema-too-new", "project-key", "other"])

/** `fleet-db doctor` */
export const doctor = Command.make("doctor", {
  ...common,
  silentMinutes: Options.integer("silent-minutes").pipe(
    Options.withDescription("A pilot counts as silent after this many minutes without activity (default 30)"),
    Options.withDefault(30)
  ),
  verify: Options.boolean("verify").pipe(
    Options.withDescription("Also replay the event log and compare it with the tables (reads the whole log)")
  )
}, (options) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(options)
    const database = describeTarget(target)
    const walPath = target._tag === "File"
      ? Option.some(`${target.path}-wal`)
      : Option.map(target.file, (path) => `${path}-wal`)
    const found: ReadonlyArray<Check> = yield* Effect.gen(function*() {
      const project = yield* FleetProject
      const readOnly = Option.exists(yield* Effect.serviceOption(Opened), (opened) => opened.readOnly)
      return [
        { name: "open", status: "ok" as const, detail: `opened ${project.location}${readOnly ? " read-only" : ""}` },
        ...(yield* checks({
          walPath,
          silentMs: Math.max(0, options.silentMinutes) * 60_000,
          verify: options.verify,
          isFile: target._tag === "File" || Option.isSome(target.file)
        }))
      ]
    }).pipe(
      Effect.provide(databaseLayer(target, { mustExist: true })),
      Effect.catchIf(
        (error): error is DatabaseOpenError => error instanceof DatabaseOpenError && unusable.has(error.reason),
        (error) => Effect.succeed([{ name: "open", status: "fail" as const, detail: error.message }])
      )
    )
    const failures = found.filter((c) => c.status === "fail").length
    if (options.json) {
      yield* Render.json({ database, ok: failures === 0, checks: found })
    } else {
      const mark = (c: Check) =>
        c.status === "ok" ? Render.style.green("✓") : c.status === "warn" ? Render.style.yellow("!") : Render.style.red("✗")
      yield* Render.lines(
        `${Render.heading("fleet-db doctor")} ${database}`,
        ...found.map((c) => `  ${mark(c)} ${c.name.padEnd(11)} ${c.detail}`),
        failures === 0
          ? Render.style.green("healthy")
          : Render.style.red(`${failures} problem${failures === 1 ? "" : "s"} found`)
      )
    }
    if (failures > 0) return yield* new ExitWith({ code: 1 })
  })).pipe(
    Command.withDescription(
      "Check the database: integrity, migrations, WAL size, expired unreleased leases, silent pilots, undecodable rows; --verify: tables against the event log (exit 1 on problems)"
    )
  )
