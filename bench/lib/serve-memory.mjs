/**
 * Memory of `fleet-db serve` from inside, for the dashboard benchmark (which loads it into the
 * server with `--import`; by hand: `NODE_OPTIONS="--import ./bench/lib/serve-memory.mjs"`). It
 * acts only in a process whose arguments include `serve` and only when `SERVE_MEMORY_DIR` is set,
 * appending to `$SERVE_MEMORY_DIR/serve-memory-PID.jsonl`:
 *
 * - once a second, `process.memoryUsage()` (MiB) with `at` (epoch ms) and `t` (s since start);
 * - after each major GC (a `gc` PerformanceObserver entry of kind major), `{ gc: "major", at,
 *   heapUsed }`: the heap in use right after a full mark-compact is the live set, free of the
 *   garbage that RSS and the heap's size also hold. No `--expose-gc`: nothing is forced.
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { constants, PerformanceObserver } from "node:perf_hooks"

if (process.argv.includes("serve") && process.env.SERVE_MEMORY_DIR !== undefined) {
  const file = join(process.env.SERVE_MEMORY_DIR, `serve-memory-${process.pid}.jsonl`)
  const start = Date.now()
  const mib = (bytes) => Math.round(bytes / 1_048_576)
  setInterval(() => {
    const m = process.memoryUsage()
    appendFileSync(file, JSON.stringify({
      at: Date.now(),
      t: (Date.now() - start) / 1_000,
      rss: mib(m.rss),
      heapTotal: mib(m.heapTotal),
      heapUsed: mib(m.heapUsed),
      external: mib(m.external),
      arrayBuffers: mib(m.arrayBuffers)
    }) + "\n")
  }, 1_000).unref()
  // The observer runs soon after the GC, so the few allocations in between count as live: a
  // small, constant overstatement, not a trend.
  new PerformanceObserver((list) => {
    const majors = list.getEntries().filter((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
    if (majors.length === 0) return
    const used = process.memoryUsage().heapUsed
    appendFileSync(file, JSON.stringify({ gc: "major", at: Date.now(), heapUsed: Math.round((used / 1_048_576) * 10) / 10 }) + "\n")
  }).observe({ entryTypes: ["gc"] })
}
