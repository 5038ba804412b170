/**
 * Comparing the rows the log implies with the live rows, table by table, by natural key.
 *
 * @module
 */
import type { ProjectionState } from "./replay.js"
import type { ProjectionTable, Row, TableSpec, Value } from "./tables.js"
import { keyOf, projectionTables, tableSpecs } from "./tables.js"

/** One way the live projection differs from what the event log implies. */
export interface ProjectionDifference {
  readonly table: ProjectionTable
  /** The row's natural key (its id, or the callsign / consumer id / message and callsign). */
  readonly key: Readonly<Record<string, Value>>
  /**
   * `missing`: the log implies this row, the table lacks it. `unexpected`: the table has a row
   * that no event accounts for. `mismatch`: the row exists but `column` differs.
   */
  readonly kind: "missing" | "unexpected" | "mismatch"
  readonly column?: string | undefined
  /** What the log implies (for `mismatch`; for cursors, the least position the log allows). */
  readonly expected?: Value | undefined
  /** What the table holds (for `mismatch`). */
  readonly actual?: Value | undefined
  /** The difference in words. */
  readonly message: string
}

const keyValues = (spec: TableSpec, row: Row): Record<string, Value> =>
  Object.fromEntries(spec.key.map((column) => [column, row[column] ?? null]))

const describeKey = (key: Readonly<Record<string, Value>>) =>
  Object.entries(key).map(([column, value]) => `${column}=${JSON.stringify(value)}`).join(", ")

const show = (value: Value | undefined) => {
  const text = JSON.stringify(value ?? null)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** The live rows of one table, grouped by key (a duplicate key is itself a difference). */
const indexRows = (spec: TableSpec, rows: Iterable<Row>) => {
  const byKey = new Map<string, Row>()
  const duplicates: Array<Row> = []
  for (const row of rows) {
    const key = keyOf(spec, row)
    if (byKey.has(key)) duplicates.push(row)
    else byKey.set(key, row)
  }
  return { byKey, duplicates }
}

const diffCursors = (expected: ProjectionState, live: Iterable<Row>): Array<ProjectionDifference> => {
  const spec = tableSpecs.cursors
  const { byKey } = indexRows(spec, live)
  const differences: Array<ProjectionDifference> = []
  for (const row of expected.rows("cursors")) {
    const key = keyValues(spec, row)
    const actual = byKey.get(keyOf(spec, row))
    if (actual === undefined) {
      differences.push({ table: "cursors", key, kind: "missing", message: `cursors ${describeKey(key)}: reset in the log, no cursor in the table` })
    } else if (typeof actual.position !== "number" || actual.position < (row.position as number)) {
      differences.push({
        table: "cursors",
        key,
        kind: "mismatch",
        column: "position",
        expected: row.position,
        actual: actual.position,
        message: `cursors ${describeKey(key)}: position ${show(actual.position)} is behind its latest reset to ${show(row.position)}`
      })
    }
  }
  return differences
}

/** Every difference between the replayed state and the live rows (`live` by table). */
export const diffProjections = (
  expected: ProjectionState,
  live: { readonly [T in ProjectionTable]: ReadonlyArray<Row> }
): Array<ProjectionDifference> => {
  const differences: Array<ProjectionDifference> = []
  for (const table of projectionTables) {
    if (table === "cursors") {
      differences.push(...diffCursors(expected, live.cursors))
      continue
    }
    const spec = tableSpecs[table]
    const { byKey, duplicates } = indexRows(spec, live[table])
    for (const row of duplicates) {
      const key = keyValues(spec, row)
      differences.push({ table, key, kind: "unexpected", message: `${table} ${describeKey(key)}: a second row with this key` })
    }
    const seen = new Set<string>()
    for (const row of expected.rows(table)) {
      const id = keyOf(spec, row)
      seen.add(id)
      const key = keyValues(spec, row)
      const actual = byKey.get(id)
      if (actual === undefined) {
        differences.push({ table, key, kind: "missing", message: `${table} ${describeKey(key)}: in the log, not in the table` })
        continue
      }
      for (const column of spec.checked) {
        const want = row[column] ?? null
        const got = actual[column] ?? null
        if (want !== got) {
          differences.push({
            table,
            key,
            kind: "mismatch",
            column,
            expected: want,
            actual: got,
            message: `${table} ${describeKey(key)}: ${column} is ${show(got)}, the log says ${show(want)}`
          })
        }
      }
    }
    for (const [id, row] of byKey) {
      if (seen.has(id)) continue
      const key = keyValues(spec, row)
      differences.push({ table, key, kind: "unexpected", message: `${table} ${describeKey(key)}: no event accounts for this row` })
    }
  }
  return differences
}
