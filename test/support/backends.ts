/**
 * The backends every service suite runs against, from one parameterised suite:
 * `describe.each(backends)("…", (backend) => …)`. Each `backend.layer()` build is a fresh,
 * private database (a temp file for "file", a fresh project key on a shared server for "sqld").
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DatabaseOpenError } from "../../src/index.js"
import { FleetDb, FleetProject } from "../../src/index.js"
import * as Project from "../../src/Project.js"
import * as Checkpoints from "../../src/services/Checkpoints.js"
import * as Cursors from "../../src/services/Cursors.js"
import * as Events from "../../src/services/Events.js"
import * as Locks from "../../src/services/Locks.js"
import * as Messages from "../../src/services/Messages.js"
import * as Missions from "../../src/services/Missions.js"
import * as Pilots from "../../src/services/Pilots.js"
import * as Projections from "../../src/services/Projections.js"
import * as Reservations from "../../src/services/Reservations.js"
import * as Sorties from "../../src/services/Sorties.js"
import * as WorkOrders from "../../src/services/WorkOrders.js"
import type { FleetServices } from "../../src/FleetDb.js"
import { inject } from "vitest"
import type { SqldContext } from "./sqld-setup.js"

export interface Backend {
  readonly name: string
  /** A fresh database for one test. */
  readonly layer: (options?: { readonly projectKey?: string }) => Layer.Layer<FleetServices, DatabaseOpenError>
}

/** A temp directory removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "fleetdb-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

export const memory: Backend = {
  name: "memory",
  layer: (options = {}) => FleetDb.layerMemory(options)
}

export const file: Backend = {
  name: "file",
  layer: (options = {}) =>
    Layer.unwrapScoped(Effect.map(tempDir, (projectPath) => FleetDb.layerFile({ projectPath, ...options })))
}

/**
 * What the global setup (test/support/sqld-setup.ts) started; `unsupported` outside vitest.
 */
export const sqldContext = (): SqldContext => {
  try {
    return inject("sqld") ?? { status: "failed", reason: "the sqld global setup did not run (see vitest.config.ts)" }
  } catch {
    return { status: "unsupported", reason: "not running under vitest" }
  }
}

/** The URL of the test sqld, or a failure naming why there is none (so sqld tests fail loudly). */
export const sqldUrl = (): Effect.Effect<string> => {
  const context = sqldContext()
  return context.status === "ready" ? Effect.succeed(context.url) : Effect.dieMessage(`sqld backend: ${context.reason}`)
}

/**
 * A real libSQL server (started by the global setup): each build uses a fresh project key on the
 * shared server, so builds never see each other's rows. A `projectKey` option gets a unique suffix.
 * The suites drive time with `TestClock`, so this backend takes the process clock as its time
 * authority (`timeAuthority: "clock"`); the server's own clock is tested in test/time.test.ts.
 * Two test files share the server at a time on a 2-core machine, some holding its write lock on
 * purpose, so statements get 120 s rather than the default 30 s: the timeout itself is tested
 * against a frozen server in test/frozen-server.procs.test.ts.
 *
 * Builds share one connection per test file (`sqldConnection`) and bind fresh services to their
 * own key on it, as `FleetDb.layer` binds them to its key: opening a connection (probe,
 * `SELECT 1`, migration check) cost more than most tests, and a property test builds one per case.
 * Opening, closing and their failures are tested on real layers (test/remote.test.ts,
 * test/layers.test.ts, test/time.test.ts, test/frozen-server.procs.test.ts); keys keeping projects
 * apart on one connection, by the multi-project tests (`projectOn`).
 */
export const sqld: Backend = {
  name: "sqld",
  layer: (options = {}) =>
    Layer.scopedContext(Effect.flatMap(sqldConnection(), (base) =>
      servicesOn(base, {
        ...Context.get(base, FleetProject),
        projectKey: `${options.projectKey ?? "test"}#${randomUUID()}`
      })))
}

/**
 * The server reached over Hrana-over-WebSocket (`ws://`): one connection kept open, each
 * statement one frame, where Hrana-over-HTTP (the server's `http://` URL, and what the driver
 * makes of `libsql://`) costs a request per statement. The suites run about twice as fast; HTTP
 * is tested by test/remote.test.ts, test/time.test.ts and the CLI's `--url` tests.
 */
const overWebSocket = (httpUrl: string) => httpUrl.replace(/^http:/, "ws:")

let connection: Promise<Exit.Exit<Context.Context<FleetServices>, DatabaseOpenError>> | undefined
let connectionScope: Scope.CloseableScope | undefined

/**
 * This test file's connection to the shared server, opened on first use in a runtime of its own
 * (not under the first test's `TestClock` or scope) and closed after the file's tests.
 */
const sqldConnection = (): Effect.Effect<Context.Context<FleetServices>, DatabaseOpenError> =>
  Effect.flatten(Effect.promise(() =>
    connection ??= Effect.runPromiseExit(Effect.gen(function*() {
      const url = overWebSocket(yield* sqldUrl())
      const scope = connectionScope = yield* Scope.make()
      return yield* Layer.buildWithScope(
        FleetDb.layer({ url, projectKey: `test#${randomUUID()}`, timeAuthority: "clock", statementTimeout: 120_000 }),
        scope
      )
    }))
  ))

/**
 * Close this test file's connection (test/support/per-file.ts runs it after each file's tests: a
 * worker may run several files, and this module is evaluated once per worker).
 */
export const closeSqldConnection = async () => {
  const scope = connectionScope
  connection = connectionScope = undefined
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
}

/**
 * Every backend. "sqld" is left out only where the platform has no sqld binary (the global setup
 * says so on the console); if sqld failed to start, its tests run and fail with the reason.
 */
export const backends: ReadonlyArray<Backend> = sqldContext().status === "unsupported"
  ? [memory, file]
  : [memory, file, sqld]

/**
 * How many runs a property gets on `backend`: `memory` on memory, half on file, a quarter on sqld.
 * Its logic is the same on every backend, so memory runs it most; file and sqld check the values
 * through their driver and encoding.
 */
export const runsOn = (backend: Backend, memory = 100): number =>
  backend.name === "memory" ? memory : backend.name === "file" ? memory / 2 : memory / 4

/** `it.effect.prop` options for a property on `backend` (`runsOn`). */
export const propertyRuns = (backend: Backend) => ({ fastCheck: { numRuns: runsOn(backend) } })

const allServices = Layer.mergeAll(
  Events.layer, Locks.layer, Pilots.layer, Reservations.layer, Missions.layer, Sorties.layer,
  WorkOrders.layer, Messages.layer, Cursors.layer, Checkpoints.layer, Projections.layer
)

/** Every service bound to `project`, over the connection (and settings) of `base`. */
const servicesOn = (base: Context.Context<FleetServices>, project: Project.FleetProjectShape) =>
  Effect.map(
    Layer.build(allServices.pipe(
      Layer.provideMerge(Project.layer(project)),
      Layer.provide(Layer.succeedContext(base))
    )),
    (built) => Context.merge(base, built)
  )

/**
 * Another project on the database of `base`, as on a server holding several (a file database is
 * one project: `layerFile` refuses a second key): every service bound to `projectKey`, over the
 * same connection.
 */
export const projectOn = (base: Context.Context<FleetServices>, projectKey: string) =>
  servicesOn(base, { projectKey, location: "test" })
