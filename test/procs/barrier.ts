/**
 * A start line for worker processes: each marks itself ready in `readyDir`, waits (polling the
 * directory) until `workers` processes have, then spins until one instant shared by all of them
 * (written once, by the first to see everyone ready), so they really race from the same moment:
 * the polling's timer granularity would spread the starts by milliseconds, and spinning from the
 * moment each process starts would burn the CPU the others need to load.
 */
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** How far ahead of the first "everyone is ready" the shared start lies: more than one poll. */
const START_AHEAD_MS = 25

/** Wait at the start line in `readyDir` as `name` (unique among the `workers`), then start with the others. */
export const barrier = (readyDir: string, name: string | number, workers: number) =>
  Effect.gen(function*() {
    writeFileSync(join(readyDir, `ready-${name}`), String(process.pid))
    const start = join(readyDir, "start-at")
    for (let waited = 0; waited < 120_000; waited += 5) {
      if (existsSync(readyDir) && readdirSync(readyDir).filter((f) => f.startsWith("ready-")).length >= workers) {
        try {
          writeFileSync(start, String(Date.now() + START_AHEAD_MS), { flag: "wx" })
        } catch {
          // Another worker wrote it first.
        }
        // Read until the writer's content is there (the file may exist still empty).
        for (;;) {
          const at = Number(readFileSync(start, "utf8"))
          if (at > 0) {
            while (Date.now() < at) {
              // spin: the last few milliseconds only
            }
            return
          }
        }
      }
      yield* Effect.sleep("5 millis")
    }
    return yield* Effect.dieMessage("barrier: the other workers never became ready")
  })
