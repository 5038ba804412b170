import { defineConfig } from "vitest/config"
import { LongestFirst } from "./test/support/sequencer.js"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts the sqld servers of the "sqld" backend (test/support/sqld-setup.ts) and stops them after;
    // bundles the worker scripts of the multi-process suites once (test/support/workers-setup.ts).
    globalSetup: ["test/support/sqld-setup.ts", "test/support/workers-setup.ts"],
    setupFiles: ["test/support/per-file.ts"],
    // A worker runs its test files in one module graph: importing Effect, the library and the
    // test support once per worker rather than once per file saves about a fifth of the suite's
    // CPU. What a file opened on shared modules is closed after it (per-file.ts).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Three test files at a time on a 2-core machine: many files wait on sqld, child processes or
    // real time, and a third file uses the core they leave idle (measured: 175–195 s against
    // 205–211 s with two). As many workers kept as started: with fewer kept (vitest 3.2,
    // isolate: false) a run once ended "Terminating worker thread" with files unrun.
    maxWorkers: 3,
    minWorkers: 3,
    // Longest first, also on a clean clone (test/support/sequencer.ts).
    sequence: { sequencer: LongestFirst }
  }
})
