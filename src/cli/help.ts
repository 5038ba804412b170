/**
 * `fleet-db --help` and `fleet-db COMMAND --help`, written for this tool: lines fit 100 columns,
 * no ANSI escapes unless stdout is a color terminal (and `NO_COLOR` is unset), optional options
 * and arguments marked optional, and without @effect/cli's generic type lines ("A true or false
 * value.") or its built-in options nobody here uses (`--wizard`, `--completions`, `--log-level`).
 * The options and their descriptions still come from the commands' own definitions.
 *
 * @module
 */
import type { HelpDoc } from "@effect/cli/HelpDoc"
import type { Span } from "@effect/cli/HelpDoc/Span"
import type { Command } from "@effect/cli"
import { CliConfig, CommandDescriptor } from "@effect/cli"
import { HashMap, Option } from "effect"
import * as Render from "./render.js"

/** The widest a help line gets. */
export const WIDTH = 100

type Descriptor = CommandDescriptor.Command<unknown>
/** What help needs of a command: its descriptor (names, options, arguments, subcommands). */
type AnyCommand = Pick<Command.Command<string, never, unknown, unknown>, "descriptor">

/** Exit codes, as `--help` and the README state them. */
export const exitCodes: ReadonlyArray<readonly [string, string]> = [
  ["0", "done"],
  ["1", "refused by the fleet: a conflict, a held lock, a claimed sortie, an invalid transition (the line names who holds what, until when); doctor: problems found"],
  ["2", "bad usage or input"],
  ["3", "the database could not be opened (missing, unreachable, not a database) or failed"]
]

/** The command groups of the top-level help, by command name. */
const groups: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["Set up and inspect", ["init", "status", "events", "pilots", "locks", "reservations", "sorties", "ready", "missions", "inbox", "doctor"]],
  ["Act as a pilot (--callsign or $FLEET_CALLSIGN)", [
    "register", "heartbeat", "send", "reply", "ack", "read", "reserve", "renew", "release", "check", "lock",
    "claim", "complete", "block", "unblock", "unclaim", "checkpoint"
  ]],
  ["Coordinate", ["sortie", "depend", "mission", "sweep", "guard"]],
  ["Serve and demo", ["mcp", "serve", "demo"]]
]

// Lines @effect/cli adds to every option and argument: the value's type, said generically.
const generic = [
  /^A true or false value\.$/,
  /^A user-defined piece of text\.$/,
  /^A directory\.$/,
  /^A file\.?$/,
  /^A file or directory\.?$/,
  /^An integer\.$/,
  /^A floating point number\.$/,
  /^One of the following: /,
  /^A date without a time-zone/,
  // Said by the option itself, naming its variable.
  /^This option can be set from environment variables\.$/
]

const builtIn = new Set(["--completions", "--log-level", "(-h, --help)", "--wizard", "--version"])

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Highlight":
    case "Weak":
    case "Strong":
      return spanText(span.value)
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
  }
}

const paragraphs = (doc: HelpDoc): ReadonlyArray<string> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
    case "Paragraph":
      return [spanText(doc.value)]
    case "Sequence":
      return [...paragraphs(doc.left), ...paragraphs(doc.right)]
    case "Enumeration":
      return doc.elements.flatMap(paragraphs)
    case "DescriptionList":
      return doc.definitions.flatMap(([span, body]) => [spanText(span), ...paragraphs(body)])
  }
}

interface Section {
  readonly title: string
  readonly text: ReadonlyArray<string>
  readonly entries: ReadonlyArray<{ readonly term: string; readonly body: ReadonlyArray<string> }>
}

/** The help document as sections of paragraphs and term/description entries. */
const sectionsOf = (doc: HelpDoc): ReadonlyArray<Section> => {
  const blocks: Array<HelpDoc> = []
  const flatten = (d: HelpDoc): void => {
    if (d._tag === "Sequence") {
      flatten(d.left)
      flatten(d.right)
    } else blocks.push(d)
  }
  flatten(doc)
  const sections: Array<{ title: string; text: Array<string>; entries: Array<{ term: string; body: ReadonlyArray<string> }> }> = []
  for (const block of blocks) {
    if (block._tag === "Header") sections.push({ title: spanText(block.value), text: [], entries: [] })
    else if (sections.length > 0) {
      const current = sections[sections.length - 1]!
      if (block._tag === "DescriptionList") {
        for (const [term, body] of block.definitions) current.entries.push({ term: spanText(term), body: paragraphs(body) })
      } else current.text.push(...paragraphs(block))
    }
  }
  return sections
}

