/**
 * The work graph on the command line: `fleet-db ready` (the sorties ready to claim) and
 * `fleet-db depend add|remove|show` (dependencies between sorties). `fleet-db sorties --blocked`
 * (in lists.ts) lists the sorties still waiting on blockers.
 *
 * @module
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import type { DependencyLink } from "../../index.js"
import { Sorties } from "../../index.js"
import { common } from "../options.js"
import { withDatabase } from "../connection.js"
import * as Render from "../render.js"
import { readyTable } from "../tables.js"

const linksTable = (links: ReadonlyArray<DependencyLink>, empty: string) =>
  Render.table(links, [
    { header: "ID", value: (l) => l.sortie_id },
    { header: "KIND", value: (l) => l.kind },
    { header: "STATUS", value: (l) => l.outcome === "cancelled" ? "cancelled" : l.status },
    { header: "TITLE", value: (l) => l.title }
  ], empty)

/** `fleet-db ready` */
export const ready = Command.make("ready", {
  ...common,
  mission: Options.text("mission").pipe(Options.withDescription("Only sorties of this mission id"), Options.optional),
  limit: Options.integer("limit").pipe(Options.withDescription("At most this many"), Options.optional)
}, (options) =>
  Effect.gen(function*() {
    const list = yield* (yield* Sorties).ready({
      ...Option.match(options.mission, { onNone: () => ({}), onSome: (mission_id) => ({ mission_id }) }),
      ...Option.match(options.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) })
    })
    if (options.json) return yield* Render.json(list)
    yield* Render.lines(readyTable(list))
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(
    Command.withDescription("List the sorties ready to claim (open, unassigned, every blocker closed), most urgent first")
  )

const sortieArg = Args.text({ name: "SORTIE" }).pipe(Args.withDescription("The dependent sortie's id"))
const dependsOnArg = Args.text({ name: "DEPENDS_ON" }).pipe(Args.withDescription("The id of the sortie it depends on"))

const add = Command.make("add", {
  ...common,
  sortie: sortieArg,
  dependsOn: dependsOnArg,
  kind: Options.choice("kind", ["blocks", "related"]).pipe(
    Options.withDescription("blocks (default): SORTIE waits until DEPENDS_ON closes; related: informational"),
    Options.optional
  )
}, (options) =>
  Effect.gen(function*() {
    const edge = yield* (yield* Sorties).addDependency(options.sortie, options.dependsOn, {
      ...Option.match(options.kind, { onNone: () => ({}), onSome: (kind) => ({ kind }) })
    })
    if (options.json) return yield* Render.json(edge)
    yield* Render.lines(`${edge.sortie_id} ${edge.kind === "blocks" ? "waits on" : "relates to"} ${edge.depends_on_id}`)
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(
    Command.withDescription("Make SORTIE depend on DEPENDS_ON (a dependency that would close a cycle is refused)")
  )

const remove = Command.make("remove", { ...common, sortie: sortieArg, dependsOn: dependsOnArg }, (options) =>
  Effect.gen(function*() {
    const removed = yield* (yield* Sorties).removeDependency(options.sortie, options.dependsOn)
    if (options.json) return yield* Render.json(Option.getOrNull(removed))
    yield* Render.lines(Option.match(removed, {
      onNone: () => `${options.sortie} did not depend on ${options.dependsOn}: nothing to remove`,
      onSome: (edge) => `${edge.sortie_id} no longer depends on ${edge.depends_on_id}`
    }))
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(Command.withDescription("Remove the dependency of SORTIE on DEPENDS_ON"))

const show = Command.make("show", { ...common, sortie: Args.text({ name: "SORTIE" }).pipe(Args.withDescription("A sortie id")) }, (options) =>
  Effect.gen(function*() {
    const graph = yield* (yield* Sorties).dependencies(options.sortie)
    if (options.json) return yield* Render.json(graph)
    yield* Render.lines(
      Render.style.bold("depends on"),
      linksTable(graph.depends_on, "nothing"),
      "",
      Render.style.bold("depended on by"),
      linksTable(graph.dependents, "nothing")
    )
  }).pipe(withDatabase(options, { mustExist: true }))).pipe(Command.withDescription("Show what SORTIE depends on and what depends on it"))

/** `fleet-db depend add|remove|show` */
export const depend = Command.make("depend").pipe(
  Command.withDescription("Dependencies between sorties: add, remove, show"),
  Command.withSubcommands([add, remove, show])
)
