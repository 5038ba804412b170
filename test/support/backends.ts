/**
 * The backends every service suite runs against, from one parameterised suite:
 * `describe.each(backends)("…", (backend) => …)`. Each `backend.layer()` build is a fresh,
 * private database (a temp file for "file", a fresh project key on a shared server for "sqld").
 */
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DatabaseOpenError } from "../../src/index.js"
import { FleetDb } from "../../src/index.js"
import type { FleetServices } from "../../src/FleetDb.js"

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

export const backends: ReadonlyArray<Backend> = [memory, file]
