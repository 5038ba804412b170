/**
 * The project every service is bound to. Every row the services write and every query they run
 * carries this `project_key`, so two projects sharing one database never see each other's data.
 *
 * @module
 */
import { Context, Layer } from "effect"

/** The project identity a `FleetDb` layer was built for. */
export interface FleetProjectShape {
  /** The `project_key` column value of every row this project owns. */
  readonly projectKey: string
  /** Where the database lives: a file path, `:memory:`, or the server URL (without credentials). */
  readonly location: string
  /**
   * The project root: the directory absolute path patterns are resolved against (for a file
   * database, the directory holding `.fleet/`, after symlinks). Absent: absolute paths are refused.
   */
  readonly root?: string | undefined
  /** Other spellings of the root that absolute paths may use (e.g. the path as given, before symlinks). */
  readonly rootAliases?: ReadonlyArray<string> | undefined
  /**
   * Compare paths case-insensitively: the layer's `caseInsensitive` option, else what the project
   * directory's filesystem does (probed when a file layer opens), else false (see README,
   * Reservations).
   */
  readonly caseInsensitive?: boolean | undefined
}

/** The project identity a `FleetDb` layer was built for. */
export class FleetProject extends Context.Tag("@fleettools/db/FleetProject")<FleetProject, FleetProjectShape>() {}

/** Provide a `FleetProject` directly (mostly for tests and custom compositions). */
export const layer = (project: FleetProjectShape): Layer.Layer<FleetProject> => Layer.succeed(FleetProject, project)
