/**
 * `fleet-db guard install|uninstall|check`: a git pre-commit hook that refuses a commit touching a
 * path another pilot reserved exclusively (see the README, "Git guard").
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, DateTime, Effect, Either, Option } from "effect"
import { existsSync, realpathSync } from "node:fs"
import { isAbsolute, join, relative, sep } from "node:path"
import { FleetProject, Paths, Reservations } from "../../index.js"
import { databaseLayer, describeTarget, resolveTarget, type Target } from "../connection.js"
import { ExitWith, UsageError } from "../errors.js"
import * as GitHook from "../gitHook.js"
import { Io } from "../io.js"
import { common } from "../options.js"
import * as Render from "../render.js"

/** What the guard does when it cannot read the fleet. */
type OnError = "allow" | "refuse"

const onErrorChoices: readonly [OnError, OnError] = ["allow", "refuse"]

const onErrorDescription = "When the database is missing, locked or unreadable: allow the commit with a warning, or refuse it"

/** `--on-error` as `install` writes it into the hook: only when given. */
const onErrorFlag = Options.choice("on-error", onErrorChoices).pipe(
  Options.withDescription(`${onErrorDescription} (default: as \`guard check\` decides when the hook runs)`),
  Options.optional
)

/** `--on-error` as `check` reads it: the flag, else `$FLEET_GUARD_ON_ERROR`, else allow. */
const onErrorOption = Options.choice("on-error", onErrorChoices).pipe(
  Options.withDescription(`${onErrorDescription} (default $FLEET_GUARD_ON_ERROR, else allow)`),
  Options.withFallbackConfig(Config.literal(...onErrorChoices)("FLEET_GUARD_ON_ERROR")),
  Options.withDefault<OnError>("allow")
)

const inGit = <A>(what: string, run: () => A): Effect.Effect<A, UsageError> =>
  Effect.try({
    try: run,
    catch: (error) => new UsageError({ message: `${what}: ${GitHook.gitFailure(error)}` })
  })

/** One staged path that another pilot holds. */
interface Refusal {
  readonly path: string
  readonly holder: string
  readonly pattern: string
  readonly expires_at: DateTime.Utc
}

/**
 * Staged paths, from the top of the working tree, as the project sees them: from the main
 * worktree's root (the same tree layout) or from `--project DIR` when it lies inside the tree.
 * Paths outside the project cannot be reserved and are dropped.
 */
const projectPaths = (target: Target, top: string, paths: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (target._tag !== "File" || target.foundBy !== "--project") return paths
  const base = relative(realpathSync(top), realpathSync(target.dir))
  if (base === "") return paths
  if (base.startsWith("..") || isAbsolute(base)) return paths
  const prefix = `${base.split(sep).join("/")}/`
  return paths.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length))
}

/** The active exclusive reservations of other pilots that `paths` touch. */
const refusals = (paths: ReadonlyArray<string>, callsign: Option.Option<string>) =>
  Effect.gen(function*() {
    const project = yield* FleetProject
    const held = (yield* (yield* Reservations).active()).filter((r) =>
      r.exclusive && Option.match(callsign, { onNone: () => true, onSome: (me) => r.callsign !== me })
    )
    if (held.length === 0 || paths.length === 0) return []
    const rule = project.caseInsensitive
    const patterns = held.map((r) => ({ row: r, compiled: Paths.compile(Paths.storedComparisonForm(r.path_pattern, rule)) }))
    const found: Array<Refusal> = []
    for (const path of paths) {
      const canonical = Paths.canonicalize(path)
      // A path the library cannot hold as a pattern (too long, control characters) is not reserved.
      if (Either.isLeft(canonical)) continue
      // A changed file, not a pattern: a `[slug]` or `*` in its name is part of the name.
      const wanted = Paths.compilePath(Paths.comparisonForm(canonical.right, rule))
      for (const { compiled, row } of patterns) {
        if (Paths.overlapsCompiled(wanted, compiled)) {
          found.push({ path, holder: row.callsign, pattern: row.path_pattern, expires_at: row.expires_at })
        }
      }
    }
    return found
  })

const refusalLine = (r: Refusal): string =>
  `  ${r.path}: reserved exclusively by ${r.holder} (${r.pattern}, until ${DateTime.formatIso(r.expires_at)})`