/** Wrap `text` to `width`, every line prefixed by `indent` (the first by `first`, if given). */
export const wrap = (text: string, indent: string, first = indent, width = WIDTH): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = first
  let empty = true
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line)
      line = indent
      empty = true
    }
    line += (empty ? "" : " ") + word
    empty = false
  }
  lines.push(line)
  return lines.map((l) => l.trimEnd())
}

/** A term and its description on one line when they fit, the description wrapped under it. */
const entry = (term: string, description: string, column: number): ReadonlyArray<string> => {
  const head = `  ${term}`
  if (description === "") return [Render.style.bold(head)]
  if (head.length + 2 <= column) {
    const [firstLine, ...rest] = wrap(description, " ".repeat(column), head.padEnd(column))
    return [Render.style.bold(head) + firstLine!.slice(head.length), ...rest]
  }
  return [Render.style.bold(head), ...wrap(description, " ".repeat(column))]
}

const metavar = (term: string): string =>
  term
    .replace(/ directory$/, " DIR")
    .replace(/ text(\.\.\.)?$/, " TEXT$1")
    .replace(/ integer$/, " N")
    .replace(/ file$/, " FILE")

interface Described {
  readonly term: string
  readonly optional: boolean
  readonly text: string
}

/** An option or argument: generic lines dropped, "optional" / "required" said once, at the end. */
const describe = (rawTerm: string, body: ReadonlyArray<string>, kind: "option" | "argument"): Described => {
  const repeated = /\.\.\.$| 1\+$/.test(rawTerm)
  const term = kind === "argument"
    ? rawTerm.replace(/^<([^>]*)>.*$/, "$1") + (repeated ? "..." : "")
    : metavar(rawTerm.replace(/^\((.*)\)$/, "$1"))
  const kept: Array<string> = []
  let optional = false
  const notes: Array<string> = []
  for (const line of body) {
    if (generic.some((pattern) => pattern.test(line))) continue
    if (/^This setting is optional\.$/.test(line) || /^This setting has a default value/.test(line)) {
      optional = true
      continue
    }
    if (/repeated zero or more times\.$/.test(line)) {
      optional = true
      notes.push("repeatable")
      continue
    }
    const atLeast = /must be repeated at least (\d+) times?\.$/.exec(line)
    if (atLeast !== null) {
      notes.push(`${atLeast[1]} or more`)
      continue
    }
    kept.push(line.replace(/\.$/, ""))
  }
  // A flag without a value is off unless given: calling it optional says nothing.
  const flag = kind === "option" && /(^|\s)-[-\w]+$/.test(term)
  if (!flag) notes.unshift(optional ? "optional" : "required")
  return { term, optional: optional || flag, text: `${kept.join(". ")} (${notes.join(", ")})`.replace(/ \(\)$/, "") }
}

const commandHelp = (path: ReadonlyArray<string>, target: Descriptor): ReadonlyArray<string> => {
  const sections = sectionsOf(CommandDescriptor.getHelp(target, CliConfig.defaultConfig))
  const find = (title: string) => sections.find((s) => s.title === title)
  const description = find("DESCRIPTION")?.text.join(" ") ?? ""
  const args = (find("ARGUMENTS")?.entries ?? []).map((e) => describe(e.term, e.body, "argument"))
  const options = (find("OPTIONS")?.entries ?? [])
    .filter((e) => !builtIn.has(e.term.split(" ")[0]!) && !builtIn.has(e.term))
    .map((e) => describe(e.term, e.body, "option"))
  // A command without subcommands lists itself.
  const subcommands = Array.from(HashMap.entries(CommandDescriptor.getSubcommands(target)))
    .filter(([name]) => name !== nameOf(target))
    .sort(([a], [b]) => a.localeCompare(b))
  const children = subcommands.map(([name]) => name)
  const usage = children.length > 0
    ? `fleet-db ${path.join(" ")} ${children.join("|")} [OPTIONS]`
    : ["fleet-db", ...path, ...(options.some((o) => o.optional) ? ["[OPTIONS]"] : []),
      ...options.filter((o) => !o.optional).map((o) => o.term),
      ...args.map((a) => a.optional ? `[${a.term}]` : a.term)].join(" ")
  const column = Math.min(30, Math.max(16, ...[...args, ...options].map((o) => o.term.length + 6)))
  return [
    ...wrap(usage, "    ", `${Render.style.bold("Usage:")} `),
    "",
    ...wrap(description, ""),
    ...(args.length > 0 ? ["", Render.heading("Arguments"), ...args.flatMap((a) => entry(a.term, a.text, column))] : []),
    ...(children.length > 0
      ? ["", Render.heading("Commands"), ...subcommands.flatMap(([name, child]) => entry(name, descriptionOf(child), column)),
        "", ...wrap(`Run \`fleet-db ${path.join(" ")} COMMAND --help\` for one command's options.`, "")]
      : []),
    "",
    Render.heading("Options"),
    ...options.flatMap((o) => entry(o.term, o.text, column)),
    ...entry("-h, --help", "Show this help", column),
    "",
    Render.heading("Exit codes"),
    ...exitCodes.flatMap(([code, text]) => entry(code, text, 6))
  ]
}

