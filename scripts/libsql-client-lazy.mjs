/**
 * `@libsql/client` as the `fleet-db` bundle sees it (see bundle-cli.mjs): `createClient` for a
 * local file (or `:memory:`) comes from the SQLite driver alone; the full client, whose HTTP and
 * WebSocket clients cost about as much to load as the rest of the command, is required only when
 * a server URL is opened. The only value the bundle takes from `@libsql/client` is `createClient`.
 */
import { createRequire } from "node:module"
import { createClient as createLocalClient } from "@libsql/client/sqlite3"

const require = createRequire(import.meta.url)

const isLocal = (url) => typeof url === "string" && (url.startsWith("file:") || url === ":memory:")

/** `@libsql/client`'s `createClient`, loading the server clients only for a server URL. */
export const createClient = (config) =>
  isLocal(config.url) ? createLocalClient(config) : require("@libsql/client").createClient(config)
