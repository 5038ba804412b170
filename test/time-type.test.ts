/**
 * One time type across the public API: every time-valued field a caller receives — models, error
 * fields, event payloads (and so the sweep's `LostPilot`) — is a `DateTime.Utc`, while the stored
 * form stays epoch milliseconds, so events written before read back the same way.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Schema, SchemaAST } from "effect"
import * as Api from "../src/index.js"
import { EventPayloads, Events, FleetProject } from "../src/index.js"
import { memory } from "./support/backends.js"

// Field names that hold a point in time anywhere in the API.
const isTimeName = (name: string) => /(_at|^timestamp)$/.test(name)

const utcAst = Schema.DateTimeUtcFromSelf.ast
const isUtc = (ast: SchemaAST.AST): boolean =>
  ast === utcAst || SchemaAST.getIdentifierAnnotation(ast).pipe((o) => o._tag === "Some" && o.value === "DateTimeUtcFromSelf")

// An optional or nullable time: the time itself, without `undefined`/`null`.
const withoutAbsence = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> =>
  SchemaAST.isUnion(ast)
    ? ast.types.filter((t) => !(t._tag === "UndefinedKeyword" || (SchemaAST.isLiteral(t) && t.literal === null)))
    : [ast]

/** Every time-valued field under `ast` (the Type side), with its path and whether it is a DateTime.Utc. */
const timeFields = (ast: SchemaAST.AST, path: string, out: Array<{ path: string; ok: boolean }>, seen = new Set<SchemaAST.AST>()) => {
  if (seen.has(ast)) return out
  seen.add(ast)
  switch (ast._tag) {
    case "TypeLiteral":
      for (const p of ast.propertySignatures) {
        const name = String(p.name)
        if (isTimeName(name)) out.push({ path: `${path}.${name}`, ok: withoutAbsence(p.type).every(isUtc) })
        timeFields(p.type, `${path}.${name}`, out, seen)
      }
      break
    case "TupleType":
      for (const e of ast.elements) timeFields(e.type, `${path}[]`, out, seen)
      for (const r of ast.rest) timeFields(r.type, `${path}[]`, out, seen)
      break
    case "Union":
      for (const t of ast.types) timeFields(t, path, out, seen)
      break
    case "Refinement":
      timeFields(ast.from, path, out, seen)
      break
    case "Transformation":
      timeFields(ast.to, path, out, seen)
      break
    case "Declaration":
      for (const t of ast.typeParameters) timeFields(t, path, out, seen)
      break
  }
  return out
}

const fieldsOf = (name: string, schema: Schema.Schema.Any) => timeFields(Schema.typeSchema(schema).ast, name, [])

describe("one time type", () => {
  it("every time-valued field of the exported models, error classes and event payloads is a DateTime.Utc", () => {
    const found: Array<{ path: string; ok: boolean }> = []
    for (const [name, value] of Object.entries(Api)) {
      if (Schema.isSchema(value)) found.push(...fieldsOf(name, value as Schema.Schema.Any))
    }
    for (const [type, schema] of Object.entries(EventPayloads)) found.push(...fieldsOf(`EventPayloads.${type}`, schema))
    expect(found.filter((f) => !f.ok).map((f) => f.path)).toEqual([])
    // The walk reached what it must judge (so it cannot pass by finding nothing).
    const paths = found.map((f) => f.path)
    for (
      const path of [
        "LockHeld.expires_at",
        "ReservationConflict.conflicts[].expires_at",
        "EventPayloads.pilot_lost.last_active_at",
        "EventPayloads.lock_acquired.acquired_at",
        "EventPayloads.file_renewed.expires_at"
      ]
    ) expect(paths, path).toContain(path)
    expect(found.length).toBeGreaterThan(20)
  })

  it.effect("stored numbers decode to DateTime.Utc: an event written before reads back the same", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { projectKey } = yield* FleetProject
      const data = { lock_id: 1, lock_key: "build", holder_id: "viper", fence: 1, acquired_at: 1_700_000_000_000, expires_at: 1_700_000_030_000 }
      yield* sql`INSERT INTO events (type, project_key, timestamp, data)
          VALUES ('lock_acquired', ${projectKey}, 1700000000000, ${JSON.stringify(data)})`
      const events = yield* Events
      const [event] = yield* events.read()
      if (!(event?.known && event.type === "lock_acquired")) throw new Error("expected a known lock_acquired")
      expect(DateTime.isDateTime(event.data.expires_at)).toBe(true)
      expect(DateTime.toEpochMillis(event.data.expires_at)).toBe(data.expires_at)
      expect(DateTime.toEpochMillis(event.data.acquired_at)).toBe(data.acquired_at)
      // Appended with DateTimes (or numbers, as JSON callers do), stored as numbers, read as DateTimes.
      const appended = yield* events.append({ type: "lock_acquired", data: { ...event.data, lock_id: 2 } })
      yield* events.append({ type: "lock_acquired", data: { ...data, lock_id: 3 } } as never)
      const stored = yield* sql<{ data: string }>`SELECT data FROM events WHERE project_key = ${projectKey} ORDER BY id`
      expect(stored.map((row) => JSON.parse(row.data).expires_at)).toEqual([data.expires_at, data.expires_at, data.expires_at])
      const read = yield* events.read({ after: event.sequence })
      expect(read[0]).toEqual(appended)
      for (const e of read) {
        expect(e.known && e.type === "lock_acquired" && DateTime.toEpochMillis(e.data.expires_at)).toBe(data.expires_at)
      }
    }).pipe(Effect.provide(memory.layer())))
})
