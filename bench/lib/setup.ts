/**
 * Database setup shared by every benchmark: each implementation gets its own file in a temp
 * directory, created and migrated by `FleetDb.layerFile` (so every file has the same schema), and
 * the raw clients open it with the connection contract of the library (busy timeout through the
 * 0.18 client's `timeout` option, WAL, `synchronous=NORMAL`).
 */
import * as Libsql from "@libsql/client"
import { Effect, ManagedRuntime } from "effect"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb } from "../../src/index.js"

/** The project key of every benchmark database. */
export const PROJECT_KEY = "bench"
/** The busy timeout of every connection, in ms (the library's default). */
export const BUSY_TIMEOUT_MS = 5_000

/** The same pragmas as `src/sql/client.ts` applies to every file connection. */
export const PRAGMAS = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA journal_size_limit=67108864"]

/** A fresh temp directory (removed by `cleanup`). */
export const tempDir = (label: string): { readonly dir: string; readonly cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `fleetdb-bench-${label}-`))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The project directory of implementation `name` under `dir`; its database is `.fleet/fleet.db`. */
export const projectPath = (dir: string, name: string) => join(dir, name)

/** The database file of implementation `name` under `dir`. */
export const dbFile = (dir: string, name: string) => join(dir, name, ".fleet", "fleet.db")

/** The service layer on implementation `name`'s file. */
export const serviceLayer = (dir: string, name: string) =>
  FleetDb.layerFile({ projectPath: projectPath(dir, name), projectKey: PROJECT_KEY })

/** Create and migrate implementation `name`'s file (through the library, then closed). */
export const createDatabase = async (dir: string, name: string): Promise<string> => {
  mkdirSync(projectPath(dir, name), { recursive: true })
  const runtime = ManagedRuntime.make(serviceLayer(dir, name))
  await runtime.runPromise(Effect.void)
  await runtime.dispose()
  return dbFile(dir, name)
}

/** A raw `@libsql/client` 0.18 client on `file`, with the library's connection contract. */
export const openRaw = async (file: string): Promise<Libsql.Client> => {
  const client = Libsql.createClient({ url: `file:${file}`, timeout: BUSY_TIMEOUT_MS, concurrency: 1 })
  for (const pragma of PRAGMAS) await client.execute(pragma)
  return client
}

/** A service runtime on implementation `name`'s file (already built). */
export const openService = async (dir: string, name: string) => {
  const runtime = ManagedRuntime.make(serviceLayer(dir, name))
  await runtime.runPromise(Effect.void)
  return runtime
}