const nameOf = (command: Descriptor): string => Array.from(CommandDescriptor.getNames(command))[0] ?? ""

const descriptionOf = (target: Descriptor): string =>
  sectionsOf(CommandDescriptor.getHelp(target, CliConfig.defaultConfig)).find((s) => s.title === "DESCRIPTION")?.text.join(" ") ?? ""

const topHelp = (root: Descriptor, commands: ReadonlyArray<Descriptor>, version: string): ReadonlyArray<string> => {
  const byName = new Map(commands.map((c) => [nameOf(c), c]))
  const listed = new Set(groups.flatMap(([, names]) => names))
  const rest = Array.from(byName.keys()).filter((name) => !listed.has(name))
  const all = [...groups, ...(rest.length > 0 ? [["Other", rest] as const] : [])]
  const column = 2 + Math.max(...Array.from(byName.keys()).map((n) => n.length)) + 4
  return [
    `fleet-db ${version}: ${descriptionOf(root)}`,
    "",
    ...wrap("fleet-db COMMAND [OPTIONS]", "    ", `${Render.style.bold("Usage:")} `),
    ...all.flatMap(([title, names]) => [
      "",
      Render.heading(title),
      ...names.flatMap((name) => {
        const command = byName.get(name)
        return command === undefined ? [] : entry(name, descriptionOf(command), column)
      })
    ]),
    "",
    Render.heading("Options"),
    ...entry("-h, --help", "Show help (`fleet-db COMMAND --help`: that command's options)", column),
    ...entry("--version", "Print the version", column),
    "",
    Render.heading("Exit codes"),
    ...exitCodes.flatMap(([code, text]) => entry(code, text, 6)),
    "",
    ...wrap("The commands take --project DIR (default: the current directory) or --url URL; most take --json.", "")
  ]
}

/** Whether the command line asks for help: no arguments, or `-h` / `--help` anywhere before a `--`. */
export const requested = (args: ReadonlyArray<string>): boolean => {
  if (args.length === 0) return true
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")
}

/**
 * The help for `args` (the user's arguments, without the executable): the deepest command the
 * leading words name, or the top level.
 */
export const helpText = (
  root: AnyCommand,
  commands: ReadonlyArray<AnyCommand>,
  args: ReadonlyArray<string>,
  version: string
): string => {
  // The commands themselves: the root's own list flattens nested ones (`lock` loses `acquire`).
  const top = commands.map((command): Descriptor => command.descriptor)
  const words = args.filter((arg) => !arg.startsWith("-"))
  const path: Array<string> = []
  let current: Option.Option<Descriptor> = Option.none()
  let children = new Map(top.map((c) => [nameOf(c), c]))
  for (const word of words) {
    const next = children.get(word)
    if (next === undefined) break
    path.push(word)
    current = Option.some(next)
    children = new Map(Array.from(HashMap.entries(CommandDescriptor.getSubcommands(next))).filter(([name]) => name !== word))
  }
  const lines = Option.match(current, {
    onNone: () => topHelp(root.descriptor, top, version),
    onSome: (command) => commandHelp(path, command)
  })
  return `${lines.join("\n")}\n`
}
