/**
 * The options every command takes: `--project DIR`, `--url URL`, `--json`.
 *
 * @module
 */
import { Options } from "@effect/cli"

/** `--project DIR`: the project whose `DIR/.fleet/fleet.db` to use (default: the current directory). */
export const project = Options.directory("project", { exists: "either" }).pipe(
  Options.withDescription("The project directory; its database is DIR/.fleet/fleet.db (default: the current directory)"),
  Options.optional
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

/** The options shared by every command. */
export const common = { project, url, json } as const
