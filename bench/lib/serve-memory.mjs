/**
 * Memory of `fleet-db serve` from inside, for the dashboard benchmark (which loads it into the
 * server with `--import`; by hand: `NODE_OPTIONS="--import ./bench/lib/serve-memory.mjs"`). It
 * acts only in a process whose arguments include `serve` and only when `SERVE_MEMORY_DIR` is set,
 * appending to `$SERVE_MEMORY_DIR/serve-memory-PID.jsonl`:
 *
 * - once a second, `process.memoryUsage()` (MiB) with `at` (epoch ms) and `t` (s since start),
 *   the sizes of V8's young (`newSpace`) and old (`oldSpace`) generations (MiB), and the GCs of
 *   that second: `minor` / `major` counts and `minorMs` / `majorMs` their summed pause (ms);
 * - after each major GC V8 runs by itself (a `gc` PerformanceObserver entry of kind major),
 *   `{ gc: "major", at, heapUsed }`. Not the live set: V8 marks incrementally while the program
 *   runs, and what is allocated during marking survives that GC (floating garbage), so on a busy
 *   server these figures move with the allocation rate, not with what the server holds;
 * - every `SERVE_MEMORY_FULL_GC_S` seconds, when the process runs with `--expose-gc`, two full
 *   GCs back to back and then `{ gc: "full", at, heapUsed, ms }`: the live set, exactly (the
 *   second GC collects what the first one's marking kept). Each costs the server a pause of `ms`.
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { constants, PerformanceObserver } from "node:perf_hooks"
import { getHeapSpaceStatistics } from "node:v8"

if (process.argv.includes("serve") && process.env.SERVE_MEMORY_DIR !== undefined) {
  const file = join(process.env.SERVE_MEMORY_DIR, `serve-memory-${process.pid}.jsonl`)
  const start = Date.now()
  const mib = (bytes) => Math.round(bytes / 1_048_576)
  const mib1 = (bytes) => Math.round((bytes / 1_048_576) * 10) / 10
  const space = (spaces, name) => mib(spaces.find((s) => s.space_name === name)?.space_size ?? 0)
  let gcs = { minor: 0, minorMs: 0, major: 0, majorMs: 0 }
  // When the forced GCs ran (performance time): the observer hears of them later and must not
  // count them as V8's own.
  let forced = [0, -1]
  setInterval(() => {
    const m = process.memoryUsage()
    const spaces = getHeapSpaceStatistics()
    appendFileSync(file, JSON.stringify({
      at: Date.now(),
      t: (Date.now() - start) / 1_000,
      rss: mib(m.rss),
      heapTotal: mib(m.heapTotal),
      heapUsed: mib(m.heapUsed),
      external: mib(m.external),
      arrayBuffers: mib(m.arrayBuffers),
      newSpace: space(spaces, "new_space"),
      oldSpace: space(spaces, "old_space"),
      ...gcs
    }) + "\n")
    gcs = { minor: 0, minorMs: 0, major: 0, majorMs: 0 }
  }, 1_000).unref()
  const fullEvery = Number(process.env.SERVE_MEMORY_FULL_GC_S ?? "0")
  if (fullEvery > 0 && typeof globalThis.gc === "function") {
    setInterval(() => {
      const started = performance.now()
      globalThis.gc()
      globalThis.gc()
      forced = [started, performance.now()]
      const ms = Math.round((performance.now() - started) * 10) / 10
      appendFileSync(file, JSON.stringify({ gc: "full", at: Date.now(), heapUsed: mib1(process.memoryUsage().heapUsed), ms }) + "\n")
    }, fullEvery * 1_000).unref()
  }
  // The observer runs soon after the GC, so the few allocations in between count as well.
  new PerformanceObserver((list) => {
    let major = false
    for (const entry of list.getEntries()) {
      if (entry.startTime >= forced[0] && entry.startTime <= forced[1]) continue
      const kind = entry.detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        major = true
        gcs.major++
        gcs.majorMs += entry.duration
      } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gcs.minor++
        gcs.minorMs += entry.duration
      }
    }
    if (!major) return
    appendFileSync(file, JSON.stringify({ gc: "major", at: Date.now(), heapUsed: mib1(process.memoryUsage().heapUsed) }) + "\n")
  }).observe({ entryTypes: ["gc"] })
}
