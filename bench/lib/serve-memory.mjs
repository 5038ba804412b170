/**
 * Memory of `fleet-db serve` from inside, for the dashboard benchmark: loaded into every node
 * process with `NODE_OPTIONS="--import ./bench/lib/serve-memory.mjs"`, it acts only in the one
 * whose arguments include `serve`, appending `process.memoryUsage()` (MiB) once a second to
 * `$SERVE_MEMORY_DIR/serve-memory-PID.jsonl`. The heap's low points (right after a major GC)
 * are the live set; RSS and the heap's size above them are garbage not yet collected.
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"

if (process.argv.includes("serve") && process.env.SERVE_MEMORY_DIR !== undefined) {
  const file = join(process.env.SERVE_MEMORY_DIR, `serve-memory-${process.pid}.jsonl`)
  const start = Date.now()
  const mib = (bytes) => Math.round(bytes / 1_048_576)
  setInterval(() => {
    const m = process.memoryUsage()
    appendFileSync(file, JSON.stringify({
      t: (Date.now() - start) / 1_000,
      rss: mib(m.rss),
      heapTotal: mib(m.heapTotal),
      heapUsed: mib(m.heapUsed),
      external: mib(m.external),
      arrayBuffers: mib(m.arrayBuffers)
    }) + "\n")
  }, 1_000).unref()
}
