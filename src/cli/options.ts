/**
 * The options every command takes: `--project DIR`, `--url URL`, `--project-key KEY`,
 * `--read-only`, `--json`.
 *
 * @module
 */
import { Options } from "@effect/cli"
import { Schema } from "effect"

/** `--project DIR`: the project whose `DIR/.fleet/fleet.db` to use (default: found from the current directory). */
export const project = Options.directory("project", { exists: "either" }).pipe(
  Options.withDescription(
    "The project directory; its database is DIR/.fleet/fleet.db (default: the nearest directory up with a " +
      ".fleet/ or the git repository root; every git worktree uses the main worktree's)"
  ),
  Options.optional
)

/** `--project-key KEY`: which project of a server (also `FLEET_PROJECT_KEY`). */
export const projectKey = Options.text("project-key").pipe(
  Options.withDescription(
    "The project on a server (--url); default $FLEET_PROJECT_KEY, else the current directory. A file " +
      "database has its own key: a different one is refused"
  ),
  Options.optional
)

/** `--read-only`: open the database without writing anything. */
export const readOnly = Options.boolean("read-only").pipe(
  Options.withDescription(
    "Open the database without writing anything (a file database; automatic when you cannot write it)"
  )
)

/** `--url URL`: a libSQL server or `file:` database instead of the project's file (also `FLEET_DB_URL`). */
export const url = Options.text("url").pipe(
  Options.withDescription(
    "A database URL instead of --project: libsql://, http(s)://, ws(s):// (sqld, Turso) or file:PATH; default $FLEET_DB_URL"
  ),
  Options.optional
)

/** `--json`: machine-readable output. */
export const json = Options.boolean("json").pipe(Options.withDescription("Print JSON instead of tables"))

/**
 * `--NAME N`, an integer from `min` to `max` (either bound may be omitted); anything else is a usage
 * error naming the flag and its range.
 */
export const integerWithin = (name: string, range: { readonly min: number; readonly max?: number }) => {
  const expected = range.max === undefined ? `${range.min} or more` : `between ${range.min} and ${range.max}`
  const message = (issue: { readonly actual: unknown }) => `--${name} must be ${expected}, got ${String(issue.actual)}`
  const atLeast = Schema.Number.pipe(Schema.greaterThanOrEqualTo(range.min, { message }))
  return Options.integer(name).pipe(
    Options.withSchema(range.max === undefined ? atLeast : atLeast.pipe(Schema.lessThanOrEqualTo(range.max, { message })))
  )
}

/** The options shared by every command. */
export const common = { project, url, projectKey, readOnly, json } as const
