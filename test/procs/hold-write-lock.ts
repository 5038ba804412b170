/**
 * Takes the write lock of a database file (BEGIN IMMEDIATE through a raw @libsql/client),
 * prints `{"held":true}`, keeps it for <holdMs>, commits and prints `{"released":true}`.
 * Usage: hold-write-lock.ts <dbPath> <holdMs>
 */
import * as Libsql from "@libsql/client"

const [path, holdMs] = process.argv.slice(2)
const client = Libsql.createClient({ url: `file:${path}` })
const tx = await client.transaction("write")
await tx.execute("CREATE TABLE IF NOT EXISTS hold_marker (x)")
process.stdout.write(JSON.stringify({ held: true }) + "\n")
await new Promise((resolve) => setTimeout(resolve, Number(holdMs)))
await tx.commit()
client.close()
process.stdout.write(JSON.stringify({ released: true }) + "\n")
