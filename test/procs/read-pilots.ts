/**
 * Prints the callsigns in `pilots` of a database file as one JSON line, read by a fresh process
 * through a raw @libsql/client (so it sees only what was really committed).
 * Usage: read-pilots.ts <dbPath>
 */
import * as Libsql from "@libsql/client"

const [path] = process.argv.slice(2)
const client = Libsql.createClient({ url: `file:${path}` })
const rows = (await client.execute("SELECT callsign FROM pilots ORDER BY id")).rows
process.stdout.write(JSON.stringify({ callsigns: rows.map((r) => String(r.callsign)) }) + "\n")
client.close()