const check = Command.make("check", {
  ...common,
  staged: Options.boolean("staged").pipe(
    Options.withDescription("Check the paths the next commit changes (what the pre-commit hook runs)")
  ),
  callsign: Options.text("callsign").pipe(
    Options.withDescription("The committing pilot, whose own reservations are allowed (default $FLEET_CALLSIGN)"),
    Options.withFallbackConfig(Config.string("FLEET_CALLSIGN")),
    Options.optional
  ),
  onError: onErrorOption,
  paths: Args.text({ name: "PATH" }).pipe(Args.withDescription("Paths to check besides the staged ones"), Args.repeated)
}, (options) =>
  Effect.gen(function*() {
    const onError = options.onError
    const callsign = Option.filter(options.callsign, (c) => c.length > 0)
    const cwd = (yield* Io).cwd()
    if (!options.staged && options.paths.length === 0) {
      return yield* new UsageError({ message: "nothing to check: pass --staged (the next commit) or paths" })
    }
    const resolved = yield* resolveTarget(options)
    // The guard only reads: it never creates, migrates or writes a database.
    const target: Target = resolved._tag === "File" ? { ...resolved, readOnly: true } : resolved
    const staged = options.staged
      ? yield* inGit("cannot list the staged paths", () => {
        const top = GitHook.topLevel(cwd)
        return projectPaths(target, top, GitHook.stagedPaths(top))
      })
      : []
    const paths = [...staged, ...options.paths]

    const problem = (message: string) =>
      Effect.gen(function*() {
        if (options.json) yield* Render.json({ allowed: onError === "allow", checked: paths.length, refusals: [], error: message })
        if (onError === "allow") {
          yield* Render.errLine(`fleet-db guard: warning: ${message}; allowing the commit (--on-error refuse to refuse it)`)
          return
        }
        yield* Render.errLine(`fleet-db guard: commit refused: ${message} (--on-error allow, or git commit --no-verify, to commit anyway)`)
        return yield* new ExitWith({ code: 3 })
      })

    const database = describeTarget(target)
    if (target._tag === "File" && !existsSync(target.path)) {
      return yield* problem(`no fleet database at ${database}, so no reservation can be checked`)
    }
    const found = yield* refusals(paths, callsign).pipe(
      Effect.provide(databaseLayer(target, { mustExist: true })),
      Effect.map(Either.right),
      Effect.catchAll((error) => Effect.succeed(Either.left(`cannot read the fleet database ${database}: ${error.message}`)))
    )
    if (Either.isLeft(found)) return yield* problem(found.left)
    const refused = found.right
    if (options.json) yield* Render.json({ allowed: refused.length === 0, checked: paths.length, refusals: refused })
    if (refused.length === 0) return
    if (!options.json) {
      yield* Render.errLine(
        `fleet-db guard: commit refused: ${refused.length === 1 ? "a path is" : `${refused.length} paths are`} ` +
          `reserved exclusively by another pilot${Option.match(callsign, { onNone: () => " (no --callsign or $FLEET_CALLSIGN: every pilot is another)", onSome: (c) => ` (you are ${c})` })}`
      )
      for (const r of refused) yield* Render.errLine(refusalLine(r))
      yield* Render.errLine("  wait for the reservation to end or ask its holder (fleet-db reservations); git commit --no-verify skips the check")
    }
    return yield* new ExitWith({ code: 1 })
  })).pipe(
    Command.withDescription(
      "Refuse (exit 1) when the staged paths (--staged) or PATHs touch another pilot's exclusive reservation; " +
        "renames count both paths, deletions count"
    )
  )

/** The command the hook runs: this very `fleet-db`, by absolute path (a hook's PATH may lack it). */
const hookCommand = (onError: Option.Option<OnError>): ReadonlyArray<string> => [
  process.execPath,
  realpathSync(process.argv[1]!),
  "guard",
  "check",
  "--staged",
  ...Option.match(onError, { onNone: () => [], onSome: (value) => ["--on-error", value] })
]

const install = Command.make("install", { json: common.json, onError: onErrorFlag }, (options) =>
  Effect.gen(function*() {
    const cwd = (yield* Io).cwd()
    const dir = yield* inGit("not in a git repository", () => GitHook.hooksDir(cwd))
    const done = yield* Effect.try({
      try: () => GitHook.install(dir, hookCommand(options.onError)),
      catch: (error) => new UsageError({ message: error instanceof Error ? error.message : String(error) })
    })
    if (options.json) return yield* Render.json(done)
    yield* Render.lines(
      `${done.replaced ? "Reinstalled" : "Installed"} the fleet-db guard: ${done.hook}`,
      ...(done.chained === undefined ? [] : [`  it runs the hook that was there first: ${done.chained}`])
    )
  })).pipe(Command.withDescription("Add the pre-commit hook (keeping a hook already there, which runs first)"))

const uninstall = Command.make("uninstall", { json: common.json }, (options) =>
  Effect.gen(function*() {
    const cwd = (yield* Io).cwd()
    const dir = yield* inGit("not in a git repository", () => GitHook.hooksDir(cwd))
    const done = GitHook.uninstall(dir)
    if (options.json) return yield* Render.json(done)
    yield* Render.lines(
      !done.removed
        ? `No fleet-db guard in ${join(dir, "pre-commit")}: nothing to do`
        : done.restored
        ? `Removed the fleet-db guard and put back the hook it chained: ${done.hook}`
        : `Removed the fleet-db guard: ${done.hook}`
    )
  })).pipe(Command.withDescription("Remove the pre-commit hook and put back the one it chained"))

/** `fleet-db guard` */
export const guard = Command.make("guard").pipe(
  Command.withDescription(
    "A git pre-commit hook refusing commits that touch paths other pilots reserved exclusively. The committing " +
      "pilot is --callsign / $FLEET_CALLSIGN. When the database is missing, locked or unreadable the commit is " +
      "allowed with a warning, unless --on-error refuse / FLEET_GUARD_ON_ERROR=refuse (exit 3)"
  ),
  Command.withSubcommands([install, uninstall, check])
)
