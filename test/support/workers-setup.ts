/**
 * Vitest global setup: bundles every worker script once per `vitest run` (test/support/bundle-workers.ts),
 * so the multi-process suites start workers under plain `node`; removes the bundles afterwards.
 */
import { readdirSync, rmSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import type { TestProject } from "vitest/node"
import { bundleWorkers } from "./bundle-workers.js"

/** Bundles a killed run left behind (a day old: another checkout's run may be using newer ones). */
const removeStale = (cache: string) => {
  for (const name of readdirSync(cache)) {
    if (!name.startsWith("workers-")) continue
    const path = join(cache, name)
    // Another run may remove its own directory meanwhile.
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat !== undefined && Date.now() - stat.mtimeMs > 86_400_000) {
      rmSync(path, { recursive: true, force: true })
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory holding `{script}.mjs` for every `test/procs/{script}.ts`. */
    workerBundles: string
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = await bundleWorkers()
  removeStale(dirname(dir))
  project.provide("workerBundles", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
