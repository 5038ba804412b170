/**
 * Output of the `fleet-db` command: plain-text tables and lines for people, JSON for machines.
 * Everything goes through `Io` (the process's stdout/stderr unless a test gives its own; the
 * library itself never prints).
 *
 * @module
 */
import { Config, DateTime, Effect, Option } from "effect"
import { Io } from "./io.js"

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g

const noColor = Config.all([Config.option(Config.string("NO_COLOR")), Config.option(Config.string("TERM"))])

/**
 * Whether stdout is a terminal we may redraw and color: a terminal, without `NO_COLOR`, and not
 * `TERM=dumb`.
 */
export const interactive: Effect.Effect<boolean> = Effect.flatMap(Io, (io) =>
  io.terminalColumns() === undefined
    ? Effect.succeed(false)
    : Effect.map(
      Effect.orElseSucceed(noColor, () => [Option.none(), Option.none()] as const),
      ([no, term]) => Option.isNone(no) && Option.getOrUndefined(term) !== "dumb"
    ))

// Styles always paint; what is written is stripped of them when stdout is not a color terminal
// (see `write`), so the text functions stay plain functions.
const paint = (code: string) => (text: string): string => `\u001b[${code}m${text}\u001b[0m`

/** Terminal styles; removed on output when stdout is not a color terminal. */
export const style = {
  bold: paint("1"),
  dim: paint("2"),
  red: paint("31"),
  green: paint("32"),
  yellow: paint("33"),
  blue: paint("34"),
  magenta: paint("35"),
  cyan: paint("36")
}

/** Remove the styles from a text. */
export const plain = (text: string): string => text.replace(ansi, "")

const write = (stream: "stdout" | "stderr", text: string): Effect.Effect<void> =>
  Effect.flatMap(Io, (io) =>
    // Plain text has nothing to strip: skip the environment lookup.
    !text.includes("\u001b[")
      ? Effect.sync(() => io[stream](text))
      : Effect.flatMap(interactive, (color) => Effect.sync(() => io[stream](color ? text : plain(text)))))

/** Write text to stdout. */
export const out = (text: string): Effect.Effect<void> => write("stdout", text)

/** Write lines to stdout. */
export const lines = (...texts: ReadonlyArray<string>): Effect.Effect<void> => out(texts.map((t) => `${t}\n`).join(""))

/** Write a line to stderr. */
export const errLine = (text: string): Effect.Effect<void> => write("stderr", `${text}\n`)

/** Stdout's width in columns when it is a terminal. */
export const terminalColumns: Effect.Effect<number | undefined> = Effect.map(Io, (io) => io.terminalColumns())

/**
 * Turn a value into plain JSON data: `DateTime` becomes an ISO-8601 string, `Option` its value or
 * null, class instances their own fields.
 */
export const toJsonData = (value: unknown): unknown => {
  if (value === null || value === undefined) return value ?? null
  if (DateTime.isDateTime(value)) return DateTime.formatIso(value)
  if (Option.isOption(value)) return Option.isSome(value) ? toJsonData(value.value) : null
  if (Array.isArray(value)) return value.map(toJsonData)
  if (typeof value === "object") {
    const result: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(value)) result[key] = toJsonData(field)
    return result
  }
  return value
}

/** Print one JSON document. */
export const json = (value: unknown): Effect.Effect<void> => out(`${JSON.stringify(toJsonData(value), null, 2)}\n`)

/** Print one JSON value on one line (for streams: one event per line). */
export const jsonLine = (value: unknown): Effect.Effect<void> => out(`${JSON.stringify(toJsonData(value))}\n`)

/** Epoch milliseconds of a time value. */
export const millisOf = (value: DateTime.DateTime | number): number =>
  typeof value === "number" ? value : DateTime.toEpochMillis(value)

/** A duration for people: `850ms`, `12s`, `4m 10s`, `30m`, `3h 5m`, `2d 4h`. */
export const formatDuration = (ms: number): string => {
  const abs = Math.abs(ms)
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`
  if (abs < 1_000) return `${Math.round(abs)}ms`
  if (abs < 60_000) return `${(abs / 1_000).toFixed(abs < 10_000 ? 1 : 0)}s`
  if (abs < 3_600_000) return two(Math.floor(abs / 60_000), "m", Math.floor((abs % 60_000) / 1_000), "s")
  if (abs < 86_400_000) return two(Math.floor(abs / 3_600_000), "h", Math.floor((abs % 3_600_000) / 60_000), "m")
  return two(Math.floor(abs / 86_400_000), "d", Math.floor((abs % 86_400_000) / 3_600_000), "h")
}

/** A time relative to `now`: `12s ago`, `in 4m 10s`. */
export const ago = (time: DateTime.DateTime | number, now: number): string => {
  const delta = millisOf(time) - now
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`
}

/** Local clock time with milliseconds, `HH:MM:SS.mmm`, for log lines. */
export const clock = (time: DateTime.DateTime | number): string => {
  const date = new Date(millisOf(time))
  const pad = (n: number, width = 2) => String(n).padStart(width, "0")
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

const visibleLength = (text: string) => plain(text).length

const MAX_CELL = 60

const cell = (value: unknown): string => {
  const text = value === null || value === undefined ? "-" : String(value)
  const flat = text.replace(/\s+/g, " ")
  // Colored cells are short labels; only plain text is cut.
  return flat.length > MAX_CELL && !flat.includes("\u001b[") ? `${flat.slice(0, MAX_CELL - 1)}…` : flat
}

/** A column of `table`: its heading and how to show a row's value. */
export interface Column<A> {
  readonly header: string
  readonly value: (row: A) => unknown
  /** Right-align (numbers). */
  readonly right?: boolean
}

/** A plain-text table with a heading row; `empty` is printed instead when there are no rows. */
export const table = <A>(rows: ReadonlyArray<A>, columns: ReadonlyArray<Column<A>>, empty = "(none)"): string => {
  if (rows.length === 0) return `  ${style.dim(empty)}`
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => visibleLength(r[i]!))))
  const fit = (text: string, i: number) => {
    const padding = " ".repeat(widths[i]! - visibleLength(text))
    return columns[i]!.right === true ? padding + text : text + padding
  }
  const header = columns.map((column, i) => style.bold(fit(column.header, i))).join("  ")
  const body = cells.map((r) => r.map(fit).join("  ").trimEnd())
  return [`  ${header.trimEnd()}`, ...body.map((line) => `  ${line}`)].join("\n")
}

/** A section heading. */
export const heading = (text: string): string => style.bold(text)

/** A progress bar of `width` cells for `done` of `total`. */
export const bar = (done: number, total: number, width = 24): string => {
  const filled = total === 0 ? 0 : Math.round((Math.min(done, total) / total) * width)
  return `${style.green("█".repeat(filled))}${style.dim("░".repeat(width - filled))}`
}
