/**
 * `fleet-db init`: create the database (or open an existing one), run the migrations, print where
 * it is and its schema version.
 *
 * @module
 */
import { Command } from "@effect/cli"
import { Effect, Option } from "effect"
import { existsSync } from "node:fs"
import { Diagnostics, FleetProject } from "../../index.js"
import { common } from "../options.js"
import { databaseLayer, describeTarget, resolveTarget } from "../connection.js"
import * as Render from "../render.js"

/** `fleet-db init` */
export const init = Command.make("init", common, (options) =>
  Effect.gen(function*() {
    const target = yield* resolveTarget(options)
    const existed = target._tag === "File" ? existsSync(target.path) : Option.map(target.file, existsSync).pipe(Option.getOrElse(() => true))
    const { migrations, project } = yield* Effect.all({ migrations: Diagnostics.migrations, project: FleetProject }).pipe(
      Effect.provide(databaseLayer(target, { mustExist: false }))
    )
    const path = describeTarget(target)
    if (options.json) {
      return yield* Render.json({
        path,
        project_key: project.projectKey,
        created: !existed,
        schema_version: migrations.version,
        migrations: migrations.applied.map((m) => `${String(m.id).padStart(4, "0")}_${m.name}`)
      })
    }
    yield* Render.lines(
      `${existed ? "Opened" : "Created"} ${Render.style.bold(path)}`,
      `  project key     ${project.projectKey}`,
      `  schema version  ${migrations.version} (${
        migrations.applied.map((m) => `${String(m.id).padStart(4, "0")}_${m.name}`).join(", ")
      })`
    )
  })).pipe(Command.withDescription("Create .fleet/fleet.db (or open it), run the migrations, print the path and schema version"))
