/**
 * Four real processes opening and migrating one fresh file at the same moment all succeed, and
 * each migration is recorded exactly once.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { migrations } from "../src/migrations/index.js"
import { runWorkers } from "./support/procs.js"

describe("concurrent migration", () => {
  it("4 processes migrating one fresh file all succeed; each migration recorded once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fleetdb-migrate-"))
    try {
      // Workers load, wait at a start line, and open at the same instant.
      const ready = mkdtempSync(join(tmpdir(), "fleetdb-migrate-ready-"))
      const results = await runWorkers(4, "open-worker.ts", (i) => [dir, "", ready, String(i), "4"]).finally(() =>
        rmSync(ready, { recursive: true, force: true })
      )
      for (const result of results) {
        expect(result.code, result.stderr).toBe(0)
        expect(result.lines[0], result.stderr).toMatchObject({ ok: true })
      }
      const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      try {
        const applied = (await client.execute("SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id")).rows
        expect(applied.map((r) => `${String(r.migration_id).padStart(4, "0")}_${String(r.name)}`)).toEqual(Object.keys(migrations))
        const pilots = (await client.execute("SELECT count(*) AS n FROM pilots")).rows[0]!
        expect(Number(pilots.n)).toBe(4)
        const check = (await client.execute("PRAGMA integrity_check")).rows[0]!
        expect(Object.values(check)[0]).toBe("ok")
      } finally {
        client.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
