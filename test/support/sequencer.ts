/**
 * The order test files start in: failed last time first, then longest first, so that no long file
 * starts near the end and leaves one worker running it alone. Vitest's own order does the same
 * from this checkout's previous run; a clean clone has none, and vitest then orders by file size,
 * which starts some of the longest files (install, crash, replica) last. Files this checkout has
 * not run take their duration from test/support/test-durations.json (one measured run, refreshed
 * with scripts/test-durations.mjs); files in neither run first, as vitest does.
 */
import { readFileSync } from "node:fs"
import { relative } from "node:path"
import { BaseSequencer, type TestSpecification } from "vitest/node"

const recorded = JSON.parse(readFileSync(new URL("test-durations.json", import.meta.url), "utf8")) as Record<string, number>

export class LongestFirst extends BaseSequencer {
  override sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const { cache, config } = this.ctx
    /** Sort key: failed first, then the longest; unknown files count as failed (run them early). */
    const weight = (file: TestSpecification): number => {
      const path = relative(config.root, file.moduleId)
      const last = cache.getFileTestResults(`${file.project.name}:${path}`)
      if (last !== undefined) return last.failed ? Number.MAX_VALUE : last.duration
      const seconds = recorded[path]
      return seconds === undefined ? Number.MAX_VALUE : seconds * 1_000
    }
    const weights = new Map(files.map((file) => [file, weight(file)]))
    return Promise.resolve([...files].sort((a, b) => weights.get(b)! - weights.get(a)!))
  }
}
