/**
 * A start line for worker processes: each marks itself ready in `readyDir`, then waits (polling
 * the directory) until `workers` processes have, so they really race from the same moment.
 */
import { Effect } from "effect"
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export const barrier = (readyDir: string, index: number, workers: number) =>
  Effect.gen(function*() {
    writeFileSync(join(readyDir, `ready-${index}`), String(process.pid))
    for (let waited = 0; waited < 120_000; waited += 5) {
      if (existsSync(readyDir) && readdirSync(readyDir).filter((f) => f.startsWith("ready-")).length >= workers) return
      yield* Effect.sleep("5 millis")
    }
    return yield* Effect.dieMessage("barrier: the other workers never became ready")
  })
