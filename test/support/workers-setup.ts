/**
 * Vitest global setup: bundles every worker script once per `vitest run` (test/support/bundle-workers.ts),
 * so the multi-process suites start workers under plain `node`, and the `fleet-db` command once
 * for the suites that run it (test/support/cli-build.ts); removes both afterwards.
 */
import { readdirSync, rmSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import type { TestProject } from "vitest/node"
import { bundleWorkers } from "./bundle-workers.js"
import { buildCli } from "./cli-build.js"

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
    /** The directory `buildCli` built once for this run (`sharedCli`, test/support/cli-run.ts). */
    cliBuild: string
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const [dir, cli] = await Promise.all([bundleWorkers(), buildCli()])
  removeStale(dirname(dir))
  project.provide("workerBundles", dir)
  project.provide("cliBuild", cli)
  return () => {
    rmSync(dir, { recursive: true, force: true })
    rmSync(cli, { recursive: true, force: true })
  }
}
