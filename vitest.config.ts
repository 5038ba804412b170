import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts the sqld servers of the "sqld" backend (test/support/sqld-setup.ts) and stops them after;
    // bundles the worker scripts of the multi-process suites once (test/support/workers-setup.ts).
    globalSetup: ["test/support/sqld-setup.ts", "test/support/workers-setup.ts"],
    setupFiles: ["test/support/per-file.ts"],
    // A worker runs its test files in one module graph: importing Effect, the library and the
    // test support once per worker rather than once per file saves about a fifth of the suite's
    // CPU. What a file opens on shared modules is closed after it (per-file.ts).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-process suites spawn their own workers; two test files at a time keep a 2-core machine
    // responsive (three measured no faster: the suite is CPU-bound). As many workers kept as
    // started: with fewer kept (vitest 3.2, isolate: false) a run once ended "Terminating worker
    // thread" with files unrun.
    maxWorkers: 2,
    minWorkers: 2
  }
})
