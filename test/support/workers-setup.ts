/**
 * Vitest global setup: bundles every worker script once per `vitest run` (test/support/bundle-workers.ts),
 * so the multi-process suites start workers under plain `node`; removes the bundles afterwards.
 */
import { rmSync } from "node:fs"
import type { TestProject } from "vitest/node"
import { bundleWorkers } from "./bundle-workers.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory holding `{script}.mjs` for every `test/procs/{script}.ts`. */
    workerBundles: string
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = await bundleWorkers()
  project.provide("workerBundles", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
