/**
 * Looking at an existing database file before it is opened for real: opening sets WAL mode (a
 * write to the file's header) and migrating creates tables, so a file that belongs to another
 * application must be recognised first, with a plain read that changes nothing.
 *
 * @module
 */
import type * as Libsql from "@libsql/client"
import { closeSync, openSync, readSync, statSync } from "node:fs"
import { migrationsTable } from "../migrations/index.js"

/** What an existing file holds, as far as opening it is concerned. */
export type FileContents =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Fleet" }
  | { readonly _tag: "Foreign"; readonly tables: ReadonlyArray<string> }

// The seed's `events` columns: a database that has them was made by FleetTools (this library or
// the seed's own migration) and is adopted; any other non-empty database is not ours to migrate.
const EVENTS_COLUMNS = ["id", "type", "project_key", "timestamp", "data"]

/** Thrown for a file whose length cannot be that of a SQLite database. */
class TruncatedFile extends Error {
  readonly code = "SQLITE_CORRUPT"
}

/**
 * A SQLite database file is a whole number of pages. SQLite itself notices a file shorter than
 * its header says, but not one that stops inside its last page (it reads the missing bytes as
 * zeros), so that is checked here. Files without the SQLite header are left to SQLite (NOTADB).
 */
const checkWholePages = (path: string, size: number): void => {
  const header = Buffer.alloc(100)
  const fd = openSync(path, "r")
  try {
    readSync(fd, header, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  if (header.toString("latin1", 0, 16) !== "SQLite format 3\u0000") return
  const raw = header.readUInt16BE(16)
  const pageSize = raw === 1 ? 65_536 : raw
  if (size < 100 || pageSize < 512 || size % pageSize !== 0) {
    throw new TruncatedFile(`database disk image is malformed: ${size} bytes is not a whole number of ${pageSize}-byte pages (truncated?)`)
  }
}

/**
 * Classify the file at `path` with a read-only look through `client`, a fresh connection to it
 * on which nothing has run yet (no pragmas, no writes). Rejects with the driver's error when the
 * file is not a SQLite database or is damaged (e.g. truncated). A missing or empty (0-byte) file
 * is `Absent`: SQLite treats both as a new database.
 */
export const inspectFile = async (path: string, client: Pick<Libsql.Client, "execute">): Promise<FileContents> => {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    return { _tag: "Absent" }
  }
  if (size === 0) return { _tag: "Absent" }
  checkWholePages(path, size)
  const tables = (await client.execute(
    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
  )).rows.map((row) => String(row.name))
  // The migrator creates its table before its migration transaction, so a file another process
  // is migrating right now can hold only that table: it is ours, mid-creation.
  if (tables.every((table) => table === migrationsTable)) return { _tag: "Fleet" }
  if (tables.includes("events")) {
    const columns = new Set((await client.execute("PRAGMA table_xinfo(events)")).rows.map((row) => String(row.name)))
    if (EVENTS_COLUMNS.every((column) => columns.has(column))) return { _tag: "Fleet" }
  }
  return { _tag: "Foreign", tables }
}
