/**
 * Four real processes creating one fresh file database at the same moment, each naming a
 * different project key: exactly one key is stored, its opener succeeds, the others are refused
 * with `DatabaseOpenError` ("project-key") and wrote nothing: the file is one fleet. Openers
 * reaching it through a symlink and through the real path without a key all get the stored key.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runWorker, runWorkers } from "./support/procs.js"

describe("concurrent creation of one file database", () => {
  it("4 processes with 4 keys: one key is stored, one opener succeeds, three are refused", async () => {
    const base = mkdtempSync(join(tmpdir(), "fleetdb-identity-"))
    try {
      const dir = join(base, "repo")
      mkdirSync(dir)
      symlinkSync(dir, join(base, "link"), "dir")
      // Workers load, wait at a start line, and open at the same instant.
      const ready = join(base, "ready")
      mkdirSync(ready)
      const results = await runWorkers(4, "open-worker.ts", (i) => [i % 2 === 0 ? dir : join(base, "link"), `key-${i}`, ready, String(i), "4"])
      const lines = results.map((r) => r.lines[0] ?? { ok: false, tag: "none", message: r.stderr })
      const winners = lines.filter((line) => line.ok === true)
      expect(winners, JSON.stringify(lines)).toHaveLength(1)
      for (const line of lines.filter((l) => l.ok !== true)) {
        expect(line, JSON.stringify(lines)).toMatchObject({ tag: "DatabaseOpenError", reason: "project-key" })
      }

      const client = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      try {
        const stored = (await client.execute("SELECT value FROM fleet_meta WHERE name = 'project_key'")).rows
        expect(stored).toHaveLength(1)
        const keys = (await client.execute("SELECT DISTINCT project_key FROM pilots")).rows.map((r) => r.project_key)
        expect(keys).toEqual([stored[0]!.value])
        const winner = results[lines.indexOf(winners[0]!)]!
        expect(winner.code).toBe(0)
      } finally {
        client.close()
      }

      // Later openers without a key, through either path, join the same fleet.
      for (const path of [dir, join(base, "link")]) {
        const later = await runWorker("open-worker.ts", [path])
        expect(later.lines[0], later.stderr).toMatchObject({ ok: true })
      }
      const client2 = Libsql.createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      try {
        const counts = (await client2.execute("SELECT project_key, COUNT(*) AS n FROM pilots GROUP BY project_key")).rows
        expect(counts.map((r) => Number(r.n))).toEqual([3])
      } finally {
        client2.close()
      }
    } finally {
      rmSync(base, { recursive: true, force: true })
    }
  }, 180_000)
})
