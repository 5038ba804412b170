import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts the sqld servers of the "sqld" backend (test/support/sqld-setup.ts) and stops them after;
    // bundles the worker scripts of the multi-process suites once (test/support/workers-setup.ts).
    globalSetup: ["test/support/sqld-setup.ts", "test/support/workers-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-process suites spawn their own workers; two test files at a time keep a 2-core machine responsive.
    maxWorkers: 2,
    minWorkers: 1
  }
})
