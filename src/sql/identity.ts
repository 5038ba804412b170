/**
 * Project identity of a file database: the key its rows are written under is stored in the file
 * (`fleet_meta`, migration 0004) when it is first opened, and used from then on, however the
 * file is reached (a symlink, a bind mount, a moved or renamed repository). Servers host many
 * projects and store none: there the caller's key is the project.
 *
 * @module
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { realpathSync } from "node:fs"
import { resolve } from "node:path"
import { DatabaseOpenError } from "../errors.js"

/** Every table whose rows carry a `project_key`. */
export const projectKeyTables: ReadonlyArray<string> = [
  "events",
  "pilots",
  "messages",
  "reservations",
  "cursors",
  "locks",
  "missions",
  "sorties",
  "work_orders",
  "checkpoints"
]

/** The canonical form of a directory: absolute, symlinks resolved (as given when it cannot be resolved). */
export const canonicalPath = (path: string): string => {
  const absolute = resolve(path)
  try {
    return realpathSync.native(absolute)
  } catch {
    return absolute
  }
}

/** How the opener names its project. */
export interface KeyRequest {
  /** The key the caller passed, if any: it must agree with the stored one. */
  readonly explicit: string | undefined
  /** The key for a database that has none stored yet (e.g. the canonical project path). */
  readonly fallback: () => string
  /**
   * The key for a database created before keys were stored that holds rows under several
   * (`fleet-db doctor` reports it): what this library used before (e.g. the path as given).
   */
  readonly legacy: () => string
  /** A read-only open claims nothing: without a stored key it uses the explicit or fallback key. */
  readonly readOnly?: boolean | undefined
}

const storedKey = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ readonly name: string; readonly value: string }>`SELECT name, value FROM fleet_meta
      WHERE name IN ('project_key', 'legacy_project_keys')`,
    (rows) => ({
      key: rows.find((row) => row.name === "project_key")?.value,
      legacy: rows.some((row) => row.name === "legacy_project_keys")
    })
  )

/**
 * The project key of the file database behind `sql`: the stored one; or, when none is stored yet,
 * the requested one, stored now (one statement: of two processes creating the file at once, the
 * first insert wins and both read it back). Only a read when the key is already stored. An
 * explicit key that is not the stored one is a `DatabaseOpenError` (`"project-key"`): a second
 * key would be a second fleet in the same file.
 */
export const resolveProjectKey = (
  sql: SqlClient.SqlClient,
  target: string,
  request: KeyRequest
): Effect.Effect<string, DatabaseOpenError> =>
  Effect.gen(function*() {
    let stored = yield* storedKey(sql)
    if (stored.key === undefined && !stored.legacy && request.readOnly === true) {
      return request.explicit ?? request.fallback()
    }
    if (stored.key === undefined && !stored.legacy) {
      const candidate = request.explicit ?? request.fallback()
      // Not when rows under another key exist (written by services composed by hand): then the
      // file already serves several keys, and nobody's key is claimed for it.
      const others = projectKeyTables.map((table) =>
        `NOT EXISTS (SELECT 1 FROM \`${table}\` WHERE \`project_key\` <> ?)`
      ).join(" AND ")
      yield* sql.unsafe(
        `INSERT OR IGNORE INTO fleet_meta (name, value) SELECT 'project_key', ? WHERE ${others}`,
        [candidate, ...projectKeyTables.map(() => candidate)]
      ).raw
      stored = yield* storedKey(sql)
    }
    if (stored.key === undefined) return request.explicit ?? request.legacy()
    if (request.explicit !== undefined && request.explicit !== stored.key) {
      return yield* new DatabaseOpenError({
        target,
        reason: "project-key",
        detail: `projectKey ${JSON.stringify(request.explicit)} is not this database's project key ` +
          `${JSON.stringify(stored.key)} (stored when it was created): one file database is one project; ` +
          `omit projectKey to use the stored one`
      })
    }
    return stored.key
  }).pipe(
    Effect.catchTag("SqlError", (error) =>
      Effect.fail(
        new DatabaseOpenError({ target, reason: "other", detail: `reading the project key failed: ${error.message}` })
      ))
  )

/** How the opener asks for the project's case rule (see `resolveCaseRule`). */
export interface CaseRequest {
  /** The rule the caller passed, if any: it must agree with the stored one. */
  readonly explicit: boolean | undefined
  /** The rule of the project directory's filesystem, probed. */
  readonly probed: () => boolean
  /** A read-only open claims nothing. */
  readonly readOnly?: boolean | undefined
}

/**
 * Whether the file database behind `sql` compares paths case-insensitively: the stored rule; or,
 * when none is stored yet, the requested (or probed) one, stored now like the project key (the
 * first opener decides, every later one reads it). Every process of one fleet then compares paths
 * alike, whatever each was told. An explicit rule that is not the stored one is a
 * `DatabaseOpenError`: two rules would let two pilots hold one file in two spellings.
 */
export const resolveCaseRule = (
  sql: SqlClient.SqlClient,
  target: string,
  request: CaseRequest
): Effect.Effect<boolean, DatabaseOpenError> =>
  Effect.gen(function*() {
    const read = Effect.map(
      sql<{ readonly value: string }>`SELECT value FROM fleet_meta WHERE name = 'case_insensitive'`,
      (rows) => rows[0]?.value
    )
    let stored = yield* read
    if (stored === undefined) {
      const wanted = request.explicit ?? request.probed()
      if (request.readOnly === true) return wanted
      yield* sql`INSERT OR IGNORE INTO fleet_meta (name, value) VALUES ('case_insensitive', ${wanted ? "1" : "0"})`.raw
      stored = yield* read
    }
    const rule = stored === "1"
    if (request.explicit !== undefined && request.explicit !== rule) {
      return yield* new DatabaseOpenError({
        target,
        reason: "other",
        detail: `caseInsensitive: ${request.explicit} is not this database's case rule (${rule}, stored when it was ` +
          `created): every process of one fleet compares paths alike; omit caseInsensitive to use the stored rule`
      })
    }
    return rule
  }).pipe(
    Effect.catchTag("SqlError", (error) =>
      Effect.fail(
        new DatabaseOpenError({ target, reason: "other", detail: `reading the case rule failed: ${error.message}` })
      ))
  )

/** Every project key with rows in the database, and how many rows each has. */
export const keysInUse = (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql.unsafe<{ readonly project_key: string; readonly n: number }>(
      `SELECT project_key, COUNT(*) AS n FROM (${
        projectKeyTables.map((table) => `SELECT \`project_key\` FROM \`${table}\``).join(" UNION ALL ")
      }) GROUP BY project_key ORDER BY n DESC, project_key`
    ),
    (rows) => rows.map((row) => ({ projectKey: row.project_key, rows: Number(row.n) }))
  )

/** The stored project key, if any. */
export const storedProjectKey = (sql: SqlClient.SqlClient) => Effect.map(storedKey(sql), (stored) => stored.key)
